//! X (formerly Twitter) driver: API v2 on the reqwest already in the tree.
//!
//! [`XClient`] is one account, authorised either by OAuth 1.0a user context ([`oauth1`]) or by an OAuth 2.0
//! user access token ([`oauth2`] obtains and refreshes those; storing them is the caller's). It posts
//! (`POST /2/tweets`: text, a reply, media), deletes, reposts, reads the account's recent posts and its
//! mentions, sends direct messages (`POST /2/dm_conversations/with/:id/messages`), uploads images
//! ([`media`]) and looks users up. Lengths are X's weighted ones ([`text`]); errors are [`XError`];
//! deliveries to Herald's webhook are read by [`webhook`], the webhook is registered and accounts subscribed
//! to it by [`registration`], and without a webhook direct messages are polled ([`dm_events`]).
//!
//! **No idempotency key exists on X.** A create whose answer is lost comes back as
//! [`XError::UnknownOutcome`]; [`XClient::find_sent_post`] looks for the post on the account before the
//! caller dares to send it again.
//!
//! The base URL is where requests go; the signing base ([`XClient::with_signing_base`]) is the URL OAuth 1.0a
//! signatures are computed for, the same unless a proxy (or a test peer) stands in front of X.

use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

mod dm;
pub mod dm_events;
pub mod error;
#[cfg(test)]
mod fake;
pub mod media;
pub mod oauth1;
pub mod oauth2;
pub mod registration;
pub mod text;
pub mod webhook;

pub use dm_events::{DmEvent, DmEvents, DmQuery};
pub use error::{AccountProblem, XError};
pub use media::{Image, MAX_IMAGE_BYTES, MAX_IMAGES, MediaUpload};
pub use registration::WebhookConfig;

/// X's API host.
pub const API_BASE: &str = "https://api.x.com/";

/// How a client proves who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// OAuth 1.0a user context: the app's consumer key and secret and the account's access token and secret.
    OAuth1(oauth1::Credentials),
    /// An OAuth 2.0 user access token (authorization code with PKCE). It lives two hours; refresh it with
    /// [`oauth2::refresh`] and build a new client.
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OAuth1(credentials) => f.debug_tuple("OAuth1").field(credentials).finish(),
            Self::Bearer(_) => f.write_str("Bearer([redacted])"),
        }
    }
}

/// A post to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPost {
    /// At most [`text::MAX_WEIGHT`] by [`text::weighted_len`].
    pub text: String,
    /// The post this one answers (the previous part of a thread, or a mention).
    pub reply_to: Option<String>,
    /// At most [`MAX_IMAGES`] ids from [`XClient::upload_image`].
    pub media_ids: Vec<String>,
}

/// A post as X returns it. Fields other than `id` and `text` come only when asked for ([`Fields::Full`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Post {
    pub id: String,
    /// As X stores it: links replaced by `https://t.co/…`, `&`, `<` and `>` HTML-escaped.
    pub text: String,
    #[serde(default)]
    pub author_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub in_reply_to_user_id: Option<String>,
    #[serde(default)]
    pub referenced_tweets: Vec<ReferencedPost>,
}

/// A post this one replies to, quotes or reposts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReferencedPost {
    /// `replied_to`, `quoted` or `retweeted`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub username: String,
}

/// A page of posts with the users they name (`includes.users`, when expanded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    pub posts: Vec<Post>,
    pub users: Vec<User>,
    /// `meta.newest_id`: the `since_id` of the next catch-up.
    pub newest_id: Option<String>,
    /// `meta.next_token`: the next (older) page.
    pub next_token: Option<String>,
}

impl Timeline {
    /// The author of `post`, when the page includes it.
    pub fn author(&self, post: &Post) -> Option<&User> {
        let id = post.author_id.as_deref()?;
        self.users.iter().find(|u| u.id == id)
    }
}

/// Which fields to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fields {
    /// X's defaults: `id` and `text` only.
    Bare,
    /// Creation time, author (expanded to `includes.users`), conversation, reply and referenced posts.
    #[default]
    Full,
}

/// What part of a timeline to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimelineQuery {
    /// Only posts newer than this id.
    pub since_id: Option<String>,
    /// Only posts created at or after this time.
    pub start_time: Option<DateTime<Utc>>,
    /// 5 to 100 (X's bounds); X's default (10) when `None`.
    pub max_results: Option<u8>,
    /// `meta.next_token` of the previous page.
    pub pagination_token: Option<String>,
    pub fields: Fields,
}

impl TimelineQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(since) = &self.since_id {
            pairs.push(("since_id", since.clone()));
        }
        if let Some(start) = self.start_time {
            pairs.push((
                "start_time",
                start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ));
        }
        if let Some(max) = self.max_results {
            pairs.push(("max_results", max.clamp(5, 100).to_string()));
        }
        if let Some(token) = &self.pagination_token {
            pairs.push(("pagination_token", token.clone()));
        }
        if self.fields == Fields::Full {
            pairs.push((
                "tweet.fields",
                "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets".into(),
            ));
            pairs.push(("expansions", "author_id".into()));
        }
        pairs
    }
}

/// A direct message sent (`dm_conversation_id`, `dm_event_id`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DmSent {
    #[serde(rename = "dm_conversation_id")]
    pub conversation_id: String,
    #[serde(rename = "dm_event_id")]
    pub event_id: String,
}

/// A request body. JSON and multipart bodies are not signed by OAuth 1.0a; form pairs are.
pub(crate) enum Body {
    Empty,
    Json(Value),
    Multipart(reqwest::multipart::Form),
}

/// One X account.
#[derive(Clone)]
pub struct XClient {
    http: reqwest::Client,
    base: Url,
    signing_base: Url,
    auth: Auth,
}

impl fmt::Debug for XClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XClient")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .finish()
    }
}

impl XClient {
    /// A client sending to `base` ([`API_BASE`] in production; a fake's URL in tests).
    pub fn new(base: Url, auth: Auth, http: reqwest::Client) -> Self {
        Self {
            http,
            signing_base: base.clone(),
            base,
            auth,
        }
    }

    /// Computes OAuth 1.0a signatures as if requests went to `base` (for a proxy or a test peer that stands
    /// in for X and checks signatures against X's public URL).
    pub fn with_signing_base(mut self, base: Url) -> Self {
        self.signing_base = base;
        self
    }

    fn url(base: &Url, path: &str, query: &[(&str, String)]) -> Result<Url, XError> {
        let mut url = base
            .join(path)
            .map_err(|e| XError::InvalidResponse(format!("bad base URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Sends one request and classifies the answer.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body,
    ) -> Result<Value, XError> {
        let url = Self::url(&self.base, path, query)?;
        let authorization = match &self.auth {
            Auth::OAuth1(credentials) => {
                let signed = Self::url(&self.signing_base, path, query)?;
                credentials.authorization(method.as_str(), &signed, &[])
            }
            Auth::Bearer(token) => format!("Bearer {token}"),
        };
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, authorization);
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(&value),
            Body::Multipart(form) => request.multipart(form),
        };
        let response = request.send().await.map_err(|e| XError::from_reqwest(&e))?;
        let (status, headers, text) = error::read(response).await?;
        error::classify(status, &headers, &text, Utc::now())
    }

    /// A JSON request to an endpoint this driver does not wrap (webhook registration, subscriptions…),
    /// authorised and classified like the others; the answer's JSON as it came.
    #[tracing::instrument(skip_all, fields(method = %method, path = %path))]
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        json: Option<Value>,
    ) -> Result<Value, XError> {
        let body = json.map_or(Body::Empty, Body::Json);
        self.call(method, path, query, body).await
    }

    /// `data` of an answer, read as `T`; a 200 with only `errors` is the error it names.
    pub(crate) fn data<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, XError> {
        match value.get("data") {
            Some(data) => serde_json::from_value(data.clone())
                .map_err(|e| XError::InvalidResponse(format!("data: {e}"))),
            None => {
                let message = error::error_message(&value.to_string());
                let missing = value
                    .pointer("/errors/0/type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with("resource-not-found"));
                Err(if missing {
                    XError::NotFound { message }
                } else {
                    XError::InvalidResponse(format!("no data: {message}"))
                })
            }
        }
    }

    /// `GET /2/users/me`: whose credentials these are (the credential check).
    #[tracing::instrument(skip_all)]
    pub async fn me(&self) -> Result<User, XError> {
        Self::data(
            self.call(Method::GET, "2/users/me", &[], Body::Empty)
                .await?,
        )
    }

    /// `GET /2/users/:id`.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn user(&self, id: &str) -> Result<User, XError> {
        Self::data(
            self.call(Method::GET, &format!("2/users/{id}"), &[], Body::Empty)
                .await?,
        )
    }

    /// `GET /2/users/by/username/:username` (without the `@`).
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn user_by_username(&self, username: &str) -> Result<User, XError> {
        let username = username.trim_start_matches('@');
        Self::data(
            self.call(
                Method::GET,
                &format!("2/users/by/username/{username}"),
                &[],
                Body::Empty,
            )
            .await?,
        )
    }

    /// `POST /2/tweets`. The text is checked against X's weighted length and the images counted first.
    /// A lost answer is [`XError::UnknownOutcome`].
    #[tracing::instrument(skip_all, fields(reply = post.reply_to.is_some(), media = post.media_ids.len()))]
    pub async fn create_post(&self, post: &NewPost) -> Result<Post, XError> {
        let weight = text::weighted_len(&post.text);
        if weight > text::MAX_WEIGHT {
            return Err(XError::TooLong { weight });
        }
        if post.media_ids.len() > MAX_IMAGES {
            return Err(XError::TooManyImages {
                count: post.media_ids.len(),
            });
        }
        let mut body = json!({ "text": post.text });
        if let Some(reply) = &post.reply_to {
            body["reply"] = json!({ "in_reply_to_tweet_id": reply });
        }
        if !post.media_ids.is_empty() {
            body["media"] = json!({ "media_ids": post.media_ids });
        }
        let answer = self
            .call(Method::POST, "2/tweets", &[], Body::Json(body))
            .await
            .map_err(XError::for_create)?;
        // A 2xx without a readable post: it was created, but we cannot say as what.
        Self::data(answer).map_err(XError::for_create)
    }

    /// `DELETE /2/tweets/:id`; whether X says it is deleted.
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn delete_post(&self, id: &str) -> Result<bool, XError> {
        #[derive(Deserialize)]
        struct Deleted {
            deleted: bool,
        }
        let answer = self
            .call(Method::DELETE, &format!("2/tweets/{id}"), &[], Body::Empty)
            .await?;
        Ok(Self::data::<Deleted>(answer)?.deleted)
    }

    /// `POST /2/users/:id/retweets`: reposts `post_id` as the account `user_id`. Reposting twice does not
    /// repost twice, so this is safe to retry.
    #[tracing::instrument(skip_all, fields(post_id = %post_id))]
    pub async fn repost(&self, user_id: &str, post_id: &str) -> Result<bool, XError> {
        #[derive(Deserialize)]
        struct Reposted {
            retweeted: bool,
        }
        let answer = self
            .call(
                Method::POST,
                &format!("2/users/{user_id}/retweets"),
                &[],
                Body::Json(json!({ "tweet_id": post_id })),
            )
            .await?;
        Ok(Self::data::<Reposted>(answer)?.retweeted)
    }

    async fn timeline(&self, path: &str, query: &[(&str, String)]) -> Result<Timeline, XError> {
        let value = self.call(Method::GET, path, query, Body::Empty).await?;
        let read = |pointer: &str| value.pointer(pointer).cloned().unwrap_or(Value::Null);
        let posts: Vec<Post> = match read("/data") {
            Value::Null => Vec::new(),
            data => serde_json::from_value(data)
                .map_err(|e| XError::InvalidResponse(format!("posts: {e}")))?,
        };
        let users: Vec<User> = match read("/includes/users") {
            Value::Null => Vec::new(),
            users => serde_json::from_value(users)
                .map_err(|e| XError::InvalidResponse(format!("users: {e}")))?,
        };
        let string = |pointer: &str| read(pointer).as_str().map(str::to_owned);
        Ok(Timeline {
            posts,
            users,
            newest_id: string("/meta/newest_id"),
            next_token: string("/meta/next_token"),
        })
    }

    /// `GET /2/users/:id/mentions`: posts mentioning the account, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn mentions(&self, user_id: &str, query: &TimelineQuery) -> Result<Timeline, XError> {
        self.timeline(&format!("2/users/{user_id}/mentions"), &query.pairs())
            .await
    }

    /// `GET /2/users/:id/tweets`: the account's own posts (replies included, reposts left out), newest
    /// first.
    #[tracing::instrument(skip_all)]
    pub async fn recent_posts(
        &self,
        user_id: &str,
        query: &TimelineQuery,
    ) -> Result<Timeline, XError> {
        let mut pairs = query.pairs();
        pairs.push(("exclude", "retweets".into()));
        self.timeline(&format!("2/users/{user_id}/tweets"), &pairs)
            .await
    }

    /// Looks for a post whose create answer was lost: the account's posts since `attempted_at` (less a
    /// minute of clock skew), matched by text ([`same_text`]). `Ok(None)` means it is not among them.
    /// X's user timeline can lag a post by some seconds, so look no sooner than a minute after the attempt;
    /// an `Err` means it cannot be told, and a person should decide.
    #[tracing::instrument(skip_all)]
    pub async fn find_sent_post(
        &self,
        user_id: &str,
        text: &str,
        attempted_at: DateTime<Utc>,
    ) -> Result<Option<Post>, XError> {
        let since = attempted_at - chrono::TimeDelta::minutes(1);
        let mut query = TimelineQuery {
            start_time: Some(since),
            max_results: Some(100),
            ..TimelineQuery::default()
        };
        // A busy account might post more than a page in that time; three pages is plenty for Herald's pace.
        for _ in 0..3 {
            let page = self.recent_posts(user_id, &query).await?;
            if let Some(found) = page.posts.into_iter().find(|post| {
                same_text(&post.text, text) && post.created_at.is_none_or(|at| at >= since)
            }) {
                return Ok(Some(found));
            }
            match page.next_token {
                Some(token) => query.pagination_token = Some(token),
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// `POST /2/dm_conversations/with/:participant_id/messages`: a direct message to one account, with up
    /// to one media id. Like a post, a lost answer is [`XError::UnknownOutcome`].
    #[tracing::instrument(skip_all)]
    pub async fn send_dm(
        &self,
        participant_id: &str,
        text: &str,
        media_id: Option<&str>,
    ) -> Result<DmSent, XError> {
        let mut body = json!({ "text": text });
        if let Some(media) = media_id {
            body["attachments"] = json!([{ "media_id": media }]);
        }
        let answer = self
            .call(
                Method::POST,
                &format!("2/dm_conversations/with/{participant_id}/messages"),
                &[],
                Body::Json(body),
            )
            .await
            .map_err(XError::for_create)?;
        Self::data(answer).map_err(XError::for_create)
    }
}

/// Whether X's `stored` text is the `sent` one: X replaces links (and bare domains) by `t.co` links,
/// appends a media link, escapes `&`, `<` and `>`, and may prefix a reply with the mentioned handles; so
/// both are compared without links, leading mentions or differences in white space, after NFC.
pub fn same_text(stored: &str, sent: &str) -> bool {
    fn comparable(text: &str) -> Vec<String> {
        let text: String = text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
            .nfc()
            .collect();
        text.split_whitespace()
            .skip_while(|w| w.starts_with('@'))
            .filter(|w| {
                let lower = w.to_ascii_lowercase();
                !(lower.contains("http://")
                    || lower.contains("https://")
                    || text::looks_like_domain(w.trim_matches(|c: char| !c.is_alphanumeric())))
            })
            .map(str::to_owned)
            .collect()
    }
    let sent = comparable(sent);
    !sent.is_empty() && comparable(stored) == sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_matches_what_was_sent_despite_links_escapes_and_reply_mentions() {
        let sent =
            "Talks & workshops <today> at https://fosdem.org/2026/schedule/ see fosdem.org (1/2)";
        let stored = "@alice Talks &amp; workshops &lt;today&gt; at https://t.co/AbCdEf see https://t.co/x1 (1/2) https://t.co/media9";
        assert!(same_text(stored, sent));
        assert!(!same_text(stored, "Talks & workshops <today> (2/2)"));
        assert!(!same_text("anything", ""), "an empty text matches nothing");
        assert!(same_text("cafe\u{301}", "café"));
    }

    #[test]
    fn timeline_queries_ask_for_what_matching_needs() {
        let bare = TimelineQuery {
            fields: Fields::Bare,
            ..TimelineQuery::default()
        };
        assert!(bare.pairs().is_empty());
        let full = TimelineQuery {
            since_id: Some("5".into()),
            max_results: Some(250),
            ..TimelineQuery::default()
        };
        let pairs = full.pairs();
        assert!(pairs.contains(&("max_results", "100".into())));
        assert!(pairs.contains(&("since_id", "5".into())));
        assert!(
            pairs
                .iter()
                .any(|(k, v)| *k == "tweet.fields" && v.contains("created_at"))
        );
    }

    #[test]
    fn debug_output_hides_tokens() {
        let client = XClient::new(
            Url::parse(API_BASE).expect("url"),
            Auth::Bearer("secret-bearer".into()),
            reqwest::Client::new(),
        );
        assert!(!format!("{client:?}").contains("secret-bearer"));
    }
}
