//! An in-process fake Mastodon instance: verify_credentials, instance, statuses (honouring
//! Idempotency-Key like Mastodon), with a fault for the next status; media; reblogs; mention notifications
//! listed (`since_id` / `max_id`, `Link` pagination) and streamed (server-sent events), with streams that
//! can be cut.

#![allow(dead_code, clippy::unwrap_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
};
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct Inner {
    statuses: Vec<Value>,
    by_key: HashMap<String, String>,
    fail_next: Option<u16>,
    /// The token was revoked: statuses are refused with 401 until it is restored.
    revoked: bool,
    /// Uploaded media: the description (alt text) and the size of each file.
    media: Vec<(String, usize)>,
    /// Mention notifications, oldest first.
    notifications: Vec<Value>,
    next_id: u64,
    /// Open streams; dropping a sender ends its stream.
    streams: Vec<tokio::sync::mpsc::UnboundedSender<String>>,
    stream_connects: usize,
    reblogs: Vec<String>,
    notification_requests: usize,
}

#[derive(Debug, Clone)]
pub struct FakeMastodon {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

const TOKEN: &str = "mastodon-token";

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

async fn verify(headers: HeaderMap) -> impl IntoResponse {
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "The access token is invalid" })),
        )
            .into_response();
    }
    Json(json!({ "id": "1", "username": "fosdem", "acct": "fosdem" })).into_response()
}

async fn statuses(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> impl IntoResponse {
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "The access token is invalid" })),
        )
            .into_response();
    }
    let mut inner = inner.lock().unwrap();
    if inner.revoked {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "The access token was revoked" })),
        )
            .into_response();
    }
    if let Some(code) = inner.fail_next.take() {
        return (
            StatusCode::from_u16(code).unwrap(),
            Json(json!({ "error": "Service Unavailable" })),
        )
            .into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Some(id) = inner.by_key.get(&key) {
        return Json(json!({ "id": id, "url": format!("https://fake.social/@fosdem/{id}") }))
            .into_response();
    }
    let id = (inner.statuses.len() + 1000).to_string();
    inner.by_key.insert(key.clone(), id.clone());
    body["id"] = json!(id);
    body["idempotency_key"] = json!(key);
    inner.statuses.push(body);
    Json(json!({ "id": id, "url": format!("https://fake.social/@fosdem/{id}") })).into_response()
}

/// `POST /api/v2/media`: a multipart form with `file` and `description`.
async fn media(
    State(inner): State<Arc<Mutex<Inner>>>,
    mut form: axum::extract::Multipart,
) -> axum::response::Response {
    let mut description = String::new();
    let mut size = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("description") => description = field.text().await.unwrap_or_default(),
            Some("file") => size = field.bytes().await.ok().map(|b| b.len()),
            _ => {}
        }
    }
    let Some(size) = size else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "file is missing" })),
        )
            .into_response();
    };
    let mut inner = inner.lock().unwrap();
    inner.media.push((description, size));
    let id = format!("m{}", inner.media.len());
    Json(json!({ "id": id, "type": "image" })).into_response()
}

async fn notifications(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> axum::response::Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let number = |key: &str| query.get(key).and_then(|v| v.parse::<u64>().ok());
    let (since, max) = (
        number("since_id").unwrap_or(0),
        number("max_id").unwrap_or(u64::MAX),
    );
    let limit = number("limit").unwrap_or(20).min(40) as usize;
    let mut inner = inner.lock().unwrap();
    inner.notification_requests += 1;
    let page: Vec<Value> = inner
        .notifications
        .iter()
        .rev()
        .filter(|n| {
            let id: u64 = n["id"].as_str().unwrap().parse().unwrap();
            id > since && id < max
        })
        .take(limit)
        .cloned()
        .collect();
    let mut response = Json(page.clone()).into_response();
    if page.len() == limit
        && let Some(oldest) = page.last()
    {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let link = format!(
            "<http://{host}/api/v1/notifications?max_id={}&since_id={since}&limit={limit}>; rel=\"next\"",
            oldest["id"].as_str().unwrap()
        );
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    response
}

async fn stream(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
) -> axum::response::Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    {
        let mut inner = inner.lock().unwrap();
        inner.streams.push(tx.clone());
        inner.stream_connects += 1;
    }
    let _ = tx.send(":)\n\n".into());
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    (
        [("content-type", "text/event-stream")],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

async fn reblog(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::response::Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    inner.lock().unwrap().reblogs.push(id.clone());
    Json(json!({ "id": format!("r{id}"), "url": null, "reblog": { "id": id } })).into_response()
}

impl FakeMastodon {
    pub const TOKEN: &'static str = TOKEN;

    /// A mention of the account by `acct` (as real Mastodon writes it: an `h-card` span), stored in the
    /// notifications and, when `live`, sent to the open streams. Returns the notification (its status id
    /// is `s<id>`).
    pub fn mention(&self, acct: &str, text: &str, live: bool) -> Value {
        self.mention_as(acct, text, live, "public")
    }

    /// A mention with `visibility` (`direct` makes it a direct message).
    pub fn mention_as(&self, acct: &str, text: &str, live: bool, visibility: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        inner.next_id += 1;
        let id = inner.next_id + 100;
        let own = acct == "fosdem";
        let notification = json!({
            "id": id.to_string(), "type": "mention", "created_at": "2026-12-27T09:00:00.000Z",
            "account": { "id": if own { "1".to_owned() } else { format!("a{acct}") }, "username": acct, "acct": acct, "display_name": "" },
            "status": {
                "id": format!("s{id}"), "created_at": "2026-12-27T09:00:00.000Z", "in_reply_to_id": null,
                "visibility": visibility, "url": format!("https://fake.social/@{acct}/s{id}"),
                "content": format!("<p><span class=\"h-card\" translate=\"no\"><a href=\"https://fake.social/@fosdem\" class=\"u-url mention\">@<span>fosdem</span></a></span> {text}</p>"),
                "account": { "id": if own { "1".to_owned() } else { format!("a{acct}") }, "username": acct, "acct": acct, "display_name": if acct == "alice" { "Alice" } else { "" } },
            }
        });
        inner.notifications.push(notification.clone());
        if live {
            let event = format!("event: notification\ndata: {notification}\n\n");
            inner.streams.retain(|s| s.send(event.clone()).is_ok());
        }
        notification
    }

    /// Sends raw text as a notification event to the open streams.
    pub fn stream_raw(&self, data: &str) {
        let event = format!("event: notification\ndata: {data}\n\n");
        self.inner
            .lock()
            .unwrap()
            .streams
            .retain(|s| s.send(event.clone()).is_ok());
    }

    /// Ends every open stream, as a restarted server or a lost connection would.
    pub fn cut_streams(&self) {
        self.inner.lock().unwrap().streams.clear();
    }

    /// Streams opened so far.
    pub fn stream_connects(&self) -> usize {
        self.inner.lock().unwrap().stream_connects
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        let mut inner = self.inner.lock().unwrap();
        inner.streams.retain(|s| !s.is_closed());
        inner.streams.len()
    }

    /// Status ids boosted so far.
    pub fn reblogs(&self) -> Vec<String> {
        self.inner.lock().unwrap().reblogs.clone()
    }

    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let app = Router::new()
            .route("/api/v1/accounts/verify_credentials", get(verify))
            .route(
                "/api/v2/instance",
                get(|| async {
                    Json(json!({ "configuration": { "statuses": { "max_characters": 200 } } }))
                }),
            )
            .route("/api/v1/statuses", post(statuses))
            .route("/api/v1/statuses/{id}/reblog", post(reblog))
            .route("/api/v1/notifications", get(notifications))
            .route("/api/v1/streaming/user/notification", get(stream))
            .route("/api/v2/media", post(media))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// Statuses posted so far (the JSON sent, with its id and Idempotency-Key).
    pub fn statuses(&self) -> Vec<Value> {
        self.inner.lock().unwrap().statuses.clone()
    }

    /// Media uploaded so far: (description, bytes).
    pub fn media(&self) -> Vec<(String, usize)> {
        self.inner.lock().unwrap().media.clone()
    }

    pub fn fail_next(&self, code: u16) {
        self.inner.lock().unwrap().fail_next = Some(code);
    }

    /// Revokes the account's token (statuses answer 401) or restores it.
    pub fn revoke(&self, revoked: bool) {
        self.inner.lock().unwrap().revoked = revoked;
    }
}
