//! Direct messages and announcements, through the outbox: `/dm`, `/announce`.

use herald_commands::PersonRef;
use serde_json::json;

use crate::{
    chat::{
        Actor, Ctx, HandlerResult, Reply,
        handlers::{
            conference_of,
            people::{Found, find_person, not_found},
        },
    },
    db::{people, subscriptions},
    delivery::{self, Notice, Recipient},
};

pub async fn dm(ctx: Ctx, actor: Actor, (person, text): (PersonRef, String)) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let target = match find_person(&mut tx, ctx.inbound.platform, &person).await? {
        Found::One(p) => p,
        other => return Ok(not_found(&person, &other)),
    };
    // Only people of this conference, and not those who asked for silence with /stop.
    if people::roles_of(&mut tx, target.id, Some(conference.id))
        .await?
        .is_empty()
    {
        return Ok(Reply::text(
            "person_not_here",
            json!({ "person": target.display_name, "conference": conference.name }),
        ));
    }
    let stopped = subscriptions::subscriptions_of(&mut tx, target.id)
        .await?
        .iter()
        .any(|s| s.conference_id == conference.id && !s.active);
    if stopped {
        return Ok(Reply::text(
            "person_stopped",
            json!({ "person": target.display_name }),
        ));
    }
    let notice = Notice::new(
        "dm",
        json!({ "from": actor.name(), "conference": conference.name, "text": text }),
    )
    .kind("dm");
    let key = format!(
        "dm:{}:{}",
        ctx.inbound.chat.id,
        ctx.inbound.message_id.unwrap_or_default()
    );
    let recipient = Recipient::Person {
        person: target.id,
        conference: conference.id,
    };
    let count = delivery::send(&mut tx, &ctx.templates, ctx.now, recipient, &notice, &key).await?;
    Ok(Reply::text(
        "dm_queued",
        json!({ "person": target.display_name, "count": count }),
    ))
}

pub async fn announce(ctx: Ctx, actor: Actor, text: String) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let notice = Notice::new(
        "announcement",
        json!({ "conference": conference.name, "text": text }),
    )
    .kind("announcement");
    let key = format!(
        "announce:{}:{}:{}",
        conference.id,
        ctx.inbound.chat.id,
        ctx.inbound.message_id.unwrap_or_default()
    );
    let contacts = delivery::attendees(&mut tx, conference.id).await?;
    delivery::write(&mut tx, &ctx.templates, ctx.now, &contacts, &notice, &key).await?;
    Ok(Reply::text(
        "announce_queued",
        json!({ "conference": conference.name, "count": contacts.len() }),
    ))
}
