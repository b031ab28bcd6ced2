//! `/sponsors`, `/benefit add <level> <name>` (the post template as the next message) and
//! `/benefit confirm <sponsor> <benefit>`.

use chrono::TimeDelta;
use herald_commands::BenefitCommand;
use serde_json::json;

use crate::{
    campaign,
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{conferences, posts as posts_store, providers, sponsors as store},
    posts::{self, policy},
};

pub(super) const PENDING_PREFIX: &str = "benefit:";

pub async fn list(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let sponsors: Vec<_> = store::sponsors(&mut tx, conference.id)
        .await?
        .into_iter()
        .map(|s| {
            let handles: serde_json::Value =
                serde_json::from_str(&s.handles).unwrap_or_else(|_| json!({}));
            json!({ "number": s.id, "name": s.name, "level": s.level, "handles": handles })
        })
        .collect();
    let benefits: Vec<_> = store::benefits(&mut tx, conference.id)
        .await?
        .into_iter()
        .map(|b| json!({ "number": b.id, "level": b.level, "name": b.name, "post": b.template.is_some() }))
        .collect();
    Ok(Reply::text(
        "sponsors",
        json!({ "sponsors": sponsors, "benefits": benefits, "conference": conference.name }),
    ))
}

/// `/sponsor add <level> <url|-> <name…> [network=handle…]`.
pub async fn add_sponsor(
    ctx: Ctx,
    actor: Actor,
    (level, url, name, handles): (String, Option<String>, String, Vec<(String, String)>),
) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let handles: serde_json::Map<String, serde_json::Value> = handles
        .into_iter()
        .map(|(network, handle)| (network, json!(handle)))
        .collect();
    let mut tx = ctx.tx.lock().await;
    store::upsert(
        &mut tx,
        ctx.now,
        conference.id,
        &name,
        &level,
        url.as_deref(),
        &serde_json::Value::Object(handles.clone()),
    )
    .await?;
    Ok(Reply::text(
        "sponsor_added",
        json!({ "name": name, "level": level, "handles": handles, "conference": conference.name }),
    ))
}

pub async fn benefit(ctx: Ctx, actor: Actor, command: BenefitCommand) -> HandlerResult {
    match command {
        BenefitCommand::Add { level, name } => add(ctx, actor, level, name).await,
        BenefitCommand::Confirm { sponsor, benefit } => confirm(ctx, actor, sponsor, benefit).await,
    }
}

async fn add(ctx: Ctx, actor: Actor, level: String, name: String) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let id = store::add_benefit(&mut tx, ctx.now, conference.id, &level, &name).await?;
    super::set_pending_here(
        &ctx,
        &mut tx,
        Some(&format!("{PENDING_PREFIX}{id}")),
        Some(ctx.now + TimeDelta::minutes(15)),
    )
    .await?;
    Ok(Reply::text(
        "benefit_added",
        json!({ "number": id, "level": level, "name": name }),
    ))
}

/// A sponsor that exercises a template: a name, an address, a level and handles on the networks.
fn sample_sponsor(level: &str) -> store::Sponsor {
    store::Sponsor {
        id: 0,
        name: "Sample Sponsor".into(),
        level: level.into(),
        url: Some("https://sponsor.example".into()),
        handles:
            json!({ "mastodon": "@sponsor@mastodon.example", "bluesky": "@sponsor.bsky.social" })
                .to_string(),
    }
}

fn context(
    conference: &conferences::Conference,
    sponsor: &store::Sponsor,
    benefit: &store::Benefit,
) -> serde_json::Value {
    let mut context = campaign::sponsor_context(conference, sponsor);
    context["benefit"] = json!({ "name": benefit.name, "level": benefit.level });
    context["level"] = json!(benefit.level);
    context
}

/// The message after `/benefit add`: the benefit's post template, saved once it renders for a sample sponsor.
pub async fn template_message(
    ctx: &Ctx,
    actor: &Actor,
    text: &str,
) -> anyhow::Result<Option<Reply>> {
    let mut tx = ctx.tx.lock().await;
    let Some(id) = super::pending_here(ctx, &mut tx, PENDING_PREFIX).await? else {
        return Ok(None);
    };
    let Some(benefit) = store::benefit(&mut tx, id).await? else {
        return Ok(None);
    };
    let Ok(conference) = conference_of(actor) else {
        return Ok(None);
    };
    let sample = context(&conference, &sample_sponsor(&benefit.level), &benefit);
    for network in ["mastodon", "bluesky"] {
        if let Err(err) = campaign::template::render(text, &sample, network) {
            return Ok(Some(Reply::text(
                "benefit_template_error",
                json!({ "error": err.to_string(), "network": network }),
            )));
        }
    }
    store::set_benefit_template(&mut tx, id, text).await?;
    super::set_pending_here(ctx, &mut tx, None, None).await?;
    let preview = campaign::template::render(text, &sample, "mastodon").unwrap_or_default();
    Ok(Some(Reply::text(
        "benefit_template_saved",
        json!({ "number": id, "name": benefit.name, "preview": preview }),
    )))
}

async fn confirm(ctx: Ctx, actor: Actor, sponsor: i64, benefit: i64) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let found_sponsor = store::sponsors(&mut tx, conference.id)
        .await?
        .into_iter()
        .find(|s| s.id == sponsor);
    let found_benefit = store::benefit(&mut tx, benefit)
        .await?
        .filter(|b| b.conference_id == conference.id);
    let (Some(sponsor), Some(benefit)) = (found_sponsor, found_benefit) else {
        return Ok(Reply::text(
            "benefit_unknown",
            json!({ "sponsor": sponsor, "benefit": benefit }),
        ));
    };
    if !sponsor.level.eq_ignore_ascii_case(&benefit.level) {
        return Ok(Reply::text(
            "benefit_other_level",
            json!({ "sponsor": sponsor.name, "level": sponsor.level, "benefit": benefit.name, "benefit_level": benefit.level }),
        ));
    }
    let Some(template) = benefit.template.clone() else {
        return Ok(Reply::text(
            "benefit_confirmed",
            json!({ "sponsor": sponsor.name, "benefit": benefit.name, "post": null }),
        ));
    };
    let Some(needs_approval) = policy::may_post(conference.posting_policy, actor.role) else {
        return Ok(Reply::text(
            "post_not_allowed",
            json!({ "policy": super::posts::policy_key(conference.posting_policy), "role": actor.role.as_str() }),
        ));
    };
    let providers = providers::broadcasting_providers(&mut tx, conference.id).await?;
    let ctx_json = context(&conference, &sponsor, &benefit);
    let contexts = vec![(sponsor.name.clone(), ctx_json)];
    let options = campaign::Options {
        start: ctx.now,
        every_secs: 1,
        jitter_secs: 0,
        providers: Vec::new(),
        shuffled: false,
    };
    let planned = match campaign::plan(&conference, &template, &contexts, &providers, &options, 0) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Reply::text(
                "benefit_template_error",
                json!({ "error": e.error.to_string(), "network": null }),
            ));
        }
    };
    // A benefit post is the sponsor's: never the conference hashtags, and it is not a campaign's.
    let Some(first) = planned.first() else {
        return Ok(Reply::text(
            "campaign_providers",
            json!({ "unknown": [], "broadcasting": [] }),
        ));
    };
    let main = first
        .texts
        .first()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    let state = if needs_approval {
        "pending"
    } else {
        "approved"
    };
    let id = posts_store::create_post(
        &mut tx,
        ctx.now,
        conference.id,
        actor.person,
        "benefit",
        state,
        &main,
    )
    .await?;
    for rendered in first.texts.iter().filter(|t| t.text != main) {
        posts_store::set_variant(&mut tx, id, rendered.provider_id, Some(&rendered.text)).await?;
    }
    posts_store::audit(
        &mut tx,
        ctx.now,
        id,
        actor.person,
        "created",
        ctx.inbound.surface,
        Some(&format!("benefit {} for {}", benefit.name, sponsor.name)),
    )
    .await?;
    let post = posts_store::post(&mut tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("post vanished"))?;
    if needs_approval {
        posts::send_to_moderation(&mut tx, &ctx.templates, ctx.now, &post, &actor.name()).await?;
    } else {
        let _ = posts::deliver(&mut tx, ctx.now, &conference, &post).await?;
    }
    Ok(Reply::text(
        "benefit_confirmed",
        json!({ "sponsor": sponsor.name, "benefit": benefit.name, "post": id, "pending": needs_approval }),
    ))
}
