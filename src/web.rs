//! The web server: `/healthz` now; platform webhooks, the notify hook and the pages join it later.
//!
//! Errors map to status codes here and only here.

use std::time::Duration;

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
};
use serde_json::json;
use subtle::ConstantTimeEq;
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};

use crate::{
    clock::SharedClock,
    db::{self, Db},
    health::{Health, State as ComponentState},
};

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub health: Health,
    /// Set in Telegram webhook mode: the secret Telegram must send in `X-Telegram-Bot-Api-Secret-Token`.
    pub telegram_secret: Option<Arc<str>>,
}

pub const TELEGRAM_WEBHOOK_PATH: &str = "/telegram/webhook";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(TELEGRAM_WEBHOOK_PATH, post(telegram_webhook))
        .route("/calendar/{token}", get(calendar_feed))
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The database, every worker and listener with its state and last error, and queue sizes.
/// 200 while the database answers (a failing listener is "degraded", not down); 503 when it does not.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(Duration::from_secs(5), state.db.ping()).await;
    let database = match ping {
        Ok(Ok(())) => json!({ "state": "ok", "backend": state.db.backend() }),
        Ok(Err(err)) => {
            json!({ "state": "failing", "backend": state.db.backend(), "last_error": format!("{err:#}") })
        }
        Err(_) => {
            json!({ "state": "failing", "backend": state.db.backend(), "last_error": "timed out after 5 s" })
        }
    };
    let db_ok = database["state"] == "ok";
    let components = state.health.snapshot();
    let degraded = components
        .values()
        .any(|c| c.state == ComponentState::Failing);
    let (outbox, inbox) = if db_ok {
        (
            db::outbox::counts(&state.db).await.ok(),
            db::inbox::counts(&state.db).await.ok(),
        )
    } else {
        (None, None)
    };
    let to_map = |counts: Option<Vec<(String, i64)>>| {
        counts.map(|c| c.into_iter().collect::<std::collections::BTreeMap<_, _>>())
    };
    let status = match (db_ok, degraded) {
        (false, _) => "down",
        (true, true) => "degraded",
        (true, false) => "ok",
    };
    let body = json!({
        "status": status,
        "time": state.clock.now(),
        "database": database,
        "components": components,
        "queues": { "outbox": to_map(outbox), "inbox": to_map(inbox) },
    });
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// Telegram's webhook: check the secret, store the update in the inbox, answer 200 only once it is stored.
/// A body that is not an update is stored too (it fails visibly in the inbox) and answered 400.
async fn telegram_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let Some(expected) = &state.telegram_secret else {
        return (StatusCode::NOT_FOUND, "Telegram webhook mode is off").into_response();
    };
    let presented = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(presented.ct_eq(expected.as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            "wrong or missing X-Telegram-Bot-Api-Secret-Token",
        )
            .into_response();
    }
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
    let (value, valid) = match parsed {
        Ok(v) if herald_bots::telegram::updates::update_id(&v).is_some() => (v, true),
        Ok(v) => (v, false),
        Err(_) => (
            serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()),
            false,
        ),
    };
    match crate::telegram::updates::store_updates(
        &state.db,
        &state.clock,
        std::slice::from_ref(&value),
    )
    .await
    {
        Ok(_) if valid => StatusCode::OK.into_response(),
        Ok(_) => (
            StatusCode::BAD_REQUEST,
            "not a Telegram update (no update_id); kept for inspection",
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = ?err, "could not store a Telegram update");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the update; retry",
            )
                .into_response()
        }
    }
}

/// A personal calendar feed: `/calendar/<token>.ics`.
async fn calendar_feed(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> axum::response::Response {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    match crate::schedule::feeds::render(&state.db, state.clock.now(), token).await {
        Ok(Some(body)) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            "unknown or replaced calendar link; ask the bot for /calendar",
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = ?err, "could not build a calendar feed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not build the calendar; try again later",
            )
                .into_response()
        }
    }
}
