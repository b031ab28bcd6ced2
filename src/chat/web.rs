//! The web chat adapter of the chat core: what someone writes or presses in Herald's web chat is stored in
//! the inbox as a [`WebEvent`], turned into an [`Inbound`] event on platform `web`, run through the same
//! handler tree as Telegram, and the [`Reply`] is written by the delivery layer for web chats — all in the
//! inbox event's transaction. A person's private chat has their web account's id; rooms are group chats
//! (`room-<n>`) that can be bound like Telegram groups.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Chat, ChatKind, Core, Inbound, Input, Reply, Sender};
use crate::{
    db::{Tx, inbox::InboxEvent, web_chat},
    delivery::{self, Contact, Reach},
    inbox::InboxHandler,
    templates::Templates,
};

/// The inbox kind of a web chat event.
pub const EVENT_KIND: &str = "web.chat";

/// What someone did in a web chat, as stored in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebEvent {
    pub chat: String,
    /// A room (a group chat) rather than the person's private chat.
    #[serde(default)]
    pub room: bool,
    #[serde(default)]
    pub title: Option<String>,
    /// The writer's web account id.
    pub user_id: String,
    pub name: String,
    /// The web chat message this is (what they wrote), or the one whose button they pressed.
    pub message_id: i64,
    pub action: WebAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WebAction {
    Text { text: String },
    Button { data: String },
}

impl WebEvent {
    /// The platform-neutral event.
    pub fn to_inbound(&self) -> Inbound {
        let kind = if self.room {
            ChatKind::Group
        } else {
            ChatKind::Private
        };
        let input = match &self.action {
            WebAction::Text { text } => Input::typed(text),
            WebAction::Button { data } => Input::Button {
                callback_id: String::new(),
                data: data.clone(),
                message_id: i32::try_from(self.message_id).ok(),
            },
        };
        Inbound {
            platform: web_chat::PLATFORM,
            chat: Chat {
                id: self.chat.clone(),
                kind,
                title: self.title.clone(),
            },
            from: Some(Sender {
                user_id: self.user_id.clone(),
                username: None,
                name: self.name.clone(),
                language: None,
            }),
            input,
            message_id: i32::try_from(self.message_id).ok(),
            picture: None,
            reply_to: None,
            document: None,
            surface: "web-chat",
            uploads: Vec::new(),
        }
    }
}

/// The chat core behind the web chat.
#[derive(Debug)]
pub struct WebChat {
    core: Core,
}

impl WebChat {
    pub fn new(core: Core) -> Arc<Self> {
        Arc::new(Self { core })
    }

    /// The chat core it runs (the pages run the same one).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Runs the chat core for `event` in `tx` and writes the reply; `key` names what it queues, `stored`
    /// is the inbox event it came as (blanked too when it held a secret).
    pub async fn run(
        &self,
        mut tx: Tx,
        now: DateTime<Utc>,
        event: &WebEvent,
        key: &str,
        stored: Option<i64>,
    ) -> anyhow::Result<Tx> {
        let bot = self.core.bot_info(&mut tx).await?;
        let (reply, mut tx) = self.core.run(tx, now, bot, event.to_inbound()).await?;
        render_reply(&mut tx, &self.core.templates, now, event, &reply, key).await?;
        if reply.delete_trigger {
            // The message held a secret (credentials, a bind code): it leaves the chat, and the stored
            // event too.
            web_chat::delete_message(&mut tx, &event.chat, event.message_id).await?;
            if let Some(id) = stored {
                crate::db::inbox::redact(&mut tx, id).await?;
            }
        }
        Ok(tx)
    }
}

#[async_trait]
impl InboxHandler for WebChat {
    async fn handle(&self, tx: Tx, event: &InboxEvent) -> anyhow::Result<Tx> {
        let web: WebEvent = serde_json::from_str(&event.payload)?;
        self.run(
            tx,
            event.received_at,
            &web,
            &format!("webchat:{}", event.id),
            Some(event.id),
        )
        .await
    }

    /// Something broke while handling a message: the chat gets a short apology instead of silence.
    async fn failed(
        &self,
        tx: &mut Tx,
        event: &InboxEvent,
        _error: &anyhow::Error,
    ) -> anyhow::Result<()> {
        let Ok(web) = serde_json::from_str::<WebEvent>(&event.payload) else {
            return Ok(());
        };
        let reply = Reply::text("apology", json!({}));
        let key = format!("webchat:{}:apology", event.id);
        render_reply(
            tx,
            &self.core.templates,
            event.received_at,
            &web,
            &reply,
            &key,
        )
        .await
    }
}

/// Writes a reply to this chat through the delivery layer. (Telegram's answer to a button press, which stops its spinner, has no web equivalent.)
async fn render_reply(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    event: &WebEvent,
    reply: &Reply,
    key: &str,
) -> anyhow::Result<()> {
    for (n, message) in reply.messages.iter().enumerate() {
        let reach = Reach {
            contact: Contact::Web {
                chat: event.chat.clone(),
            },
            language: reply.language.clone(),
        };
        delivery::write(
            tx,
            templates,
            now,
            &[reach],
            &message.notice(),
            &format!("{key}:{n}"),
        )
        .await?;
    }
    Ok(())
}
