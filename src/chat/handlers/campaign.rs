//! `/campaign sessions …`: one post per session from a template sent as the next message, previewed before
//! anything is made, created all at once on confirmation, each waiting for approval; moderators see the
//! campaign as one digest message and approve it all (`/campaign approve N`, Approve all) or ask for its
//! posts one by one (`/campaign review N`, Review one by one).

use chrono::{TimeDelta, TimeZone, Timelike, Utc};
use herald_commands::{CampaignKind, CampaignRequest};
use serde_json::json;

use crate::{
    campaign::{self, Options, Planned, digest},
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{
        Tx, campaigns as store, conferences::Conference, posts as posts_store, providers, schedule,
        sponsors,
    },
    delivery::{Action, Notice},
    posts,
};

pub(super) const PENDING_PREFIX: &str = "campaign:";
/// How long the bot waits for the template.
const WAIT: TimeDelta = TimeDelta::minutes(15);
/// Posts shown per network in the preview.
const PREVIEW: usize = 5;
const DEFAULT_EVERY: i64 = 2 * 3600;

pub async fn start(ctx: Ctx, actor: Actor, request: CampaignRequest) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let broadcasting = providers::broadcasting_providers(&mut tx, conference.id).await?;
    let unknown: Vec<&String> = request
        .to
        .iter()
        .filter(|name| !broadcasting.iter().any(|p| &p.internal_name == *name))
        .collect();
    if !unknown.is_empty() || broadcasting.is_empty() {
        return Ok(Reply::text(
            "campaign_providers",
            json!({ "unknown": unknown, "broadcasting": broadcasting.iter().map(|p| &p.internal_name).collect::<Vec<_>>() }),
        ));
    }
    let tz: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let start = match request.start {
        Some(local) => match tz.from_local_datetime(&local.date_time()).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => {
                return Ok(Reply::text(
                    "campaign_bad_start",
                    json!({ "time_zone": conference.time_zone }),
                ));
            }
        },
        // The next full hour.
        None => {
            let next = ctx.now + TimeDelta::hours(1);
            next - TimeDelta::seconds(i64::from(next.minute() * 60 + next.second()))
                - TimeDelta::nanoseconds(i64::from(next.nanosecond()))
        }
    };
    let options = Options {
        start,
        every_secs: request.every_secs.unwrap_or(DEFAULT_EVERY),
        jitter_secs: request.jitter_secs.unwrap_or(0),
        providers: request.to.clone(),
        shuffled: request.shuffled,
    };
    if options.jitter_secs * 2 >= options.every_secs {
        return Ok(Reply::text(
            "campaign_jitter_too_wide",
            json!({ "every": minutes(options.every_secs), "jitter": minutes(options.jitter_secs) }),
        ));
    }
    let (count, mut known) = match request.kind {
        CampaignKind::Sessions => {
            let sessions = schedule::sessions(&mut tx, conference.id).await?;
            let tracks: Vec<String> = sessions.iter().filter_map(|s| s.track.clone()).collect();
            let chosen = campaign::choose_sessions(sessions, &request.tracks, false, 0);
            (chosen.len(), tracks)
        }
        CampaignKind::Sponsors => {
            let all = sponsors::sponsors(&mut tx, conference.id).await?;
            let levels: Vec<String> = all.iter().map(|s| s.level.clone()).collect();
            let chosen = campaign::choose_sponsors(all, &request.tracks, false, 0);
            (chosen.len(), levels)
        }
    };
    known.sort();
    known.dedup();
    if count == 0 {
        return Ok(Reply::text(
            "campaign_nothing",
            json!({ "kind": request.kind.as_str(), "known": known, "asked": request.tracks }),
        ));
    }
    let seed = i64::from(rand::random::<u32>());
    let filters = serde_json::to_string(&request.tracks)?;
    let encoded = serde_json::to_string(&options)?;
    let id = store::create(
        &mut tx,
        ctx.now,
        &store::NewCampaign {
            conference: conference.id,
            kind: request.kind.as_str(),
            filters: &filters,
            options: &encoded,
            seed,
            by: actor.person,
        },
    )
    .await?;
    super::set_pending_here(
        &ctx,
        &mut tx,
        Some(&format!("{PENDING_PREFIX}{id}")),
        Some(ctx.now + WAIT),
    )
    .await?;
    Ok(Reply::text(
        "campaign_send_template",
        json!({ "count": count, "kind": request.kind.as_str(), "filters": request.tracks, "start": conference.local(start),
                "every": minutes(options.every_secs), "jitter": minutes(options.jitter_secs),
                "providers": providers_named(&broadcasting, &options.providers) }),
    ))
}

fn minutes(secs: i64) -> i64 {
    secs / 60
}

fn providers_named(broadcasting: &[providers::Provider], names: &[String]) -> Vec<String> {
    broadcasting
        .iter()
        .filter(|p| names.is_empty() || names.contains(&p.internal_name))
        .map(|p| p.internal_name.clone())
        .collect()
}

/// The draft's plan: its sessions, rendered and timed; `Err` holds the reply explaining a template error.
async fn plan_of(
    tx: &mut Tx,
    conference: &Conference,
    draft: &store::Campaign,
    template: &str,
) -> anyhow::Result<Result<Vec<Planned>, Reply>> {
    let options: Options = serde_json::from_str(&draft.options)?;
    let tracks: Vec<String> = serde_json::from_str(&draft.filters)?;
    let providers: Vec<_> = providers::broadcasting_providers(tx, conference.id)
        .await?
        .into_iter()
        .filter(|p| options.providers.is_empty() || options.providers.contains(&p.internal_name))
        .collect();
    let seed = u64::try_from(draft.seed).unwrap_or(0);
    let contexts: Vec<_> = if draft.kind == "sponsors" {
        campaign::choose_sponsors(
            sponsors::sponsors(tx, conference.id).await?,
            &tracks,
            options.shuffled,
            seed,
        )
        .iter()
        .map(|s| (s.name.clone(), campaign::sponsor_context(conference, s)))
        .collect()
    } else {
        campaign::choose_sessions(
            schedule::sessions(tx, conference.id).await?,
            &tracks,
            options.shuffled,
            seed,
        )
        .iter()
        .map(|s| (s.title.clone(), campaign::session_context(conference, s)))
        .collect()
    };
    Ok(
        campaign::plan(conference, template, &contexts, &providers, &options, seed).map_err(|e| {
            Reply::text(
                "campaign_template_error",
                json!({ "subject": e.subject, "error": e.error.to_string() }),
            )
        }),
    )
}

/// The message after `/campaign …` in a private chat: the template. Answers with the preview.
pub async fn template_message(
    ctx: &Ctx,
    actor: &Actor,
    text: &str,
) -> anyhow::Result<Option<Reply>> {
    let mut tx = ctx.tx.lock().await;
    let Some(id) = super::pending_here(ctx, &mut tx, PENDING_PREFIX).await? else {
        return Ok(None);
    };
    let Some(draft) = store::campaign(&mut tx, id)
        .await?
        .filter(|c| c.state == "draft")
    else {
        return Ok(None);
    };
    let Ok(conference) = conference_of(actor) else {
        return Ok(None);
    };
    // A template error keeps the draft waiting: fix it and send it again.
    let planned = match plan_of(&mut tx, &conference, &draft, text).await? {
        Ok(p) => p,
        Err(reply) => return Ok(Some(reply)),
    };
    store::set_template(&mut tx, ctx.now, id, text).await?;
    super::set_pending_here(ctx, &mut tx, None, None).await?;
    Ok(Some(preview(&conference, id, &planned)))
}

fn preview(conference: &Conference, id: i64, planned: &[Planned]) -> Reply {
    let mut networks: Vec<serde_json::Value> = Vec::new();
    if let Some(first) = planned.first() {
        for (i, rendered) in first.texts.iter().enumerate() {
            let samples: Vec<_> = planned
                .iter()
                .take(PREVIEW)
                .filter_map(|p| p.texts.get(i))
                .map(|t| json!({ "text": t.text, "length": t.length, "limit": t.limit }))
                .collect();
            let too_long = planned
                .iter()
                .filter(|p| p.texts.get(i).is_some_and(|t| !t.fits()))
                .count();
            networks.push(
                json!({ "provider": rendered.provider, "network": rendered.network,
                                  "samples": samples, "too_long": too_long }),
            );
        }
    }
    let moved = planned.iter().filter(|p| p.moved).count();
    Reply::text(
        "campaign_preview",
        json!({ "number": id, "count": planned.len(), "networks": networks, "moved": moved,
                "first": planned.iter().map(|p| p.due).min().map(|t| conference.local(t)),
                "last": planned.iter().map(|p| p.due).max().map(|t| conference.local(t)) }),
    )
    .with_buttons(vec![vec![
        Action::CreateCampaign(id),
        Action::CancelCampaign(id),
    ]])
}

/// The preview's buttons: create every post (all or nothing) or drop the draft.
pub async fn button(ctx: Ctx, actor: Actor, id: i64, create: bool) -> HandlerResult {
    if !actor.may(herald_commands::Role::Admin) {
        return Ok(Reply::text("campaign_admins_only", json!({})));
    }
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let Some(draft) = store::campaign(&mut tx, id)
        .await?
        .filter(|c| c.conference_id == conference.id)
    else {
        return Ok(Reply::none());
    };
    if draft.state != "draft" {
        return Ok(Reply::text(
            "campaign_done_already",
            json!({ "number": id, "state": draft.state }),
        ));
    }
    if !create {
        store::finish(&mut tx, ctx.now, id, "cancelled", 0).await?;
        return Ok(Reply::text("campaign_cancelled", json!({ "number": id })));
    }
    let Some(template) = draft.template.clone() else {
        return Ok(Reply::none());
    };
    let planned = match plan_of(&mut tx, &conference, &draft, &template).await? {
        Ok(p) => p,
        Err(reply) => return Ok(reply),
    };
    let created =
        campaign::create(&mut tx, ctx.now, &conference, id, actor.person, &planned).await?;
    // One message for the whole campaign, not one per post.
    digest::send(&mut tx, &ctx.templates, ctx.now, &draft).await?;
    store::finish(
        &mut tx,
        ctx.now,
        id,
        "created",
        i64::try_from(created.len()).unwrap_or(i64::MAX),
    )
    .await?;
    Ok(Reply::text(
        "campaign_created",
        json!({ "number": id, "count": created.len(),
                "first": planned.iter().map(|p| p.due).min().map(|t| conference.local(t)),
                "last": planned.iter().map(|p| p.due).max().map(|t| conference.local(t)) }),
    ))
}

/// A created campaign of the actor's conference whose posts the actor may approve; otherwise the reply
/// saying why not.
async fn moderated(
    tx: &mut Tx,
    actor: &Actor,
    number: i64,
) -> anyhow::Result<Result<(Conference, store::Campaign), Reply>> {
    let conference = match conference_of(actor) {
        Ok(c) => c,
        Err(reply) => return Ok(Err(reply)),
    };
    let Some(found) = store::campaign(tx, number)
        .await?
        .filter(|c| c.conference_id == conference.id && c.state == "created")
    else {
        return Ok(Err(Reply::text(
            "campaign_unknown",
            json!({ "number": number }),
        )));
    };
    if !posts::policy::may_approve(conference.posting_policy, actor.role) {
        return Ok(Err(Reply::text(
            "campaign_may_not_approve",
            json!({ "number": number }),
        )
        .refusal()));
    }
    Ok(Ok((conference, found)))
}

/// `/campaign approve N`.
pub async fn approve_all(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    approve(&ctx, &actor, number, ctx.inbound.surface).await
}

/// `/campaign review N`.
pub async fn review(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let found = match moderated(&mut tx, &actor, number).await? {
        Ok((_, found)) => found,
        Err(reply) => return Ok(reply),
    };
    let count = digest::review(&mut tx, &ctx.templates, ctx.now, &found).await?;
    if count == 0 {
        return Ok(Reply::text(
            "campaign_nothing_waiting",
            json!({ "number": number }),
        ));
    }
    let context = json!({ "number": number, "count": count, "by": actor.name() });
    // Approve all stays: having looked at a few, a moderator may approve the rest at once.
    let shown = Notice::new("campaign_reviewed", &context)
        .with_actions(vec![vec![Action::ApproveCampaign(number)]]);
    digest::show(&mut tx, &ctx.templates, ctx.now, number, &shown).await?;
    Ok(Reply::text("campaign_reviewed", context))
}

/// The digest's Approve all button.
pub async fn approve_button(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let surface = format!("{}-button", ctx.inbound.surface);
    approve(&ctx, &actor, number, &surface).await
}

/// Approves every waiting post of campaign `number` that the actor may approve, each as if approved alone
/// (delivered, in its trail, its own moderation message edited if it has one); the digest shows the
/// outcome, its buttons gone.
async fn approve(ctx: &Ctx, actor: &Actor, number: i64, surface: &str) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let (conference, found) = match moderated(&mut tx, actor, number).await? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let pending = posts_store::pending_in_campaign(&mut tx, number).await?;
    if pending.is_empty() {
        return Ok(Reply::text(
            "campaign_nothing_waiting",
            json!({ "number": number }),
        ));
    }
    let detail = format!("campaign #{number}: all approved at once");
    let (mut approved, mut own, mut too_long) = (0, 0, 0);
    for post in &pending {
        match posts::check_moderator(&conference, post, actor.person, actor.role) {
            Ok(()) => {}
            Err("post_own") => {
                own += 1;
                continue;
            }
            Err(_) => continue,
        }
        let decided = super::posts::approve_checked(
            ctx,
            &mut tx,
            actor,
            &conference,
            post,
            surface,
            Some(&detail),
        )
        .await?;
        match decided {
            // Only a campaign reviewed one by one has moderation messages per post to edit.
            Ok(context) if found.reviewed_at.is_some() => {
                super::posts::show_decision(ctx, &mut tx, post.id, "approved", &context).await?;
                approved += 1;
            }
            Ok(_) => approved += 1,
            Err(_) => too_long += 1,
        }
    }
    let context = json!({ "number": number, "approved": approved, "own": own, "too_long": too_long,
                          "by": actor.name() });
    if approved == 0 {
        return Ok(Reply::text("campaign_approved", context).refusal());
    }
    digest::show(
        &mut tx,
        &ctx.templates,
        ctx.now,
        number,
        &Notice::new("campaign_approved", &context),
    )
    .await?;
    Ok(Reply::text("campaign_approved", context))
}
