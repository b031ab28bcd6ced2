//! The endpoints of the handler tree, by command family.

pub mod account;
pub mod broadcast;
pub mod campaign;
pub mod channels;
pub mod conference;
pub mod follow;
pub mod mentions;
pub mod news;
pub mod people;
pub mod posts;
pub mod providers;
pub mod schedule;
pub mod slots;
pub mod sponsors;
pub mod web;

use herald_commands::{Command, ParseError, catalog};
use serde_json::json;

use super::{Actor, ChatKind, Ctx, HandlerResult, Reply};
use crate::db::{
    chat,
    conferences::{self, Conference},
};
use crate::delivery::Action;

/// A command the actor's role does not allow: say which role it needs.
pub async fn refuse(command: Command, actor: Actor) -> HandlerResult {
    let spec = command.spec();
    Ok(Reply::text(
        "refused",
        json!({ "usage": spec.usage, "needed": command.min_role().as_str(), "role": actor.role.as_str(),
                "conference": actor.conference.as_ref().map(|c| &c.name) }),
    ))
}

/// A command used in the wrong kind of chat.
pub async fn wrong_chat(command: Command, ctx: Ctx) -> HandlerResult {
    let spec = command.spec();
    Ok(Reply::text(
        "wrong_chat",
        json!({ "usage": spec.usage, "scope": spec.scope.as_str(), "bot": ctx.bot.username }),
    ))
}

/// A command that did not parse: say what was expected.
pub async fn bad_command(error: ParseError) -> HandlerResult {
    let context = match &error {
        ParseError::UnknownCommand { name, suggestion } => {
            json!({ "kind": "unknown", "name": name, "suggestion": suggestion })
        }
        ParseError::MissingArgument {
            argument, usage, ..
        } => {
            json!({ "kind": "missing", "argument": argument, "usage": usage })
        }
        ParseError::InvalidArgument {
            argument,
            value,
            expected,
            command,
        } => {
            json!({ "kind": "invalid", "argument": argument, "value": value, "expected": expected,
                    "usage": catalog::find(command).map(|s| s.usage) })
        }
        ParseError::TooManyArguments { usage, .. } => json!({ "kind": "too_many", "usage": usage }),
        ParseError::UnknownSubcommand {
            command,
            given,
            valid,
        } => {
            json!({ "kind": "subcommand", "command": command, "given": given, "valid": valid })
        }
    };
    Ok(Reply::text("bad_command", context))
}

/// A file sent while a template is awaited is read (by the document worker) and comes back as the sender's
/// text; any other file is not Herald's business.
async fn document(ctx: &Ctx, document: &super::Picture) -> HandlerResult {
    let mut tx = ctx.tx.lock().await;
    let mut awaited = false;
    for prefix in [campaign::PENDING_PREFIX, sponsors::PENDING_PREFIX] {
        awaited |= pending_here(ctx, &mut tx, prefix).await?.is_some();
    }
    if !awaited {
        return Ok(match ctx.inbound.chat.kind {
            ChatKind::Private => Reply::text("document_not_awaited", json!({})),
            ChatKind::Group | ChatKind::Channel => Reply::none(),
        });
    }
    if document
        .size
        .is_some_and(|s| s > crate::telegram::documents::MAX_BYTES)
    {
        return Ok(Reply::text(
            "document_unreadable",
            json!({ "reason": "too_large", "max_kb": crate::telegram::documents::MAX_BYTES / 1024 }),
        ));
    }
    let Some(from) = &ctx.inbound.from else {
        return Ok(Reply::none());
    };
    crate::db::documents::request(
        &mut tx,
        ctx.now,
        &ctx.inbound.chat.id,
        &from.user_id,
        &from.name,
        &document.file_id,
    )
    .await?;
    Ok(Reply::text("document_reading", json!({})))
}

/// Plain text: a bind token posted in a group, or a friendly pointer to /help in a private chat.
pub async fn text(ctx: Ctx, actor: Actor, text: String) -> HandlerResult {
    if let Some(file) = &ctx.inbound.document {
        return document(&ctx, file).await;
    }
    let trimmed = text.trim();
    if trimmed.starts_with(herald_commands::BIND_CODE_PREFIX) {
        return channels::bind_here(ctx, actor, trimmed.to_owned()).await;
    }
    if let Some(reply) =
        providers::credentials_message(ctx.clone(), actor.clone(), trimmed.to_owned()).await?
    {
        return Ok(reply);
    }
    if let Some(reply) = mentions::answer(&ctx, &actor, trimmed).await? {
        return Ok(reply);
    }
    // Templates are taken as written: leading and trailing lines matter.
    if let Some(reply) = campaign::template_message(&ctx, &actor, &text).await? {
        return Ok(reply);
    }
    if let Some(reply) = sponsors::template_message(&ctx, &actor, &text).await? {
        return Ok(reply);
    }
    match ctx.inbound.chat.kind {
        ChatKind::Private => Ok(Reply::text("free_text", json!({}))),
        ChatKind::Group | ChatKind::Channel => Ok(Reply::none()),
    }
}

/// A pressed button, read as the [`Action`] it was sent as; every action re-checks what it needs, since
/// a button can be pressed long after it was sent, by anyone who sees it.
pub async fn button(
    ctx: Ctx,
    actor: Actor,
    (callback_id, data, message_id): (String, String, Option<i32>),
) -> HandlerResult {
    let _ = callback_id;
    let reply = match Action::parse(&data) {
        Some(Action::Stop { confirm }) => {
            account::stop_button(ctx, actor, confirm, message_id).await?
        }
        Some(Action::Setting { setting, on }) => {
            account::settings_button(ctx, actor, setting, on, message_id).await?
        }
        Some(Action::EarlyReminder { minutes }) => {
            account::early_reminder_button(ctx, actor, minutes, message_id).await?
        }
        Some(Action::ApprovePost(number)) => posts::button(ctx, actor, number, true).await?,
        Some(Action::RejectPost(number)) => posts::button(ctx, actor, number, false).await?,
        Some(Action::EditPost(number)) => {
            Reply::text("post_how_to_edit", json!({ "number": number }))
        }
        Some(Action::AnswerMention(number)) => mentions::how_to_answer(ctx, actor, number).await?,
        Some(Action::DiscardMention(number)) => mentions::discard(ctx, actor, number).await?,
        Some(Action::BoostMention(number)) => mentions::boost(ctx, actor, number).await?,
        Some(Action::CreateCampaign(id)) => campaign::button(ctx, actor, id, true).await?,
        Some(Action::CancelCampaign(id)) => campaign::button(ctx, actor, id, false).await?,
        Some(Action::ApproveCampaign(id)) => campaign::approve_button(ctx, actor, id).await?,
        Some(Action::ReviewCampaign(id)) => campaign::review(ctx, actor, id).await?,
        Some(Action::TodayPage { page, .. }) => {
            schedule::today_page(ctx, actor, page, message_id).await?
        }
        None => Reply::text("button_unknown", json!({})),
    };
    Ok(reply.answering_button())
}

/// The id of this private chat's pending `<prefix><id>` action (a template or credentials awaited), if it
/// still waits.
pub async fn pending_here(
    ctx: &Ctx,
    tx: &mut crate::db::Tx,
    prefix: &str,
) -> anyhow::Result<Option<i64>> {
    if ctx.inbound.chat.kind != ChatKind::Private {
        return Ok(None);
    }
    chat::pending_id(
        tx,
        ctx.now,
        ctx.inbound.platform,
        &ctx.inbound.chat.id,
        prefix,
    )
    .await
}

/// Sets (or with `None`, clears) what this chat waits for, until `until`.
pub async fn set_pending_here(
    ctx: &Ctx,
    tx: &mut crate::db::Tx,
    action: Option<&str>,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<()> {
    chat::set_pending(
        tx,
        ctx.now,
        ctx.inbound.platform,
        &ctx.inbound.chat.id,
        action,
        until,
    )
    .await
}

/// The actor's conference, or a reply telling them how to choose one.
pub fn conference_of(actor: &Actor) -> Result<Conference, Reply> {
    actor
        .conference
        .clone()
        .ok_or_else(|| Reply::text("no_conference", json!({})))
}

/// The conference a chat is about: the one chosen with `/conference use`, else the only one there is.
pub async fn current_conference(ctx: &Ctx) -> anyhow::Result<Option<Conference>> {
    let mut tx = ctx.tx.lock().await;
    conferences::of_chat(&mut tx, ctx.inbound.platform, &ctx.inbound.chat.id).await
}

/// A conference as templates see it.
pub fn conference_json(c: &Conference) -> serde_json::Value {
    json!({
        "slug": c.slug, "name": c.name, "time_zone": c.time_zone,
        "starts_on": c.starts_on.map(|d| d.to_string()), "ends_on": c.ends_on.map(|d| d.to_string()),
        "policy": c.posting_policy,
        "window": c.posting_window_start.zip(c.posting_window_end)
            .map(|(a, b)| format!("{}–{}", a.format("%H:%M"), b.format("%H:%M"))),
    })
}
