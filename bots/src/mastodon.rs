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

use crate::Disposition;

/// What Mastodon counts for a URL, however long (`URL_PLACEHOLDER` in Mastodon's source).
pub const URL_LENGTH: usize = 23;
/// The limit when an instance does not say (Mastodon's default).
pub const DEFAULT_LIMIT: usize = 500;

/// The length Mastodon counts for `text`.
pub fn text_len(text: &str) -> usize {
    text.split_inclusive(char::is_whitespace)
        .map(|chunk| {
            let word = chunk.trim_end();
            word_len(word) + chunk[word.len()..].chars().count()
        })
        .sum()
}

fn word_len(word: &str) -> usize {
    // A URL may be wrapped in punctuation: "(https://x.org)," counts the brackets but the URL as 23.
    if let Some(start) = word.find("http://").or_else(|| word.find("https://")) {
        let rest = &word[start..];
        let end = rest.find([')', ']', '>', '"', '\'']).unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let before = word[..start].chars().count();
        let after = word[start + url.len()..].chars().count();
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
        return 1 + user.chars().count() + domain[domain_end..].chars().count();
    }
    word.chars().count()
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
            Self::Unauthorized(_)
            | Self::Server { .. }
            | Self::Timeout
            | Self::Network(_)
            | Self::InvalidResponse(_) => Disposition::Transient,
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
    limit: OnceCell<usize>,
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
            limit: OnceCell::new(),
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

    /// The instance's character limit (`GET /api/v2/instance`), read once; the default when it says
    /// nothing.
    #[tracing::instrument(skip_all)]
    pub async fn character_limit(&self) -> Result<usize, MastodonError> {
        let limit = self
            .limit
            .get_or_try_init(|| async {
                let response = self
                    .http
                    .get(self.url("api/v2/instance")?)
                    .send()
                    .await
                    .map_err(MastodonError::from_reqwest)?;
                let body = check(response).await?;
                let value: serde_json::Value = Self::parse(&body)?;
                Ok::<usize, MastodonError>(
                    value
                        .pointer("/configuration/statuses/max_characters")
                        .and_then(serde_json::Value::as_u64)
                        .and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(DEFAULT_LIMIT),
                )
            })
            .await?;
        Ok(*limit)
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
