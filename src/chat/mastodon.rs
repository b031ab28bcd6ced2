//! The chat core behind Mastodon direct messages: a direct-visibility mention of a conference account is a
//! message to the bot, so commands work from Mastodon too (`@conf /today`). The reply goes back as a direct
//! status answering it, through the outbox; buttons and edits, which Mastodon has no place for, are left
//! out, and messages for other chats (the moderation chat) go to Telegram as usual.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Chat, ChatKind, Core, Inbound, Input, Reply, Sender};
use crate::{
    db::{
        Tx,
        inbox::InboxEvent,
        providers::{self, Provider},
    },
    delivery::{self, networks::MASTODON as PLATFORM},
    inbox::InboxHandler,
    mentions::{self, Heard},
    templates::Templates,
};

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

/// A positive number standing for a status id (which is a string, and may be longer than 31 bits): what
/// keys of the messages a command sends are made from, so two commands never share one.
fn message_number(status_id: &str) -> i32 {
    let digest = crate::token::hash(status_id);
    i32::from_str_radix(&digest[..7], 16).unwrap_or(0)
}

/// Runs the chat core for one direct message and queues the answer as direct statuses.
pub async fn handle_direct(
    tx: Tx,
    core: &Core,
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
    let input = Input::typed(&message);
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
            language: None,
        }),
        input,
        // What handlers name their messages by (`/dm`, `/announce`): one per status.
        message_id: Some(message_number(&status_id)),
        picture: None,
        reply_to: None,
        document: None,
        surface: PLATFORM,
        uploads: Vec::new(),
    };
    let mut tx = tx;
    let mut bot = core.bot_info(&mut tx).await?;
    if !bot.telegram {
        bot.username = provider.internal_name.clone();
    }
    let (reply, mut tx) = core.run(tx, now, bot, inbound).await?;
    answer(
        &mut tx,
        &core.templates,
        now,
        provider,
        &status_id,
        &acct,
        &reply,
    )
    .await?;
    Ok(tx)
}

/// Queues the reply as direct statuses answering `status_id` (each starting with `@acct`, so only they
/// see it; the commands its buttons stand for follow the text).
async fn answer(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    provider: &Provider,
    status_id: &str,
    acct: &str,
    reply: &Reply,
) -> anyhow::Result<()> {
    for (n, message) in reply.messages.iter().enumerate() {
        if message.edit.is_some() {
            continue;
        }
        let key = format!("dm:{}:{status_id}:{n}", provider.id);
        let html = delivery::social::direct_html(reply.words(templates), &message.notice())?;
        let body = delivery::social::direct_thread(provider, acct, &html, Some(status_id))?;
        delivery::social::write_thread(tx, now, provider, "dm", &key, &body, now).await?;
    }
    Ok(())
}

/// What the listeners heard, from the inbox: a Mastodon direct message holding a command goes to the chat
/// core; everything else is read as a mention ([`crate::mentions`]).
#[derive(Debug)]
pub struct MentionHandler {
    core: Core,
}

impl MentionHandler {
    pub fn new(core: Core) -> Arc<Self> {
        Arc::new(Self { core })
    }
}

#[async_trait]
impl InboxHandler for MentionHandler {
    async fn handle(&self, mut tx: Tx, event: &InboxEvent) -> anyhow::Result<Tx> {
        let heard: Heard = serde_json::from_str(&event.payload)
            .context("the stored notification is not one a listener wrote")?;
        let mention = mentions::read(&event.kind, &heard)?;
        let Some(mention) = mention else {
            return Ok(tx);
        };
        let Some(provider) = providers::provider_by_id(&mut tx, heard.provider_id).await? else {
            return Ok(tx);
        };
        // A direct message holding a command is for the bot; any other is a mention like the rest, which
        // organisers answer (privately, as it came).
        let status = &heard.notification["status"];
        if event.kind == mentions::MASTODON_KIND
            && mention.visibility.as_deref() == Some("direct")
            && command_text(status["content"].as_str().unwrap_or_default()).starts_with('/')
        {
            return handle_direct(tx, &self.core, event.received_at, &provider, status).await;
        }
        mentions::receive(
            &mut tx,
            &self.core.templates,
            event.received_at,
            &provider,
            &mention,
        )
        .await?;
        Ok(tx)
    }
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
