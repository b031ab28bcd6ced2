//! What the pages change goes through the chat core: a form becomes the command an organiser would type
//! (`/conference policy 2`, `/approve 12`), run as the signed-in person with their roles in the page's
//! conference, so the rules, refusals and audit trail are those of chat (the trail says `web`). What the
//! handlers tell others (the moderation chat) goes through the delivery layer as usual; the answer meant
//! for the person becomes the page's notice.

use std::sync::Arc;

use herald_commands::ParseError;
use serde::{Deserialize, Serialize};

use super::{AppState, auth::Signed};
use crate::{
    chat::{self, Actor, Chat, ChatKind, Ctx, Inbound, Input, Reply, Sender, TxCell, Upload},
    db::{Tx, conferences::Conference, web as store, web_chat},
};

/// What a form did, shown once on the next page: the chat core's answer as plain text, and the form field
/// it is about when the input was refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Notice {
    pub text: String,
    /// The argument (form field) a refused input names.
    pub field: Option<String>,
    /// Which form it came from, so the message appears next to the right one.
    pub form: Option<String>,
    /// What the person wrote, given back to the form when it was refused (nothing typed is lost).
    #[serde(default)]
    pub kept: Option<String>,
}

/// The actor and context the chat core sees for a web request.
async fn context(
    state: &AppState,
    mut tx: Tx,
    signed: &Signed,
    conference: &Conference,
    input: Input,
    uploads: Vec<Upload>,
) -> anyhow::Result<(Ctx, Actor)> {
    let now = state.clock.now();
    let account = store::account_of(&mut tx, signed.person, web_chat::PLATFORM).await?;
    let bot = state.web_chat.core().bot_info(&mut tx).await?;
    let role = chat::role_of(&mut tx, signed.person, Some(conference.id)).await?;
    let (user_id, handle) = account.unwrap_or_else(|| (format!("web:{}", signed.person), None));
    let from = Sender {
        user_id,
        username: handle,
        name: signed.name.clone(),
        language: None,
    };
    let inbound = Inbound {
        // The pages are a web chat of their own, one per session.
        platform: web_chat::PLATFORM,
        chat: Chat {
            id: format!("web:{}", signed.session.id),
            kind: ChatKind::Private,
            title: None,
        },
        from: Some(from.clone()),
        input,
        // Keys of what handlers queue are made from the message id: one per request.
        message_id: Some(rand::random::<i32>().saturating_abs()),
        picture: None,
        reply_to: None,
        document: None,
        surface: chat::PAGES_SURFACE,
        uploads,
    };
    let ctx = Ctx {
        tx: TxCell::new(tx),
        now,
        templates: state.templates.clone(),
        bot: Arc::new(bot),
        inbound: Arc::new(inbound),
        networks: state.web_chat.core().networks(),
    };
    let actor = Actor {
        person: Some(signed.person),
        from: Some(from),
        role,
        conference: Some(conference.clone()),
        language: crate::db::people::language(&mut *ctx.tx.lock().await, signed.person).await?,
    };
    Ok((ctx, actor))
}

/// Commits what the handlers queued; the text meant for the person.
async fn finish(state: &AppState, ctx: Ctx, reply: &Reply) -> anyhow::Result<String> {
    let tx = ctx.tx.into_inner()?;
    let mut here = Vec::new();
    for message in reply.messages.iter().filter(|m| m.edit.is_none()) {
        let html = reply.words(&state.templates).render(
            &format!("messages/{}.html", message.template),
            &message.context,
        )?;
        here.push(herald_bots::html::to_text(&html));
    }
    tx.commit().await?;
    Ok(here.join("\n\n"))
}

/// Runs `command` (as typed in chat) for the signed-in person in `conference`.
pub async fn command(
    state: &AppState,
    signed: &Signed,
    conference: &Conference,
    command: &str,
    uploads: Vec<Upload>,
) -> anyhow::Result<Notice> {
    let input = Input::typed(command);
    let field = match &input {
        Input::BadCommand(
            ParseError::MissingArgument { argument, .. }
            | ParseError::InvalidArgument { argument, .. },
        ) => Some((*argument).to_owned()),
        _ => None,
    };
    let tx = state.db.begin().await?;
    let (ctx, actor) = context(state, tx, signed, conference, input, uploads).await?;
    let reply = chat::handle(&state.schema.0, ctx.clone(), actor).await?;
    let text = finish(state, ctx, &reply).await?;
    Ok(Notice {
        text,
        field,
        form: None,
        kept: None,
    })
}

/// Answers mention `number` with `text`, as a Telegram reply to the mention's message would.
pub async fn answer_mention(
    state: &AppState,
    signed: &Signed,
    conference: &Conference,
    number: i64,
    text: &str,
) -> anyhow::Result<Notice> {
    let tx = state.db.begin().await?;
    let (ctx, actor) = context(
        state,
        tx,
        signed,
        conference,
        Input::Text(text.to_owned()),
        Vec::new(),
    )
    .await?;
    let reply = if text.trim().is_empty() {
        Reply::none()
    } else {
        chat::handlers::mentions::answer_number(&ctx, &actor, number, text).await?
    };
    let text = finish(state, ctx, &reply).await?;
    Ok(Notice {
        text,
        field: None,
        form: None,
        kept: None,
    })
}

/// Keeps a notice for the next page of this session.
pub async fn keep(state: &AppState, signed: &Signed, notice: &Notice) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    store::set_flash(
        &mut tx,
        signed.session.id,
        Some(&serde_json::to_string(notice)?),
    )
    .await?;
    tx.commit().await
}

/// The notice kept for this page, read once.
pub async fn take(tx: &mut Tx, signed: &Signed) -> anyhow::Result<Option<Notice>> {
    let Some(flash) = &signed.session.flash else {
        return Ok(None);
    };
    store::set_flash(tx, signed.session.id, None).await?;
    Ok(serde_json::from_str(flash).ok())
}
