//! An in-process fake Mastodon instance: verify_credentials, instance, statuses (honouring
//! Idempotency-Key like Mastodon), with a fault for the next status.

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
    /// Uploaded media: the description (alt text) and the size of each file.
    media: Vec<(String, usize)>,
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

impl FakeMastodon {
    pub const TOKEN: &'static str = TOKEN;

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
}
