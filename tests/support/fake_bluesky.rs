//! An in-process fake PDS: createSession, resolveHandle, createRecord (honouring record keys: a second
//! create under the same key is refused, as a PDS does) and getRecord; it can lose the answer to a
//! create that it stored; notifications listed newest first with a cursor, `updateSeen`, and a switch
//! that makes every notification list fail.

#![allow(dead_code, clippy::unwrap_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct Inner {
    records: Vec<Value>,
    /// Record keys already used, with the record's number.
    rkeys: HashMap<String, usize>,
    /// Store the next record but answer 502, as if the answer were lost.
    lose_next_answer: bool,
    /// Sizes of the blobs uploaded.
    blobs: Vec<usize>,
    /// Notifications, oldest first.
    notifications: Vec<Value>,
    seen_at: Option<String>,
    /// Answer listNotifications with a 500 while set.
    failing: bool,
    list_requests: usize,
}

type Shared = Arc<Mutex<Inner>>;

#[derive(Debug, Clone)]
pub struct FakeBluesky {
    pub url: String,
    inner: Shared,
}

fn jwt(exp: i64) -> String {
    let encode = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.c2ln",
        encode(r#"{"typ":"at+jwt","alg":"ES256K"}"#),
        encode(&json!({ "exp": exp }).to_string())
    )
}

fn reference(n: usize) -> Value {
    json!({ "uri": format!("at://did:plc:herald/app.bsky.feed.post/{n}"), "cid": format!("cid{n}") })
}

async fn session(Json(body): Json<Value>) -> Json<Value> {
    let exp = chrono::Utc::now().timestamp() + 7200;
    Json(
        json!({ "accessJwt": jwt(exp), "refreshJwt": jwt(exp + 86400), "did": "did:plc:herald", "handle": body["identifier"] }),
    )
}

async fn create(State(inner): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut inner = inner.lock().unwrap();
    let rkey = body["rkey"].as_str().map(str::to_owned);
    if rkey.as_ref().is_some_and(|k| inner.rkeys.contains_key(k)) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "InvalidRequest", "message": "Record already exists" })),
        )
            .into_response();
    }
    inner.records.push(body["record"].clone());
    let n = inner.records.len();
    if let Some(key) = rkey {
        inner.rkeys.insert(key, n);
    }
    if std::mem::take(&mut inner.lose_next_answer) {
        return (StatusCode::BAD_GATEWAY, "upstream timed out").into_response();
    }
    Json(reference(n)).into_response()
}

async fn get_record(
    State(inner): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    match query.get("rkey").and_then(|k| inner.rkeys.get(k)) {
        Some(n) => Json(reference(*n)).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "RecordNotFound", "message": "Could not locate record" })),
        )
            .into_response(),
    }
}

async fn upload_blob(
    State(inner): State<Shared>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mime = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut inner = inner.lock().unwrap();
    inner.blobs.push(body.len());
    let n = inner.blobs.len();
    Json(json!({ "blob": {
        "$type": "blob", "ref": { "$link": format!("bafkreiblob{n}") }, "mimeType": mime, "size": body.len()
    }}))
    .into_response()
}

async fn list_notifications(
    State(inner): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.list_requests += 1;
    if inner.failing {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "InternalServerError", "message": "down for maintenance" })),
        )
            .into_response();
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50);
    let skip: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = inner
        .notifications
        .iter()
        .rev()
        .skip(skip)
        .take(limit)
        .cloned()
        .collect();
    let cursor =
        (skip + page.len() < inner.notifications.len()).then(|| (skip + page.len()).to_string());
    Json(json!({ "notifications": page, "cursor": cursor, "seenAt": inner.seen_at }))
        .into_response()
}

async fn update_seen(State(inner): State<Shared>, Json(body): Json<Value>) -> Response {
    inner.lock().unwrap().seen_at = body["seenAt"].as_str().map(str::to_owned);
    Json(json!({})).into_response()
}

impl FakeBluesky {
    /// A notification from `handle` with `reason` (mention, reply, quote, like, …), indexed now; a reply
    /// is in the thread of `root` (a URI). Returns its URI.
    pub fn notify(&self, reason: &str, handle: &str, text: &str, root: Option<&str>) -> String {
        let mut inner = self.inner.lock().unwrap();
        let n = inner.notifications.len() + 1;
        let uri = format!("at://did:plc:{handle}/app.bsky.feed.post/n{n}");
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut record = json!({ "$type": "app.bsky.feed.post", "text": text, "createdAt": now });
        if let Some(root) = root {
            let strong = json!({ "uri": root, "cid": "rootcid" });
            record["reply"] = json!({ "root": strong, "parent": strong });
        }
        inner.notifications.push(json!({
            "uri": uri, "cid": format!("ncid{n}"), "reason": reason, "isRead": false, "indexedAt": now,
            "author": { "did": format!("did:plc:{handle}"), "handle": format!("{handle}.test"), "displayName": handle },
            "record": record,
        }));
        uri
    }

    /// Makes listing notifications fail (or work again).
    pub fn set_failing(&self, failing: bool) {
        self.inner.lock().unwrap().failing = failing;
    }

    pub fn list_requests(&self) -> usize {
        self.inner.lock().unwrap().list_requests
    }

    /// The last `updateSeen` time.
    pub fn seen_at(&self) -> Option<String> {
        self.inner.lock().unwrap().seen_at.clone()
    }

    pub async fn start() -> Self {
        let inner: Shared = Arc::default();
        let app = Router::new()
            .route("/xrpc/com.atproto.server.createSession", post(session))
            .route("/xrpc/com.atproto.repo.createRecord", post(create))
            .route("/xrpc/com.atproto.repo.getRecord", get(get_record))
            .route("/xrpc/com.atproto.repo.uploadBlob", post(upload_blob))
            .route(
                "/xrpc/app.bsky.notification.listNotifications",
                get(list_notifications),
            )
            .route("/xrpc/app.bsky.notification.updateSeen", post(update_seen))
            .route(
                "/xrpc/com.atproto.identity.resolveHandle",
                get(|| async { Json(json!({ "did": "did:plc:alice" })) }),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// The `app.bsky.feed.post` records created so far.
    pub fn records(&self) -> Vec<Value> {
        self.inner.lock().unwrap().records.clone()
    }

    /// Sizes of the blobs uploaded so far.
    pub fn blobs(&self) -> Vec<usize> {
        self.inner.lock().unwrap().blobs.clone()
    }

    /// The next record is stored but its answer is lost (a 502).
    pub fn lose_next_answer(&self) {
        self.inner.lock().unwrap().lose_next_answer = true;
    }
}
