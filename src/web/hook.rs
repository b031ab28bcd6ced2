//! The inbound notify hook: `POST /hooks/notify/<conference-slug>`. Other systems (ticketing, CfP,
//! monitoring) tell the organisers something; it arrives in the conference's organisers chat.
//!
//! The caller sends `Authorization: Bearer <secret>` (the secret `/hook` hands out) and a JSON object:
//!
//! ```json
//! {"title": "Tickets sold out", "text": "The last ticket went at 10:02.", "level": "warning"}
//! ```
//!
//! `title` (at most [`MAX_TITLE`] characters) and `text` (at most [`MAX_TEXT`]) are required and must not
//! be blank; `level` is `info`, `warning` or `urgent` and is `info` when left out. Any other field is an
//! error, so a typo does not vanish silently. The Content-Type is not checked.
//!
//! Checks run cheapest and least revealing first, and every answer but 202 is `{"error": "…"}`:
//!
//! | code | when |
//! |------|------|
//! | 413 | the body (or its Content-Length) is over [`MAX_BODY`] bytes |
//! | 401 | no or a wrong secret, an unknown conference, or one without a hook (one answer for all four) |
//! | 400 | the body is not such an object (the error names the field and the problem) |
//! | 409 | no organisers chat is bound (nothing is stored) |
//! | 503 | the database failed (nothing is stored) |
//! | 202 | `{"queued": true}`: the message is in the outbox |
//!
//! The secret and the Authorization header are never logged.

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::{
    db::{self, Tx},
    delivery::organisers,
    token,
};

/// The largest body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest text, in characters.
pub const MAX_TEXT: usize = 4000;

/// The one answer to every authentication failure, so it does not tell which conferences exist.
const UNAUTHORIZED: &str = "missing or wrong secret: send the header `Authorization: Bearer <secret>` with the secret /hook gave for this conference";

/// `POST /hooks/notify/<conference-slug>`; see the module documentation.
pub async fn notify(
    State(state): State<AppState>,
    Path(conference): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(declared) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&n| n > MAX_BODY as u64)
    {
        return too_large(Some(declared));
    }
    let body = match read_limited(body).await {
        Ok(Some(body)) => body,
        Ok(None) => return too_large(None),
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("could not read the body: {err}"),
            );
        }
    };

    let mut tx = match state.db.begin().await {
        Ok(tx) => tx,
        Err(err) => return unavailable(&conference, &err),
    };
    let conference = match authenticate(&mut tx, &conference, &headers).await {
        Ok(Some(conference)) => conference,
        Ok(None) => {
            rollback(tx, &conference).await;
            return unauthorized();
        }
        Err(err) => return unavailable(&conference, &err),
    };
    let notice = match Notice::parse(&body) {
        Ok(notice) => notice,
        Err(problem) => {
            rollback(tx, &conference.slug).await;
            return error(StatusCode::BAD_REQUEST, problem);
        }
    };

    let key = format!("hook:{}:{}", conference.id, token::new_token());
    let queued = organisers::notify(
        &mut tx,
        &state.templates,
        state.clock.now(),
        conference.id,
        "notify_hook",
        &key,
        json!({ "conference": conference.name, "title": notice.title, "text": notice.text,
                "level": notice.level }),
    )
    .await;
    match queued {
        Ok(true) => match tx.commit().await {
            Ok(()) => {
                tracing::info!(conference = %conference.slug, level = notice.level, "notify hook call queued");
                (StatusCode::ACCEPTED, Json(json!({ "queued": true }))).into_response()
            }
            Err(err) => unavailable(&conference.slug, &err),
        },
        Ok(false) => {
            rollback(tx, &conference.slug).await;
            error(
                StatusCode::CONFLICT,
                format!(
                    "{} has no organisers chat to tell; bind one with /bind organisers and call again",
                    conference.name
                ),
            )
        }
        Err(err) if is_database(&err) => unavailable(&conference.slug, &err),
        Err(err) => {
            tracing::error!(conference = %conference.slug, error = ?err, "could not queue a notify hook message");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not prepare the message; nothing was queued",
            )
        }
    }
}

/// The conference `slug` names, when the request carries its hook secret.
async fn authenticate(
    tx: &mut Tx,
    slug: &str,
    headers: &HeaderMap,
) -> anyhow::Result<Option<db::conferences::Conference>> {
    let presented = bearer(headers).map(token::hash);
    let found = match db::conferences::conference_by_slug(tx, slug).await? {
        Some(conference) => db::web::hook_secret(tx, conference.id)
            .await?
            .map(|stored| (conference, stored)),
        None => None,
    };
    // Compare even when there is nothing to compare with, so each failure costs about the same.
    let stored = found.as_ref().map_or("", |(_, stored)| stored.as_str());
    let presented = presented.unwrap_or_default();
    let matches = !stored.is_empty() && bool::from(presented.as_bytes().ct_eq(stored.as_bytes()));
    Ok(found.filter(|_| matches).map(|(conference, _)| conference))
}

/// The secret in `Authorization: Bearer <secret>` (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, secret) = value.split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// A valid call's content.
#[derive(Debug)]
struct Notice {
    title: String,
    text: String,
    level: &'static str,
}

impl Notice {
    /// The notice in `body`, or the problem with it in plain words.
    fn parse(body: &[u8]) -> Result<Self, String> {
        const SHAPE: &str = r#"a JSON object like {"title": "…", "text": "…", "level": "info"}"#;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(format!("the body is empty; send {SHAPE}"));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|err| format!("the body is not valid JSON ({err}); send {SHAPE}"))?;
        let Value::Object(fields) = value else {
            return Err(format!(
                "the body is JSON {}, not an object; send {SHAPE}",
                kind(&value)
            ));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !matches!(k.as_str(), "title" | "text" | "level"))
        {
            return Err(format!(
                "unknown field {}; only title, text and level are allowed",
                Value::from(unknown.as_str())
            ));
        }
        let title = required(&fields, "title", MAX_TITLE)?;
        let text = required(&fields, "text", MAX_TEXT)?;
        let level = match fields.get("level") {
            None => "info",
            Some(Value::String(s)) => match s.as_str() {
                "info" => "info",
                "warning" => "warning",
                "urgent" => "urgent",
                _ => {
                    return Err(format!(
                        "level must be info, warning or urgent, not {}",
                        Value::from(s.as_str())
                    ));
                }
            },
            Some(other) => {
                return Err(format!(
                    "level must be the string info, warning or urgent, not {}",
                    kind(other)
                ));
            }
        };
        Ok(Self { title, text, level })
    }
}

/// The string field `name`: present, not blank, at most `max` characters.
fn required(fields: &Map<String, Value>, name: &str, max: usize) -> Result<String, String> {
    let value = match fields.get(name) {
        None => return Err(format!("{name} is missing")),
        Some(Value::String(s)) => s.trim(),
        Some(other) => return Err(format!("{name} must be a string, not {}", kind(other))),
    };
    if value.is_empty() {
        return Err(format!("{name} is empty"));
    }
    let length = value.chars().count();
    if length > max {
        return Err(format!(
            "{name} is {length} characters long; at most {max} are allowed"
        ));
    }
    Ok(value.to_owned())
}

/// What a JSON value is, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether a database error is somewhere in `err`'s chain.
fn is_database(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<sqlx::Error>())
}

async fn rollback(tx: Tx, conference: &str) {
    if let Err(err) = tx.rollback().await {
        tracing::error!(conference, error = ?err, "could not roll back after a refused notify hook call");
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn too_large(declared: Option<u64>) -> Response {
    let message = match declared {
        Some(n) => format!("the body is {n} bytes; at most {MAX_BODY} are allowed"),
        None => format!("the body is larger than the {MAX_BODY} bytes allowed"),
    };
    error(StatusCode::PAYLOAD_TOO_LARGE, message)
}

/// The whole body, or `None` as soon as it grows past [`MAX_BODY`] (the rest is not read).
async fn read_limited(body: Body) -> Result<Option<Bytes>, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut collected = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if collected.len() + chunk.len() > MAX_BODY {
            return Ok(None);
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(Some(Bytes::from(collected)))
}

fn unauthorized() -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"herald notify hook\""),
    );
    response
}

fn unavailable(conference: &str, err: &anyhow::Error) -> Response {
    tracing::error!(conference, error = ?err, "notify hook: the database failed");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the database is not available; nothing was queued, try again later",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(body: &str) -> String {
        Notice::parse(body.as_bytes()).expect_err("refused")
    }

    #[test]
    fn a_valid_body_parses_and_level_defaults_to_info() {
        let n = Notice::parse(br#"{"title": " Sold out ", "text": "All gone."}"#).expect("valid");
        assert_eq!(
            (n.title.as_str(), n.text.as_str(), n.level),
            ("Sold out", "All gone.", "info")
        );
        let n = Notice::parse(br#"{"title": "t", "text": "x", "level": "urgent"}"#).expect("valid");
        assert_eq!(n.level, "urgent");
    }

    #[test]
    fn each_problem_is_named() {
        assert!(problem("").contains("empty"));
        assert!(problem("{").contains("not valid JSON"));
        assert!(problem("[1]").contains("an array, not an object"));
        assert_eq!(problem(r#"{"text": "x"}"#), "title is missing");
        assert_eq!(
            problem(r#"{"title": 3, "text": "x"}"#),
            "title must be a string, not a number"
        );
        assert_eq!(problem(r#"{"title": "  ", "text": "x"}"#), "title is empty");
        assert_eq!(
            problem(r#"{"title": "t", "text": "x", "level": "critical"}"#),
            r#"level must be info, warning or urgent, not "critical""#
        );
        assert_eq!(
            problem(r#"{"title": "t", "text": "x", "colour": "red"}"#),
            r#"unknown field "colour"; only title, text and level are allowed"#
        );
        let long = format!(r#"{{"title": "{}", "text": "x"}}"#, "é".repeat(201));
        assert_eq!(
            problem(&long),
            "title is 201 characters long; at most 200 are allowed"
        );
        let long = format!(r#"{{"title": "t", "text": "{}"}}"#, "a".repeat(4001));
        assert_eq!(
            problem(&long),
            "text is 4001 characters long; at most 4000 are allowed"
        );
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_secret() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }
}
