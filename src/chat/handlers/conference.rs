//! Conference setup from chat: `/conference new|list|use|policy|window|status`.

use herald_commands::{LocalDate, PostingPolicy, Role, Slug, TimeZoneName, WindowSetting};
use serde_json::json;

use crate::{
    chat::{
        Actor, Ctx, HandlerResult, Reply,
        handlers::{conference_json, conference_of},
    },
    db::{
        bindings, chat,
        conferences::{self, NewConference},
        people,
    },
};

pub async fn create(
    ctx: Ctx,
    actor: Actor,
    (slug, time_zone, starts_on, ends_on, name): (Slug, TimeZoneName, LocalDate, LocalDate, String),
) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    // Owners create conferences. An admin may create the next edition of a series they already run
    // (an admin of fosdem-2027 may create fosdem-2028), since the series owns its providers.
    let series = conferences::series_slug(slug.as_str()).to_owned();
    let may = match actor.person {
        Some(person) if actor.role == Role::Owner => Some(person),
        Some(person) => {
            let mut admin = false;
            for c in conferences::conferences(&mut tx)
                .await?
                .iter()
                .filter(|c| conferences::series_slug(&c.slug) == series)
            {
                if people::roles_of(&mut tx, person, Some(c.id))
                    .await?
                    .iter()
                    .any(|r| r == "admin")
                {
                    admin = true;
                    break;
                }
            }
            admin.then_some(person)
        }
        None => None,
    };
    let Some(person) = may else {
        return Ok(Reply::text(
            "conference_new_refused",
            json!({ "series": series }),
        ));
    };
    let new = NewConference {
        slug: slug.as_str(),
        name: name.trim(),
        time_zone: time_zone.name(),
        starts_on: starts_on.date(),
        ends_on: ends_on.date(),
    };
    let Some(id) = conferences::create_conference(&mut tx, ctx.now, &new).await? else {
        return Ok(Reply::text(
            "conference_exists",
            json!({ "slug": slug.as_str() }),
        ));
    };
    if actor.role != Role::Owner {
        people::grant(&mut tx, ctx.now, person, Some(id), "admin", Some(person)).await?;
    }
    chat::set_chat_conference(
        &mut tx,
        ctx.now,
        ctx.inbound.platform,
        &ctx.inbound.chat.id,
        id,
    )
    .await?;
    let conference = conferences::conference_by_id(&mut tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("conference vanished"))?;
    Ok(Reply::text(
        "conference_created",
        json!({ "conference": conference_json(&conference) }),
    ))
}

pub async fn list(ctx: Ctx, actor: Actor) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let all = conferences::conferences(&mut tx).await?;
    let current = actor.conference.as_ref().map(|c| c.id);
    let rows: Vec<_> = all
        .iter()
        .map(|c| {
            let mut v = conference_json(c);
            v["current"] = json!(Some(c.id) == current);
            v
        })
        .collect();
    Ok(Reply::text(
        "conference_list",
        json!({ "conferences": rows }),
    ))
}

pub async fn select(ctx: Ctx, actor: Actor, slug: Slug) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let Some(conference) = conferences::conference_by_slug(&mut tx, slug.as_str()).await? else {
        return Ok(Reply::text(
            "conference_unknown",
            json!({ "slug": slug.as_str() }),
        ));
    };
    // Choosing needs a role in that conference (or being the owner), not just in the current one.
    if actor.role != Role::Owner {
        let roles = match actor.person {
            Some(p) => people::roles_of(&mut tx, p, Some(conference.id)).await?,
            None => Vec::new(),
        };
        if roles.is_empty() {
            return Ok(Reply::text(
                "conference_not_yours",
                json!({ "slug": slug.as_str() }),
            ));
        }
    }
    chat::set_chat_conference(
        &mut tx,
        ctx.now,
        ctx.inbound.platform,
        &ctx.inbound.chat.id,
        conference.id,
    )
    .await?;
    Ok(Reply::text(
        "conference_selected",
        json!({ "conference": conference_json(&conference) }),
    ))
}

pub async fn policy(ctx: Ctx, actor: Actor, policy: PostingPolicy) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    conferences::set_policy(&mut tx, ctx.now, conference.id, i64::from(policy.level())).await?;
    Ok(Reply::text(
        "policy_set",
        json!({ "conference": conference.name, "level": policy.level(), "key": policy.describe_key() }),
    ))
}

/// `/conference reminders <sessions> <speakers> <volunteers>`: lead times in minutes; every queued
/// reminder moves to match.
pub async fn reminders(ctx: Ctx, actor: Actor, minutes: (i64, i64, i64)) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    crate::db::schedule::set_reminder_minutes(&mut tx, conference.id, minutes).await?;
    crate::schedule::import::recompute_reminders(&mut tx, &ctx.templates, ctx.now, &conference)
        .await?;
    crate::schedule::import::recompute_personal(
        &mut tx,
        &ctx.templates,
        ctx.now,
        &conference,
        None,
    )
    .await?;
    let (sessions, speakers, volunteers) = minutes;
    Ok(Reply::text(
        "reminders_set",
        json!({ "conference": conference.name, "sessions": sessions, "speakers": speakers,
                "volunteers": volunteers }),
    ))
}

/// `/conference email <address|off>`: where organiser notices are mirrored by mail.
pub async fn email(ctx: Ctx, actor: Actor, address: Option<String>) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    conferences::set_notify_email(&mut tx, ctx.now, conference.id, address.as_deref()).await?;
    Ok(Reply::text(
        "conference_email_set",
        json!({ "conference": conference.name, "address": address }),
    ))
}

pub async fn window(ctx: Ctx, actor: Actor, window: WindowSetting) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let value = match window {
        WindowSetting::Off => None,
        WindowSetting::Daily { from, to } => Some((from.time(), to.time())),
    };
    conferences::set_window(&mut tx, ctx.now, conference.id, value).await?;
    Ok(Reply::text(
        "window_set",
        json!({ "conference": conference.name, "time_zone": conference.time_zone,
                "window": value.map(|(a, b)| format!("{}–{}", a.format("%H:%M"), b.format("%H:%M"))) }),
    ))
}

pub async fn status(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let mut bindings = Vec::new();
    for slot in ["attendees", "organisers", "moderation"] {
        let bound = bindings::binding(&mut tx, conference.id, slot, ctx.inbound.platform).await?;
        bindings.push(json!({ "slot": slot, "chat": bound.as_ref().map(|b| b.title.clone().unwrap_or_else(|| b.chat_id.clone())) }));
    }
    let tz: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local_now = ctx.now.with_timezone(&tz).to_rfc3339();
    let listeners: Vec<_> = crate::db::mentions::checkpoints_of(&mut tx, conference.id)
        .await?
        .into_iter()
        .map(|(name, kind, c)| {
            let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).to_rfc3339();
            json!({ "name": name, "network": kind, "state": c.state.replace('_', " "), "error": c.last_error,
                    "last_event": c.last_event_at.map(local), "failing_since": c.failing_since.map(local) })
        })
        .collect();
    let (_, open_mentions) = crate::db::mentions::open(&mut tx, conference.id, 0, 0).await?;
    let unreachable = crate::db::contacts::unreachable_count(&mut tx, conference.id).await?;
    let queues: Vec<_> =
        crate::db::outbox::waiting_and_failed(&mut tx, ctx.now - chrono::TimeDelta::days(1))
            .await?
            .into_iter()
            .map(|(platform, pending, failed)| json!({ "platform": platform, "pending": pending, "failed": failed }))
            .collect();
    Ok(Reply::text(
        "conference_status",
        json!({ "conference": conference_json(&conference), "bindings": bindings, "local_now": local_now, "tz": conference.time_zone,
                "listeners": listeners, "open_mentions": open_mentions, "unreachable": unreachable,
                "queues": queues }),
    ))
}

/// `/import <url>`: remember the schedule's address; the sync worker fetches it within a minute and
/// then every 15 minutes, and tells the organisers' chat what changed.
pub async fn import(ctx: Ctx, actor: Actor, url: String) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    crate::db::schedule::set_schedule_url(&mut tx, conference.id, &url).await?;
    Ok(Reply::text(
        "import_scheduled",
        json!({ "url": crate::token::redact_url(&url), "conference": conference.name }),
    ))
}
