//! The Telegram writer: notices rendered as Bot API requests and written to the outbox, one row per
//! request, under idempotency keys `<key>/telegram:<chat>`. Texts are split at Telegram's 4096-character
//! limit (the buttons go on the last part); actions become an inline keyboard.

use chrono::{DateTime, Utc};
use herald_bots::telegram::{self as tg, MAX_TEXT, OutgoingMessage, OutgoingPhoto, Request};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{Action, Notice};
use crate::{
    db::{
        Tx,
        outbox::{self, NewMessage},
    },
    templates::Words,
};

/// The platform name in the outbox.
pub const PLATFORM: &str = "telegram";
/// The provider name of the bot configured by `HERALD_TELEGRAM_TOKEN`.
pub const BOT_PROVIDER: &str = "telegram";

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
        body: serde_json::to_string(&Request::SendMessage(body.clone()))?,
        due_at,
        expires_at,
    })
}

/// Writes a notice for Telegram chat `chat` under `key`; returns the idempotency keys written.
pub async fn write_notice(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    chat: i64,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<Vec<String>> {
    let text = words.render(
        &format!("messages/{}.html", notice.template),
        &notice.context,
    )?;
    let markup = keyboard(words, &notice.actions)?;
    let mut keys = Vec::new();
    if !notice.pictures.is_empty() && notice.replaces.is_none() {
        // The pictures first, as one album, so the text (and its buttons) comes after them.
        let album = notice.pictures.iter().map(photo).collect();
        let due = notice.due.unwrap_or(now);
        keys.push(
            photos(
                tx,
                now,
                chat,
                album,
                &format!("{key}:photos"),
                "photos",
                due,
            )
            .await?,
        );
    }
    if let Some(message_id) = notice.replaces {
        let mut body = OutgoingMessage::html(first_part(&text));
        body.reply_markup = markup;
        let request = Request::EditMessageText {
            message_id,
            message: body,
        };
        keys.push(enqueue(tx, now, chat, &request, key).await?);
        return Ok(keys);
    }
    if notice.secret {
        let mut body = OutgoingMessage::html(text);
        body.reply_markup = markup;
        let request = Request::SendMessage(body);
        keys.push(write(tx, now, chat, &request, key, outbox::SECRET_KIND, now, None).await?);
        return Ok(keys);
    }
    if notice.recomputable {
        let due = notice.due.unwrap_or(now);
        keys.extend(
            html_scheduled(tx, now, chat, &text, key, notice.kind, due, notice.deadline).await?,
        );
        return Ok(keys);
    }
    keys.extend(html(tx, now, chat, &text, markup, key, notice.kind).await?);
    Ok(keys)
}

fn first_part(text: &str) -> String {
    tg::split_html(text, MAX_TEXT)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Actions as an inline keyboard: each label is a template (`buttons/<label>.txt`), each payload what
/// comes back when pressed.
pub fn keyboard(
    words: Words<'_>,
    rows: &[Vec<Action>],
) -> anyhow::Result<Option<InlineKeyboardMarkup>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let mut keyboard = Vec::new();
    for row in rows {
        let mut buttons = Vec::new();
        for action in row {
            let label = action.render_label(words)?;
            buttons.push(InlineKeyboardButton::callback(label, action.data()));
        }
        keyboard.push(buttons);
    }
    Ok(Some(InlineKeyboardMarkup::new(keyboard)))
}

/// Queues an HTML text for a chat as outbox kind `kind` (which sets its lane), split at Telegram's
/// 4096-character limit; buttons go on the last part.
pub async fn html(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    html: &str,
    markup: Option<InlineKeyboardMarkup>,
    key: &str,
    kind: &str,
) -> anyhow::Result<Vec<String>> {
    let parts = tg::split_html(html, MAX_TEXT);
    let last = parts.len().saturating_sub(1);
    let mut keys = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        let mut body = OutgoingMessage::html(part);
        if i == last {
            body.reply_markup = markup.clone();
        }
        let request = Request::SendMessage(body);
        let key = part_key(key, i, last);
        keys.push(write(tx, now, chat, &request, &key, kind, now, None).await?);
    }
    Ok(keys)
}

fn part_key(key: &str, i: usize, last: usize) -> String {
    if last == 0 {
        key.to_owned()
    } else {
        format!("{key}:part{i}")
    }
}

/// Like [`html`] for scheduled messages (reminders, notices, posts): due at `due`, never sent after
/// `deadline`, and written so that recomputing them updates the pending rows instead of
/// adding more.
#[allow(clippy::too_many_arguments)]
async fn html_scheduled(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    html: &str,
    key: &str,
    kind: &str,
    due: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<String>> {
    let parts = tg::split_html(html, MAX_TEXT);
    let last = parts.len().saturating_sub(1);
    let mut keys = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        let message = NewMessage {
            provider: BOT_PROVIDER.into(),
            platform: PLATFORM.into(),
            target: chat.to_string(),
            kind: kind.into(),
            idempotency_key: format!("{}/{PLATFORM}:{chat}", part_key(key, i, last)),
            body: serde_json::to_string(&Request::SendMessage(OutgoingMessage::html(part)))?,
            due_at: due,
            expires_at: deadline,
        };
        outbox::upsert_scheduled(tx, now, &message).await?;
        keys.push(message.idempotency_key);
    }
    Ok(keys)
}

/// A public post to a channel: the pictures as an album, the text as its caption when it fits and as a
/// message after them otherwise. Keys `<key>:telegram:photos` and `<key>:telegram`.
pub async fn post(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    text: &str,
    pictures: &[super::Picture],
    key: &str,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    let caption_fits = text.chars().count() <= tg::MAX_CAPTION;
    if !pictures.is_empty() {
        let album: Vec<OutgoingPhoto> = pictures
            .iter()
            .enumerate()
            .map(|(i, picture)| OutgoingPhoto {
                caption: (i == 0 && caption_fits && !text.is_empty()).then(|| text.to_owned()),
                ..photo(picture)
            })
            .collect();
        let key = format!("{key}:{PLATFORM}:photos");
        photos(tx, now, chat, album, &key, "post", due).await?;
    }
    if pictures.is_empty() || !caption_fits {
        let html = herald_bots::html::escape_html(text);
        let key = format!("{key}:{PLATFORM}");
        html_scheduled(tx, now, chat, &html, &key, "post", due, None).await?;
    }
    Ok(())
}

/// A channel post's length rule: a message holds 4096 characters.
pub const CHANNEL_LIMIT: super::ChannelLimit = super::ChannelLimit {
    network: PLATFORM,
    limit: tg::MAX_TEXT,
    measure: count_chars,
};

fn count_chars(text: &str) -> usize {
    text.chars().count()
}

/// Shows `pictures` in `chat` now, as an album with their captions.
pub async fn pictures(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    pictures: &[super::Picture],
    key: &str,
) -> anyhow::Result<String> {
    let album = pictures.iter().map(photo).collect();
    photos(tx, now, chat, album, key, "photos", now).await
}

/// A picture as Telegram gets it: by the file id it came with, else uploaded from the store (the
/// sender reads its bytes: `crate::telegram::TelegramSender`).
fn photo(picture: &super::Picture) -> OutgoingPhoto {
    OutgoingPhoto {
        file_id: picture.file.clone().unwrap_or_default(),
        stored: picture.file.is_none().then_some(picture.image),
        upload: None,
        caption: picture.caption.clone(),
    }
}

/// Queues pictures (by Telegram file id) for `chat`, due at `due`, under `key` and outbox kind `kind`.
pub async fn photos(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    photos: Vec<OutgoingPhoto>,
    key: &str,
    kind: &str,
    due: DateTime<Utc>,
) -> anyhow::Result<String> {
    let request = Request::SendPhotos { photos };
    write(tx, now, chat, &request, key, kind, due, None).await
}

/// Answers a pressed button: stops the spinner on the client and shows `text` (as an alert when
/// `alert`). Telegram refuses answers to old presses: one not sent within 15 seconds is dropped.
pub async fn answer_button(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    callback_query_id: &str,
    text: Option<&str>,
    alert: bool,
    key: &str,
) -> anyhow::Result<String> {
    /// Telegram's most for an answer's text.
    const MAX_ANSWER: usize = 200;
    let text = text.map(|t| {
        let t = t.trim();
        match t.char_indices().nth(MAX_ANSWER - 1) {
            Some((cut, _)) => format!("{}…", &t[..cut]),
            None => t.to_owned(),
        }
    });
    let request = Request::AnswerCallbackQuery {
        callback_query_id: callback_query_id.to_owned(),
        text,
        show_alert: alert,
    };
    let deadline = now + chrono::TimeDelta::seconds(15);
    write(
        tx,
        now,
        chat,
        &request,
        key,
        "callback_answer",
        now,
        Some(deadline),
    )
    .await
}

/// Deletes a message from a chat (a secret someone posted there).
pub async fn delete(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    message_id: i32,
    key: &str,
) -> anyhow::Result<String> {
    enqueue(tx, now, chat, &Request::DeleteMessage { message_id }, key).await
}

/// Replaces the text (and buttons) of a message the bot sent, under a key of its own: each edit shows
/// the state at its time.
pub async fn edit(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    message_id: i32,
    html: &str,
    markup: Option<InlineKeyboardMarkup>,
    key: &str,
) -> anyhow::Result<String> {
    let mut message = OutgoingMessage::html(first_part(html));
    message.reply_markup = markup;
    let request = Request::EditMessageText {
        message_id,
        message,
    };
    enqueue(tx, now, chat, &request, key).await
}

async fn enqueue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    request: &Request,
    key: &str,
) -> anyhow::Result<String> {
    let kind = match request {
        Request::SendMessage(_) => "message",
        Request::EditMessageText { .. } => "edit",
        Request::DeleteMessage { .. } => "delete",
        Request::SendPhotos { .. } => "photos",
        Request::AnswerCallbackQuery { .. } => "callback_answer",
    };
    write(tx, now, chat, request, key, kind, now, None).await
}

/// Writes one Bot API request to the outbox, due at `due`; returns its idempotency key.
#[allow(clippy::too_many_arguments)]
async fn write(
    tx: &mut Tx,
    now: DateTime<Utc>,
    chat: i64,
    request: &Request,
    key: &str,
    kind: &str,
    due: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
) -> anyhow::Result<String> {
    let message = NewMessage {
        provider: BOT_PROVIDER.into(),
        platform: PLATFORM.into(),
        target: chat.to_string(),
        kind: kind.into(),
        idempotency_key: format!("{key}/{PLATFORM}:{chat}"),
        body: serde_json::to_string(request)?,
        due_at: due,
        expires_at: deadline,
    };
    outbox::enqueue(tx, now, &message).await?;
    Ok(message.idempotency_key)
}
