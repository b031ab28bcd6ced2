//! The LinkedIn driver against an in-process fake of the versioned Posts and Images APIs (no peer exists
//! for LinkedIn). The fake refuses any request without the bearer token, the version header or the Rest.li
//! protocol header, and serves the answers LinkedIn documents: 201 with `x-restli-id`, 426 for a sunset
//! version, 429 without headers, 401 with a `serviceErrorCode`, an image `PROCESSING` once then `AVAILABLE`.

#![allow(clippy::unwrap_used)]

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use chrono::{Timelike, Utc};
use herald_bots::{
    Disposition,
    linkedin::{Image, LinkedInClient, LinkedInError, NewPost, TokenProblem, Version},
};
use serde_json::{Value, json};

const TOKEN: &str = "AQX-linkedin-token";
const ORG: &str = "urn:li:organization:2414183";
/// The version the fake treats as sunset.
const SUNSET: &str = "202301";

#[derive(Default)]
struct Fake {
    base: String,
    posts: Vec<Value>,
    /// Statuses to answer the next posts with instead of creating them.
    refuse: VecDeque<u16>,
    uploaded: Vec<(String, Vec<u8>)>,
    image_polls: usize,
}

type Shared = Arc<Mutex<Fake>>;

/// The headers every call must carry; the refusal when one is wrong.
fn refusal(headers: &HeaderMap) -> Option<Response> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    if header("authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return Some((StatusCode::UNAUTHORIZED, "no bearer").into_response());
    }
    if header("x-restli-protocol-version").as_deref() != Some("2.0.0") {
        return Some(
            (StatusCode::BAD_REQUEST, "X-Restli-Protocol-Version missing").into_response(),
        );
    }
    match header("linkedin-version") {
        Some(v) if v == SUNSET => Some((
            StatusCode::UPGRADE_REQUIRED,
            Json(json!({ "status": 426, "code": "NONEXISTENT_VERSION", "message": format!("Requested version {v}01 is not active") })),
        )
            .into_response()),
        Some(v) if v.len() == 6 => None,
        _ => Some((StatusCode::BAD_REQUEST, "Linkedin-Version missing").into_response()),
    }
}

async fn posts(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let mut fake = fake.lock().unwrap();
    match fake.refuse.pop_front() {
        Some(429) => StatusCode::TOO_MANY_REQUESTS.into_response(),
        Some(401) => (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({ "status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                "message": "The token used in the request has been revoked by the user" }),
            ),
        )
            .into_response(),
        Some(other) => StatusCode::from_u16(other).unwrap().into_response(),
        None => {
            fake.posts.push(body);
            let urn = format!("urn:li:share:{}", 7000 + fake.posts.len());
            (StatusCode::CREATED, [("x-restli-id", urn)]).into_response()
        }
    }
}

async fn initialize(
    State(fake): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    assert_eq!(query.as_deref(), Some("action=initializeUpload"));
    assert_eq!(body["initializeUploadRequest"]["owner"], ORG);
    let base = fake.lock().unwrap().base.clone();
    Json(json!({ "value": {
        "uploadUrlExpiresAt": 1_650_567_510_704_u64,
        "uploadUrl": format!("{base}upload/C5622AQ?signature=s3cr3t"),
        "image": "urn:li:image:C5622AQ",
    } }))
    .into_response()
}

async fn upload(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    fake.lock().unwrap().uploaded.push((id, body.to_vec()));
    StatusCode::CREATED.into_response()
}

async fn image(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Path(urn): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    assert_eq!(urn, "urn:li:image:C5622AQ");
    let mut fake = fake.lock().unwrap();
    fake.image_polls += 1;
    let status = if fake.image_polls == 1 {
        "PROCESSING"
    } else {
        "AVAILABLE"
    };
    Json(json!({ "owner": ORG, "id": urn, "status": status })).into_response()
}

async fn start(version: &str) -> (LinkedInClient, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/rest/posts", post(posts))
        .route("/rest/images", post(initialize))
        .route("/rest/images/{urn}", get(image))
        .route("/upload/{id}", put(upload))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    fake.lock().unwrap().base = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = LinkedInClient::new(
        base.parse().unwrap(),
        TOKEN,
        Version::parse(version).unwrap(),
        reqwest::Client::new(),
    )
    .with_poll_interval(Duration::from_millis(10));
    (client, fake)
}

#[tokio::test]
async fn a_post_with_its_picture_reaches_the_page_escaped_and_named_by_its_urn() {
    let (client, fake) = start("202601").await;
    let picture = Image {
        bytes: b"\xff\xd8\xff jpeg".to_vec(),
        mime: "image/jpeg".into(),
        alt: "Speakers on stage".into(),
    };
    let image = client.upload_image(ORG, &picture).await.unwrap();
    assert_eq!(image, "urn:li:image:C5622AQ");
    let urn = client
        .create_post(&NewPost {
            author: ORG.into(),
            text: "Keynote (room A) at 10:00 #fosdem @herald".into(),
            image: Some((image, picture.alt.clone())),
        })
        .await
        .unwrap();
    assert_eq!(urn, "urn:li:share:7001");

    let fake = fake.lock().unwrap();
    assert_eq!(
        fake.uploaded,
        [("C5622AQ".to_owned(), picture.bytes.clone())]
    );
    assert_eq!(fake.image_polls, 2, "PROCESSING once, then AVAILABLE");
    let post = &fake.posts[0];
    assert_eq!(post["author"], ORG);
    assert_eq!(
        post["commentary"],
        "Keynote \\(room A\\) at 10:00 \\#fosdem \\@herald"
    );
    assert_eq!(
        post["content"]["media"],
        json!({ "id": "urn:li:image:C5622AQ", "altText": "Speakers on stage" })
    );
    assert_eq!(post["lifecycleState"], "PUBLISHED");
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_sunset_version_says_which_header_to_change() {
    let (client, fake) = start(SUNSET).await;
    let err = client
        .create_post(&NewPost {
            author: ORG.into(),
            text: "hello".into(),
            image: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        LinkedInError::VersionSunset {
            version: SUNSET.into()
        }
    );
    assert_eq!(err.disposition(), Disposition::Permanent);
    let message = err.to_string();
    assert!(
        message.contains("202301") && message.contains("Linkedin-Version"),
        "{message}"
    );
    assert!(fake.lock().unwrap().posts.is_empty());
}

#[tokio::test]
async fn a_spent_daily_quota_waits_for_midnight_and_a_revoked_token_is_its_own_kind() {
    let (client, fake) = start("202601").await;
    fake.lock().unwrap().refuse.extend([429, 401]);
    let post = NewPost {
        author: ORG.into(),
        text: "hello".into(),
        image: None,
    };
    match client.create_post(&post).await.unwrap_err() {
        LinkedInError::RateLimited { until, wait } => {
            assert_eq!((until.hour(), until.minute(), until.second()), (0, 0, 0));
            assert!(
                until > Utc::now() && wait <= Duration::from_secs(24 * 3600),
                "{until} {wait:?}"
            );
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    let revoked = client.create_post(&post).await.unwrap_err();
    assert!(
        matches!(
            revoked,
            LinkedInError::TokenRefused {
                problem: TokenProblem::Revoked,
                code: 65601,
                ..
            }
        ),
        "{revoked:?}"
    );
    assert_eq!(revoked.disposition(), Disposition::Permanent);
    // And then it goes through.
    assert_eq!(
        client.create_post(&post).await.unwrap(),
        "urn:li:share:7001"
    );
}
