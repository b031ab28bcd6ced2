//! An in-process fake X API v2 for posting: `users/me`, posts (`POST /2/tweets`) with replies and media,
//! the account's timeline (`GET /2/users/:id/tweets`, for looking up a post whose answer was lost),
//! reposts, the mentions timeline (`GET /2/users/:id/mentions`, newest first, `since_id`), and media upload
//! v2 (initialize, append, finalize, metadata for alt text), and direct messages (send, and the
//! conversation's events for looking one up). Faults: the answer
//! to a create lost after the post was made (503), a failing timeline, and a status for the next create.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use serde_json::{Value, json};

/// The account the fake's credentials belong to.
pub const USER_ID: &str = "1500000000000000042";

#[derive(Debug, Default)]
struct Inner {
    /// Posts made: the JSON sent, with `id` and `created_at` added.
    posts: Vec<Value>,
    next_id: u64,
    /// Uploaded media: (id, bytes appended).
    media: Vec<(String, usize)>,
    /// Alt texts set: (media id, text).
    alt_texts: Vec<(String, String)>,
    /// Lose the answer to this create (1 = the next one): the post is made, the answer is a 503.
    lose_create: Option<usize>,
    creates: usize,
    /// The next create is answered with this status and body, and not made.
    fail_next: Option<(u16, Value)>,
    /// Timeline reads answer 503.
    timeline_down: bool,
    timeline_reads: usize,
    reposts: Vec<String>,
    /// The `Authorization` headers seen.
    authorizations: Vec<String>,
    /// Posts mentioning the account, oldest first: (id, author id, username, name, text).
    mentions: Vec<(u64, String, String, String, String)>,
    mention_reads: usize,
    /// Direct messages sent: (event id, participant id, text, created_at).
    dms: Vec<(String, String, String, String)>,
    dm_sends: usize,
    /// Lose the answer to this DM send (1 = the next one): the message is sent, the answer is a 503.
    lose_dm: Option<usize>,
    /// Direct messages to the account: (event id, sender id, username, text).
    received: Vec<(String, String, String, String)>,
    dm_reads: usize,
    /// The app has no access to direct messages (403 on reading them).
    dms_forbidden: bool,
    /// Where the addresses of webhooks really are (a reverse proxy's view: the public host's paths
    /// served by Herald's local address).
    herald: Option<String>,
    /// The app's webhooks: (id, url, valid).
    webhooks: Vec<(String, String, bool)>,
    /// Webhook ids the account is subscribed to.
    subscriptions: Vec<String>,
    crc_checks: usize,
    /// OAuth 2.0: the access token and the (single-use) refresh token now valid, and how many renewals.
    bearer: Option<String>,
    refresh: Option<String>,
    renewals: usize,
    /// Refresh tokens already spent, presented again.
    reused: usize,
}

/// The app-only token the fake hands out for its consumer key and secret.
const APP_BEARER: &str = "AAAA-app-bearer";

fn app_authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {APP_BEARER}"))
}

/// `POST /oauth2/token`: the app's bearer token for HTTP Basic `x-consumer-key:x-consumer-secret`.
async fn app_token(headers: HeaderMap, body: String) -> Response {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode("x-consumer-key:x-consumer-secret");
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Basic {basic}")) || body != "grant_type=client_credentials" {
        return (StatusCode::FORBIDDEN, Json(json!({ "errors": [{ "code": 99, "message": "Unable to verify your credentials" }] })))
            .into_response();
    }
    Json(json!({ "token_type": "bearer", "access_token": APP_BEARER })).into_response()
}

/// X's CRC check of `url`: a `GET ?crc_token=` to it (at Herald's local address), whose answer must be
/// the HMAC-SHA256 of the token with the consumer secret.
async fn crc_check(inner: &Arc<Mutex<Inner>>, url: &str) -> bool {
    let herald = {
        let mut inner = inner.lock().unwrap();
        inner.crc_checks += 1;
        inner.herald.clone()
    };
    let (Some(herald), Ok(url)) = (herald, url::Url::parse(url)) else {
        return false;
    };
    let token = format!("crc-{}", url.path().len());
    let Ok(answer) = reqwest::get(format!("{herald}{}?crc_token={token}", url.path())).await else {
        return false;
    };
    let body: Value = answer.json().await.unwrap_or_default();
    body == herald_bots::x::webhook::crc_response("x-consumer-secret", &token)
}

fn webhook_json(hook: &(String, String, bool)) -> Value {
    json!({ "id": hook.0, "url": hook.1, "valid": hook.2, "created_at": "2026-12-01T10:00:00.000Z" })
}

/// `GET /2/webhooks`.
async fn list_webhooks(State(inner): Shared, headers: HeaderMap) -> Response {
    if !app_authorised(&headers) {
        return unauthorised();
    }
    let inner = inner.lock().unwrap();
    if inner.webhooks.is_empty() {
        return Json(json!({ "meta": { "result_count": 0 } })).into_response();
    }
    let data: Vec<Value> = inner.webhooks.iter().map(webhook_json).collect();
    Json(json!({ "data": data, "meta": { "result_count": data.len() } })).into_response()
}

/// `POST /2/webhooks`: registered once the CRC check passes (answered bare, as the API reference shows).
async fn create_webhook(
    State(inner): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !app_authorised(&headers) {
        return unauthorised();
    }
    let url = body["url"].as_str().unwrap_or_default().to_owned();
    if !crc_check(&inner, &url).await {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "errors": [{ "message": "CrcValidationFailed" }] })),
        )
            .into_response();
    }
    let mut inner = inner.lock().unwrap();
    let hook = (
        format!("14000000000000000{:02}", inner.webhooks.len() + 1),
        url,
        true,
    );
    inner.webhooks.push(hook.clone());
    Json(webhook_json(&hook)).into_response()
}

/// `PUT /2/webhooks/:id`: the CRC check again.
async fn validate_webhook(
    State(inner): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !app_authorised(&headers) {
        return unauthorised();
    }
    let url = inner
        .lock()
        .unwrap()
        .webhooks
        .iter()
        .find(|h| h.0 == id)
        .map(|h| h.1.clone());
    let Some(url) = url else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "errors": [{ "message": "not found" }] })),
        )
            .into_response();
    };
    let valid = crc_check(&inner, &url).await;
    for hook in inner
        .lock()
        .unwrap()
        .webhooks
        .iter_mut()
        .filter(|h| h.0 == id)
    {
        hook.2 = valid;
    }
    Json(json!({ "data": { "attempted": true } })).into_response()
}

/// `DELETE /2/webhooks/:id`.
async fn delete_webhook(
    State(inner): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !app_authorised(&headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    inner.webhooks.retain(|h| h.0 != id);
    inner.subscriptions.retain(|s| *s != id);
    Json(json!({ "data": { "deleted": true } })).into_response()
}

/// `POST` (subscribe) and `GET` (is subscribed) `/2/account_activity/webhooks/:id/subscriptions/all`, as
/// the account.
async fn subscribe(State(inner): Shared, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    if !inner.webhooks.iter().any(|h| h.0 == id && h.2) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "errors": [{ "message": "the webhook is not valid" }] })),
        )
            .into_response();
    }
    if !inner.subscriptions.contains(&id) {
        inner.subscriptions.push(id);
    }
    Json(json!({ "data": { "subscribed": true } })).into_response()
}

async fn is_subscribed(
    State(inner): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let subscribed = inner.lock().unwrap().subscriptions.contains(&id);
    Json(json!({ "data": { "subscribed": subscribed } })).into_response()
}

/// `DELETE /2/account_activity/webhooks/:id/subscriptions/:user_id/all`, as the app.
async fn unsubscribe(
    State(inner): Shared,
    Path((id, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !app_authorised(&headers) || user != USER_ID {
        return unauthorised();
    }
    inner.lock().unwrap().subscriptions.retain(|s| *s != id);
    Json(json!({ "data": { "subscribed": false } })).into_response()
}

#[derive(Debug, Clone)]
pub struct FakeX {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = State<Arc<Mutex<Inner>>>;

/// The credentials `/provider add x` is given: consumer key and secret, access token and secret.
pub const CREDENTIALS: &str =
    "x-consumer-key x-consumer-secret 1500000000000000042-token x-token-secret";

fn authorised(inner: &Arc<Mutex<Inner>>, headers: &HeaderMap) -> bool {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bearer = inner.lock().unwrap().bearer.clone();
    if bearer.is_some_and(|b| value == format!("Bearer {b}")) {
        inner.lock().unwrap().authorizations.push(value);
        return true;
    }
    let ok = value.starts_with("OAuth ")
        && value.contains("oauth_consumer_key=\"x-consumer-key\"")
        && value.contains("oauth_token=\"1500000000000000042-token\"")
        && value.contains("oauth_signature=");
    inner.lock().unwrap().authorizations.push(value);
    ok
}

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized" })),
    )
        .into_response()
}

async fn me(State(inner): Shared, headers: HeaderMap) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    Json(json!({ "data": { "id": USER_ID, "name": "FOSDEM", "username": "fosdem" } }))
        .into_response()
}

async fn create(State(inner): Shared, headers: HeaderMap, Json(mut body): Json<Value>) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    inner.creates += 1;
    if let Some((status, answer)) = inner.fail_next.take() {
        return (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response();
    }
    inner.next_id += 1;
    let id = format!("18000000000000000{:02}", inner.next_id);
    body["id"] = json!(id);
    body["created_at"] =
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    inner.posts.push(body.clone());
    if inner.lose_create == Some(inner.creates) {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream connect error").into_response();
    }
    (
        StatusCode::CREATED,
        Json(json!({ "data": { "id": id, "text": body["text"] } })),
    )
        .into_response()
}

/// `GET /2/users/:id/mentions`: newest first, only those after `since_id`, with their authors.
async fn mentions(
    State(inner): Shared,
    Path(user): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    inner.mention_reads += 1;
    if user != USER_ID {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "title": "Not Found Error" })),
        )
            .into_response();
    }
    let since: u64 = query
        .get("since_id")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let found: Vec<_> = inner
        .mentions
        .iter()
        .rev()
        .filter(|(id, ..)| *id > since)
        .collect();
    let meta = match found.first() {
        Some((newest, ..)) => {
            json!({ "result_count": found.len(), "newest_id": newest.to_string() })
        }
        None => json!({ "result_count": 0 }),
    };
    let posts: Vec<Value> = found
        .iter()
        .map(|(id, author, _, _, text)| {
            json!({ "id": id.to_string(), "text": text, "author_id": author,
                    "created_at": "2027-02-06T09:30:00.000Z", "in_reply_to_user_id": null })
        })
        .collect();
    let users: Vec<Value> = found
        .iter()
        .map(|(_, author, username, name, _)| json!({ "id": author, "username": username, "name": name }))
        .collect();
    if posts.is_empty() {
        return Json(json!({ "meta": meta })).into_response();
    }
    Json(json!({ "data": posts, "includes": { "users": users }, "meta": meta })).into_response()
}

async fn timeline(
    State(inner): Shared,
    Path(user): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    inner.timeline_reads += 1;
    if inner.timeline_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    if user != USER_ID {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "title": "Not Found Error" })),
        )
            .into_response();
    }
    let since = query
        .get("start_time")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let posts: Vec<Value> = inner
        .posts
        .iter()
        .rev()
        .filter(|p| {
            let at =
                chrono::DateTime::parse_from_rfc3339(p["created_at"].as_str().unwrap()).unwrap();
            since.is_none_or(|since| at >= since)
        })
        .map(|p| {
            json!({ "id": p["id"], "text": p["text"], "created_at": p["created_at"],
                    "author_id": USER_ID, "conversation_id": p["id"] })
        })
        .collect();
    let meta = json!({ "result_count": posts.len() });
    if posts.is_empty() {
        return Json(json!({ "meta": meta })).into_response();
    }
    Json(json!({ "data": posts, "meta": meta })).into_response()
}

async fn repost(
    State(inner): Shared,
    Path(_user): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let id = body["tweet_id"].as_str().unwrap_or_default().to_owned();
    inner.lock().unwrap().reposts.push(id);
    Json(json!({ "data": { "retweeted": true } })).into_response()
}

async fn initialize(State(inner): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    assert_eq!(body["media_category"], "tweet_image", "{body}");
    let mut inner = inner.lock().unwrap();
    let id = format!("7100000000000000{:02}", inner.media.len() + 1);
    inner.media.push((id.clone(), 0));
    Json(json!({ "data": { "id": id, "media_key": format!("3_{id}") } })).into_response()
}

async fn append(
    State(inner): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    let Some(media) = inner.media.iter_mut().find(|(m, _)| *m == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    media.1 += body.len();
    StatusCode::OK.into_response()
}

async fn finalize(State(inner): Shared, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    Json(json!({ "data": { "id": id, "size": 1 } })).into_response()
}

async fn metadata(State(inner): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let alt = body["metadata"]["alt_text"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    inner.lock().unwrap().alt_texts.push((id, alt));
    Json(json!({ "data": { "associated_metadata": true } })).into_response()
}

/// `POST /2/dm_conversations/with/:id/messages`: a direct message to `id`.
async fn send_dm(
    State(inner): Shared,
    Path(participant): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    inner.dm_sends += 1;
    inner.next_id += 1;
    let id = format!("17000000000000000{:02}", inner.next_id);
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    inner.dms.push((id.clone(), participant.clone(), text, at));
    if inner.lose_dm == Some(inner.dm_sends) {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream connect error").into_response();
    }
    (
        StatusCode::CREATED,
        Json(json!({ "data": { "dm_conversation_id": format!("{USER_ID}-{participant}"), "dm_event_id": id } })),
    )
        .into_response()
}

/// `GET /2/dm_conversations/with/:id/dm_events`: the conversation, newest first.
async fn dm_events(
    State(inner): Shared,
    Path(participant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let inner = inner.lock().unwrap();
    let events: Vec<Value> = inner
        .dms
        .iter()
        .rev()
        .filter(|(_, to, _, _)| *to == participant)
        .map(|(id, _, text, at)| {
            json!({ "id": id, "event_type": "MessageCreate", "text": text, "created_at": at,
                    "sender_id": USER_ID })
        })
        .collect();
    Json(json!({ "data": events, "meta": { "result_count": events.len() } })).into_response()
}

/// `GET /2/dm_events`: every message of the account, sent and received, newest first (by id), with the
/// senders.
async fn all_dm_events(State(inner): Shared, headers: HeaderMap) -> Response {
    if !authorised(&inner, &headers) {
        return unauthorised();
    }
    let mut inner = inner.lock().unwrap();
    inner.dm_reads += 1;
    if inner.dms_forbidden {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "title": "Forbidden", "status": 403,
                         "detail": "This application is not allowed to access or delete your direct messages." })),
        )
            .into_response();
    }
    let mut events: Vec<(String, Value)> = inner
        .dms
        .iter()
        .map(|(id, _, text, at)| {
            (
                id.clone(),
                json!({ "id": id, "event_type": "MessageCreate", "text": text,
                                 "created_at": at, "sender_id": USER_ID }),
            )
        })
        .chain(inner.received.iter().map(|(id, from, _, text)| {
            (
                id.clone(),
                json!({ "id": id, "event_type": "MessageCreate", "text": text, "sender_id": from }),
            )
        }))
        .collect();
    events.sort_by(|a, b| (b.0.len(), &b.0).cmp(&(a.0.len(), &a.0)));
    let users: Vec<Value> = inner
        .received
        .iter()
        .map(|(_, from, username, _)| json!({ "id": from, "username": username, "name": username.to_uppercase() }))
        .collect();
    let data: Vec<Value> = events.into_iter().map(|(_, e)| e).collect();
    Json(json!({ "data": data, "includes": { "users": users }, "meta": { "result_count": data.len() } }))
        .into_response()
}

/// The request token the fake hands out, and the PIN (verifier) its authorisation shows.
pub const REQUEST_TOKEN: &str = "req-token-1";
pub const PIN: &str = "4711093";

/// `POST /oauth/request_token`: signed with the app alone, naming where to send the browser back.
async fn request_token(headers: HeaderMap) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !auth.contains("oauth_consumer_key=\"x-consumer-key\"")
        || !auth.contains("oauth_callback=")
        || auth.contains("oauth_token=")
    {
        return (StatusCode::UNAUTHORIZED, "Could not authenticate you.").into_response();
    }
    format!(
        "oauth_token={REQUEST_TOKEN}&oauth_token_secret=req-secret&oauth_callback_confirmed=true"
    )
    .into_response()
}

/// `POST /oauth/access_token`: the request token and the verifier traded for the account's token.
async fn access_token(headers: HeaderMap) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !auth.contains(&format!("oauth_token=\"{REQUEST_TOKEN}\""))
        || !auth.contains(&format!("oauth_verifier=\"{PIN}\""))
    {
        return (StatusCode::UNAUTHORIZED, "Invalid request token.").into_response();
    }
    format!("oauth_token=1500000000000000042-token&oauth_token_secret=x-token-secret&user_id={USER_ID}&screen_name=fosdem")
        .into_response()
}

/// The OAuth 2.0 app the fake knows (a confidential client) and the code its authorisation hands out.
pub const CLIENT_ID: &str = "x-oauth2-client";
pub const CLIENT_SECRET: &str = "x-oauth2-secret";
pub const CODE: &str = "x-authorisation-code";

/// `POST /2/oauth2/token`: the code (with its PKCE verifier) or the current refresh token traded for a new
/// pair; a refresh token works once.
async fn oauth2_token(State(inner): Shared, headers: HeaderMap, body: String) -> Response {
    use base64::Engine;
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let refused = |what: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_request", "error_description": what })),
        )
            .into_response()
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Basic {basic}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "unauthorized_client" })),
        )
            .into_response();
    }
    let mut inner = inner.lock().unwrap();
    match field("grant_type") {
        "authorization_code" if field("code") == CODE && field("code_verifier").len() >= 43 => {}
        "refresh_token" if inner.refresh.as_deref() == Some(field("refresh_token")) => {
            inner.renewals += 1;
        }
        "refresh_token" => {
            inner.reused += 1;
            return refused("Value passed for the token was invalid.");
        }
        _ => return refused("Value passed for the authorization code was invalid."),
    }
    let n = inner.renewals;
    inner.bearer = Some(format!("x-bearer-{n}"));
    inner.refresh = Some(format!("x-refresh-{n}"));
    Json(json!({ "token_type": "bearer", "expires_in": 7200, "access_token": format!("x-bearer-{n}"),
                 "refresh_token": format!("x-refresh-{n}"),
                 "scope": "tweet.read tweet.write users.read dm.read dm.write media.write offline.access" }))
    .into_response()
}

impl FakeX {
    /// How often an OAuth 2.0 token was renewed, and how often a spent refresh token came back.
    pub fn renewals(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap();
        (inner.renewals, inner.reused)
    }

    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let app = Router::new()
            .route("/2/users/me", get(me))
            .route("/2/tweets", post(create))
            .route("/2/users/{id}/tweets", get(timeline))
            .route("/2/users/{id}/mentions", get(mentions))
            .route("/2/users/{id}/retweets", post(repost))
            .route("/2/media/upload/initialize", post(initialize))
            .route("/2/media/upload/{id}/append", post(append))
            .route("/2/media/upload/{id}/finalize", post(finalize))
            .route("/2/media/metadata", post(metadata))
            .route("/2/dm_conversations/with/{id}/messages", post(send_dm))
            .route("/2/dm_conversations/with/{id}/dm_events", get(dm_events))
            .route("/2/dm_events", get(all_dm_events))
            .route("/oauth2/token", post(app_token))
            .route("/2/oauth2/token", post(oauth2_token))
            .route("/oauth/request_token", post(request_token))
            .route("/oauth/access_token", post(access_token))
            .route("/2/webhooks", get(list_webhooks).post(create_webhook))
            .route(
                "/2/webhooks/{id}",
                put(validate_webhook).delete(delete_webhook),
            )
            .route(
                "/2/account_activity/webhooks/{id}/subscriptions/all",
                post(subscribe).get(is_subscribed),
            )
            .route(
                "/2/account_activity/webhooks/{id}/subscriptions/{user}/all",
                delete(unsubscribe),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// Posts made so far: the JSON sent (`text`, `reply`, `media`) with `id` and `created_at`.
    /// Someone mentions the account: post `id` by `username`.
    pub fn mention(&self, id: u64, username: &str, text: &str) {
        self.inner.lock().unwrap().mentions.push((
            id,
            format!("{}", 9_000 + id),
            username.to_owned(),
            username.to_uppercase(),
            text.to_owned(),
        ));
    }

    /// How often the mentions timeline was read.
    pub fn mention_reads(&self) -> usize {
        self.inner.lock().unwrap().mention_reads
    }

    pub fn posts(&self) -> Vec<Value> {
        self.inner.lock().unwrap().posts.clone()
    }

    /// Media uploaded: (id, bytes received in appends, multipart framing included).
    pub fn media(&self) -> Vec<(String, usize)> {
        self.inner.lock().unwrap().media.clone()
    }

    /// Alt texts set: (media id, text).
    pub fn alt_texts(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().alt_texts.clone()
    }

    /// The `n`-th create from now on (1: the next) is made, but its answer is lost (503).
    pub fn lose_create(&self, n: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.lose_create = Some(inner.creates + n);
    }

    /// The next create is answered `status` with `body`, and nothing is made.
    pub fn fail_next(&self, status: u16, body: Value) {
        self.inner.lock().unwrap().fail_next = Some((status, body));
    }

    /// The account's timeline cannot be read (503) or can again.
    pub fn timeline_down(&self, down: bool) {
        self.inner.lock().unwrap().timeline_down = down;
    }

    pub fn timeline_reads(&self) -> usize {
        self.inner.lock().unwrap().timeline_reads
    }

    /// Direct messages sent: (participant id, text).
    pub fn dms(&self) -> Vec<(String, String)> {
        let inner = self.inner.lock().unwrap();
        inner
            .dms
            .iter()
            .map(|(_, to, text, _)| (to.clone(), text.clone()))
            .collect()
    }

    /// Webhook addresses are served by Herald at `base` (its local address), whatever their host.
    pub fn route_to(&self, base: &str) {
        self.inner.lock().unwrap().herald = Some(base.trim_end_matches('/').to_owned());
    }

    /// The app's webhooks: (url, valid).
    pub fn webhooks(&self) -> Vec<(String, bool)> {
        let inner = self.inner.lock().unwrap();
        inner.webhooks.iter().map(|h| (h.1.clone(), h.2)).collect()
    }

    /// Whether the account is subscribed to some webhook.
    pub fn subscribed(&self) -> bool {
        !self.inner.lock().unwrap().subscriptions.is_empty()
    }

    /// X's hourly CRC check ran while Herald was down (a deploy): the webhook is marked invalid.
    pub fn missed_crc(&self) {
        for hook in &mut self.inner.lock().unwrap().webhooks {
            hook.2 = false;
        }
    }

    pub fn crc_checks(&self) -> usize {
        self.inner.lock().unwrap().crc_checks
    }

    /// `username` (user id `9000 + id`) sends the account direct message `id`.
    pub fn receive_dm(&self, id: u64, username: &str, text: &str) {
        self.inner.lock().unwrap().received.push((
            format!("{}", 16_000_000_000_000_000_000u64 + id),
            format!("{}", 9_000 + id),
            username.to_owned(),
            text.to_owned(),
        ));
    }

    /// The app may not read direct messages (403), or may again.
    pub fn forbid_dms(&self, forbidden: bool) {
        self.inner.lock().unwrap().dms_forbidden = forbidden;
    }

    /// How often the account's direct messages were read.
    pub fn dm_reads(&self) -> usize {
        self.inner.lock().unwrap().dm_reads
    }

    /// The `n`-th direct message from now on (1: the next) is sent, but its answer is lost (503).
    pub fn lose_dm(&self, n: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.lose_dm = Some(inner.dm_sends + n);
    }

    pub fn reposts(&self) -> Vec<String> {
        self.inner.lock().unwrap().reposts.clone()
    }
}
