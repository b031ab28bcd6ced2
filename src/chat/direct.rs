//! Direct messages to the bot on the social networks: a Mastodon direct status or an X direct message that
//! holds a command is a message to the bot, so commands work there too (`@conf /today`, `/start <token>`
//! to link the account). This module turns one into an [`Inbound`] event of a private chat with its
//! sender, runs the chat core, and queues the reply as direct messages answering it through the outbox;
//! buttons and edits, which these networks have no place for, are left out (the commands that do the same
//! follow the text), and messages for other chats (the moderation chat) go to them as usual.
//!
//! [`MentionHandler`] is what the listeners and the X webhook stored, read from the inbox: a direct message
//! with a command goes to the chat core, everything else is a mention ([`crate::mentions`]).

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Chat, ChatKind, Core, Inbound, Input, Reply, Sender};
use crate::{
    db::{
        Tx,
        inbox::InboxEvent,
        providers::{self, Provider},
    },
    delivery::{self, networks},
    inbox::InboxHandler,
    mentions::{self, Heard},
};

/// A direct message to the bot, as each network's reader found it.
#[derive(Debug, Clone)]
pub struct Direct {
    /// The network's name (`mastodon`, `x`): the platform of the person's account.
    pub platform: &'static str,
    /// The message's id on the network: what the answer replies to, and its keys are made from.
    pub id: String,
    /// The sender's account id, unique on the network (their private chat with the bot).
    pub user: String,
    /// Their handle, without the `@`.
    pub username: String,
    pub name: String,
    /// The command or text, without the mentions it starts with.
    pub text: String,
    /// What the answer is addressed to: the `acct` on Mastodon, the user id on X.
    pub answer_to: String,
    /// Whether the answer replies to the message (Mastodon threads them; X conversations need not).
    pub thread: bool,
}

/// A positive number standing for a message id (which is a string, and may be longer than 31 bits): what
/// keys of the messages a command sends are made from, so two commands never share one.
fn message_number(message_id: &str) -> i32 {
    let digest = crate::token::hash(message_id);
    i32::from_str_radix(&digest[..7], 16).unwrap_or(0)
}

/// Runs the chat core for one direct message from `provider`'s network and queues the answer as direct
/// messages from that account.
pub async fn handle(
    tx: Tx,
    core: &Core,
    now: DateTime<Utc>,
    provider: &Provider,
    message: &Direct,
) -> anyhow::Result<Tx> {
    let inbound = Inbound {
        platform: message.platform,
        chat: Chat {
            id: message.user.clone(),
            kind: ChatKind::Private,
            title: None,
        },
        from: Some(Sender {
            user_id: message.user.clone(),
            username: Some(message.username.clone()).filter(|u| !u.is_empty()),
            name: message.name.clone(),
            language: None,
        }),
        input: Input::typed(&message.text),
        // What handlers name their messages by (`/dm`, `/announce`): one per message.
        message_id: Some(message_number(&message.id)),
        picture: None,
        reply_to: None,
        document: None,
        surface: message.platform,
        uploads: Vec::new(),
    };
    let mut tx = tx;
    let mut bot = core.bot_info(&mut tx).await?;
    if !bot.telegram {
        bot.username = provider.internal_name.clone();
    }
    let (reply, mut tx) = core.run(tx, now, bot, inbound).await?;
    answer(&mut tx, core, now, provider, message, &reply).await?;
    Ok(tx)
}

/// Queues the reply as direct messages to the sender (the commands its buttons stand for follow the text).
async fn answer(
    tx: &mut Tx,
    core: &Core,
    now: DateTime<Utc>,
    provider: &Provider,
    message: &Direct,
    reply: &Reply,
) -> anyhow::Result<()> {
    for (n, sent) in reply.messages.iter().enumerate() {
        if sent.edit.is_some() {
            continue;
        }
        let key = format!("dm:{}:{}:{n}", provider.id, message.id);
        let html = delivery::social::direct_html(reply.words(&core.templates), &sent.notice())?;
        let reply_to = message.thread.then_some(message.id.as_str());
        let body = delivery::social::direct_thread(provider, &message.answer_to, &html, reply_to)?;
        delivery::social::write_thread(tx, now, provider, "dm", &key, &body, now).await?;
    }
    Ok(())
}

/// What the listeners and webhooks heard, from the inbox: a direct message holding a command goes to the
/// chat core; everything else is read as a mention ([`crate::mentions`]).
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
        let command = match provider.kind.as_str() {
            networks::MASTODON if event.kind == mentions::MASTODON_KIND => {
                super::mastodon::command(&heard.notification, &provider)
            }
            networks::X if event.kind == mentions::X_KIND => {
                super::x::command(&heard.notification, &heard.own_account)
            }
            _ => None,
        };
        if let Some(message) = command.filter(|m| m.text.starts_with('/')) {
            return handle(tx, &self.core, event.received_at, &provider, &message).await;
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
