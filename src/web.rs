//! The web server: `/healthz` now; platform webhooks, the notify hook and the pages join it later.
//!
//! Errors map to status codes here and only here.

use std::time::Duration;

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::json;
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
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
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
