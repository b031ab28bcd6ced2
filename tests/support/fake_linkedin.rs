//! An in-process fake LinkedIn REST API for an organisation page: the organisation, the Images API
//! (initializeUpload, the upload URL, the image's status) and the Posts API (201 with `x-restli-id`).
//! Every request's headers are recorded; a status can be set for the next post (426, 429, 401…).

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde_json::{Value, json};

/// The credentials `/provider add linkedin` is given: the access token and the organisation id.
pub const CREDENTIALS: &str = "li-access-token 2414183";
pub const ORGANIZATION: &str = "urn:li:organization:2414183";

#[derive(Debug, Default)]
struct Inner {
    url: String,
    /// Posts made: the JSON sent, with the URN given.
    posts: Vec<Value>,
    /// The headers of each post request: (Authorization, Linkedin-Version, X-Restli-Protocol-Version).
    post_headers: Vec<(String, String, String)>,
    /// Images registered: (URN, owner, bytes uploaded).
    images: Vec<(String, String, usize)>,
    /// The next post is answered with this status and body, and not made.
    fail_next: Option<(u16, Value)>,
    /// The next post is made, but its answer is lost (502).
    lose_next: bool,
    /// Reading the page's posts answers 503.
    posts_down: bool,
    post_reads: usize,
}

#[derive(Debug, Clone)]
pub struct FakeLinkedIn {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = State<Arc<Mutex<Inner>>>;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The token and the protocol headers every REST call needs.
fn refused(headers: &HeaderMap) -> Option<Response> {
    if header(headers, "authorization") != "Bearer li-access-token" {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                             "message": "Invalid access token" })),
            )
                .into_response(),
        );
    }
    if header(headers, "linkedin-version").len() != 6
        || header(headers, "x-restli-protocol-version") != "2.0.0"
    {
        return Some(
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "status": 400, "message": "missing versioned headers" })),
            )
                .into_response(),
        );
    }
    None
}

/// The OAuth app the fake knows, and the code its authorisation hands out.
pub const CLIENT_ID: &str = "li-client";
pub const CLIENT_SECRET: &str = "li-client-secret";
pub const CODE: &str = "AQT-authorisation-code";

/// `POST /oauth/v2/accessToken`: the code (or the refresh token) traded for the member's tokens (60 days;
/// refresh token a year).
async fn access_token(body: String) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let granted = match field("grant_type") {
        "authorization_code" => {
            field("code") == CODE && field("redirect_uri").ends_with("/connect/linkedin/callback")
        }
        // A refresh keeps the refresh token's first end: the answer says what is left of it.
        "refresh_token" => field("refresh_token") == "li-refresh-token",
        _ => false,
    };
    if !granted || field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant", "error_description": "The authorization code is invalid" })),
        )
            .into_response();
    }
    Json(
        json!({ "access_token": "li-access-token", "expires_in": 5_184_000,
                 "refresh_token": "li-refresh-token", "refresh_token_expires_in": 31_536_000,
                 "scope": "r_organization_social,rw_organization_admin,w_organization_social" }),
    )
    .into_response()
}

/// `GET /rest/organizationAcls?q=roleAssignee`: the member administers two pages.
async fn acls(headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    Json(json!({ "elements": [
        { "organization": ORGANIZATION, "role": "ADMINISTRATOR", "state": "APPROVED",
          "roleAssignee": "urn:li:person:abc" },
        { "organization": "urn:li:organization:1000001", "role": "ADMINISTRATOR", "state": "APPROVED",
          "roleAssignee": "urn:li:person:abc" },
    ], "paging": { "count": 100, "start": 0 } }))
    .into_response()
}

async fn organization(Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    if id == "1000001" {
        return Json(json!({ "id": 1_000_001, "localizedName": "FOSDEM Devrooms" }))
            .into_response();
    }
    if format!("urn:li:organization:{id}") != ORGANIZATION {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "status": 403, "message": "Not enough permissions" })),
        )
            .into_response();
    }
    Json(json!({ "id": 2414183, "localizedName": "FOSDEM", "vanityName": "fosdem" }))
        .into_response()
}

async fn initialize(State(inner): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let mut inner = inner.lock().unwrap();
    let n = inner.images.len() + 1;
    let urn = format!("urn:li:image:C4E10AQ{n}");
    let owner = body["initializeUploadRequest"]["owner"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    inner.images.push((urn.clone(), owner, 0));
    Json(json!({ "value": {
        "uploadUrlExpiresAt": 1_650_567_510_704_u64,
        "uploadUrl": format!("{}upload/{n}?signature=secret", inner.url),
        "image": urn,
    } }))
    .into_response()
}

async fn upload(State(inner): Shared, Path(n): Path<usize>, body: axum::body::Bytes) -> Response {
    let mut inner = inner.lock().unwrap();
    match inner.images.get_mut(n - 1) {
        Some(image) => {
            image.2 = body.len();
            StatusCode::CREATED.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn image(State(inner): Shared, Path(urn): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let inner = inner.lock().unwrap();
    match inner.images.iter().find(|(u, _, _)| *u == urn) {
        Some((_, _, bytes)) if *bytes > 0 => {
            Json(json!({ "id": urn, "status": "AVAILABLE" })).into_response()
        }
        Some(_) => Json(json!({ "id": urn, "status": "WAITING_UPLOAD" })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn create(State(inner): Shared, headers: HeaderMap, Json(mut body): Json<Value>) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let mut inner = inner.lock().unwrap();
    inner.post_headers.push((
        header(&headers, "authorization"),
        header(&headers, "linkedin-version"),
        header(&headers, "x-restli-protocol-version"),
    ));
    if let Some((status, answer)) = inner.fail_next.take() {
        return (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response();
    }
    let urn = format!("urn:li:share:69000000000000{:02}", inner.posts.len() + 1);
    body["urn"] = json!(urn);
    body["createdAt"] = json!(chrono::Utc::now().timestamp_millis());
    inner.posts.push(body);
    if std::mem::take(&mut inner.lose_next) {
        return (StatusCode::BAD_GATEWAY, "upstream connect error").into_response();
    }
    (StatusCode::CREATED, [("x-restli-id", urn)]).into_response()
}

/// `GET /rest/posts?q=author&author=…` (finder): the page's posts, newest first.
async fn find_posts(
    State(inner): Shared,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let mut inner = inner.lock().unwrap();
    inner.post_reads += 1;
    if inner.posts_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if query.get("q").map(String::as_str) != Some("author")
        || header(&headers, "x-restli-method") != "FINDER"
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "status": 400, "message": "bad finder" })),
        )
            .into_response();
    }
    let author = query.get("author").cloned().unwrap_or_default();
    let elements: Vec<Value> = inner
        .posts
        .iter()
        .rev()
        .filter(|p| p["author"] == author.as_str())
        .map(|p| {
            json!({ "id": p["urn"], "author": p["author"], "commentary": p["commentary"],
                         "createdAt": p["createdAt"], "lifecycleState": "PUBLISHED" })
        })
        .collect();
    Json(json!({ "elements": elements, "paging": { "count": 20, "start": 0 } })).into_response()
}

impl FakeLinkedIn {
    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let app = Router::new()
            .route("/rest/organizations/{id}", get(organization))
            .route("/rest/organizationAcls", get(acls))
            .route("/oauth/v2/accessToken", post(access_token))
            .route("/rest/images", post(initialize))
            .route("/rest/images/{urn}", get(image))
            .route("/upload/{n}", put(upload))
            .route("/rest/posts", post(create).get(find_posts))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        inner.lock().unwrap().url = url.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// Posts made: the JSON sent, with `urn`.
    pub fn posts(&self) -> Vec<Value> {
        self.inner.lock().unwrap().posts.clone()
    }

    /// Each post request's (Authorization, Linkedin-Version, X-Restli-Protocol-Version).
    pub fn post_headers(&self) -> Vec<(String, String, String)> {
        self.inner.lock().unwrap().post_headers.clone()
    }

    /// Images registered: (URN, owner, bytes uploaded).
    pub fn images(&self) -> Vec<(String, String, usize)> {
        self.inner.lock().unwrap().images.clone()
    }

    /// The next post is answered `status` with `body`, and nothing is made.
    /// The next post is made but its answer is lost.
    pub fn lose_next(&self) {
        self.inner.lock().unwrap().lose_next = true;
    }

    /// The page's posts cannot be read (503), or can again.
    pub fn posts_down(&self, down: bool) {
        self.inner.lock().unwrap().posts_down = down;
    }

    pub fn post_reads(&self) -> usize {
        self.inner.lock().unwrap().post_reads
    }

    pub fn fail_next(&self, status: u16, body: Value) {
        self.inner.lock().unwrap().fail_next = Some((status, body));
    }
}
