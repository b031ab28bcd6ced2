//! The Telegram adapter of the chat core: reads a stored update, turns it into an [`Inbound`] event,
//! runs the handler tree, and renders the [`Reply`] as Bot API requests in the outbox — all in the
//! inbox event's transaction.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_bots::telegram::updates::{self, Event};
use herald_commands::ParseError;
use serde_json::json;

use super::{Chat, ChatKind, Core, Inbound, Input, Picture, Reply, Sender};
use crate::{
    db::{Tx, inbox::InboxEvent, system},
    delivery::{self, telegram::PLATFORM},
    inbox::InboxHandler,
    templates::Templates,
};

/// The inbox kind of a Telegram update.
pub const UPDATE_KIND: &str = "telegram.update";
/// System-state key of the bot's username, learnt from `getMe` at start.
pub const USERNAME_KEY: &str = "telegram.username";

/// Turns a parsed update into an event, or `None` for updates Herald does not act on.
pub fn to_inbound(update: updates::Update, bot_username: Option<&str>) -> Option<Inbound> {
    let chat_of = |c: &updates::Chat| Chat {
        id: c.id.to_string(),
        kind: match c.kind.as_str() {
            "private" => ChatKind::Private,
            "channel" => ChatKind::Channel,
            _ => ChatKind::Group,
        },
        title: c.title.clone(),
    };
    let sender_of = |u: &updates::User| Sender {
        user_id: u.id.to_string(),
        username: u.username.clone(),
        name: u.display_name(),
        language: u.language_code.clone(),
    };
    match update.event {
        Event::Message(m) | Event::ChannelPost(m) => {
            let chat = chat_of(&m.chat);
            let from = m.from.as_ref().filter(|u| !u.is_bot).map(sender_of);
            let picture = m.picture().map(|p| Picture {
                file_id: p.file_id,
                mime: p.mime,
                size: p.size,
            });
            let document = m
                .document
                .as_ref()
                .filter(|_| picture.is_none())
                .map(|d| Picture {
                    file_id: d.file_id.clone(),
                    mime: d.mime_type.clone().unwrap_or_default(),
                    size: d.file_size,
                });
            let input = if let Some(to) = m.migrate_to_chat_id {
                Input::ChatMigrated { to: to.to_string() }
            } else {
                // A file without a caption is still a message (its text is read later, when awaited).
                let text = match (m.text.or(m.caption), &document) {
                    (Some(text), _) => text,
                    (None, Some(_)) => String::new(),
                    (None, None) => return None,
                };
                match herald_commands::parse(&text, bot_username) {
                    Ok(Some(command)) => Input::Command(command),
                    // In a group, a command we do not know is probably another bot's.
                    Err(ParseError::UnknownCommand { .. }) if chat.kind != ChatKind::Private => {
                        return None;
                    }
                    Err(error) => Input::BadCommand(error),
                    Ok(None) => Input::Text(text),
                }
            };
            Some(Inbound {
                platform: PLATFORM,
                chat,
                from,
                input,
                message_id: Some(m.message_id),
                picture,
                reply_to: m.reply_to_message.map(|r| r.message_id),
                document,
                surface: PLATFORM,
                uploads: Vec::new(),
            })
        }
        Event::CallbackQuery(q) => {
            let chat = match &q.message {
                Some(m) => chat_of(&m.chat),
                None => Chat {
                    id: q.from.id.to_string(),
                    kind: ChatKind::Private,
                    title: None,
                },
            };
            let message_id = q.message.as_ref().map(|m| m.message_id);
            Some(Inbound {
                platform: PLATFORM,
                chat,
                from: Some(sender_of(&q.from)),
                input: Input::Button {
                    callback_id: q.id,
                    data: q.data.unwrap_or_default(),
                    message_id,
                },
                message_id,
                picture: None,
                reply_to: None,
                document: None,
                surface: PLATFORM,
                uploads: Vec::new(),
            })
        }
        Event::MyChatMember(change) => {
            let present =
                |s: &str| matches!(s, "member" | "administrator" | "creator" | "restricted");
            let input = match (
                present(&change.old_chat_member.status),
                present(&change.new_chat_member.status),
            ) {
                (false, true) => Input::BotAddedToChat,
                (true, false) => Input::BotRemovedFromChat,
                _ => return None,
            };
            Some(Inbound {
                platform: PLATFORM,
                chat: chat_of(&change.chat),
                from: Some(sender_of(&change.from)),
                input,
                message_id: None,
                picture: None,
                reply_to: None,
                document: None,
                surface: PLATFORM,
                uploads: Vec::new(),
            })
        }
        Event::EditedMessage(_) | Event::Other(_) => None,
    }
}

/// The chat core behind Telegram updates in the inbox.
#[derive(Debug)]
pub struct TelegramChat {
    core: Core,
    /// The bot's username as the running Herald stored it, read again every few seconds rather than for
    /// every update.
    username: tokio::sync::Mutex<Option<(std::time::Instant, Option<String>)>>,
}

/// How long the stored username is trusted before it is read again.
const USERNAME_FRESH: std::time::Duration = std::time::Duration::from_secs(5);

impl TelegramChat {
    pub fn new(core: Core) -> Arc<Self> {
        Arc::new(Self {
            core,
            username: tokio::sync::Mutex::default(),
        })
    }

    async fn username(&self, tx: &mut Tx) -> anyhow::Result<Option<String>> {
        let mut cached = self.username.lock().await;
        if let Some((read, username)) = cached.as_ref()
            && read.elapsed() < USERNAME_FRESH
        {
            return Ok(username.clone());
        }
        let username = system::get_system(tx, USERNAME_KEY).await?;
        *cached = Some((std::time::Instant::now(), username.clone()));
        Ok(username)
    }
}

#[async_trait]
impl InboxHandler for TelegramChat {
    async fn handle(&self, mut tx: Tx, event: &InboxEvent) -> anyhow::Result<Tx> {
        let update = updates::parse(&event.payload)?;
        let update_id = update.update_id;
        let username = self.username(&mut tx).await?;
        let Some(inbound) = to_inbound(update, username.as_deref()) else {
            return Ok(tx);
        };
        let now = event.received_at;
        let bot = self
            .core
            .bot(Some(username.unwrap_or_else(|| "bot".into())));
        let (reply, mut tx) = self.core.run(tx, now, bot, inbound.clone()).await?;
        render_reply(
            &mut tx,
            &self.core.templates,
            now,
            &inbound,
            &reply,
            &format!("tg:{update_id}"),
        )
        .await?;
        if reply.delete_trigger {
            // The message held a secret (credentials, a bind code): it leaves the chat, and the stored
            // update too.
            crate::db::inbox::redact(&mut tx, event.id).await?;
        }
        Ok(tx)
    }

    /// The chat an update comes from: a chat's updates are handled in order.
    fn conversation(&self, event: &InboxEvent) -> Option<String> {
        let update = updates::parse(&event.payload).ok()?;
        to_inbound(update, None).map(|inbound| inbound.chat.id)
    }

    /// Something broke while handling a message: the sender gets a short apology instead of silence; the
    /// cause is in the log and on the inbox row.
    async fn failed(
        &self,
        tx: &mut Tx,
        event: &InboxEvent,
        _error: &anyhow::Error,
    ) -> anyhow::Result<()> {
        let Ok(update) = updates::parse(&event.payload) else {
            return Ok(());
        };
        let update_id = update.update_id;
        let Some(inbound) = to_inbound(update, None) else {
            return Ok(());
        };
        if inbound.chat.kind != ChatKind::Private {
            return Ok(());
        }
        let reply = Reply::text("apology", json!({}));
        render_reply(
            tx,
            &self.core.templates,
            event.received_at,
            &inbound,
            &reply,
            &format!("tg:{update_id}:apology"),
        )
        .await
    }
}

/// Writes a reply to the outbox as Bot API requests.
pub async fn render_reply(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    inbound: &Inbound,
    reply: &Reply,
    key: &str,
) -> anyhow::Result<()> {
    let here: i64 = inbound.chat.id.parse()?;
    // In a group, a pressed button posts nothing new: what the handler says goes into the answer to the
    // press (an alert for a refusal), and the pressed message is edited where the handler says so.
    let quiet = reply.answer_button && inbound.chat.kind != ChatKind::Private;
    if reply.answer_button
        && let Input::Button { callback_id, .. } = &inbound.input
    {
        let said = match reply.messages.iter().find(|m| m.edit.is_none()) {
            Some(message) if quiet => {
                Some(herald_bots::html::to_text(&reply.words(templates).render(
                    &format!("messages/{}.html", message.template),
                    &message.context,
                )?))
            }
            _ => None,
        };
        delivery::telegram::answer_button(
            tx,
            now,
            here,
            callback_id,
            said.as_deref(),
            reply.refused,
            &format!("{key}:answer"),
        )
        .await?;
    }
    for (n, message) in reply.messages.iter().enumerate() {
        if quiet && message.edit.is_none() {
            continue;
        }
        let notice = message.notice();
        delivery::telegram::write_notice(
            tx,
            reply.words(templates),
            now,
            here,
            &notice,
            &format!("{key}:{n}"),
        )
        .await?;
    }
    if reply.delete_trigger
        && let Some(message_id) = inbound.message_id
    {
        delivery::telegram::delete(tx, now, here, message_id, &format!("{key}:delete")).await?;
    }
    Ok(())
}
