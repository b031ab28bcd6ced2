//! The pages behind the links in Herald's mail: confirming an address (double opt-in), stopping a kind
//! of mail, and answering a calendar invitation (Accept / Decline, shown to organisers). A link opened (`GET`) shows a button and changes nothing, since mail scanners open links on
//! their own; the button's `POST` does it. The unsubscribe `POST` is also RFC 8058's one-click target:
//! mail clients send it straight from the `List-Unsubscribe` header, and it takes effect at once.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use serde_json::json;

use super::{AppState, internal, page};
use crate::{
    db::{contacts::Kind, email as store},
    delivery::email::{
        ANSWER_PATH, ANSWERS, CONFIRM_PATH, UNSUBSCRIBE_PATH, kind_word, parse_kind,
    },
    token::{self, ct_eq, new_token},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("/{CONFIRM_PATH}/{{token}}"),
            get(confirm_page).post(confirm),
        )
        .route(
            &format!("/{UNSUBSCRIBE_PATH}/{{token}}/{{kind}}"),
            get(unsubscribe_page).post(unsubscribe),
        )
        .route(
            &format!("/{ANSWER_PATH}/{{token}}/{{answer}}"),
            get(answer_page).post(answer),
        )
}

/// A confirmation that can be used now, or the state of the page saying why not.
async fn usable(
    state: &AppState,
    tx: &mut crate::db::Tx,
    token: &str,
) -> anyhow::Result<Result<store::Confirmation, &'static str>> {
    let presented = token::hash(token);
    let found = store::confirmation_by_hash(tx, &presented).await?;
    Ok(match found {
        Some(c) if !ct_eq(&c.token_hash, &presented) => Err("unknown"),
        Some(c) if c.confirmed_at.is_some() => Err("used"),
        Some(c) if c.expires_at <= state.clock.now() => Err("expired"),
        Some(c) => Ok(c),
        None => Err("unknown"),
    })
}

fn refused(state: &AppState, why: &str) -> Response {
    page(state, StatusCode::GONE, "mail", json!({ "state": why }))
}

/// `GET /mail/confirm/<token>`: what confirming does, and its button.
async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let mut tx = state.db.begin().await?;
        let found = usable(&state, &mut tx, &token).await?;
        tx.commit().await?;
        anyhow::Ok(found)
    }
    .await;
    match result {
        Err(err) => internal(&state, &err),
        Ok(Err(why)) => refused(&state, why),
        Ok(Ok(c)) => page(
            &state,
            StatusCode::OK,
            "mail",
            json!({ "state": "confirm", "address": c.address, "token": token }),
        ),
    }
}

/// `POST /mail/confirm/<token>`: links the address to the person who asked for it.
async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let c = match usable(&state, &mut tx, &token).await? {
            Ok(c) => c,
            Err(why) => return Ok(Err(why)),
        };
        if !store::mark_confirmed(&mut tx, now, c.id).await? {
            return Ok(Err("used"));
        }
        let linked =
            store::link_address(&mut tx, now, c.person_id, &c.address, &new_token()).await?;
        if linked != store::Linked::Taken {
            // A new channel: what the person is due from now on goes there too, calendar
            // invitations to their talks and shifts included.
            for subscription in
                crate::db::subscriptions::subscriptions_of(&mut tx, c.person_id).await?
            {
                let Some(conference) =
                    crate::db::conferences::conference_by_id(&mut tx, subscription.conference_id)
                        .await?
                else {
                    continue;
                };
                crate::schedule::import::catch_up(
                    &mut tx,
                    &state.templates,
                    now,
                    &conference,
                    c.person_id,
                )
                .await?;
            }
        }
        tx.commit().await?;
        tracing::info!(
            domain = herald_bots::email::domain_of(&c.address),
            ?linked,
            "e-mail address confirmed"
        );
        anyhow::Ok(Ok((c.address, linked)))
    }
    .await;
    match result {
        Err(err) => internal(&state, &err),
        Ok(Err(why)) => refused(&state, why),
        Ok(Ok((address, linked))) => {
            let shown = match linked {
                store::Linked::Taken => "taken",
                store::Linked::New | store::Linked::Again => "confirmed",
            };
            page(
                &state,
                StatusCode::OK,
                "mail",
                json!({ "state": shown, "address": address }),
            )
        }
    }
}

/// What a kind of mail is called on the page.
fn what(kind: Kind) -> &'static str {
    match kind {
        Kind::Announcements => "announcements",
        Kind::Reminders => "reminders",
        Kind::Direct => "messages",
    }
}

/// The address behind an unsubscribe link, and the kind it names; `None` for a link Herald did not make.
async fn unsubscribe_target(
    state: &AppState,
    token: &str,
    kind: &str,
) -> anyhow::Result<Option<(String, Kind)>> {
    let Some(kind) = parse_kind(kind) else {
        return Ok(None);
    };
    let mut tx = state.db.begin().await?;
    let found = store::by_unsubscribe_token(&mut tx, token).await?;
    tx.commit().await?;
    Ok(found.map(|(_, address)| (address, kind)))
}

/// An unsubscribe link Herald did not make (or whose address is gone).
fn unknown_link(state: &AppState) -> Response {
    page(
        state,
        StatusCode::NOT_FOUND,
        "mail",
        json!({ "state": "unknown" }),
    )
}

/// `GET /mail/unsubscribe/<token>/<kind>`: the footer link; asks before stopping.
async fn unsubscribe_page(
    State(state): State<AppState>,
    Path((token, kind)): Path<(String, String)>,
) -> Response {
    match unsubscribe_target(&state, &token, &kind).await {
        Err(err) => internal(&state, &err),
        Ok(None) => unknown_link(&state),
        Ok(Some((address, kind))) => page(
            &state,
            StatusCode::OK,
            "mail",
            json!({ "state": "unsubscribe", "address": address, "token": token,
                    "kind": kind_word(kind), "what": what(kind) }),
        ),
    }
}

/// `POST /mail/unsubscribe/<token>/<kind>`: stops that kind of mail to that address at once (RFC 8058
/// one-click; the body, `List-Unsubscribe=One-Click`, says nothing more). Mail of that kind still queued
/// for the address is cancelled.
async fn unsubscribe(
    State(state): State<AppState>,
    Path((token, kind)): Path<(String, String)>,
) -> Response {
    let result = async {
        let Some((address, kind)) = unsubscribe_target(&state, &token, &kind).await? else {
            return anyhow::Ok(None);
        };
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        store::switch_off(&mut tx, &address, kind).await?;
        crate::db::outbox::cancel_of_kinds(
            &mut tx,
            now,
            store::PLATFORM,
            &address,
            crate::delivery::email::row_kinds(kind),
            "cancelled: the reader stopped this kind of mail",
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            domain = herald_bots::email::domain_of(&address),
            kind = kind_word(kind),
            "mail stopped by its reader"
        );
        Ok(Some((address, kind)))
    }
    .await;
    match result {
        Err(err) => internal(&state, &err),
        Ok(None) => unknown_link(&state),
        Ok(Some((address, kind))) => page(
            &state,
            StatusCode::OK,
            "mail",
            json!({ "state": "unsubscribed", "address": address,
                    "kind": kind_word(kind), "what": what(kind) }),
        ),
    }
}

/// The invitation an answer link names, with its conference's name; `None` for a link Herald did not
/// make, one replaced by a later mail of the invitation, or one of a cancelled invitation.
async fn answer_target(
    state: &AppState,
    token: &str,
    answer: &str,
) -> anyhow::Result<Option<(crate::db::invitations::Invitation, String)>> {
    if !ANSWERS.contains(&answer) {
        return Ok(None);
    }
    let mut tx = state.db.begin().await?;
    let found = crate::db::invitations::by_answer_token(&mut tx, &token::hash(token)).await?;
    tx.commit().await?;
    Ok(found.filter(|(invitation, _)| invitation.state == "active"))
}

/// `GET /mail/answer/<token>/<accepted|declined>`: the link in an invitation; asks before answering.
async fn answer_page(
    State(state): State<AppState>,
    Path((token, answer)): Path<(String, String)>,
) -> Response {
    match answer_target(&state, &token, &answer).await {
        Err(err) => internal(&state, &err),
        Ok(None) => unknown_link(&state),
        Ok(Some((invitation, conference))) => page(
            &state,
            StatusCode::OK,
            "mail",
            json!({ "state": "answer", "answer": answer, "token": token,
                    "title": invitation.title, "conference": conference }),
        ),
    }
}

/// `POST /mail/answer/<token>/<accepted|declined>`: records the answer for the organisers; the other
/// link of the same mail changes it.
async fn answer(
    State(state): State<AppState>,
    Path((token, answer)): Path<(String, String)>,
) -> Response {
    let result = async {
        let Some((invitation, conference)) = answer_target(&state, &token, &answer).await? else {
            return anyhow::Ok(None);
        };
        let mut tx = state.db.begin().await?;
        crate::db::invitations::record_answer(&mut tx, state.clock.now(), invitation.id, &answer)
            .await?;
        tx.commit().await?;
        Ok(Some((invitation, conference)))
    }
    .await;
    match result {
        Err(err) => internal(&state, &err),
        Ok(None) => unknown_link(&state),
        Ok(Some((invitation, conference))) => page(
            &state,
            StatusCode::OK,
            "mail",
            json!({ "state": "answered", "answer": answer,
                    "title": invitation.title, "conference": conference }),
        ),
    }
}
