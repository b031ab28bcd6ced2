//! X webhooks (Account Activity and the X Activity API that replaces it): `GET /hooks/x/<provider>` answers
//! X's CRC challenge, `POST /hooks/x/<provider>` takes a signed delivery.
//!
//! `<provider>` is the number of the X provider (`/provider list`) whose app the webhook is registered
//! with; its consumer secret answers the challenge and checks each delivery's
//! `x-twitter-webhooks-signature` (constant time) over the raw body. A delivery is stored through the inbox
//! before the 200, one inbox event per mention or direct message to the account (the same event delivered
//! again, or once per subscribed account, is stored once): the mentions handler posts each mention to the
//! moderation chat like Mastodon's and Bluesky's, and gives a direct message holding a command to the chat
//! core (`crate::chat::direct`).
//!
//! | code | when |
//! |------|------|
//! | 200 | the CRC answer `{"response_token": "sha256=…"}`, or a delivery stored (`{"stored": n}`) |
//! | 400 | no `crc_token`, or a signed body that is not a delivery (the error says why; nothing stored) |
//! | 401 | a missing, malformed or wrong signature (logged; nothing stored) |
//! | 404 | no X provider with that number, or one without a consumer secret |
//! | 413 | a body over [`MAX_BODY`] bytes |
//! | 503 | the database failed (nothing stored: X delivers again) |

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use herald_bots::x::webhook::{self, Event, PostKind};
use serde_json::json;

use super::AppState;
use crate::{
    db::{inbox, providers},
    delivery::networks::Credentials,
    mentions::{Heard, X_KIND, XAuthor},
    social::x::{REVOKED_KIND, Revoked},
};

/// The largest delivery accepted, in bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The route's path.
pub const PATH: &str = "/hooks/x/{provider}";

fn answer(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// The consumer secret of X provider `id`; `Ok(None)` when there is no such provider or secret. Read
/// without a transaction: X checks the address while `/provider webhook on` holds one.
async fn consumer_secret(state: &AppState, id: i64) -> anyhow::Result<Option<String>> {
    let found = providers::kind_and_credentials(&state.db, id).await?;
    Ok(found
        .filter(|(kind, _)| kind == crate::delivery::networks::X)
        .and_then(|(_, credentials)| Credentials::read(&credentials))
        .and_then(|c| match c {
            Credentials::OAuth1 {
                consumer_secret, ..
            } if !consumer_secret.is_empty() => Some(consumer_secret),
            _ => None,
        }))
}

async fn secret_or_answer(state: &AppState, provider: &str) -> Result<(i64, String), Response> {
    let unknown = || {
        answer(
            StatusCode::NOT_FOUND,
            "no X provider with a consumer secret here",
        )
    };
    let Ok(id) = provider.parse::<i64>() else {
        return Err(unknown());
    };
    match consumer_secret(state, id).await {
        Ok(Some(secret)) => Ok((id, secret)),
        Ok(None) => Err(unknown()),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "X webhook: the database failed");
            Err(answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not answering; try again",
            ))
        }
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Challenge {
    crc_token: Option<String>,
}

/// `GET /hooks/x/<provider>?crc_token=…`: X checking that the webhook is Herald's.
pub async fn challenge(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<Challenge>,
) -> Response {
    let (_, secret) = match secret_or_answer(&state, &provider).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match query.crc_token.filter(|t| !t.is_empty()) {
        Some(token) => Json(webhook::crc_response(&secret, &token)).into_response(),
        None => answer(StatusCode::BAD_REQUEST, "no crc_token in the query"),
    }
}

/// A post delivered to the account, as the mentions handler reads it (see `crate::mentions::from_x`).
fn heard(provider: i64, own_account: &str, post: &webhook::PostEvent) -> Heard {
    Heard {
        provider_id: provider,
        own_account: own_account.to_owned(),
        notification: json!({
            "id": post.id,
            "kind": match post.kind {
                PostKind::Reply => "reply",
                PostKind::Quote => "quote",
                _ => "mention",
            },
            "text": post.text,
            "author": { "id": post.author.id, "username": post.author.username, "name": post.author.name },
            "created_at": post.created_at,
            "in_reply_to": post.in_reply_to_post_id,
        }),
    }
}

/// The account's revocations of the app's access in `delivery`, as inbox events for
/// [`crate::social::x::RevokedHandler`]: keyed by the delivery (or the time), so a revocation after the
/// account was connected again is news again.
fn revocations(
    provider: i64,
    delivery: &webhook::Delivery,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<inbox::NewEvent> {
    let own = delivery.for_user_id.as_deref();
    delivery
        .events
        .iter()
        .filter_map(|event| match event {
            Event::AccessRevoked { user_id } if own.is_none_or(|o| o == user_id) => {
                let revoked = Revoked {
                    provider_id: provider,
                    user_id: user_id.clone(),
                };
                let when = delivery
                    .event_uuid
                    .clone()
                    .unwrap_or_else(|| now.timestamp().to_string());
                Some(inbox::NewEvent {
                    provider: format!("{}:{provider}", crate::delivery::networks::X),
                    event_id: format!("revoke:{user_id}:{when}"),
                    kind: REVOKED_KIND.into(),
                    payload: serde_json::to_string(&revoked).ok()?,
                })
            }
            _ => None,
        })
        .collect()
}

/// `POST /hooks/x/<provider>`: a signed delivery, stored through the inbox before the 200.
pub async fn deliver(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > MAX_BODY {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "the delivery is too large");
    }
    let (id, secret) = match secret_or_answer(&state, &provider).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    if let Err(err) = webhook::verify_signature(&secret, &body, signature) {
        tracing::warn!(provider = id, error = %err, "X webhook: a delivery with a bad signature, refused");
        return answer(StatusCode::UNAUTHORIZED, &err.to_string());
    }
    let delivery = match webhook::parse(&body) {
        Ok(delivery) => delivery,
        Err(err) => {
            tracing::warn!(provider = id, error = %err, "X webhook: an unreadable delivery");
            return answer(StatusCode::BAD_REQUEST, &err.to_string());
        }
    };
    let own = delivery.for_user_id.clone().unwrap_or_default();
    let events: Vec<inbox::NewEvent> = delivery
        .events
        .iter()
        .filter_map(|event| match event {
            Event::Post(post)
                if matches!(
                    post.kind,
                    PostKind::Mention | PostKind::Reply | PostKind::Quote
                ) && post.author.id != own =>
            {
                Some((event.dedup_key()?, heard(id, &own, post)))
            }
            Event::DirectMessage(dm) if dm.sender.id != own => {
                let sender = XAuthor {
                    id: &dm.sender.id,
                    username: &dm.sender.username,
                    name: &dm.sender.name,
                };
                let heard =
                    Heard::x_direct_message(id, &own, &dm.id, &dm.text, sender, dm.created_at);
                Some((event.dedup_key()?, heard))
            }
            _ => None,
        })
        .filter_map(|(event_id, heard)| {
            Some(inbox::NewEvent {
                provider: format!("{}:{id}", crate::delivery::networks::X),
                event_id,
                kind: X_KIND.into(),
                payload: serde_json::to_string(&heard).ok()?,
            })
        })
        .chain(revocations(id, &delivery, state.clock.now()))
        .collect();
    let stored = async {
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let mut stored = 0;
        for event in &events {
            stored += usize::from(inbox::insert(&mut tx, now, event).await?.is_some());
        }
        tx.commit().await?;
        anyhow::Ok(stored)
    };
    match stored.await {
        Ok(stored) => Json(json!({ "stored": stored })).into_response(),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "X webhook: the database failed");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not answering; X delivers again",
            )
        }
    }
}
