//! Telegram Bot API driver.
//!
//! The client talks to a configurable Bot API URL (tests point it at a fake). Delivery of outgoing messages
//! goes through [`TelegramClient::send_message`], which uses teloxide's payload types but sends the
//! request and reads the response itself. Two reasons, both from teloxide-core 0.13's
//! `net/request.rs`: it sleeps 10 s inside the request on any 5xx (`DELAY_ON_SERVER_ERROR`), which would
//! stall the outbox worker, and it drops `error_code`, which is what tells a flood wait, a bad request, a
//! block and a server error apart (Bot API "Making requests": `ok`, `error_code`, `description`,
//! `parameters.retry_after`, `parameters.migrate_to_chat_id`).

use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};
use teloxide::{
    payloads::SendMessage,
    types::{
        ChatId, InlineKeyboardMarkup, LinkPreviewOptions, ParseMode, Recipient, ReplyParameters,
    },
};

pub mod updates;

use crate::{Disposition, Rate, RateLimits};

/// Limits from the Bot API FAQ ("My bot is hitting limits, how do I avoid this?"): about 30 messages per
/// second overall, one per second in a private chat, 20 per minute in a group.
pub const LIMITS: RateLimits = RateLimits {
    per_provider: Rate::per_second(30),
    per_private_chat: Rate::per_second(1),
    per_group_chat: Rate::per_minute(20),
};

/// Telegram's limit on a message text, in characters after entity parsing.
pub const MAX_TEXT: usize = 4096;
/// Telegram's limit on a media caption.
pub const MAX_CAPTION: usize = 1024;

/// Private chats have positive ids (the user's id); groups, supergroups and channels negative ones.
pub fn is_private_chat(chat_id: i64) -> bool {
    chat_id > 0
}

/// One text message to one chat, as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_message_id: Option<i32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable_link_preview: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

impl OutgoingMessage {
    /// A message rendered as Telegram HTML (the caller escapes user text).
    pub fn html(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            parse_mode: Some(ParseMode::Html),
            reply_markup: None,
            reply_to_message_id: None,
            disable_link_preview: false,
            silent: false,
        }
    }

    fn to_payload(&self, chat_id: i64) -> SendMessage {
        let mut payload = SendMessage::new(Recipient::Id(ChatId(chat_id)), self.text.clone());
        payload.parse_mode = self.parse_mode;
        payload.reply_markup = self.reply_markup.clone().map(Into::into);
        payload.reply_parameters = self.reply_to_message_id.map(|id| ReplyParameters {
            message_id: teloxide::types::MessageId(id),
            allow_sending_without_reply: Some(true),
            ..Default::default()
        });
        if self.disable_link_preview {
            payload.link_preview_options = Some(LinkPreviewOptions {
                is_disabled: true,
                url: None,
                prefer_small_media: false,
                prefer_large_media: false,
                show_above_text: false,
            });
        }
        payload.disable_notification = self.silent.then_some(true);
        payload
    }
}

/// One Bot API call as stored in the outbox: the method and its arguments, except the chat, which is
/// the outbox row's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method")]
pub enum Request {
    #[serde(rename = "sendMessage")]
    SendMessage(OutgoingMessage),
    #[serde(rename = "editMessageText")]
    EditMessageText {
        message_id: i32,
        message: OutgoingMessage,
    },
    #[serde(rename = "deleteMessage")]
    DeleteMessage { message_id: i32 },
    /// Pictures, each already on Telegram (by `file_id`) or uploaded: `sendPhoto` for one,
    /// `sendMediaGroup` for 2–10, each with its caption (plain text).
    #[serde(rename = "sendPhotos")]
    SendPhotos { photos: Vec<OutgoingPhoto> },
    #[serde(rename = "answerCallbackQuery")]
    AnswerCallbackQuery {
        callback_query_id: String,
        /// Shown to the person who pressed (at most 200 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// As an alert to dismiss rather than a passing notice.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        show_alert: bool,
    },
}

/// A picture to send with a plain-text caption: one already on Telegram by its `file_id`, or one the
/// application holds (`stored`, its own id for it), whose bytes the application puts in `upload`
/// before performing the request; those are uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingPhoto {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<i64>,
    #[serde(skip)]
    pub upload: Option<Upload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// A picture's bytes to upload, with their type.
#[derive(Clone, PartialEq, Eq)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub mime: String,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Upload({}, {} bytes)", self.mime, self.bytes.len())
    }
}

/// The largest photo Telegram takes as an upload.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// A command for the bot's menu (`setMyCommands`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotCommand {
    pub command: String,
    pub description: String,
}

/// Where a command menu applies (`BotCommandScope`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommandScope {
    AllPrivateChats,
    AllGroupChats,
    Chat { chat_id: i64 },
}

/// The bot's own identity (`getMe`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Me {
    pub id: i64,
    pub username: String,
}

/// What Telegram returned for a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub chat_id: i64,
    pub message_id: i64,
}

/// A failed Bot API call, classified.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TelegramError {
    #[error("flood control: retry after {0:?}")]
    RetryAfter(Duration),
    #[error("the group was migrated to supergroup {0}")]
    MigratedTo(i64),
    #[error("the bot cannot write to this chat: {0}")]
    Forbidden(String),
    #[error("chat not found: {0}")]
    ChatNotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the bot token was refused ({code}): {description}")]
    Unauthorized { code: u16, description: String },
    #[error("Telegram server error {code}: {description}")]
    Server { code: u16, description: String },
    #[error("request timed out")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("unreadable response: {0}")]
    InvalidResponse(String),
}

impl TelegramError {
    /// Whether and when to retry. A refused token is a configuration mistake that an operator fixes:
    /// the messages survive until then.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::RetryAfter(after) => Disposition::RetryAfter(*after),
            Self::MigratedTo(_) => Disposition::Transient,
            Self::Forbidden(_) | Self::ChatNotFound(_) => Disposition::Gone,
            Self::BadRequest(_) => Disposition::Permanent,
            Self::Unauthorized { .. } => Disposition::Refused,
            Self::Server { .. } | Self::Timeout | Self::Network(_) | Self::InvalidResponse(_) => {
                Disposition::Transient
            }
        }
    }

    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            // The request URL contains the bot token: never let it into an error message.
            Self::Network(err.without_url().to_string())
        }
    }
}

#[derive(Debug, Deserialize)]
struct ApiResponse {
    ok: bool,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ApiParameters>,
}

#[derive(Debug, Deserialize)]
struct ApiParameters {
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

/// A Bot API call's answer: its result, or the error it says.
async fn answer(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<serde_json::Value, TelegramError> {
    let response = response.map_err(TelegramError::from_reqwest)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(TelegramError::from_reqwest)?;
    classify(status, &body)
}

/// Turns an HTTP status and body into a result, classifying errors.
fn classify(status: u16, body: &str) -> Result<serde_json::Value, TelegramError> {
    let parsed: Result<ApiResponse, _> = serde_json::from_str(body);
    let response = match parsed {
        Ok(response) => response,
        // Proxies in front of Telegram answer 5xx with HTML; treat an unreadable 5xx as a server error.
        Err(_) if status >= 500 => {
            return Err(TelegramError::Server {
                code: status,
                description: snippet(body),
            });
        }
        Err(err) => {
            return Err(TelegramError::InvalidResponse(format!(
                "HTTP {status}: {err}"
            )));
        }
    };
    if response.ok {
        return response
            .result
            .ok_or_else(|| TelegramError::InvalidResponse("ok response without result".into()));
    }
    let code = response.error_code.unwrap_or(status);
    let description = response.description.unwrap_or_default();
    let parameters = response.parameters.unwrap_or(ApiParameters {
        retry_after: None,
        migrate_to_chat_id: None,
    });
    if let Some(chat) = parameters.migrate_to_chat_id {
        return Err(TelegramError::MigratedTo(chat));
    }
    Err(match code {
        429 => TelegramError::RetryAfter(Duration::from_secs(parameters.retry_after.unwrap_or(1))),
        400 if description.to_ascii_lowercase().contains("chat not found") => {
            TelegramError::ChatNotFound(description)
        }
        400 => TelegramError::BadRequest(description),
        // 404 "Not Found" is what Telegram answers for an unknown token.
        401 | 404 => TelegramError::Unauthorized { code, description },
        403 => TelegramError::Forbidden(description),
        c if c >= 500 => TelegramError::Server { code, description },
        _ => TelegramError::BadRequest(format!("{code}: {description}")),
    })
}

fn snippet(body: &str) -> String {
    body.chars().take(200).collect()
}

/// A Telegram bot account.
#[derive(Clone)]
pub struct TelegramClient {
    http: reqwest::Client,
    api_url: Url,
    token: String,
    timeout: Duration,
}

impl std::fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramClient")
            .field("api_url", &self.api_url.as_str())
            .field("token", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TelegramClient {
    /// `api_url` is the Bot API root (`https://api.telegram.org`); `timeout` bounds each send.
    pub fn new(
        api_url: Url,
        token: impl Into<String>,
        http: reqwest::Client,
        timeout: Duration,
    ) -> Self {
        let token = token.into();
        Self {
            http,
            api_url,
            token,
            timeout,
        }
    }

    fn method_url(&self, method: &str) -> Url {
        let mut url = self.api_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/bot{}/{method}", self.token));
        url
    }

    async fn call<P: Serialize>(
        &self,
        method: &str,
        payload: &P,
    ) -> Result<serde_json::Value, TelegramError> {
        let response = self
            .http
            .post(self.method_url(method))
            .timeout(self.timeout)
            .json(payload)
            .send()
            .await;
        answer(response).await
    }

    /// Performs a stored [`Request`] against `chat_id`; returns the platform id worth keeping (the
    /// message id for sends and edits).
    pub async fn perform(&self, chat_id: i64, request: &Request) -> Result<String, TelegramError> {
        match request {
            Request::SendMessage(message) => Ok(self
                .send_message(chat_id, message)
                .await?
                .message_id
                .to_string()),
            Request::EditMessageText {
                message_id,
                message,
            } => {
                let mut payload = serde_json::to_value(message.to_payload(chat_id))
                    .map_err(|e| TelegramError::BadRequest(e.to_string()))?;
                payload["message_id"] = serde_json::json!(message_id);
                self.call("editMessageText", &payload).await?;
                Ok(message_id.to_string())
            }
            Request::SendPhotos { photos } => self.send_photos(chat_id, photos).await,
            Request::DeleteMessage { message_id } => {
                self.call(
                    "deleteMessage",
                    &serde_json::json!({ "chat_id": chat_id, "message_id": message_id }),
                )
                .await?;
                Ok(format!("deleted:{message_id}"))
            }
            Request::AnswerCallbackQuery {
                callback_query_id,
                text,
                show_alert,
            } => {
                self.call(
                    "answerCallbackQuery",
                    &serde_json::json!({ "callback_query_id": callback_query_id, "text": text,
                                         "show_alert": show_alert }),
                )
                .await?;
                Ok(format!("answered:{callback_query_id}"))
            }
        }
    }

    /// `sendPhoto` for one picture, `sendMediaGroup` for several (Telegram takes 2–10 in a group); returns
    /// the first message id.
    async fn send_photos(
        &self,
        chat_id: i64,
        photos: &[OutgoingPhoto],
    ) -> Result<String, TelegramError> {
        let caption = |p: &OutgoingPhoto| {
            p.caption
                .as_deref()
                .map(|c| c.chars().take(MAX_CAPTION).collect::<String>())
        };
        let first_id = |v: &serde_json::Value| {
            v.get("message_id")
                .or_else(|| v.pointer("/0/message_id"))
                .and_then(serde_json::Value::as_i64)
                .map(|id| id.to_string())
                .ok_or_else(|| TelegramError::InvalidResponse("no message_id in the result".into()))
        };
        if photos.iter().any(|p| p.upload.is_some()) {
            return self
                .upload_photos(chat_id, photos, caption)
                .await
                .and_then(|v| first_id(&v));
        }
        match photos {
            [] => Err(TelegramError::BadRequest("no photos to send".into())),
            [one] => {
                let result = self
                    .call(
                        "sendPhoto",
                        &serde_json::json!({ "chat_id": chat_id, "photo": one.file_id, "caption": caption(one) }),
                    )
                    .await?;
                first_id(&result)
            }
            many => {
                let media: Vec<_> = many
                    .iter()
                    .take(10)
                    .map(|p| serde_json::json!({ "type": "photo", "media": p.file_id, "caption": caption(p) }))
                    .collect();
                let result = self
                    .call(
                        "sendMediaGroup",
                        &serde_json::json!({ "chat_id": chat_id, "media": media }),
                    )
                    .await?;
                first_id(&result)
            }
        }
    }

    /// `send_photos` for pictures some of which are uploaded, as a multipart request: `sendPhoto` takes
    /// the one picture as its `photo` part; in `sendMediaGroup` the media name their parts
    /// (`attach://<part>`), the others go by `file_id`.
    async fn upload_photos(
        &self,
        chat_id: i64,
        photos: &[OutgoingPhoto],
        caption: impl Fn(&OutgoingPhoto) -> Option<String>,
    ) -> Result<serde_json::Value, TelegramError> {
        let single = photos.len() == 1;
        let mut form = reqwest::multipart::Form::new().text("chat_id", chat_id.to_string());
        let mut media = Vec::new();
        for (index, photo) in photos.iter().take(10).enumerate() {
            let reference = match &photo.upload {
                Some(upload) => {
                    let name = if single {
                        "photo".to_owned()
                    } else {
                        format!("photo{index}")
                    };
                    let extension = upload.mime.strip_prefix("image/").unwrap_or("jpg");
                    let part = reqwest::multipart::Part::bytes(upload.bytes.clone())
                        .file_name(format!("{name}.{extension}"))
                        .mime_str(&upload.mime)
                        .map_err(|e| TelegramError::BadRequest(e.to_string()))?;
                    form = form.part(name.clone(), part);
                    format!("attach://{name}")
                }
                None if photo.file_id.is_empty() => {
                    return Err(TelegramError::BadRequest(format!(
                        "photo {} has neither a file id nor bytes",
                        index + 1
                    )));
                }
                None => photo.file_id.clone(),
            };
            media.push((reference, caption(photo)));
        }
        let method = if let [(_, text)] = media.as_slice() {
            if let Some(text) = text {
                form = form.text("caption", text.clone());
            }
            "sendPhoto"
        } else {
            let media: Vec<_> = media
                .iter()
                .map(|(reference, text)| serde_json::json!({ "type": "photo", "media": reference, "caption": text }))
                .collect();
            form = form.text("media", serde_json::Value::from(media).to_string());
            "sendMediaGroup"
        };
        let response = self
            .http
            .post(self.method_url(method))
            .timeout(self.timeout.max(Duration::from_secs(60)))
            .multipart(form)
            .send()
            .await;
        answer(response).await
    }

    /// Downloads a file the bot received (`getFile`, then the file URL). Bots may download files up to
    /// 20 MB; `max_bytes` refuses larger ones before reading them.
    pub async fn download_file(
        &self,
        file_id: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, TelegramError> {
        let file = self
            .call("getFile", &serde_json::json!({ "file_id": file_id }))
            .await?;
        let Some(path) = file.get("file_path").and_then(serde_json::Value::as_str) else {
            return Err(TelegramError::InvalidResponse(
                "getFile result without file_path".into(),
            ));
        };
        if let Some(size) = file.get("file_size").and_then(serde_json::Value::as_u64)
            && size > max_bytes
        {
            return Err(TelegramError::BadRequest(format!(
                "the file is {size} bytes, more than the {max_bytes} allowed"
            )));
        }
        let mut url = self.api_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/file/bot{}/{path}", self.token));
        let response = self
            .http
            .get(url)
            .timeout(self.timeout.max(Duration::from_secs(30)))
            .send()
            .await
            .map_err(TelegramError::from_reqwest)?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            return Err(classify(status, &body)
                .err()
                .unwrap_or(TelegramError::Server {
                    code: status,
                    description: "file download failed".into(),
                }));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(TelegramError::from_reqwest)?;
        if bytes.len() as u64 > max_bytes {
            return Err(TelegramError::BadRequest(format!(
                "the file is {} bytes, more than the {max_bytes} allowed",
                bytes.len()
            )));
        }
        Ok(bytes.to_vec())
    }

    /// `getMe`: who the bot is.
    pub async fn get_me(&self) -> Result<Me, TelegramError> {
        let result = self.call("getMe", &serde_json::json!({})).await?;
        serde_json::from_value(result).map_err(|e| TelegramError::InvalidResponse(e.to_string()))
    }

    /// `getUpdates` long poll: the raw updates, so the caller can store exactly what Telegram sent.
    /// The HTTP timeout is the poll timeout plus a margin.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
        allowed_updates: &[&str],
    ) -> Result<Vec<serde_json::Value>, TelegramError> {
        let payload = serde_json::json!({
            "offset": offset,
            "timeout": timeout.as_secs(),
            "allowed_updates": allowed_updates,
        });
        let response = self
            .http
            .post(self.method_url("getUpdates"))
            .timeout(timeout + Duration::from_secs(10))
            .json(&payload)
            .send()
            .await
            .map_err(TelegramError::from_reqwest)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(TelegramError::from_reqwest)?;
        match classify(status, &body)? {
            serde_json::Value::Array(updates) => Ok(updates),
            other => Err(TelegramError::InvalidResponse(format!(
                "getUpdates returned {other}"
            ))),
        }
    }

    /// `setWebhook` with a secret token Telegram will send back in `X-Telegram-Bot-Api-Secret-Token`.
    pub async fn set_webhook(
        &self,
        url: &str,
        secret: &str,
        allowed_updates: &[&str],
    ) -> Result<(), TelegramError> {
        self.call(
            "setWebhook",
            &serde_json::json!({ "url": url, "secret_token": secret, "allowed_updates": allowed_updates }),
        )
        .await
        .map(drop)
    }

    /// `deleteWebhook`, so `getUpdates` works again.
    pub async fn delete_webhook(&self) -> Result<(), TelegramError> {
        self.call("deleteWebhook", &serde_json::json!({}))
            .await
            .map(drop)
    }

    /// `setMyCommands` for one scope.
    pub async fn set_my_commands(
        &self,
        commands: &[BotCommand],
        scope: &CommandScope,
    ) -> Result<(), TelegramError> {
        self.call(
            "setMyCommands",
            &serde_json::json!({ "commands": commands, "scope": scope }),
        )
        .await
        .map(drop)
    }

    /// `sendMessage` to one chat.
    #[tracing::instrument(skip_all, fields(chat_id = chat_id))]
    pub async fn send_message(
        &self,
        chat_id: i64,
        message: &OutgoingMessage,
    ) -> Result<Sent, TelegramError> {
        let result = self
            .call("sendMessage", &message.to_payload(chat_id))
            .await?;
        let message_id = result.get("message_id").and_then(serde_json::Value::as_i64);
        let chat = result
            .pointer("/chat/id")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(chat_id);
        match message_id {
            Some(message_id) => Ok(Sent {
                chat_id: chat,
                message_id,
            }),
            None => Err(TelegramError::InvalidResponse(
                "sendMessage result without message_id".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_code_and_parameters() {
        let cases = [
            (
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
                TelegramError::RetryAfter(Duration::from_secs(7)),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}"#,
                TelegramError::MigratedTo(-1001234),
            ),
            (
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
                TelegramError::Forbidden("Forbidden: bot was blocked by the user".into()),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                TelegramError::ChatNotFound("Bad Request: chat not found".into()),
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities"}"#,
                TelegramError::BadRequest("Bad Request: can't parse entities".into()),
            ),
            (
                502,
                "<html>Bad Gateway</html>",
                TelegramError::Server {
                    code: 502,
                    description: "<html>Bad Gateway</html>".into(),
                },
            ),
            (
                500,
                r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#,
                TelegramError::Server {
                    code: 500,
                    description: "Internal Server Error".into(),
                },
            ),
            (
                404,
                r#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
                TelegramError::Unauthorized {
                    code: 404,
                    description: "Not Found".into(),
                },
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(classify(status, body), Err(expected), "{body}");
        }
    }

    #[test]
    fn dispositions_follow_the_kind_of_error() {
        assert_eq!(
            TelegramError::RetryAfter(Duration::from_secs(3)).disposition(),
            Disposition::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            TelegramError::Forbidden(String::new()).disposition(),
            Disposition::Gone
        );
        assert_eq!(TelegramError::Timeout.disposition(), Disposition::Transient);
        assert_eq!(
            TelegramError::Server {
                code: 500,
                description: String::new()
            }
            .disposition(),
            Disposition::Transient
        );
    }

    #[test]
    fn retry_after_samples_from_teloxide_are_read() {
        // shared/data/telegram/teloxide/response_parameters-*.json carry the bare parameters object.
        let body = r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":123456}}"#;
        assert_eq!(
            classify(429, body),
            Err(TelegramError::RetryAfter(Duration::from_secs(123456)))
        );
    }

    #[test]
    fn payload_carries_markup_and_reply() {
        let mut message = OutgoingMessage::html("<b>hi</b>");
        message.reply_to_message_id = Some(5);
        message.disable_link_preview = true;
        let json = serde_json::to_value(message.to_payload(-100)).expect("serialises");
        assert_eq!(json["chat_id"], -100);
        assert_eq!(json["parse_mode"], "HTML");
        assert_eq!(json["reply_parameters"]["message_id"], 5);
        assert_eq!(json["link_preview_options"]["is_disabled"], true);
    }

    #[test]
    fn method_urls_keep_a_path_prefix() {
        let client = TelegramClient::new(
            Url::parse("http://127.0.0.1:9/tg/").expect("url"),
            "1:abc",
            reqwest::Client::new(),
            Duration::from_secs(1),
        );
        assert_eq!(
            client.method_url("getMe").as_str(),
            "http://127.0.0.1:9/tg/bot1:abc/getMe"
        );
        assert!(!format!("{client:?}").contains("abc"));
    }
}

/// Splits a Telegram-HTML text into parts of at most `limit` visible characters (what Telegram counts
/// after parsing entities), preferring line breaks, then spaces. Tags open at a split are closed at the
/// end of the part and reopened at the start of the next, and an entity (`&amp;`) is never cut.
pub fn split_html(text: &str, limit: usize) -> Vec<String> {
    #[derive(Clone)]
    struct Tag {
        name: String,
        open: String,
    }
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut visible = 0usize;
    let mut open: Vec<Tag> = Vec::new();
    // Byte position in `current`, and the tags open there, at the last good break.
    let mut last_break: Option<(usize, Vec<Tag>)> = None;
    let mut rest = text;

    let close_all = |tags: &[Tag]| {
        tags.iter()
            .rev()
            .map(|t| format!("</{}>", t.name))
            .collect::<String>()
    };
    let reopen = |tags: &[Tag]| tags.iter().map(|t| t.open.clone()).collect::<String>();

    while !rest.is_empty() {
        // One token: a tag, an entity, or one character.
        let (token, is_tag, counts) = if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            (&rest[..end], true, 0)
        } else if rest.starts_with('&') {
            match rest.find(';') {
                Some(i)
                    if i <= 10
                        && rest[1..i]
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '#') =>
                {
                    (&rest[..=i], false, 1)
                }
                _ => (&rest[..1], false, 1),
            }
        } else {
            let len = rest.chars().next().map_or(1, char::len_utf8);
            (&rest[..len], false, 1)
        };
        rest = &rest[token.len()..];

        if visible + counts > limit {
            // Cut at the last break if there is one, else here.
            let (cut, tags_at_cut) = last_break.take().unwrap_or((current.len(), open.clone()));
            let tail = current.split_off(cut);
            let mut part = current;
            part.push_str(&close_all(&tags_at_cut));
            // A part of nothing but whitespace would be refused by Telegram ("message text is empty").
            if has_visible_text(&part) {
                parts.push(part.trim_end().to_owned());
            }
            // Whitespace at a break belongs to neither part, except inside preformatted text.
            let preformatted = tags_at_cut
                .iter()
                .any(|t| t.name == "pre" || t.name == "code");
            let tail = if preformatted {
                tail
            } else {
                tail.trim_start_matches([' ', '\n']).to_owned()
            };
            current = reopen(&tags_at_cut);
            current.push_str(&tail);
            visible = visible_len(&tail);
        }

        if is_tag {
            let inner = token.trim_start_matches('<').trim_end_matches('>');
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                if let Some(pos) = open.iter().rposition(|t| t.name == name) {
                    open.remove(pos);
                }
            } else {
                let name: String = inner
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !name.is_empty() && !inner.ends_with('/') {
                    open.push(Tag {
                        name,
                        open: token.to_owned(),
                    });
                }
            }
            current.push_str(token);
        } else {
            current.push_str(token);
            visible += counts;
            // Preformatted text keeps its whitespace: it is not a place to break.
            let preformatted = open.iter().any(|t| t.name == "pre" || t.name == "code");
            if (token == "\n" || token == " ") && !preformatted {
                last_break = Some((current.len(), open.clone()));
            }
        }
    }
    if has_visible_text(&current) || parts.is_empty() {
        let preformatted = open.iter().any(|t| t.name == "pre" || t.name == "code");
        let last = if preformatted || parts.is_empty() {
            current.as_str()
        } else {
            current.trim_start_matches([' ', '\n'])
        };
        parts.push(last.trim_end().to_owned());
    }
    parts
}

/// Whether an HTML text shows anything but whitespace.
fn has_visible_text(html: &str) -> bool {
    let mut in_tag = false;
    html.chars().any(|c| match c {
        '<' => {
            in_tag = true;
            false
        }
        '>' => {
            in_tag = false;
            false
        }
        c => !in_tag && !c.is_whitespace(),
    })
}

/// Characters Telegram counts in an HTML text: tags are not counted, an entity counts as one.
pub fn visible_len(html: &str) -> usize {
    let mut count = 0;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            rest = &rest[end..];
            continue;
        }
        if let Some(i) = rest.find(';').filter(|i| c == '&' && *i <= 10) {
            count += 1;
            rest = &rest[i + 1..];
            continue;
        }
        count += 1;
        rest = &rest[c.len_utf8()..];
    }
    count
}

#[cfg(test)]
mod html_tests {
    use super::*;

    #[test]
    fn short_texts_are_one_part() {
        assert_eq!(split_html("<b>hi</b> there", 4096), ["<b>hi</b> there"]);
    }

    #[test]
    fn long_texts_split_at_line_breaks_within_the_limit() {
        let line = "x".repeat(30);
        let text = [line.as_str(); 10].join("\n");
        let parts = split_html(&text, 100);
        assert!(parts.len() >= 4);
        for p in &parts {
            assert!(visible_len(p) <= 100, "{p}");
            assert!(!p.starts_with('\n') && !p.ends_with('\n'));
        }
        assert_eq!(parts.join("\n"), text);
    }

    #[test]
    fn tags_are_closed_and_reopened_across_a_split_and_entities_stay_whole() {
        let text = format!("<b>{}</b>", "&amp; ".repeat(40));
        let parts = split_html(&text, 50);
        assert!(parts.len() >= 2);
        for p in &parts {
            assert!(p.starts_with("<b>") && p.ends_with("</b>"), "{p}");
            assert!(visible_len(p) <= 50);
            assert!(!p.contains("&am;") && !p.ends_with("&"), "{p}");
        }
    }

    #[test]
    fn preformatted_text_keeps_its_indentation_and_no_part_is_empty() {
        let code = format!("<pre>{}</pre>", "  line\n".repeat(10));
        let parts = split_html(&code, 20);
        for p in &parts {
            assert!(visible_len(p) <= 20);
            assert!(p.starts_with("<pre>") && p.ends_with("</pre>"), "{p}");
        }
        let joined: String = parts
            .iter()
            .map(|p| p.trim_start_matches("<pre>").trim_end_matches("</pre>"))
            .collect();
        assert_eq!(
            joined.matches("  line").count(),
            10,
            "indentation kept: {parts:?}"
        );
        let spaces = format!("a{}b", " ".repeat(50));
        let parts = split_html(&spaces, 10);
        assert!(parts.iter().all(|p| has_visible_text(p)), "{parts:?}");
        assert_eq!(parts, ["a", "b"]);
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_hard() {
        let parts = split_html(&"é".repeat(25), 10);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [10, 10, 5]
        );
    }
}
