//! The web chat writer: a notice rendered as HTML with its buttons' labels, written to the outbox for a web
//! chat; the web chat's sender (in `crate::web::chat`) shows it there. Keys `<key>/web:<chat>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Notice;
use crate::{
    db::{
        Tx,
        outbox::{self, NewMessage},
        web_chat::PLATFORM,
    },
    templates::Words,
};

/// One web chat button: its label as shown, and what pressing it sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub data: String,
}

/// The body of a web chat row in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebBody {
    pub html: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Vec<Button>>,
    /// Replace Herald's message with this id in the chat instead of adding one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<i64>,
}

/// Writes `notice` for web chat `chat` under `key`; returns the idempotency keys written.
pub async fn write_notice(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    chat: &str,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<Vec<String>> {
    let body = WebBody {
        html: words.render(
            &format!("messages/{}.html", notice.template),
            &notice.context,
        )?,
        buttons: buttons(words, notice)?,
        replaces: notice.replaces.map(i64::from),
    };
    let kind = if notice.replaces.is_some() {
        "edit"
    } else if notice.secret {
        outbox::SECRET_KIND
    } else {
        notice.kind
    };
    let timing = Timing {
        due: notice.due.unwrap_or(now),
        deadline: notice.deadline,
        recomputable: notice.recomputable,
    };
    write(tx, now, chat, &body, kind, key, timing).await
}

/// A public post to a web room (an attendee room): its text as written. Its pictures are not shown
/// here (they are known by their Telegram file ids). Key `<key>:web`.
pub async fn post(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: &str,
    text: &str,
    key: &str,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    let body = WebBody {
        html: herald_bots::html::escape_html(text),
        buttons: Vec::new(),
        replaces: None,
    };
    let timing = Timing {
        due,
        deadline: None,
        recomputable: true,
    };
    write(tx, now, chat, &body, "post", &format!("{key}:web"), timing).await?;
    Ok(())
}

/// The notice's actions with their labels rendered.
fn buttons(words: Words<'_>, notice: &Notice) -> anyhow::Result<Vec<Vec<Button>>> {
    let mut rows = Vec::new();
    for row in &notice.actions {
        let mut rendered = Vec::new();
        for action in row {
            rendered.push(Button {
                label: action.render_label(words)?,
                data: action.data(),
            });
        }
        rows.push(rendered);
    }
    Ok(rows)
}

/// Replaces Herald's message `message_id` in `chat` with `notice` rendered (text and buttons).
pub async fn edit(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    chat: &str,
    message_id: i64,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<String> {
    let body = WebBody {
        html: words.render(
            &format!("messages/{}.html", notice.template),
            &notice.context,
        )?,
        buttons: buttons(words, notice)?,
        replaces: Some(message_id),
    };
    let timing = Timing {
        due: now,
        deadline: None,
        recomputable: false,
    };
    let mut keys = write(tx, now, chat, &body, "edit", key, timing).await?;
    Ok(keys.remove(0))
}

/// When a row is due, when it is too late, and whether writing it again updates it.
struct Timing {
    due: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    recomputable: bool,
}

async fn write(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: &str,
    body: &WebBody,
    kind: &str,
    key: &str,
    timing: Timing,
) -> anyhow::Result<Vec<String>> {
    let message = NewMessage {
        provider: PLATFORM.into(),
        platform: PLATFORM.into(),
        target: chat.to_owned(),
        kind: kind.into(),
        idempotency_key: format!("{key}/{PLATFORM}:{chat}"),
        body: serde_json::to_string(body)?,
        due_at: timing.due,
        expires_at: timing.deadline,
    };
    if timing.recomputable {
        outbox::upsert_scheduled(tx, now, &message).await?;
    } else {
        outbox::enqueue(tx, now, &message).await?;
    }
    Ok(vec![message.idempotency_key])
}
