//! `/metrics`: the process's counters and histograms, the components' states, and the queues as the
//! database holds them now; and the layer that counts webhook requests by their answer.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};

use super::AppState;
use crate::{db, metrics::Queues};

/// The queues as the database holds them at `now`, through bounded queries.
async fn queues(db: &db::Db, now: DateTime<Utc>) -> anyhow::Result<Queues> {
    let waited = |earliest: Option<DateTime<Utc>>| {
        earliest
            .filter(|e| *e <= now)
            .map_or(0.0, |e| (now - e).as_seconds_f64())
    };
    let outbox = db::outbox::due_by_lane(db, now)
        .await?
        .into_iter()
        .map(|(lane, due, earliest)| (lane.as_str(), due, waited(earliest)))
        .collect();
    let (inbox_due, inbox_earliest) = db::inbox::due(db, now).await?;
    Ok(Queues {
        outbox,
        inbox_due,
        inbox_lag_seconds: waited(inbox_earliest),
    })
}

/// The metrics in Prometheus' text format. With `metrics_token` configured, only for a request bearing
/// it (`Authorization: Bearer …`, compared in constant time).
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::token::ct_eq(given, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a metrics token is required",
            )
                .into_response();
        }
    }
    let now = state.clock.now();
    // The queues are the cluster's, not this process's: one process reports them, the one holding the
    // lease (or this one when none does: a lone process).
    let ours = match db::leases::holder(&state.db, now, crate::singleton::QUEUE_GAUGES).await {
        Ok(holder) => holder.is_none_or(|h| *h == *state.process),
        Err(err) => {
            tracing::warn!(error = ?err, "could not tell who reports the queues");
            true
        }
    };
    let read = async {
        if ours {
            queues(&state.db, now).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let queues = match tokio::time::timeout(Duration::from_secs(5), read).await {
        Ok(Ok(queues)) => queues,
        Ok(Err(err)) => {
            tracing::warn!(error = ?err, "could not read the queues for /metrics");
            None
        }
        Err(_) => {
            tracing::warn!("reading the queues for /metrics took over 5 s");
            None
        }
    };
    match state.metrics.render(&state.health, queues.as_ref()) {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = ?err, "could not render /metrics");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not render the metrics",
            )
                .into_response()
        }
    }
}

/// Which webhook a request path belongs to, if any.
fn hook_of(path: &str) -> Option<&'static str> {
    if path == crate::telegram::webhook::PATH {
        Some("telegram")
    } else if path.starts_with("/hooks/notify/") {
        Some("notify")
    } else {
        None
    }
}

/// Counts each webhook request by the status it was answered with, whatever answered it (the handler,
/// the body limit, the timeout).
pub async fn count_webhooks(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let hook = hook_of(request.uri().path());
    let response = next.run(request).await;
    if let Some(hook) = hook {
        state
            .metrics
            .webhook_answered(hook, response.status().as_u16());
    }
    response
}
