//! Sign-in without passwords: `/web`, `/mobile` and `herald web-link` hand out a one-time link; opening it
//! (and pressing the button on it, so link previewers cannot spend it) opens a session kept in an
//! HttpOnly cookie. Every form carries the session's CSRF token.

use axum::{
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use chrono::TimeDelta;
use serde::Deserialize;
use serde_json::json;

use super::{AppState, page};
use crate::{
    db::{people, web as store},
    token,
};

/// How long a session lasts after signing in.
pub const SESSION_TTL: TimeDelta = TimeDelta::hours(12);
pub const COOKIE: &str = "herald_session";

/// The person behind a request's session cookie. Pages without one answer with how to sign in.
#[derive(Debug, Clone)]
pub struct Signed {
    pub session: store::Session,
    pub person: i64,
    pub name: String,
}

impl Signed {
    /// Whether a form's token is this session's.
    pub fn csrf_ok(&self, presented: &str) -> bool {
        token::ct_eq(presented, &self.session.csrf_token)
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

impl Signed {
    /// The person signed in by the request's cookie, if any.
    pub async fn of(state: &AppState, headers: &HeaderMap) -> anyhow::Result<Option<Self>> {
        let Some(token) = session_cookie(headers) else {
            return Ok(None);
        };
        let mut tx = state.db.begin().await?;
        let session = store::session(&mut tx, state.clock.now(), &token::hash(&token)).await?;
        let name = match &session {
            Some(s) => people::person_name(&mut tx, s.person_id).await?,
            None => None,
        };
        tx.commit().await?;
        Ok(session.map(|session| Self {
            person: session.person_id,
            name: name.unwrap_or_default(),
            session,
        }))
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Self::of(state, &parts.headers).await {
            Ok(Some(signed)) => Ok(signed),
            Ok(None) => Err(page(
                state,
                StatusCode::UNAUTHORIZED,
                "signed_out",
                json!({ "reason": "none" }),
            )),
            Err(err) => Err(super::internal(state, &err)),
        }
    }
}

/// `GET /login/<token>`: who the link signs in, and a button to do it. Opening the page spends nothing.
pub async fn login_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let mut tx = state.db.begin().await?;
        let login = store::login(&mut tx, &token::hash(&token)).await?;
        let name = match &login {
            Some(l) => people::person_name(&mut tx, l.person_id).await?,
            None => None,
        };
        tx.commit().await?;
        anyhow::Ok(login.map(|l| (l, name)))
    }
    .await;
    match result {
        Err(err) => super::internal(&state, &err),
        Ok(found) => match refusal(&state, found.as_ref().map(|(l, _)| l)) {
            Some(response) => response,
            None => page(
                &state,
                StatusCode::OK,
                "login",
                json!({ "name": found.and_then(|(_, n)| n), "token": token }),
            ),
        },
    }
}

/// A link that cannot sign anyone in, and the page saying why.
fn refusal(state: &AppState, login: Option<&store::Login>) -> Option<Response> {
    let reason = match login {
        None => "unknown",
        Some(l) if l.used_at.is_some() => "used",
        Some(l) if l.expires_at <= state.clock.now() => "expired",
        Some(_) => return None,
    };
    Some(page(
        state,
        StatusCode::GONE,
        "signed_out",
        json!({ "reason": reason }),
    ))
}

/// `POST /login/<token>`: spends the link and opens a session.
pub async fn login(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let now = state.clock.now();
    let result = async {
        let mut tx = state.db.begin().await?;
        let Some(login) = store::login(&mut tx, &token::hash(&token)).await? else {
            return anyhow::Ok(Err(None));
        };
        if !store::use_login(&mut tx, now, login.id).await? {
            return Ok(Err(Some(login)));
        }
        let session_token = open_session(&mut tx, now, login.person_id, SESSION_TTL).await?;
        tx.commit().await?;
        Ok(Ok((login.next_path, session_token)))
    }
    .await;
    match result {
        Err(err) => super::internal(&state, &err),
        Ok(Err(login)) => refusal(&state, login.as_ref()).unwrap_or_else(|| {
            page(
                &state,
                StatusCode::GONE,
                "signed_out",
                json!({ "reason": "used" }),
            )
        }),
        Ok(Ok((next, session_token))) => signed_in(&state, &session_token, SESSION_TTL, &next),
    }
}

/// Opens a session of `person` lasting `ttl`; returns the token for its cookie.
pub async fn open_session(
    tx: &mut crate::db::Tx,
    now: chrono::DateTime<chrono::Utc>,
    person: i64,
    ttl: TimeDelta,
) -> anyhow::Result<String> {
    let session_token = token::new_token();
    store::create_session(
        tx,
        now,
        person,
        &token::hash(&session_token),
        &token::new_token(),
        now + ttl,
    )
    .await?;
    Ok(session_token)
}

/// The answer that sets the session cookie and leads to `next`.
pub fn signed_in(state: &AppState, session_token: &str, ttl: TimeDelta, next: &str) -> Response {
    let secure = state
        .public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https");
    let cookie = format!(
        "{COOKIE}={session_token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        ttl.num_seconds(),
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`: ends this session.
pub async fn logout(
    State(state): State<AppState>,
    signed: Signed,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    let result = async {
        let mut tx = state.db.begin().await?;
        store::end_session(&mut tx, state.clock.now(), signed.session.id).await?;
        tx.commit().await
    }
    .await;
    if let Err(err) = result {
        return super::internal(&state, &err);
    }
    let mut response = page(
        &state,
        StatusCode::OK,
        "signed_out",
        json!({ "reason": "logged_out" }),
    );
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("herald_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_session=abc; b=2"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("herald_sessionx=1"),
        );
        assert_eq!(session_cookie(&headers), None);
    }
}
