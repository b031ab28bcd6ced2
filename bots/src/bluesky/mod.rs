//! Bluesky (AT Protocol) driver.
//!
//! Owns one account's session and its posts. [`BlueskyClient`] logs in with an app password
//! (`com.atproto.server.createSession`), keeps the session fresh (`com.atproto.server.refreshSession` when the
//! access token's `exp` is near, a new `createSession` when a call answers `ExpiredToken` or `InvalidToken`),
//! resolves handles (`com.atproto.identity.resolveHandle`), uploads images (`com.atproto.repo.uploadBlob`) and
//! publishes `app.bsky.feed.post` records (`com.atproto.repo.createRecord`) with rich-text facets
//! (`app.bsky.richtext.facet`, see [`richtext`]), replies (`app.bsky.feed.post#replyRef`) and embeds
//! (`app.bsky.embed.images`, `app.bsky.embed.external`).
//!
//! Errors follow the XRPC convention (atproto "HTTP API (XRPC)" spec): an HTTP status and a JSON body
//! `{"error": "...", "message": "..."}`. Rate limits answer 429 with the `ratelimit-reset` header (Bluesky
//! docs "Rate Limits": unix seconds) or `Retry-After`.
//!
//! `service_url` is the account's PDS, or the `https://bsky.social` entryway, which serves its accounts'
//! repositories too. Timeouts are the `reqwest::Client`'s.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{
    Method, Url,
    header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

pub mod richtext;

pub use richtext::{
    ByteSlice, Facet, Feature, MAX_GRAPHEMES, MAX_TEXT_BYTES, facets, grapheme_len, is_valid_handle,
};

use crate::{Disposition, Rate, RateLimits};

/// Bluesky's PDS limit on repository writes (Bluesky docs "Rate Limits"): 5,000 points an hour, a created
/// record costing 3, so 1,666 posts an hour. Posts go to no chat, so the per-chat limits do not apply.
pub const LIMITS: RateLimits = RateLimits {
    per_provider: Rate::Limited {
        count: 1666,
        per: Duration::from_secs(3600),
    },
    per_private_chat: Rate::Unlimited,
    per_group_chat: Rate::Unlimited,
};

/// `app.bsky.embed.images#main` `images` `maxLength`.
pub const MAX_IMAGES: usize = 4;
/// `app.bsky.embed.images#image` `image` `maxSize`, in bytes.
pub const MAX_IMAGE_BYTES: usize = 1_000_000;

/// The access token is refreshed when it has less than this left.
const REFRESH_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// The wait when a 429 carries neither `ratelimit-reset` nor `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

const CREATE_SESSION: &str = "com.atproto.server.createSession";
const REFRESH_SESSION: &str = "com.atproto.server.refreshSession";
const RESOLVE_HANDLE: &str = "com.atproto.identity.resolveHandle";
const UPLOAD_BLOB: &str = "com.atproto.repo.uploadBlob";
const LIST_NOTIFICATIONS: &str = "app.bsky.notification.listNotifications";
const UPDATE_SEEN: &str = "app.bsky.notification.updateSeen";
const REPOST_COLLECTION: &str = "app.bsky.feed.repost";
const CREATE_RECORD: &str = "com.atproto.repo.createRecord";
const POST_COLLECTION: &str = "app.bsky.feed.post";

/// A reference to a specific version of a record (`com.atproto.repo.strongRef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

/// Where a reply sits in its thread (`app.bsky.feed.post#replyRef`): the thread's first post and the post
/// answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRef {
    pub root: StrongRef,
    pub parent: StrongRef,
}

/// An image to attach, with its alt text (`app.bsky.embed.images#image`).
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub bytes: Vec<u8>,
    /// The Content-Type to upload with, `image/png`, `image/jpeg`, `image/webp`...
    pub mime: String,
    pub alt: String,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("bytes", &self.bytes.len())
            .field("mime", &self.mime)
            .field("alt", &self.alt)
            .finish()
    }
}

/// A link card (`app.bsky.embed.external#external`), without a thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalCard {
    pub uri: String,
    pub title: String,
    pub description: String,
}

/// A post to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPost {
    /// At most [`MAX_GRAPHEMES`] graphemes and [`MAX_TEXT_BYTES`] bytes; links, mentions and hashtags in it
    /// become facets.
    pub text: String,
    pub reply_to: Option<ReplyRef>,
    /// At most [`MAX_IMAGES`], each at most [`MAX_IMAGE_BYTES`]. Images take the place of the link card.
    pub images: Vec<Image>,
    /// Attached when there are no images.
    pub link_card: Option<ExternalCard>,
    /// BCP 47 language tags of the text (the lexicon allows three).
    pub langs: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The record key to create the post under (a TID, see [`tid`]). With one, a retried post after a lost
    /// answer finds the record already there and returns it instead of posting twice.
    pub rkey: Option<String>,
}

impl NewPost {
    /// A plain text post, not a reply, without embeds or languages.
    pub fn text(text: impl Into<String>, created_at: DateTime<Utc>) -> Self {
        Self {
            text: text.into(),
            reply_to: None,
            images: Vec::new(),
            link_card: None,
            langs: Vec::new(),
            created_at,
            rkey: None,
        }
    }
}

/// A record key in the TID format the `app.bsky.feed.post` collection requires (atproto "Record Key" /
/// "TID": 53 bits of microseconds since the epoch and 10 bits of clock id, in base32-sortable), derived
/// from a time and a small number so that the same post part always gets the same key.
pub fn tid(micros: i64, clock_id: u16) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let value = ((u64::try_from(micros).unwrap_or(0) & ((1 << 53) - 1)) << 10)
        | u64::from(clock_id & 0x3ff);
    (0..13)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

const GET_RECORD: &str = "com.atproto.repo.getRecord";

/// The published record (`com.atproto.repo.createRecord` output). To continue a thread, reply with the
/// first post as `root` and the previous one as `parent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    pub uri: String,
    pub cid: String,
}

impl From<Posted> for StrongRef {
    fn from(posted: Posted) -> Self {
        Self {
            uri: posted.uri,
            cid: posted.cid,
        }
    }
}

impl From<&Posted> for StrongRef {
    fn from(posted: &Posted) -> Self {
        posted.clone().into()
    }
}

/// A failed Bluesky call, classified.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BlueskyError {
    /// HTTP 429: wait until the limit resets.
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    /// The identifier or app password was refused (`createSession` 401 `AuthenticationRequired`), or a
    /// session token was refused again right after logging in anew. Retrying cannot help until an operator
    /// fixes the credentials, but the posts should survive until then, so the disposition is transient.
    #[error("Bluesky refused the credentials ({error}): {message}")]
    Unauthorized { error: String, message: String },
    /// Any other 4xx: the request itself is wrong (`InvalidRequest`, a record that fails validation, a blob
    /// too large, a reply to a deleted post...).
    #[error("Bluesky refused the request ({status} {error}): {message}")]
    BadRequest {
        status: u16,
        error: String,
        message: String,
    },
    #[error("Bluesky server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("request timed out")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("the text is {graphemes} graphemes long, more than Bluesky's {MAX_GRAPHEMES}")]
    TooLong { graphemes: usize },
    #[error("the text is {bytes} bytes long, more than Bluesky's {MAX_TEXT_BYTES}")]
    TooManyBytes { bytes: usize },
    #[error("{count} images attached, more than Bluesky's {MAX_IMAGES}")]
    TooManyImages { count: usize },
    #[error("image {index} is {bytes} bytes, more than Bluesky's {MAX_IMAGE_BYTES}")]
    ImageTooLarge { index: usize, bytes: usize },
    #[error("unreadable response: {0}")]
    InvalidResponse(String),
}

impl BlueskyError {
    /// Whether and when to retry.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::RetryAfter(after) => Disposition::RetryAfter(*after),
            Self::Unauthorized { .. } => Disposition::Refused,
            Self::Server { .. } | Self::Timeout | Self::Network(_) | Self::InvalidResponse(_) => {
                Disposition::Transient
            }
            Self::BadRequest { .. }
            | Self::TooLong { .. }
            | Self::TooManyBytes { .. }
            | Self::TooManyImages { .. }
            | Self::ImageTooLarge { .. } => Disposition::Permanent,
        }
    }

    /// A session token the server no longer accepts: log in again and retry.
    fn is_stale_token(&self) -> bool {
        matches!(self, Self::Unauthorized { error, .. } if error == "ExpiredToken" || error == "InvalidToken")
    }

    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            // Handles travel in query strings; keep URLs out of messages like the other drivers do.
            Self::Network(err.without_url().to_string())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct XrpcErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Turns an HTTP status, headers and body into a result, classifying errors.
fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Value, BlueskyError> {
    if (200..300).contains(&status) {
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(body)
            .map_err(|e| BlueskyError::InvalidResponse(format!("HTTP {status}: {e}")));
    }
    let parsed: XrpcErrorBody = serde_json::from_str(body).unwrap_or_default();
    let error = parsed.error.unwrap_or_default();
    let message = parsed.message.unwrap_or_else(|| snippet(body));
    Err(match status {
        429 => BlueskyError::RetryAfter(retry_delay(headers, now)),
        400 if error == "ExpiredToken" || error == "InvalidToken" => {
            BlueskyError::Unauthorized { error, message }
        }
        401 => BlueskyError::Unauthorized { error, message },
        408 => BlueskyError::Timeout,
        s if s >= 500 => BlueskyError::Server { status, message },
        s if s >= 400 => BlueskyError::BadRequest {
            status,
            error,
            message,
        },
        _ => BlueskyError::InvalidResponse(format!("unexpected HTTP {status}")),
    })
}

/// The wait a 429 asks for: `ratelimit-reset` (unix seconds; a small number is taken as seconds from now),
/// else `Retry-After` (seconds or an HTTP date), else a minute. Never less than a second.
fn retry_delay(headers: &HeaderMap, now: DateTime<Utc>) -> Duration {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let until = |at: i64| Duration::from_secs(u64::try_from(at - now.timestamp()).unwrap_or(0));
    let delay = if let Some(reset) = header("ratelimit-reset").and_then(|v| v.parse::<i64>().ok()) {
        if reset < 1_000_000_000 {
            Duration::from_secs(u64::try_from(reset).unwrap_or(0))
        } else {
            until(reset)
        }
    } else if let Some(value) = header(RETRY_AFTER.as_str()) {
        if let Ok(seconds) = value.parse::<u64>() {
            Duration::from_secs(seconds)
        } else if let Ok(date) = DateTime::parse_from_rfc2822(value) {
            until(date.timestamp())
        } else {
            DEFAULT_RETRY_AFTER
        }
    } else {
        DEFAULT_RETRY_AFTER
    };
    delay.max(Duration::from_secs(1))
}

fn snippet(body: &str) -> String {
    body.chars().take(200).collect()
}

/// The `exp` claim of a JWT, read without verifying the signature: only to know when to refresh.
fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

/// A logged-in session (`createSession` / `refreshSession` output).
#[derive(Clone)]
struct Session {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
    handle: String,
    /// From the access token's `exp`; `None` if it cannot be read, in which case the session is used until
    /// the server calls it expired.
    access_expires: Option<DateTime<Utc>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("access_jwt", &"[redacted]")
            .field("refresh_jwt", &"[redacted]")
            .field("access_expires", &self.access_expires)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionOutput {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
    #[serde(default)]
    handle: String,
}

impl Session {
    fn from_output(output: Value) -> Result<Self, BlueskyError> {
        let output: SessionOutput = serde_json::from_value(output)
            .map_err(|e| BlueskyError::InvalidResponse(format!("session: {e}")))?;
        Ok(Self {
            access_expires: jwt_expiry(&output.access_jwt),
            access_jwt: output.access_jwt,
            refresh_jwt: output.refresh_jwt,
            did: output.did,
            handle: output.handle,
        })
    }

    fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        self.access_expires
            .is_some_and(|expires| expires - now < REFRESH_MARGIN)
    }
}

/// A request body.
enum Body<'a> {
    Empty,
    Json(&'a Value),
    Raw { bytes: &'a [u8], mime: &'a str },
}

/// One XRPC call, kept so it can be sent again after a new login.
struct Call<'a> {
    method: Method,
    nsid: &'static str,
    query: &'a [(&'a str, &'a str)],
    body: Body<'a>,
}

impl<'a> Call<'a> {
    fn procedure(nsid: &'static str, body: Body<'a>) -> Self {
        Self {
            method: Method::POST,
            nsid,
            query: &[],
            body,
        }
    }
}

/// One Bluesky account. Clones share the session.
#[derive(Clone)]
pub struct BlueskyClient {
    http: reqwest::Client,
    service_url: Url,
    identifier: String,
    app_password: String,
    session: Arc<Mutex<Option<Session>>>,
}

impl fmt::Debug for BlueskyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlueskyClient")
            .field("service_url", &self.service_url.as_str())
            .field("identifier", &self.identifier)
            .field("app_password", &"[redacted]")
            .field("session", &"[redacted]")
            .finish()
    }
}

impl BlueskyClient {
    /// `service_url` is the PDS or entryway root (`https://bsky.social`); `identifier` the account's handle,
    /// DID or e-mail; `app_password` an app password (Settings → App Passwords). Nothing is sent until the
    /// first call.
    pub fn new(
        service_url: Url,
        identifier: String,
        app_password: String,
        http: reqwest::Client,
    ) -> Self {
        Self {
            http,
            service_url,
            identifier,
            app_password,
            session: Arc::new(Mutex::new(None)),
        }
    }

    fn xrpc_url(&self, nsid: &str) -> Url {
        let mut url = self.service_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/xrpc/{nsid}"));
        url
    }

    async fn send(&self, call: &Call<'_>, bearer: Option<&str>) -> Result<Value, BlueskyError> {
        let mut request = self
            .http
            .request(call.method.clone(), self.xrpc_url(call.nsid));
        if !call.query.is_empty() {
            request = request.query(call.query);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request = match call.body {
            Body::Empty => request,
            Body::Json(value) => request.json(value),
            Body::Raw { bytes, mime } => request.header(CONTENT_TYPE, mime).body(bytes.to_vec()),
        };
        let response = request.send().await.map_err(BlueskyError::from_reqwest)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(BlueskyError::from_reqwest)?;
        classify(status, &headers, &body, Utc::now())
    }

    #[tracing::instrument(skip_all)]
    async fn create_session(&self) -> Result<Session, BlueskyError> {
        let body = json!({ "identifier": self.identifier, "password": self.app_password });
        let output = self
            .send(&Call::procedure(CREATE_SESSION, Body::Json(&body)), None)
            .await?;
        let session = Session::from_output(output)?;
        tracing::info!(did = %session.did, handle = %session.handle, "logged in to Bluesky");
        Ok(session)
    }

    #[tracing::instrument(skip_all)]
    async fn refresh_session(&self, refresh_jwt: &str) -> Result<Session, BlueskyError> {
        let output = self
            .send(
                &Call::procedure(REFRESH_SESSION, Body::Empty),
                Some(refresh_jwt),
            )
            .await?;
        let session = Session::from_output(output)?;
        tracing::debug!(did = %session.did, "refreshed the Bluesky session");
        Ok(session)
    }

    /// The current session: logged in on first use, refreshed when the access token is about to expire,
    /// logged in anew when the refresh token is refused.
    async fn session(&self) -> Result<Session, BlueskyError> {
        let mut slot = self.session.lock().await;
        if let Some(current) = slot.as_ref() {
            if !current.needs_refresh(Utc::now()) {
                return Ok(current.clone());
            }
            let refresh_jwt = current.refresh_jwt.clone();
            match self.refresh_session(&refresh_jwt).await {
                Ok(session) => {
                    *slot = Some(session.clone());
                    return Ok(session);
                }
                Err(err @ BlueskyError::Unauthorized { .. }) => {
                    tracing::info!("the refresh token was refused ({err}); logging in again");
                    *slot = None;
                }
                Err(err) => return Err(err),
            }
        }
        let session = self.create_session().await?;
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Logs in anew after `stale` was refused, unless another call already has.
    async fn relogin(&self, stale: &Session) -> Result<Session, BlueskyError> {
        let mut slot = self.session.lock().await;
        if let Some(current) = slot.as_ref()
            && current.access_jwt != stale.access_jwt
        {
            return Ok(current.clone());
        }
        *slot = None;
        let session = self.create_session().await?;
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Sends `call` with the session's access token; on `ExpiredToken` / `InvalidToken`, logs in again and
    /// sends it once more.
    async fn send_authed(&self, call: &Call<'_>) -> Result<Value, BlueskyError> {
        let session = self.session().await?;
        match self.send(call, Some(&session.access_jwt)).await {
            Err(err) if err.is_stale_token() => {
                tracing::info!(
                    nsid = call.nsid,
                    "session token refused ({err}); logging in again"
                );
                let session = self.relogin(&session).await?;
                self.send(call, Some(&session.access_jwt)).await
            }
            result => result,
        }
    }

    /// The DID of the logged-in account (logging in if needed).
    pub async fn did(&self) -> Result<String, BlueskyError> {
        Ok(self.session().await?.did)
    }

    /// `com.atproto.identity.resolveHandle`: the DID of `handle` (with or without the `@`). An unknown
    /// handle is a [`BlueskyError::BadRequest`].
    #[tracing::instrument(skip_all, fields(handle = %handle))]
    pub async fn resolve_handle(&self, handle: &str) -> Result<String, BlueskyError> {
        let handle = handle.trim_start_matches('@');
        let query = [("handle", handle)];
        let call = Call {
            method: Method::GET,
            nsid: RESOLVE_HANDLE,
            query: &query,
            body: Body::Empty,
        };
        let output = self.send(&call, None).await?;
        match output.get("did").and_then(Value::as_str) {
            Some(did) if did.starts_with("did:") => Ok(did.to_owned()),
            _ => Err(BlueskyError::InvalidResponse(format!(
                "resolveHandle returned {output}"
            ))),
        }
    }

    /// `com.atproto.repo.uploadBlob`: uploads `bytes` as `mime` and returns the blob reference to put in a
    /// record (`{"$type": "blob", "ref": {"$link": ...}, "mimeType": ..., "size": ...}`).
    #[tracing::instrument(skip_all, fields(mime = %mime, size = bytes.len()))]
    pub async fn upload_blob(&self, bytes: &[u8], mime: &str) -> Result<Value, BlueskyError> {
        let output = self
            .send_authed(&Call::procedure(UPLOAD_BLOB, Body::Raw { bytes, mime }))
            .await?;
        match output.get("blob") {
            Some(blob) if blob.is_object() => Ok(blob.clone()),
            _ => Err(BlueskyError::InvalidResponse(format!(
                "uploadBlob returned {output}"
            ))),
        }
    }

    /// Publishes `post`: checks its limits before sending anything, turns links, mentions and hashtags into
    /// facets (a mention whose handle does not resolve stays plain text), uploads its images, and creates the
    /// `app.bsky.feed.post` record in the account's repository.
    #[tracing::instrument(skip_all, fields(reply = post.reply_to.is_some(), images = post.images.len()))]
    pub async fn post(&self, post: &NewPost) -> Result<Posted, BlueskyError> {
        check_limits(post)?;
        let facets = self.resolve_mentions(facets(&post.text)).await?;
        let embed = if post.images.is_empty() {
            post.link_card.as_ref().map(external_embed)
        } else {
            let mut blobs = Vec::with_capacity(post.images.len());
            for image in &post.images {
                blobs.push(self.upload_blob(&image.bytes, &image.mime).await?);
            }
            Some(images_embed(&post.images, blobs))
        };
        let did = self.session().await?.did;
        let mut body = json!({
            "repo": did,
            "collection": POST_COLLECTION,
            "record": post_record(post, &facets, embed),
        });
        if let Some(rkey) = &post.rkey {
            body["rkey"] = json!(rkey);
        }
        let output = match self
            .send_authed(&Call::procedure(CREATE_RECORD, Body::Json(&body)))
            .await
        {
            Ok(output) => output,
            // Posted before, and the answer was lost: the record is there; return it.
            Err(BlueskyError::BadRequest { message, .. })
                if post.rkey.is_some()
                    && message.to_ascii_lowercase().contains("already exist") =>
            {
                let rkey = post.rkey.as_deref().unwrap_or_default();
                let query = [
                    ("repo", did.as_str()),
                    ("collection", POST_COLLECTION),
                    ("rkey", rkey),
                ];
                let call = Call {
                    method: Method::GET,
                    nsid: GET_RECORD,
                    query: &query,
                    body: Body::Empty,
                };
                self.send_authed(&call).await?
            }
            Err(err) => return Err(err),
        };
        let posted: Posted = serde_json::from_value(output)
            .map_err(|e| BlueskyError::InvalidResponse(format!("createRecord: {e}")))?;
        tracing::info!(uri = %posted.uri, "posted to Bluesky");
        Ok(posted)
    }

    /// `app.bsky.notification.listNotifications`: one page, newest first, and the cursor for the next
    /// (older) page. Raw JSON notifications, so the caller keeps what the server sent.
    #[tracing::instrument(skip_all)]
    pub async fn list_notifications(
        &self,
        cursor: Option<&str>,
        limit: u8,
    ) -> Result<(Vec<Value>, Option<String>), BlueskyError> {
        let limit = limit.clamp(1, 100).to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let call = Call {
            method: Method::GET,
            nsid: LIST_NOTIFICATIONS,
            query: &query,
            body: Body::Empty,
        };
        let output = self.send_authed(&call).await?;
        let notifications = output
            .get("notifications")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                BlueskyError::InvalidResponse("listNotifications without notifications".into())
            })?;
        let next = output
            .get("cursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok((notifications, next))
    }

    /// `app.bsky.notification.updateSeen`: marks notifications up to `seen_at` as read.
    #[tracing::instrument(skip_all)]
    pub async fn update_seen(&self, seen_at: DateTime<Utc>) -> Result<(), BlueskyError> {
        let body =
            json!({ "seenAt": seen_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) });
        self.send_authed(&Call::procedure(UPDATE_SEEN, Body::Json(&body)))
            .await
            .map(drop)
    }

    /// Reposts a post (`app.bsky.feed.repost` record with the post as subject).
    #[tracing::instrument(skip_all)]
    pub async fn repost(&self, subject: &StrongRef) -> Result<Posted, BlueskyError> {
        let did = self.session().await?.did;
        let body = json!({
            "repo": did,
            "collection": REPOST_COLLECTION,
            "record": {
                "$type": REPOST_COLLECTION,
                "subject": { "uri": subject.uri, "cid": subject.cid },
                "createdAt": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            },
        });
        let output = self
            .send_authed(&Call::procedure(CREATE_RECORD, Body::Json(&body)))
            .await?;
        serde_json::from_value(output)
            .map_err(|e| BlueskyError::InvalidResponse(format!("createRecord: {e}")))
    }

    /// Replaces each mention's handle with its DID; drops mentions of handles that do not resolve. Other
    /// failures (network, rate limit, server) are returned, so the post is retried rather than published
    /// with a mention missing.
    async fn resolve_mentions(&self, facets: Vec<Facet>) -> Result<Vec<Facet>, BlueskyError> {
        let mut resolved: HashMap<String, Option<String>> = HashMap::new();
        let mut kept = Vec::with_capacity(facets.len());
        for mut facet in facets {
            let mut keep = true;
            for feature in &mut facet.features {
                let Some(handle) = feature.unresolved_handle().map(str::to_owned) else {
                    continue;
                };
                let did = match resolved.get(&handle) {
                    Some(did) => did.clone(),
                    None => {
                        let did = match self.resolve_handle(&handle).await {
                            Ok(did) => Some(did),
                            Err(err) if err.disposition() == Disposition::Permanent => {
                                tracing::info!(%handle, "mention left as plain text: {err}");
                                None
                            }
                            Err(err) => return Err(err),
                        };
                        resolved.insert(handle, did.clone());
                        did
                    }
                };
                match did {
                    Some(did) => *feature = Feature::Mention { did },
                    None => keep = false,
                }
            }
            if keep {
                kept.push(facet);
            }
        }
        Ok(kept)
    }
}

/// Refuses what Bluesky would refuse, before anything is sent.
fn check_limits(post: &NewPost) -> Result<(), BlueskyError> {
    let graphemes = grapheme_len(&post.text);
    if graphemes > MAX_GRAPHEMES {
        return Err(BlueskyError::TooLong { graphemes });
    }
    if post.text.len() > MAX_TEXT_BYTES {
        return Err(BlueskyError::TooManyBytes {
            bytes: post.text.len(),
        });
    }
    if post.images.len() > MAX_IMAGES {
        return Err(BlueskyError::TooManyImages {
            count: post.images.len(),
        });
    }
    if let Some((index, image)) = post
        .images
        .iter()
        .enumerate()
        .find(|(_, image)| image.bytes.len() > MAX_IMAGE_BYTES)
    {
        return Err(BlueskyError::ImageTooLarge {
            index,
            bytes: image.bytes.len(),
        });
    }
    Ok(())
}

fn images_embed(images: &[Image], blobs: Vec<Value>) -> Value {
    let images: Vec<Value> = images
        .iter()
        .zip(blobs)
        .map(|(image, blob)| json!({ "alt": image.alt, "image": blob }))
        .collect();
    json!({ "$type": "app.bsky.embed.images", "images": images })
}

fn external_embed(card: &ExternalCard) -> Value {
    json!({ "$type": "app.bsky.embed.external", "external": card })
}

/// The `app.bsky.feed.post` record; optional fields only when they have something to say.
fn post_record(post: &NewPost, facets: &[Facet], embed: Option<Value>) -> Value {
    let mut record = json!({
        "$type": POST_COLLECTION,
        "text": post.text,
        "createdAt": post.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    if !facets.is_empty() {
        record["facets"] = json!(facets);
    }
    if let Some(reply) = &post.reply_to {
        record["reply"] = json!(reply);
    }
    if let Some(embed) = embed {
        record["embed"] = embed;
    }
    if !post.langs.is_empty() {
        record["langs"] = json!(post.langs);
    }
    record
}

#[cfg(test)]
mod tests {

    #[test]
    fn tids_are_thirteen_sortable_characters_and_deterministic() {
        let a = tid(1_700_000_000_000_000, 1);
        assert_eq!(a.len(), 13);
        assert!(
            a.chars()
                .all(|c| "234567abcdefghijklmnopqrstuvwxyz".contains(c))
        );
        assert!(
            matches!(a.chars().next(), Some('2'..='7' | 'a'..='j')),
            "top bit clear: {a}"
        );
        assert_eq!(a, tid(1_700_000_000_000_000, 1));
        assert!(tid(1_700_000_000_000_001, 0) > a, "later times sort later");
        assert_eq!(tid(0, 0), "2222222222222");
    }

    use reqwest::header::HeaderValue;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("valid timestamp")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn errors_are_classified_by_status_and_xrpc_error() {
        let none = HeaderMap::new();
        let now = at(1_700_000_000);
        let cases = [
            (
                401,
                r#"{"error":"AuthenticationRequired","message":"Invalid identifier or password"}"#,
                BlueskyError::Unauthorized {
                    error: "AuthenticationRequired".into(),
                    message: "Invalid identifier or password".into(),
                },
            ),
            (
                400,
                r#"{"error":"ExpiredToken","message":"Token has expired"}"#,
                BlueskyError::Unauthorized {
                    error: "ExpiredToken".into(),
                    message: "Token has expired".into(),
                },
            ),
            (
                400,
                r#"{"error":"InvalidRequest","message":"Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}"#,
                BlueskyError::BadRequest {
                    status: 400,
                    error: "InvalidRequest".into(),
                    message: "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes".into(),
                },
            ),
            (
                413,
                r#"{"error":"PayloadTooLarge","message":"request entity too large"}"#,
                BlueskyError::BadRequest {
                    status: 413,
                    error: "PayloadTooLarge".into(),
                    message: "request entity too large".into(),
                },
            ),
            (
                502,
                "<html>Bad Gateway</html>",
                BlueskyError::Server {
                    status: 502,
                    message: "<html>Bad Gateway</html>".into(),
                },
            ),
            (
                503,
                r#"{"error":"NotEnoughResources","message":"try later"}"#,
                BlueskyError::Server {
                    status: 503,
                    message: "try later".into(),
                },
            ),
            (408, "", BlueskyError::Timeout),
        ];
        for (status, body, expected) in cases {
            assert_eq!(classify(status, &none, body, now), Err(expected), "{body}");
        }
        assert_eq!(
            classify(200, &none, "not json", now)
                .expect_err("unreadable")
                .disposition(),
            Disposition::Transient
        );
        assert_eq!(
            classify(200, &none, r#"{"did":"did:plc:x"}"#, now),
            Ok(json!({"did": "did:plc:x"}))
        );
    }

    #[test]
    fn rate_limits_say_how_long_to_wait() {
        let now = at(1_700_000_000);
        let body = r#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#;
        let delay = |pairs: &[(&'static str, &str)]| match classify(429, &headers(pairs), body, now)
        {
            Err(BlueskyError::RetryAfter(delay)) => delay,
            other => panic!("not a rate limit: {other:?}"),
        };
        assert_eq!(
            delay(&[
                ("ratelimit-reset", "1700000300"),
                ("ratelimit-remaining", "0")
            ]),
            Duration::from_secs(300)
        );
        assert_eq!(delay(&[("ratelimit-reset", "90")]), Duration::from_secs(90));
        assert_eq!(
            delay(&[("ratelimit-reset", "1600000000")]),
            Duration::from_secs(1)
        );
        assert_eq!(delay(&[("retry-after", "42")]), Duration::from_secs(42));
        assert_eq!(
            delay(&[("retry-after", "Tue, 14 Nov 2023 22:15:20 GMT")]),
            Duration::from_secs(120)
        );
        assert_eq!(delay(&[]), DEFAULT_RETRY_AFTER);
    }

    #[test]
    fn dispositions_follow_the_kind_of_error() {
        assert_eq!(
            BlueskyError::RetryAfter(Duration::from_secs(3)).disposition(),
            Disposition::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            BlueskyError::Unauthorized {
                error: String::new(),
                message: String::new(),
            }
            .disposition(),
            Disposition::Refused
        );
        for transient in [
            BlueskyError::Server {
                status: 500,
                message: String::new(),
            },
            BlueskyError::Timeout,
            BlueskyError::Network(String::new()),
            BlueskyError::InvalidResponse(String::new()),
        ] {
            assert_eq!(
                transient.disposition(),
                Disposition::Transient,
                "{transient}"
            );
        }
        for permanent in [
            BlueskyError::BadRequest {
                status: 400,
                error: "InvalidRequest".into(),
                message: String::new(),
            },
            BlueskyError::TooLong { graphemes: 301 },
            BlueskyError::TooManyBytes { bytes: 3001 },
            BlueskyError::TooManyImages { count: 5 },
            BlueskyError::ImageTooLarge {
                index: 0,
                bytes: MAX_IMAGE_BYTES + 1,
            },
        ] {
            assert_eq!(
                permanent.disposition(),
                Disposition::Permanent,
                "{permanent}"
            );
        }
    }

    #[test]
    fn jwt_expiry_is_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"scope":"com.atproto.appPass","sub":"did:plc:x","exp":1700000000}"#);
        let token = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln");
        assert_eq!(jwt_expiry(&token), Some(at(1_700_000_000)));
        assert_eq!(jwt_expiry("opaque-token"), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);

        let session = Session {
            access_jwt: token,
            refresh_jwt: String::new(),
            did: "did:plc:x".into(),
            handle: String::new(),
            access_expires: jwt_expiry(&format!("h.{payload}.s")),
        };
        assert!(!session.needs_refresh(at(1_700_000_000 - 301)));
        assert!(session.needs_refresh(at(1_700_000_000 - 299)));
        assert!(!format!("{session:?}").contains("eyJ"));
    }

    #[test]
    fn limits_are_checked_before_sending() {
        let now = at(1_700_000_000);
        assert_eq!(check_limits(&NewPost::text("✨".repeat(300), now)), Ok(()));
        assert_eq!(
            check_limits(&NewPost::text("✨".repeat(301), now)),
            Err(BlueskyError::TooLong { graphemes: 301 })
        );
        // 200 ZWJ families are 200 graphemes but 5,000 bytes.
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
        assert_eq!(
            check_limits(&NewPost::text(family.repeat(200), now)),
            Err(BlueskyError::TooManyBytes { bytes: 5000 })
        );
        let image = Image {
            bytes: vec![0; 10],
            mime: "image/png".into(),
            alt: String::new(),
        };
        let mut post = NewPost::text("pics", now);
        post.images = vec![image.clone(); 5];
        assert_eq!(
            check_limits(&post),
            Err(BlueskyError::TooManyImages { count: 5 })
        );
        post.images = vec![
            image.clone(),
            Image {
                bytes: vec![0; MAX_IMAGE_BYTES + 1],
                ..image
            },
        ];
        assert_eq!(
            check_limits(&post),
            Err(BlueskyError::ImageTooLarge {
                index: 1,
                bytes: MAX_IMAGE_BYTES + 1
            })
        );
    }

    #[test]
    fn records_carry_only_what_is_set() {
        let created_at = DateTime::parse_from_rfc3339("2023-08-07T05:31:12.156888Z")
            .expect("date")
            .with_timezone(&Utc);
        let minimal = post_record(&NewPost::text("Hello World!", created_at), &[], None);
        assert_eq!(
            minimal,
            json!({
                "$type": "app.bsky.feed.post",
                "text": "Hello World!",
                "createdAt": "2023-08-07T05:31:12.156Z",
            })
        );

        let mut post = NewPost::text("post which embeds an external URL as a card", created_at);
        post.langs = vec!["th".into(), "en-US".into()];
        post.reply_to = Some(ReplyRef {
            root: StrongRef {
                uri: "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g"
                    .into(),
                cid: "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q".into(),
            },
            parent: StrongRef {
                uri: "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k44deefqdk2g"
                    .into(),
                cid: "bafyreiecx6dujwoeqpdzl27w67z4h46hyklk3an4i4cvvmioaqb2qbyo5u".into(),
            },
        });
        let card = ExternalCard {
            uri: "https://bsky.app".into(),
            title: "Bluesky Social".into(),
            description: "See what's next.".into(),
        };
        let record = post_record(&post, &[], Some(external_embed(&card)));
        assert_eq!(
            record["embed"],
            json!({
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": "https://bsky.app",
                    "title": "Bluesky Social",
                    "description": "See what's next.",
                }
            })
        );
        assert_eq!(record["langs"], json!(["th", "en-US"]));
        assert_eq!(
            record["reply"]["parent"]["cid"],
            "bafyreiecx6dujwoeqpdzl27w67z4h46hyklk3an4i4cvvmioaqb2qbyo5u"
        );
        assert!(record.get("facets").is_none());
    }

    #[test]
    fn the_images_embed_pairs_alt_texts_with_blobs() {
        let blob = json!({
            "$type": "blob",
            "ref": { "$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa" },
            "mimeType": "image/png",
            "size": 760898
        });
        let image = Image {
            bytes: vec![1, 2, 3],
            mime: "image/png".into(),
            alt: "brief alt text description of the first image".into(),
        };
        assert_eq!(
            images_embed(std::slice::from_ref(&image), vec![blob.clone()]),
            json!({
                "$type": "app.bsky.embed.images",
                "images": [{ "alt": "brief alt text description of the first image", "image": blob }]
            })
        );
        assert_eq!(
            format!("{image:?}"),
            r#"Image { bytes: 3, mime: "image/png", alt: "brief alt text description of the first image" }"#
        );
    }

    #[test]
    fn xrpc_urls_keep_a_path_prefix_and_debug_hides_secrets() {
        let client = BlueskyClient::new(
            Url::parse("http://127.0.0.1:9/pds/").expect("url"),
            "herald.test".into(),
            "abcd-efgh-ijkl-mnop".into(),
            reqwest::Client::new(),
        );
        assert_eq!(
            client.xrpc_url(CREATE_RECORD).as_str(),
            "http://127.0.0.1:9/pds/xrpc/com.atproto.repo.createRecord"
        );
        let debug = format!("{client:?}");
        assert!(debug.contains("herald.test"), "{debug}");
        assert!(!debug.contains("abcd-efgh"), "{debug}");
    }
}
