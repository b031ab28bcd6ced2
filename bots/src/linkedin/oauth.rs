//! LinkedIn's three-legged OAuth 2.0 (authorization code) flow (LinkedIn "Authorization Code Flow",
//! "Refresh Tokens with OAuth 2.0"): the URL the member approves the app at, the code traded for tokens at
//! `POST /oauth/v2/accessToken`, and the refresh. Pure functions and requests: storing tokens is the
//! caller's.
//!
//! Access tokens live 60 days. Refresh tokens come only to apps LinkedIn has approved for them (the
//! Community Management API's are), live a year, and **keep the expiry of the first grant**: a refresh
//! gives a new 60-day access token but no more time for the refresh token, after which the member must
//! approve the app again. The token endpoint takes its form in the body (client id and secret included)
//! and answers errors as `{"error", "error_description"}` ([`LinkedInError::GrantRefused`]).

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;

use super::{LinkedInError, rate_limited};

/// Where the member approves the app, in their browser.
pub const AUTHORIZE_URL: &str = "https://www.linkedin.com/oauth/v2/authorization";
/// The host of the token endpoint (not the API's).
pub const OAUTH_BASE: &str = "https://www.linkedin.com/";
/// The token endpoint, relative to [`OAUTH_BASE`].
pub const TOKEN_PATH: &str = "oauth/v2/accessToken";
/// What Herald asks for (Community Management API): posting as a page, reading its posts, and listing
/// the pages the member administers.
pub const SCOPES: &[&str] = &[
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
];

/// The URL to send the member to. `state` comes back on the callback (with `code`, or with `error` when
/// the member declined) and must be checked by the caller; `redirect_uri` must be one of the app's.
pub fn authorize_url(client_id: &str, redirect_uri: &str, state: &str, scopes: &[&str]) -> Url {
    let mut url =
        Url::parse(AUTHORIZE_URL).unwrap_or_else(|_| unreachable!("AUTHORIZE_URL is a URL"));
    // Scopes are separated by an encoded space (`%20`), as LinkedIn's guide writes them, not by `+`.
    let query = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("scope", &scopes.join(" ")),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", crate::x::oauth1::percent_encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    url.set_query(Some(&query));
    url
}

/// A member's tokens, with when they stop working.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    /// Only for apps LinkedIn has approved for refresh tokens.
    pub refresh_token: Option<String>,
    /// When the refresh token stops working. `None` after a refresh that did not say: the expiry stored
    /// with the first grant still holds.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// What the member granted.
    pub scopes: Vec<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Trades the callback's `code` (valid for 30 minutes, once) for the member's tokens. `oauth_base` is
/// [`OAUTH_BASE`] in production.
#[tracing::instrument(skip_all)]
pub async fn exchange_code(
    http: &reqwest::Client,
    oauth_base: &Url,
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, LinkedInError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ];
    token_request(http, oauth_base, &form, now).await
}

/// Trades a refresh token for a new access token. The refresh token's expiry does not move: when the
/// answer gives none, [`Tokens::refresh_expires_at`] is `None` and the caller keeps the stored one (and
/// the stored refresh token, when none comes back).
#[tracing::instrument(skip_all)]
pub async fn refresh(
    http: &reqwest::Client,
    oauth_base: &Url,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, LinkedInError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ];
    token_request(http, oauth_base, &form, now).await
}

async fn token_request(
    http: &reqwest::Client,
    oauth_base: &Url,
    form: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Result<Tokens, LinkedInError> {
    let url = oauth_base
        .join(TOKEN_PATH)
        .map_err(|e| LinkedInError::InvalidResponse(format!("bad base URL: {e}")))?;
    let response = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(LinkedInError::from_reqwest)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(LinkedInError::from_reqwest)?;
    if !(200..300).contains(&status) {
        return Err(refusal(status, &headers, &body, now));
    }
    let answer: TokenAnswer = serde_json::from_str(&body)
        .map_err(|e| LinkedInError::InvalidResponse(format!("token: {e}")))?;
    Ok(Tokens {
        access_token: answer.access_token,
        expires_at: now + TimeDelta::seconds(answer.expires_in),
        refresh_token: answer.refresh_token.filter(|t| !t.is_empty()),
        refresh_expires_at: answer
            .refresh_token_expires_in
            .map(|secs| now + TimeDelta::seconds(secs)),
        // Granted scopes come comma-separated (`"r_organization_social,rw_organization_admin"`).
        scopes: answer
            .scope
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// A failed token request: the grant refused when LinkedIn says why, else by status.
fn refusal(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> LinkedInError {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let text = |name: &str| parsed.get(name).and_then(Value::as_str).map(str::to_owned);
    if let Some(error) = text("error") {
        return LinkedInError::GrantRefused {
            error,
            description: text("error_description").unwrap_or_default(),
        };
    }
    let message = text("message").unwrap_or_else(|| body.chars().take(200).collect());
    match status {
        429 => rate_limited(headers, now),
        401 => LinkedInError::Unauthorized(message),
        408 | 504 => LinkedInError::Timeout,
        s if s >= 500 => LinkedInError::Server { status, message },
        _ => LinkedInError::BadRequest { status, message },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::{
        collections::HashMap,
        sync::{Arc, Mutex},
    };

    use axum::{
        Form, Json, Router,
        extract::State,
        http::StatusCode,
        response::{IntoResponse, Response},
        routing::post,
    };
    use serde_json::json;

    use super::*;
    use crate::Disposition;

    const CLIENT_ID: &str = "86abc";
    const CLIENT_SECRET: &str = "linkedin-secret";
    const REDIRECT: &str = "https://herald.example/linkedin/callback";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    type Forms = Arc<Mutex<Vec<HashMap<String, String>>>>;

    /// LinkedIn's token endpoint: a good code once, a good refresh token any number of times.
    async fn token(
        State(forms): State<Forms>,
        Form(form): Form<HashMap<String, String>>,
    ) -> Response {
        forms.lock().unwrap().push(form.clone());
        let field = |name: &str| form.get(name).map(String::as_str);
        if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": "invalid_client", "error_description": "Client authentication failed" })),
            )
                .into_response();
        }
        match (field("grant_type"), field("code"), field("refresh_token")) {
            (Some("authorization_code"), Some("good-code"), _)
                if field("redirect_uri") == Some(REDIRECT) =>
            {
                Json(json!({
                    "access_token": "AQV-access",
                    "expires_in": 5_184_000,
                    "refresh_token": "AQX-refresh",
                    "refresh_token_expires_in": 31_536_000,
                    "scope": "r_organization_social,rw_organization_admin,w_organization_social",
                }))
                .into_response()
            }
            (Some("refresh_token"), _, Some("AQX-refresh")) => Json(json!({
                "access_token": "AQV-access-2",
                "expires_in": 5_184_000,
                "refresh_token": "AQX-refresh",
                "scope": "r_organization_social,rw_organization_admin,w_organization_social",
            }))
            .into_response(),
            _ => (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": "invalid_grant",
                    "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."
                })),
            )
                .into_response(),
        }
    }

    async fn start() -> (Url, Forms) {
        let forms = Forms::default();
        let app = Router::new()
            .route("/oauth/v2/accessToken", post(token))
            .with_state(forms.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (Url::parse(&base).unwrap(), forms)
    }

    #[test]
    fn the_authorize_url_asks_for_a_code_and_the_scopes_space_separated() {
        let url = authorize_url(CLIENT_ID, REDIRECT, "st4te", SCOPES);
        assert_eq!(
            url.as_str(),
            "https://www.linkedin.com/oauth/v2/authorization?response_type=code&client_id=86abc\
             &redirect_uri=https%3A%2F%2Fherald.example%2Flinkedin%2Fcallback&state=st4te\
             &scope=w_organization_social%20r_organization_social%20rw_organization_admin"
        );
    }

    #[tokio::test]
    async fn a_code_becomes_tokens_that_expire_when_linkedin_says() {
        let (base, forms) = start().await;
        let now = at("2026-12-04T10:00:00Z");
        let tokens = exchange_code(
            &reqwest::Client::new(),
            &base,
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT,
            "good-code",
            now,
        )
        .await
        .unwrap();
        assert_eq!(tokens.access_token, "AQV-access");
        assert_eq!(tokens.expires_at, at("2027-02-02T10:00:00Z"), "60 days");
        assert_eq!(tokens.refresh_token.as_deref(), Some("AQX-refresh"));
        assert_eq!(
            tokens.refresh_expires_at,
            Some(at("2027-12-04T10:00:00Z")),
            "365 days"
        );
        assert!(tokens.scopes.iter().any(|s| s == "rw_organization_admin"));
        assert_eq!(tokens.scopes.len(), 3);
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("AQV") && !debug.contains("AQX"), "{debug}");
        assert_eq!(forms.lock().unwrap()[0]["grant_type"], "authorization_code");
    }

    #[tokio::test]
    async fn a_refresh_keeps_the_refresh_tokens_first_expiry() {
        let (base, forms) = start().await;
        let later = at("2027-01-30T08:00:00Z");
        let tokens = refresh(
            &reqwest::Client::new(),
            &base,
            CLIENT_ID,
            CLIENT_SECRET,
            "AQX-refresh",
            later,
        )
        .await
        .unwrap();
        assert_eq!(tokens.access_token, "AQV-access-2");
        assert_eq!(tokens.expires_at, later + TimeDelta::days(60));
        assert_eq!(
            tokens.refresh_expires_at, None,
            "no new expiry said: the stored one holds"
        );
        let form = &forms.lock().unwrap()[0];
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "AQX-refresh");
        assert!(!form.contains_key("code"));
    }

    #[tokio::test]
    async fn a_refused_grant_says_why() {
        let (base, _) = start().await;
        let http = reqwest::Client::new();
        let now = Utc::now();
        let err = exchange_code(
            &http,
            &base,
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT,
            "spent",
            now,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, LinkedInError::GrantRefused { error, .. } if error == "invalid_grant"),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("invalid, expired or revoked"),
            "{err}"
        );
        assert_eq!(err.disposition(), Disposition::Refused);

        let err = refresh(&http, &base, CLIENT_ID, "wrong", "AQX-refresh", now)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("Client authentication failed"),
            "{err}"
        );
    }
}
