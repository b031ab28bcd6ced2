//! The schedule for attendees: `/now`, `/next`, `/today`, `/session`, `/room`, in the conference's time zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::{
    chat::{Actor, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{
        conferences::Conference,
        schedule::{self, StoredSession},
    },
    delivery::Action,
};

/// Sessions per page of `/today`.
const PAGE: usize = 12;

fn zone(c: &Conference) -> Tz {
    c.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

fn row(s: &StoredSession, tz: Tz) -> Value {
    let speakers: Vec<crate::schedule::Speaker> =
        serde_json::from_str(&s.speakers).unwrap_or_default();
    json!({
        "number": s.id, "title": s.title, "room": s.room, "track": s.track, "url": s.url,
        "start": s.starts_at.with_timezone(&tz).to_rfc3339(),
        "end": s.ends_at.with_timezone(&tz).to_rfc3339(),
        "speakers": speakers.into_iter().map(|p| p.name).collect::<Vec<_>>(),
        "status": s.status,
    })
}

async fn confirmed(ctx: &Ctx, conference: &Conference) -> anyhow::Result<Vec<StoredSession>> {
    let mut tx = ctx.tx.lock().await;
    let all = schedule::sessions(&mut tx, conference.id).await?;
    Ok(all
        .into_iter()
        .filter(|s| s.status == "confirmed")
        .collect())
}

fn local_day(at: DateTime<Utc>, tz: Tz) -> chrono::NaiveDate {
    at.with_timezone(&tz).date_naive()
}

pub async fn now(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let tz = zone(&conference);
    let sessions = confirmed(&ctx, &conference).await?;
    let running: Vec<Value> = sessions
        .iter()
        .filter(|s| s.starts_at <= ctx.now && ctx.now < s.ends_at)
        .map(|s| row(s, tz))
        .collect();
    Ok(Reply::text(
        "schedule_now",
        json!({ "sessions": running, "time": ctx.now.with_timezone(&tz).to_rfc3339() }),
    ))
}

pub async fn next(ctx: Ctx, actor: Actor) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let tz = zone(&conference);
    let sessions = confirmed(&ctx, &conference).await?;
    let first = sessions
        .iter()
        .filter(|s| s.starts_at > ctx.now)
        .map(|s| s.starts_at)
        .min();
    let upcoming: Vec<Value> = match first {
        Some(at) => sessions
            .iter()
            .filter(|s| s.starts_at == at)
            .map(|s| row(s, tz))
            .collect(),
        None => Vec::new(),
    };
    let same_day = first.map(|at| local_day(at, tz) == local_day(ctx.now, tz));
    Ok(Reply::text(
        "schedule_next",
        json!({ "sessions": upcoming, "same_day": same_day }),
    ))
}

pub async fn today(ctx: Ctx, actor: Actor) -> HandlerResult {
    today_page(ctx, actor, 0, None).await
}

/// One page of today's sessions, with buttons to the neighbouring pages.
pub async fn today_page(ctx: Ctx, actor: Actor, page: usize, edit: Option<i32>) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let tz = zone(&conference);
    let day = local_day(ctx.now, tz);
    let sessions = confirmed(&ctx, &conference).await?;
    let todays: Vec<&StoredSession> = sessions
        .iter()
        .filter(|s| local_day(s.starts_at, tz) == day)
        .collect();
    let pages = todays.len().div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    let shown: Vec<Value> = todays
        .iter()
        .skip(page * PAGE)
        .take(PAGE)
        .map(|s| row(s, tz))
        .collect();
    let mut buttons = Vec::new();
    if page > 0 {
        buttons.push(Action::TodayPage {
            page: page - 1,
            next: false,
        });
    }
    if page + 1 < pages {
        buttons.push(Action::TodayPage {
            page: page + 1,
            next: true,
        });
    }
    let reply = Reply::text(
        "schedule_today",
        json!({ "sessions": shown, "day": day.to_string(), "page": page + 1, "pages": pages,
                "conference": conference.name }),
    )
    .editing(edit);
    Ok(if buttons.is_empty() {
        reply
    } else {
        reply.with_buttons(vec![buttons])
    })
}

pub async fn session(ctx: Ctx, actor: Actor, number: i64) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let tz = zone(&conference);
    let all = {
        let mut tx = ctx.tx.lock().await;
        schedule::sessions(&mut tx, conference.id).await?
    };
    let Some(s) = all.iter().find(|s| s.id == number) else {
        return Ok(Reply::text("session_unknown", json!({ "number": number })));
    };
    // Organisers see who holds a calendar invitation to it and what they answered.
    let invitations = if actor.may(herald_commands::Role::Admin) {
        let mut tx = ctx.tx.lock().await;
        crate::db::invitations::answers_for_session(&mut tx, s.id).await?
    } else {
        Vec::new()
    };
    let invitations: Vec<Value> = invitations
        .into_iter()
        .map(|(name, origin, answer)| json!({ "name": name, "origin": origin, "answer": answer }))
        .collect();
    Ok(Reply::text(
        "session",
        json!({ "session": row(s, tz), "invitations": invitations }),
    ))
}

pub async fn room(ctx: Ctx, actor: Actor, name: String) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let tz = zone(&conference);
    let day = local_day(ctx.now, tz);
    let sessions = confirmed(&ctx, &conference).await?;
    let wanted = name.to_lowercase();
    let mut rooms: Vec<String> = sessions.iter().filter_map(|s| s.room.clone()).collect();
    rooms.sort();
    rooms.dedup();
    let Some(room) = rooms
        .iter()
        .find(|r| r.to_lowercase() == wanted)
        .or_else(|| rooms.iter().find(|r| r.to_lowercase().contains(&wanted)))
    else {
        return Ok(Reply::text(
            "room_unknown",
            json!({ "name": name, "rooms": rooms }),
        ));
    };
    let todays: Vec<Value> = sessions
        .iter()
        .filter(|s| {
            s.room.as_deref() == Some(room.as_str())
                && local_day(s.starts_at, tz) == day
                && s.ends_at > ctx.now
        })
        .map(|s| row(s, tz))
        .collect();
    Ok(Reply::text(
        "room",
        json!({ "room": room, "sessions": todays }),
    ))
}
