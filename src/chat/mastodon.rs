//! The chat core behind Mastodon direct messages: a direct-visibility mention of a conference account is a
//! message to the bot, so commands work from Mastodon too (`@conf /today`). The reply goes back as a direct
//! status answering it, through the outbox; buttons and edits, which Mastodon has no place for, are left
//! out, and messages for other chats (the moderation chat) go to Telegram as usual.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use dptree::Handler;
use serde_json::Value;

use super::{
    BotInfo, Chat, ChatKind, Ctx, Destination, HandlerResult, Inbound, Input, Reply, Sender,
    TxCell,
    telegram::{render_to_outbox, resolve_actor},
};
use crate::{
    db::{Tx, outbox, posts::Provider},
    posts::{PlatformRef, ThreadBody},
    templates::Templates,
};

pub const PLATFORM: &str = "mastodon";

/// The command or text of a direct message: its HTML as text, without the mentions it starts with.
pub fn command_text(content_html: &str) -> String {
    let text = herald_bots::html::to_text(content_html);
    let mut rest = text.trim_start();
    while let Some(word) = rest
        .split_whitespace()
        .next()
        .filter(|w| w.starts_with('@'))
    {
        rest = rest[word.len()..].trim_start();
    }
    rest.to_owned()
}

/// Runs the chat core for one direct message and queues the answer as direct statuses.
#[allow(clippy::too_many_arguments)]
pub async fn handle_direct(
    tx: Tx,
    schema: &Handler<'static, HandlerResult>,
    templates: &Arc<Templates>,
    public_url: Option<url::Url>,
    now: DateTime<Utc>,
    provider: &Provider,
    status: &Value,
) -> anyhow::Result<Tx> {
    let text = |p: &str| status.pointer(p).and_then(Value::as_str);
    let status_id = text("/id").context("the status has no id")?.to_owned();
    let acct = text("/account/acct")
        .context("the status has no account")?
        .to_owned();
    // The account's URI is unique across instances; its id only on one.
    let user = text("/account/uri")
        .or_else(|| text("/account/url"))
        .map_or_else(|| format!("{acct}@provider{}", provider.id), str::to_owned);
    let name = text("/account/display_name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&acct)
        .to_owned();
    let message = command_text(text("/content").context("the status has no content")?);
    let input = match herald_commands::parse(&message, None) {
        Ok(Some(command)) => Input::Command(command),
        Err(error) => Input::BadCommand(error),
        Ok(None) => Input::Text(message),
    };
    let inbound = Inbound {
        platform: PLATFORM,
        chat: Chat {
            id: user.clone(),
            kind: ChatKind::Private,
            title: None,
        },
        from: Some(Sender {
            user_id: user,
            username: Some(acct.clone()),
            name,
        }),
        input,
        message_id: None,
        picture: None,
        reply_to: None,
        document: None,
        surface: PLATFORM,
        uploads: Vec::new(),
    };
    let ctx = Ctx {
        tx: TxCell::new(tx),
        now,
        templates: templates.clone(),
        bot: Arc::new(BotInfo {
            username: provider.internal_name.clone(),
            public_url,
        }),
        inbound: Arc::new(inbound),
    };
    let actor = resolve_actor(&ctx).await?;
    let reply = super::handle(schema, ctx.clone(), actor).await?;
    let Ctx { tx, .. } = ctx;
    let mut tx = tx.into_inner()?;
    answer(&mut tx, templates, now, provider, &status_id, &acct, &reply).await?;
    Ok(tx)
}

/// Queues the reply: messages for this chat as direct statuses answering `status_id` (each starting with
/// `@acct`, so only they see it), messages for other chats to Telegram.
async fn answer(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    provider: &Provider,
    status_id: &str,
    acct: &str,
    reply: &Reply,
) -> anyhow::Result<()> {
    let (limit, measure) = crate::posts::measure_for(provider).unwrap_or((
        herald_bots::mastodon::DEFAULT_LIMIT,
        herald_bots::mastodon::text_len,
    ));
    for (n, message) in reply.messages.iter().enumerate() {
        if message.edit.is_some() {
            continue;
        }
        let html = templates.render(
            &format!("messages/{}.html", message.template),
            &message.context,
        )?;
        let key = format!("dm:{}:{status_id}:{n}", provider.id);
        match &message.to {
            Destination::Chat(chat) => {
                render_to_outbox(tx, now, chat.parse()?, &html, None, &key).await?;
            }
            Destination::Here => {
                let text = format!("@{acct} {}", herald_bots::html::to_text(&html));
                let parts = herald_bots::text::split_thread(&text, limit, measure)
                    .map_err(|e| anyhow::anyhow!("a direct answer: {e}"))?;
                let body = ThreadBody {
                    parts,
                    images: Vec::new(),
                    reply_to: Some(PlatformRef {
                        id: status_id.to_owned(),
                        cid: None,
                        root_id: None,
                        root_cid: None,
                        direct: true,
                    }),
                    boost: None,
                };
                let row = outbox::NewMessage {
                    provider: format!("provider:{}", provider.id),
                    platform: provider.kind.clone(),
                    target: provider.id.to_string(),
                    kind: "dm".into(),
                    idempotency_key: key,
                    body: serde_json::to_string(&body)?,
                    due_at: now,
                    expires_at: None,
                };
                outbox::enqueue(tx, now, &row).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::command_text;

    #[test]
    fn the_leading_mentions_are_not_the_command() {
        let html = r#"<p><span class="h-card" translate="no"><a href="https://m.example/@conf" class="u-url mention">@<span>conf</span></a></span> /follow 12</p>"#;
        assert_eq!(command_text(html), "/follow 12");
        assert_eq!(
            command_text("<p>@conf@m.example @other hello @you</p>"),
            "hello @you"
        );
        assert_eq!(command_text("<p>/today</p>"), "/today");
    }
}
