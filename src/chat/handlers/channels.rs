//! Channel binding: `/bind`, `/unbind`, the token posted in a group, the bot added to or removed from a
//! chat, and groups that become supergroups.

use herald_commands::Slot;
use serde_json::json;

use crate::{
    chat::{Actor, ChatKind, Ctx, HandlerResult, Reply, handlers::conference_of},
    db::{bindings, chat, conferences, links as link_store, people},
    delivery::organisers,
    links::{self, NewLinkTokenSpec},
};

/// `/bind <slot>` hands out a one-time token to post in the chat to bind.
pub async fn bind(ctx: Ctx, actor: Actor, slot: Slot) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    let token = links::issue(
        &mut tx,
        ctx.now,
        NewLinkTokenSpec {
            purpose: "bind",
            conference_id: Some(conference.id),
            role: None,
            slot: Some(slot.as_str()),
            label: None,
            created_by: actor.person,
            ttl: links::BIND_TTL,
            email: None,
            language: None,
        },
    )
    .await?;
    Ok(Reply::text(
        "bind_instructions",
        json!({ "token": token, "slot": slot.as_str(), "conference": conference.name, "bot": ctx.bot.username,
                "group_link": ctx.bot.group_link(&token) }),
    ).secret())
}

/// A bind token posted in a group or channel: bind this chat, delete the token, confirm here.
pub async fn bind_here(ctx: Ctx, actor: Actor, token: String) -> HandlerResult {
    if ctx.inbound.chat.kind == ChatKind::Private {
        return Ok(Reply::text("bind_token_in_private", json!({})));
    }
    let mut tx = ctx.tx.lock().await;
    let link = match links::check(&mut tx, ctx.now, &token, "bind").await? {
        Ok(link) => link,
        Err(refusal) => {
            let mut reply = Reply::text(refusal.template(), json!({}));
            reply.delete_trigger = true;
            return Ok(reply);
        }
    };
    let (Some(conference_id), Some(slot)) = (link.conference_id, link.slot.clone()) else {
        anyhow::bail!("bind token {} has no conference or slot", link.id);
    };
    // Only the admin who asked for the code, or another admin of that conference, may use it: a code
    // that leaked must not let a stranger take over the organisers' chat. Channel posts carry no sender;
    // only the channel's admins can post there.
    if ctx.inbound.from.is_some() {
        let allowed = match actor.person {
            Some(person) if Some(person) == link.created_by => true,
            Some(person) => {
                let roles = people::roles_of(&mut tx, person, Some(conference_id)).await?;
                roles.iter().any(|r| r == "admin" || r == "owner")
            }
            None => false,
        };
        if !allowed {
            let mut reply = Reply::text("bind_not_yours", json!({}));
            reply.delete_trigger = true;
            return Ok(reply);
        }
    }
    if !link_store::use_link_token(&mut tx, ctx.now, link.id, actor.person).await? {
        return Ok(Reply::text("token_used", json!({})));
    }
    let chat_ref = &ctx.inbound.chat;
    bindings::bind(
        &mut tx,
        ctx.now,
        conference_id,
        &slot,
        ctx.inbound.platform,
        &chat_ref.id,
        chat_ref.title.as_deref(),
        link.created_by,
    )
    .await?;
    chat::set_chat_conference(
        &mut tx,
        ctx.now,
        ctx.inbound.platform,
        &chat_ref.id,
        conference_id,
    )
    .await?;
    let conference = conferences::conference_by_id(&mut tx, conference_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let mut reply = Reply::text("bound", json!({ "slot": slot, "conference": conference }));
    reply.delete_trigger = true;
    Ok(reply)
}

pub async fn unbind(ctx: Ctx, actor: Actor, slot: Slot) -> HandlerResult {
    let conference = match conference_of(&actor) {
        Ok(c) => c,
        Err(reply) => return Ok(reply),
    };
    let mut tx = ctx.tx.lock().await;
    // The slot's chat on this platform; from where nothing can be bound (the pages), whichever it is.
    let platform =
        Some(ctx.inbound.platform).filter(|_| ctx.inbound.surface != crate::chat::PAGES_SURFACE);
    let removed = bindings::unbind(&mut tx, conference.id, slot.as_str(), platform).await?;
    let template = if removed { "unbound" } else { "not_bound" };
    Ok(Reply::text(
        template,
        json!({ "slot": slot.as_str(), "conference": conference.name }),
    ))
}

/// The bot joined a chat: explain how to bind it.
pub async fn added(ctx: Ctx) -> HandlerResult {
    Ok(Reply::text(
        "bot_added",
        json!({ "title": ctx.inbound.chat.title, "bot": ctx.bot.username }),
    ))
}

/// The bot was removed from a chat: unbind it and tell the organisers.
pub async fn removed(ctx: Ctx) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let chat_ref = &ctx.inbound.chat;
    let dropped = bindings::unbind_chat(&mut tx, ctx.inbound.platform, &chat_ref.id).await?;
    for binding in &dropped {
        organisers::notify(
            &mut tx,
            &ctx.templates,
            ctx.now,
            binding.conference_id,
            "notify_removed",
            &format!("removed:{}:{}:{}", binding.conference_id, binding.slot, ctx.now.timestamp_micros()),
            json!({ "slot": binding.slot, "title": binding.title.clone().unwrap_or_else(|| binding.chat_id.clone()) }),
        )
        .await?;
    }
    // Nothing can be said in a chat the bot has left.
    Ok(Reply::none())
}

/// A group became a supergroup: bindings, chat state and queued messages follow it.
pub async fn migrated(ctx: Ctx, to: String) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let from = &ctx.inbound.chat.id;
    chat::migrate_chat(&mut tx, ctx.inbound.platform, from, &to).await?;
    crate::db::outbox::retarget_pending(&mut tx, ctx.now, ctx.inbound.platform, from, &to).await?;
    Ok(Reply::none())
}
