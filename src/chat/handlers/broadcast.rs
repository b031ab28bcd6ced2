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
        telegram::render_to_outbox,
    },
    db::chat,
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
    if chat::roles_of(&mut tx, target.id, Some(conference.id))
        .await?
        .is_empty()
    {
        return Ok(Reply::text(
            "person_not_here",
            json!({ "person": target.display_name, "conference": conference.name }),
        ));
    }
    let stopped = chat::subscriptions_of(&mut tx, target.id)
        .await?
        .iter()
        .any(|s| s.conference_id == conference.id && !s.active);
    if stopped {
        return Ok(Reply::text(
            "person_stopped",
            json!({ "person": target.display_name }),
        ));
    }
    let chat_id: i64 = target.platform_user_id.parse()?;
    let body = ctx.templates.render(
        "messages/dm.html",
        json!({ "from": actor.name(), "conference": conference.name, "text": text }),
    )?;
    let key = format!(
        "dm:{}:{}",
        ctx.inbound.chat.id,
        ctx.inbound.message_id.unwrap_or_default()
    );
    render_to_outbox(&mut tx, ctx.now, chat_id, &body, None, &key).await?;
    Ok(Reply::text(
        "dm_queued",
        json!({ "person": target.display_name, "count": 1 }),
    ))
}

pub async fn announce(ctx: Ctx, actor: Actor, text: String) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let body = ctx.templates.render(
        "messages/announcement.html",
        json!({ "conference": conference.name, "text": text }),
    )?;
    let key = format!(
        "announce:{}:{}",
        ctx.inbound.chat.id,
        ctx.inbound.message_id.unwrap_or_default()
    );
    let mut chats: Vec<i64> = Vec::new();
    if let Some(channel) =
        chat::binding(&mut tx, conference.id, "attendees", ctx.inbound.platform).await?
    {
        chats.push(channel.chat_id.parse()?);
    }
    for user in chat::announcement_recipients(&mut tx, ctx.inbound.platform, conference.id).await? {
        let id: i64 = user.parse()?;
        if !chats.contains(&id) {
            chats.push(id);
        }
    }
    for chat_id in &chats {
        render_to_outbox(&mut tx, ctx.now, *chat_id, &body, None, &key).await?;
    }
    Ok(Reply::text(
        "announce_queued",
        json!({ "conference": conference.name, "count": chats.len() }),
    ))
}
