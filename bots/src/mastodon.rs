//! Mastodon driver: any instance, token authentication.
//!
//! Posts go to `POST /api/v1/statuses` with an `Idempotency-Key` header, so a retry after a crash
//! mid-send does not post twice (Mastodon remembers keys for an hour). Images are uploaded first with
//! `POST /api/v2/media` (alt text in `description`). The character limit is the instance's own,
//! `configuration.statuses.max_characters` from `GET /api/v2/instance`, read once and cached. Length is
//! counted as Mastodon counts it: characters, with every URL as 23 and a remote mention `@user@domain`
//! as just `@user`.

use std::time::Duration;

use reqwest::{Url, header::HeaderMap};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use unicode_segmentation::UnicodeSegmentation;

use crate::Disposition;

/// What Mastodon counts for a URL, however long (`URL_PLACEHOLDER` in Mastodon's source).
pub const URL_LENGTH: usize = 23;
/// The limit when an instance does not say (Mastodon's default).
pub const DEFAULT_LIMIT: usize = 500;
/// The largest picture Mastodon takes: 16 MB since 4.0, 10 MB before; the smaller fits both.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The length Mastodon counts for `text`: what a reader sees as one character (a grapheme cluster, such
/// as "🗺️" or "é" written as e and an accent) counts one, as the server's length check does.
pub fn text_len(text: &str) -> usize {
    text.split_inclusive(char::is_whitespace)
        .map(|chunk| {
            let word = chunk.trim_end();
            word_len(word) + chunk[word.len()..].graphemes(true).count()
        })
        .sum()
}

fn word_len(word: &str) -> usize {
    // A URL may be wrapped in punctuation: "(https://x.org)," counts the brackets but the URL as 23.
    if let Some(start) = word.find("http://").or_else(|| word.find("https://")) {
        let rest = &word[start..];
        let end = rest.find([')', ']', '>', '"', '\'']).unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let before = word[..start].graphemes(true).count();
        let after = word[start + url.len()..].graphemes(true).count();
        return before + URL_LENGTH + after;
    }
    // "@user@domain" counts as "@user".
    if let Some(stripped) = word.strip_prefix('@')
        && let Some((user, domain)) = stripped.split_once('@')
        && domain.contains('.')
    {
        let domain_end = domain
            .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(domain.len());
        return 1 + user.graphemes(true).count() + domain[domain_end..].graphemes(true).count();
    }
    word.graphemes(true).count()
}

/// Who may see a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
    Direct,
}

/// One status to post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStatus {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<String>,
    pub visibility: Visibility,
    /// Sent as the `Idempotency-Key` header.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Status {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MastodonError {
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    /// The token is wrong or revoked: nothing works until an operator fixes it.
    #[error("the access token was refused ({0})")]
    Unauthorized(u16),
    #[error("refused ({code}): {message}")]
    BadRequest { code: u16, message: String },
    /// The status replied to, or the account, no longer exists.
    #[error("not found: {0}")]
    Gone(String),
    #[error("Mastodon server error {code}: {message}")]
    Server { code: u16, message: String },
    #[error("request timed out")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("unreadable response: {0}")]
    InvalidResponse(String),
}

impl MastodonError {
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::RetryAfter(d) => Disposition::RetryAfter(*d),
            Self::BadRequest { .. } | Self::Gone(_) => Disposition::Permanent,
            Self::Unauthorized(_) => Disposition::Refused,
            Self::Server { .. } | Self::Timeout | Self::Network(_) | Self::InvalidResponse(_) => {
                Disposition::Transient
            }
        }
    }

    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            Self::Network(err.without_url().to_string())
        }
    }
}

/// How long to wait from a 429: `Retry-After` seconds, or `X-RateLimit-Reset` (an RFC 3339 time).
fn retry_after(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Duration {
    if let Some(secs) = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Duration::from_secs(secs);
    }
    headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).ok())
        .and_then(|reset| (reset.with_timezone(&chrono::Utc) - now).to_std().ok())
        .unwrap_or(Duration::from_secs(60))
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
}

async fn check(response: reqwest::Response) -> Result<String, MastodonError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(MastodonError::from_reqwest)?;
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let message = serde_json::from_str::<ErrorBody>(&body)
        .ok()
        .and_then(|b| b.error)
        .unwrap_or_else(|| body.chars().take(200).collect());
    Err(match status {
        429 => MastodonError::RetryAfter(retry_after(&headers, chrono::Utc::now())),
        401 | 403 => MastodonError::Unauthorized(status),
        404 | 410 => MastodonError::Gone(message),
        s if s >= 500 => MastodonError::Server { code: s, message },
        s => MastodonError::BadRequest { code: s, message },
    })
}

/// A Mastodon account on one instance.
pub struct MastodonClient {
    base: Url,
    token: String,
    http: reqwest::Client,
    /// `GET /api/v2/instance`, read once.
    instance: OnceCell<serde_json::Value>,
}

impl std::fmt::Debug for MastodonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MastodonClient")
            .field("base", &self.base.as_str())
            .field("token", &"[redacted]")
            .finish()
    }
}

impl MastodonClient {
    pub fn new(base: Url, token: impl Into<String>, http: reqwest::Client) -> Self {
        Self {
            base,
            token: token.into(),
            http,
            instance: OnceCell::new(),
        }
    }

    fn url(&self, path: &str) -> Result<Url, MastodonError> {
        self.base
            .join(path)
            .map_err(|e| MastodonError::InvalidResponse(format!("bad base URL: {e}")))
    }

    fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, MastodonError> {
        serde_json::from_str(body).map_err(|e| MastodonError::InvalidResponse(e.to_string()))
    }

    /// `GET /api/v1/accounts/verify_credentials`: whose token this is.
    #[tracing::instrument(skip_all)]
    pub async fn verify_credentials(&self) -> Result<Account, MastodonError> {
        let response = self
            .http
            .get(self.url("api/v1/accounts/verify_credentials")?)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(MastodonError::from_reqwest)?;
        Self::parse(&check(response).await?)
    }

    /// The instance's description (`GET /api/v2/instance`), read once.
    async fn instance(&self) -> Result<&serde_json::Value, MastodonError> {
        self.instance
            .get_or_try_init(|| async {
                let response = self
                    .http
                    .get(self.url("api/v2/instance")?)
                    .send()
                    .await
                    .map_err(MastodonError::from_reqwest)?;
                Self::parse(&check(response).await?)
            })
            .await
    }

    /// The instance's character limit (`configuration.statuses.max_characters`); the default when it
    /// says nothing.
    #[tracing::instrument(skip_all)]
    pub async fn character_limit(&self) -> Result<usize, MastodonError> {
        Ok(self
            .instance()
            .await?
            .pointer("/configuration/statuses/max_characters")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(DEFAULT_LIMIT))
    }

    /// `POST /api/v2/media` with the alt text as `description`; returns the media id.
    #[tracing::instrument(skip_all)]
    pub async fn upload_media(
        &self,
        bytes: Vec<u8>,
        mime: &str,
        description: &str,
    ) -> Result<String, MastodonError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("image")
            .mime_str(mime)
            .map_err(|e| MastodonError::BadRequest {
                code: 0,
                message: format!("bad image type {mime}: {e}"),
            })?;
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("description", description.to_owned());
        let response = self
            .http
            .post(self.url("api/v2/media")?)
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .map_err(MastodonError::from_reqwest)?;
        let status: Status = Self::parse(&check(response).await?)?;
        Ok(status.id)
    }

    /// `POST /api/v1/statuses`.
    #[tracing::instrument(skip_all)]
    pub async fn post_status(&self, status: &NewStatus) -> Result<Status, MastodonError> {
        let mut form =
            serde_json::json!({ "status": status.text, "visibility": status.visibility });
        if let Some(reply) = &status.in_reply_to_id {
            form["in_reply_to_id"] = serde_json::json!(reply);
        }
        if !status.media_ids.is_empty() {
            form["media_ids"] = serde_json::json!(status.media_ids);
        }
        let response = self
            .http
            .post(self.url("api/v1/statuses")?)
            .bearer_auth(&self.token)
            .header("Idempotency-Key", &status.idempotency_key)
            .json(&form)
            .send()
            .await
            .map_err(MastodonError::from_reqwest)?;
        Self::parse(&check(response).await?)
    }

    /// `POST /api/v1/statuses/:id/reblog`: boosts a status (boosting twice is a no-op for Mastodon).
    #[tracing::instrument(skip_all)]
    pub async fn reblog(&self, status_id: &str) -> Result<Status, MastodonError> {
        let response = self
            .http
            .post(self.url(&format!("api/v1/statuses/{status_id}/reblog"))?)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(MastodonError::from_reqwest)?;
        Self::parse(&check(response).await?)
    }

    /// Mention notifications newer than `since_id` (all of them when `None`, as far as the server keeps),
    /// newest first, following the `Link: <…>; rel="next"` pages down to `since_id`. Raw JSON, so the
    /// caller keeps exactly what the server sent; `max_pages` bounds one catch-up.
    #[tracing::instrument(skip_all)]
    pub async fn mentions_since(
        &self,
        since_id: Option<&str>,
        max_pages: usize,
    ) -> Result<Vec<serde_json::Value>, MastodonError> {
        let mut url = self.url("api/v1/notifications")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("types[]", "mention")
                .append_pair("limit", "40");
            if let Some(since) = since_id {
                query.append_pair("since_id", since);
            }
        }
        let mut all = Vec::new();
        for _ in 0..max_pages {
            let response = self
                .http
                .get(url.clone())
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(MastodonError::from_reqwest)?;
            let next = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(|link| link_rel(link, "next"));
            let page: Vec<serde_json::Value> = Self::parse(&check(response).await?)?;
            if page.is_empty() {
                break;
            }
            all.extend(page);
            match next.and_then(|n| Url::parse(&n).ok()) {
                Some(next) => url = next,
                None => break,
            }
        }
        Ok(all)
    }

    /// Where the streaming API lives: the instance's `configuration.urls.streaming` (a `wss://` URL,
    /// spoken to here over its SSE flavour, `https://`), or the instance itself.
    pub async fn streaming_base(&self) -> Result<Url, MastodonError> {
        let value = self.instance().await?;
        let streaming = value
            .pointer("/configuration/urls/streaming")
            .and_then(serde_json::Value::as_str)
            .map(|s| {
                s.replacen("wss://", "https://", 1)
                    .replacen("ws://", "http://", 1)
            })
            .and_then(|s| Url::parse(&s).ok());
        Ok(streaming.unwrap_or_else(|| self.base.clone()))
    }

    /// Opens the user's notification stream (`GET /api/v1/streaming/user/notification`, server-sent
    /// events) at `base` (see [`Self::streaming_base`]). The stream has no timeout: read it with your own.
    pub async fn notification_stream(&self, base: &Url) -> Result<EventStream, MastodonError> {
        let mut url = base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/api/v1/streaming/user/notification"));
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("Accept", "text/event-stream")
            .send()
            .await
            .map_err(MastodonError::from_reqwest)?;
        if !response.status().is_success() {
            return Err(check(response)
                .await
                .err()
                .unwrap_or(MastodonError::InvalidResponse("stream refused".into())));
        }
        Ok(EventStream {
            response,
            buffer: Vec::new(),
        })
    }
}

/// The URL of the `rel` link in an HTTP `Link` header (`<https://…>; rel="next", <…>; rel="prev"`).
pub fn link_rel(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let wanted = params
            .split(';')
            .any(|p| p.trim() == format!("rel=\"{rel}\"") || p.trim() == format!("rel={rel}"));
        wanted.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// One server-sent event: its `event:` name and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

/// A stream of server-sent events read from a response as it arrives.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    /// Bytes received and not yet cut into events (a chunk may end inside a character).
    buffer: Vec<u8>,
}

impl EventStream {
    /// The next event, `None` when the server closed the stream. Heartbeats (`:thump` comments, sent every
    /// 15 s or so) come as events named `heartbeat`, so a reader can tell a quiet stream from a dead one.
    pub async fn next(&mut self) -> Result<Option<Event>, MastodonError> {
        loop {
            if let Some(event) = take_event(&mut self.buffer) {
                return Ok(Some(event));
            }
            match self
                .response
                .chunk()
                .await
                .map_err(MastodonError::from_reqwest)?
            {
                // Lines may end in CRLF; a carriage return means nothing else in these events.
                Some(bytes) => self.buffer.extend(bytes.iter().filter(|b| **b != b'\r')),
                None => return Ok(None),
            }
        }
    }
}

/// Takes the first complete event (ended by a blank line) off the buffer.
fn take_event(buffer: &mut Vec<u8>) -> Option<Event> {
    let end = buffer.windows(2).position(|w| w == b"\n\n")?;
    let block: Vec<u8> = buffer.drain(..end + 2).collect();
    // Cut at a newline, so whole characters.
    let block = String::from_utf8_lossy(&block);
    let mut event = Event {
        name: "message".into(),
        data: String::new(),
    };
    if block.lines().all(|l| l.starts_with(':') || l.is_empty()) {
        event.name = "heartbeat".into();
        return Some(event);
    }
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event.name = value.to_owned(),
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
            }
            _ => {}
        }
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_count_23_and_remote_mentions_count_their_username() {
        assert_eq!(text_len("hello"), 5);
        assert_eq!(
            text_len("see https://example.org/a/very/long/path?x=1"),
            4 + 23
        );
        assert_eq!(text_len("(https://example.org/long/path)."), 1 + 23 + 2);
        assert_eq!(text_len("hi @alice@fosstodon.org!"), 3 + 6 + 1);
        assert_eq!(text_len("🎉 ünïcode"), 9);
        // What a reader sees as one character counts one: an emoji with its variation selector, a
        // letter with a combining accent, a flag.
        assert_eq!(text_len("🗺️"), 1);
        assert_eq!(text_len("e\u{301}t\u{e9}"), 3);
        assert_eq!(text_len("🇧🇪 ok"), 4);
    }

    #[test]
    fn server_sent_events_are_cut_at_blank_lines_and_heartbeats_named() {
        let mut buffer = ":thump\n\nevent: notification\ndata: {\"id\":\"1\"}\n\nevent: delete\ndata: 12\n\nevent: notif"
            .as_bytes()
            .to_vec();
        let heartbeat = take_event(&mut buffer).unwrap();
        assert_eq!(heartbeat.name, "heartbeat");
        assert!(heartbeat.data.is_empty());
        assert_eq!(
            take_event(&mut buffer),
            Some(Event {
                name: "notification".into(),
                data: "{\"id\":\"1\"}".into()
            })
        );
        assert_eq!(take_event(&mut buffer).unwrap().name, "delete");
        assert_eq!(take_event(&mut buffer), None, "an incomplete event waits");
        assert_eq!(buffer, b"event: notif");
    }

    #[test]
    fn link_headers_name_their_pages() {
        let link = "<https://m.example/api/v1/notifications?max_id=7&since_id=3>; rel=\"next\", \
                    <https://m.example/api/v1/notifications?min_id=9>; rel=\"prev\"";
        assert_eq!(
            link_rel(link, "next").as_deref(),
            Some("https://m.example/api/v1/notifications?max_id=7&since_id=3")
        );
        assert_eq!(
            link_rel(link, "prev").as_deref(),
            Some("https://m.example/api/v1/notifications?min_id=9")
        );
        assert_eq!(link_rel(link, "last"), None);
    }

    #[test]
    fn a_429_waits_for_the_reset_time() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-reset",
            "2026-12-27T09:00:30Z".parse().expect("header"),
        );
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-27T09:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after(&headers, now), Duration::from_secs(30));
        headers.insert("retry-after", "7".parse().expect("header"));
        assert_eq!(retry_after(&headers, now), Duration::from_secs(7));
    }

    #[test]
    fn errors_map_to_what_to_do() {
        assert_eq!(
            MastodonError::BadRequest {
                code: 422,
                message: "Validation failed".into()
            }
            .disposition(),
            Disposition::Permanent
        );
        assert_eq!(
            MastodonError::Server {
                code: 503,
                message: String::new()
            }
            .disposition(),
            Disposition::Transient
        );
        assert_eq!(
            MastodonError::RetryAfter(Duration::from_secs(3)).disposition(),
            Disposition::RetryAfter(Duration::from_secs(3))
        );
    }
}
