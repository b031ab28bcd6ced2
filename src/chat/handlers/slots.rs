//! Volunteer shifts: `/slot add|assign|list`, `/myslots`.

use chrono_tz::Tz;
use herald_commands::{LocalDateTime, PersonRef, Role, SlotCommand};
use serde_json::{Value, json};

use crate::{
    chat::{
        Actor, Ctx, HandlerResult, Reply,
        handlers::{
            conference_of,
            people::{Found, find_person, not_found},
        },
    },
    db::{conferences, people, schedule as store},
    schedule::{import::recompute_personal, local_to_utc},
};

fn zone(actor_conference: &conferences::Conference) -> Tz {
    actor_conference.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

pub async fn slot(ctx: Ctx, actor: Actor, command: SlotCommand) -> HandlerResult {
    match command {
        SlotCommand::Add { start, end, title } => add(ctx, actor, start, end, title).await,
        SlotCommand::Assign { number, person } => assign(ctx, actor, number, person).await,
        SlotCommand::List => list(ctx, actor, false).await,
    }
}

pub async fn my_slots(ctx: Ctx, actor: Actor) -> HandlerResult {
    list(ctx, actor, true).await
}

async fn add(
    ctx: Ctx,
    actor: Actor,
    start: LocalDateTime,
    end: LocalDateTime,
    title: String,
) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let tz = zone(&conference);
    let (starts_at, ends_at) = (
        local_to_utc(tz, start.date_time()),
        local_to_utc(tz, end.date_time()),
    );
    let mut tx = ctx.tx.lock().await;
    let id = store::add_slot(&mut tx, ctx.now, conference.id, &title, starts_at, ends_at).await?;
    Ok(Reply::text(
        "slot_added",
        json!({ "number": id, "title": title, "start": conference.local(starts_at),
                "end": conference.local(ends_at) }),
    ))
}

async fn assign(ctx: Ctx, actor: Actor, number: i64, person: PersonRef) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let Some(slot) = store::slots(&mut tx, conference.id)
        .await?
        .into_iter()
        .find(|s| s.id == number)
    else {
        return Ok(Reply::text("slot_unknown", json!({ "number": number })));
    };
    let target = match find_person(&mut tx, ctx.inbound.platform, &person).await? {
        Found::One(p) => p,
        other => return Ok(not_found(&person, &other)),
    };
    let roles = people::roles_of(&mut tx, target.id, Some(conference.id)).await?;
    let volunteer = roles
        .iter()
        .filter_map(|r| r.parse::<Role>().ok())
        .any(|r| r >= Role::Volunteer);
    if !volunteer {
        return Ok(Reply::text(
            "slot_not_volunteer",
            json!({ "person": target.display_name }),
        ));
    }
    let assigned = store::assign_slot(&mut tx, ctx.now, slot.id, target.id).await?;
    recompute_personal(
        &mut tx,
        &ctx.templates,
        ctx.now,
        &conference,
        Some(target.id),
    )
    .await?;
    Ok(Reply::text(
        if assigned {
            "slot_assigned"
        } else {
            "slot_already_assigned"
        },
        json!({ "person": target.display_name, "title": slot.title,
                "start": conference.local(slot.starts_at) }),
    ))
}

async fn list(ctx: Ctx, actor: Actor, mine: bool) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let slots = store::slots(&mut tx, conference.id).await?;
    let assignments = store::assignments(&mut tx, conference.id).await?;
    let rows: Vec<Value> = slots
        .iter()
        .filter(|s| {
            !mine
                || assignments
                    .iter()
                    .any(|(slot, p, _)| *slot == s.id && Some(*p) == actor.person)
        })
        .map(|s| {
            let people: Vec<&str> = assignments
                .iter()
                .filter(|(slot, _, _)| *slot == s.id)
                .map(|(_, _, name)| name.as_str())
                .collect();
            json!({ "number": s.id, "title": s.title, "people": people,
                    "start": conference.local(s.starts_at),
                    "end": conference.local(s.ends_at) })
        })
        .collect();
    Ok(Reply::text(
        "slots",
        json!({ "slots": rows, "mine": mine, "conference": conference.name }),
    ))
}
