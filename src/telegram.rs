//! Telegram, as the application uses it: the outbox's sender for the configured bot, and helpers that
//! write Telegram messages to the outbox.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_bots::{
    RateLimits,
    telegram::{self, OutgoingMessage, TelegramClient, TelegramError},
};

use crate::{
    db::outbox::NewMessage,
    outbox::{ChatClass, Delivery, SendError, Sender},
};

/// The platform name in the outbox.
pub const PLATFORM: &str = "telegram";
/// The provider name of the bot configured by `HERALD_TELEGRAM_TOKEN`.
pub const BOT_PROVIDER: &str = "telegram";

#[derive(Debug)]
pub struct TelegramSender {
    client: TelegramClient,
}

impl TelegramSender {
    pub fn new(client: TelegramClient) -> Arc<Self> {
        Arc::new(Self { client })
    }
}

#[async_trait]
impl Sender for TelegramSender {
    fn limits(&self) -> RateLimits {
        telegram::LIMITS
    }

    fn chat_class(&self, target: &str) -> ChatClass {
        match target.parse::<i64>() {
            Ok(id) if telegram::is_private_chat(id) => ChatClass::Private,
            _ => ChatClass::Group,
        }
    }

    async fn send(&self, delivery: Delivery<'_>) -> Result<String, SendError> {
        let chat_id: i64 = delivery.target.parse().map_err(|_| {
            SendError::permanent(format!("not a Telegram chat id: {:?}", delivery.target))
        })?;
        let message: OutgoingMessage = serde_json::from_str(delivery.body).map_err(|e| {
            SendError::permanent(format!("unreadable Telegram message in the outbox: {e}"))
        })?;
        match self.client.send_message(chat_id, &message).await {
            Ok(sent) => Ok(sent.message_id.to_string()),
            Err(err) => {
                let moved_to = match &err {
                    TelegramError::MigratedTo(chat) => Some(chat.to_string()),
                    _ => None,
                };
                Err(SendError {
                    disposition: err.disposition(),
                    message: err.to_string(),
                    moved_to,
                })
            }
        }
    }
}

/// A Telegram message from the configured bot to `chat_id`, ready for [`crate::db::outbox::enqueue`].
///
/// `key` names the message (say `announce:17`); together with the chat it is the idempotency key, so the
/// same message to the same chat is written once.
pub fn message(
    chat_id: i64,
    kind: &str,
    key: &str,
    body: &OutgoingMessage,
    due_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> anyhow::Result<NewMessage> {
    Ok(NewMessage {
        provider: BOT_PROVIDER.into(),
        platform: PLATFORM.into(),
        target: chat_id.to_string(),
        kind: kind.into(),
        idempotency_key: format!("{key}/{PLATFORM}:{chat_id}"),
        body: serde_json::to_string(body)?,
        due_at,
        expires_at,
    })
}
