//! The web server: `/healthz`, `/metrics`, the Telegram webhook, calendar feeds, the notify hook for other
//! systems, and the pages (sign-in, the config page, the moderation page for phones), server-rendered from
//! `templates/web/`.
//!
//! Errors map to status codes here and only here.

pub mod act;
pub mod auth;
pub mod chat;
pub mod config;
pub mod connect;
pub mod hook;
pub mod mail;
pub mod metrics;
pub mod mobile;
pub mod x;

use std::time::Duration;

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
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
    /// What `/metrics` serves.
    pub metrics: crate::metrics::Metrics,
    /// When set, `/metrics` answers only requests bearing it.
    pub metrics_token: Option<Arc<str>>,
    /// Set in Telegram webhook mode: the secret Telegram must send in `X-Telegram-Bot-Api-Secret-Token`.
    pub telegram_secret: Option<Arc<str>>,
    /// In Telegram webhook mode: the group-committing writer the webhook stores updates through.
    pub telegram_ingest: Option<crate::telegram::webhook::Ingest>,
    pub templates: Arc<crate::templates::Templates>,
    /// The chat core's handler tree: what the pages change goes through the same handlers as chat.
    pub schema: Arc<ChatCore>,
    /// Where Herald is reached from outside (links, and `Secure` cookies when https).
    pub public_url: Option<url::Url>,
    /// Where the web chat is: the public address, or the local one when none is set.
    pub web: url::Url,
    /// The chat core behind the web chat.
    pub web_chat: Arc<crate::chat::web::WebChat>,
    /// This process's name in the leases (see `crate::singleton`).
    pub process: Arc<str>,
    /// The apps "Connect X account" and "Connect LinkedIn page" sign in with, and the LinkedIn version.
    pub connect: Arc<crate::social::Settings>,
}

/// The chat core's handler tree (opaque to `Debug`).
pub struct ChatCore(pub dptree::Handler<'static, crate::chat::HandlerResult>);

impl std::fmt::Debug for ChatCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChatCore")
    }
}

tokio::task_local! {
    /// The language of the request being answered: the first of the browser's `Accept-Language` that
    /// Herald speaks.
    static LANGUAGE: Option<String>;
}

/// The language the page being answered is written in (`None`: English).
pub fn language() -> Option<String> {
    LANGUAGE.try_with(Clone::clone).ok().flatten()
}

/// The first language of an `Accept-Language` header (`de-AT,de;q=0.9,en;q=0.8`) that Herald speaks, by
/// the weights the browser gave.
fn accepted(header: &str, templates: &crate::templates::Templates) -> Option<String> {
    let mut tags: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut fields = part.split(';');
            let tag = fields.next()?.trim();
            let weight = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (weight > 0.0 && !tag.is_empty() && tag != "*").then_some((weight, i, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.iter()
        .find_map(|(_, _, tag)| templates.language(tag))
        .map(str::to_owned)
}

/// Answers every request in the language its browser asks for.
async fn in_language(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let language = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| accepted(v, &state.templates));
    LANGUAGE.scope(language, next.run(request)).await
}

/// Renders `templates/web/<name>.html` with `status`, in the request's language; a template error is a
/// 500 that names it in the log.
pub fn page(
    state: &AppState,
    status: StatusCode,
    name: &str,
    context: serde_json::Value,
) -> Response {
    let language = language();
    match state
        .templates
        .words(language.as_deref())
        .render(&format!("web/{name}.html"), &context)
    {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(err) => internal(state, &err),
    }
}

/// The conference a form's path names, read in its own short transaction.
pub async fn conference_named(
    state: &AppState,
    slug: &str,
) -> anyhow::Result<Option<crate::db::conferences::Conference>> {
    let mut tx = state.db.begin().await?;
    let conference = db::conferences::conference_by_slug(&mut tx, slug).await?;
    tx.commit().await?;
    Ok(conference)
}

/// Where a form sends the person back to once done (`Ok(Some)`), or why it could not: no such conference
/// (`Ok(None)`), or an error on our side.
pub fn after_form(state: &AppState, result: anyhow::Result<Option<()>>, to: &str) -> Response {
    match result {
        Ok(Some(())) => axum::response::Redirect::to(to).into_response(),
        Ok(None) => page(
            state,
            StatusCode::NOT_FOUND,
            "error",
            json!({ "reason": "no_conference" }),
        ),
        Err(err) => internal(state, &err),
    }
}

/// A page from its context, or the answer that replaced it (no conference to show).
pub fn render(
    state: &AppState,
    name: &str,
    context: anyhow::Result<Result<serde_json::Value, Response>>,
) -> Response {
    match context {
        Ok(Ok(context)) => page(state, StatusCode::OK, name, context),
        Ok(Err(response)) => response,
        Err(err) => internal(state, &err),
    }
}

/// Something broke on our side: logged with its cause, a plain page for the person.
pub fn internal(state: &AppState, err: &anyhow::Error) -> Response {
    tracing::error!(error = ?err, "a web request failed");
    let language = language();
    let html = state
        .templates
        .words(language.as_deref())
        .render("web/error.html", json!({ "reason": "internal" }))
        .unwrap_or_else(|_| "Something went wrong on Herald's side; try again.".into());
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// A form without this session's CSRF token: nothing changed.
pub fn csrf_refused(state: &AppState) -> Response {
    page(
        state,
        StatusCode::FORBIDDEN,
        "error",
        json!({ "reason": "csrf" }),
    )
}

/// The stylesheet and script every page shares (small, served once and cached).
async fn asset_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../templates/web/herald.css"),
    )
}

async fn asset_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../templates/web/herald.js"),
    )
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        .route(
            crate::telegram::webhook::PATH,
            post(crate::telegram::webhook::receive),
        )
        .route("/calendar/{token}", get(calendar_feed))
        .route("/hooks/notify/{conference}", post(hook::notify))
        .route(x::PATH, get(x::challenge).post(x::deliver))
        .route("/", get(config::home))
        .route("/herald.css", get(asset_css))
        .route("/herald.js", get(asset_js))
        .route("/login/{token}", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .merge(config::routes())
        .merge(connect::routes())
        .merge(chat::routes())
        .merge(mail::routes())
        .merge(mobile::routes())
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        // The post form takes pictures: its own, larger limit.
        .merge(mobile::upload_routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_webhooks,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            in_language,
        ))
        // Spans name the route, not the URI: sign-in links and calendar feeds carry their token in the path.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("(no route)", axum::extract::MatchedPath::as_str);
                tracing::debug_span!("request", method = %request.method(), route)
            }),
        )
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
            db::outbox::backlog(&state.db).await.ok(),
            db::inbox::backlog(&state.db).await.ok(),
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
