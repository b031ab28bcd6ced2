//! OAuth 2.0 authorization code flow with PKCE for X (X docs "OAuth 2.0 Authorization Code Flow with PKCE"):
//! the authorize URL (`https://x.com/i/oauth2/authorize`, `code_challenge_method=S256`), the code exchange
//! and the refresh at `POST /2/oauth2/token`. Pure functions and requests: storing tokens is the caller's.
//!
//! Access tokens live two hours. **Refresh tokens are single-use**: a refresh answers a new pair and the old
//! refresh token stops working, so the caller refreshes under a per-account lock, stores the new pair in the
//! same transaction, and never sends a rotated token again. Confidential clients authenticate with HTTP
//! Basic (client id and secret); public ones send `client_id` in the form.
//!
//! [`app_bearer_token`] is the other OAuth 2.0 flow X has, app-only (X docs "Application-only
//! authentication", "POST oauth2/token"): the consumer key and secret traded for the app's bearer token,
//! which acts as no account and is what the webhook registration endpoints want
//! ([`super::registration`]).

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, distr::Alphanumeric};
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{XError, error};

/// Where the person authorises the app, in their browser.
pub const AUTHORIZE_URL: &str = "https://x.com/i/oauth2/authorize";
/// The token endpoint, relative to the API base.
pub const TOKEN_PATH: &str = "2/oauth2/token";
/// What Herald asks for: posting, reading mentions, DMs, media, and `offline.access` for a refresh token.
pub const SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "dm.read",
    "dm.write",
    "media.write",
    "offline.access",
];

/// An OAuth 2.0 app (X developer portal, "User authentication settings").
#[derive(Clone, PartialEq, Eq)]
pub struct App {
    pub client_id: String,
    /// For confidential clients; `None` for a public one.
    pub client_secret: Option<String>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A PKCE verifier (kept by the caller between the redirect and the callback) and its S256 challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &"[redacted]")
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl Pkce {
    /// A fresh random verifier (64 characters, RFC 7636 allows 43 to 128).
    pub fn generate() -> Self {
        let verifier: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(64)
            .map(char::from)
            .collect();
        Self::from_verifier(verifier)
    }

    /// The challenge of a known verifier: base64url, unpadded, of its SHA-256 (RFC 7636 §4.2).
    pub fn from_verifier(verifier: impl Into<String>) -> Self {
        let verifier = verifier.into();
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

/// The URL to send the person to. `state` comes back on the callback and must be checked by the caller.
pub fn authorize_url(
    authorize: &Url,
    app: &App,
    redirect_uri: &str,
    scopes: &[&str],
    state: &str,
    pkce: &Pkce,
) -> Url {
    let mut url = authorize.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    url
}

/// An access token and the refresh token to store with it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    /// Present when `offline.access` was granted. Single-use.
    pub refresh_token: Option<String>,
    /// When the access token stops working.
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Exchanges the callback's `code` for a token pair.
#[tracing::instrument(skip_all)]
pub async fn exchange_code(
    http: &reqwest::Client,
    api_base: &Url,
    app: &App,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, XError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
        ("client_id", app.client_id.as_str()),
    ];
    token_request(http, api_base, app, &form, now).await
}

/// Trades a refresh token for a new pair. The old refresh token is spent whatever happens next: store the
/// new pair before using it.
#[tracing::instrument(skip_all)]
pub async fn refresh(
    http: &reqwest::Client,
    api_base: &Url,
    app: &App,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, XError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", app.client_id.as_str()),
    ];
    token_request(http, api_base, app, &form, now).await
}

async fn token_request(
    http: &reqwest::Client,
    api_base: &Url,
    app: &App,
    form: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Result<TokenPair, XError> {
    let url = api_base
        .join(TOKEN_PATH)
        .map_err(|e| XError::InvalidResponse(format!("bad base URL: {e}")))?;
    let mut request = http.post(url).form(form);
    if let Some(secret) = &app.client_secret {
        request = request.basic_auth(&app.client_id, Some(secret));
    }
    let response = request.send().await.map_err(|e| XError::from_reqwest(&e))?;
    let (status, headers, body) = error::read(response).await?;
    // A spent, revoked or wrong code or refresh token is a 400 `invalid_request` / `invalid_grant`: the
    // account must be connected anew.
    if status == 400 || status == 401 {
        return Err(XError::Unauthorized {
            status,
            message: error::error_message(&body),
        });
    }
    let value = error::classify(status, &headers, &body, now)?;
    let answer: TokenAnswer = serde_json::from_value(value)
        .map_err(|e| XError::InvalidResponse(format!("token: {e}")))?;
    Ok(TokenPair {
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        expires_at: answer.expires_in.map(|secs| now + TimeDelta::seconds(secs)),
        scopes: answer
            .scope
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    })
}

/// The app-only token endpoint, relative to the API base (not [`TOKEN_PATH`], which is the user flow's).
pub const APP_TOKEN_PATH: &str = "oauth2/token";

/// `POST oauth2/token` with `grant_type=client_credentials`: the app's bearer token, for
/// [`super::Auth::Bearer`]. X keeps one per app and answers the same one until it is invalidated, so it
/// can be stored; asking too often is refused (403, code 99). The consumer key and secret go as HTTP Basic
/// credentials, each percent-encoded first (RFC 1738), as X's guide asks.
#[tracing::instrument(skip_all)]
pub async fn app_bearer_token(
    http: &reqwest::Client,
    base: &Url,
    consumer_key: &str,
    consumer_secret: &str,
) -> Result<String, XError> {
    #[derive(Deserialize)]
    struct Answer {
        token_type: String,
        access_token: String,
    }
    let url = base
        .join(APP_TOKEN_PATH)
        .map_err(|e| XError::InvalidResponse(format!("bad base URL: {e}")))?;
    let credentials = format!(
        "{}:{}",
        super::oauth1::percent_encode(consumer_key),
        super::oauth1::percent_encode(consumer_secret)
    );
    let response = http
        .post(url)
        .header(
            reqwest::header::AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
        )
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| XError::from_reqwest(&e))?;
    let (status, headers, body) = error::read(response).await?;
    let value = error::classify(status, &headers, &body, Utc::now())?;
    let answer: Answer = serde_json::from_value(value)
        .map_err(|e| XError::InvalidResponse(format!("app token: {e}")))?;
    if !answer.token_type.eq_ignore_ascii_case("bearer") {
        return Err(XError::InvalidResponse(format!(
            "app token of type {:?}, not bearer",
            answer.token_type
        )));
    }
    Ok(answer.access_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let fresh = Pkce::generate();
        assert_eq!(fresh.verifier.len(), 64);
        assert_ne!(fresh.verifier, Pkce::generate().verifier);
        assert!(!format!("{fresh:?}").contains(&fresh.verifier));
    }

    #[test]
    fn the_authorize_url_carries_the_challenge_and_scopes() {
        let app = App {
            client_id: "abc".into(),
            client_secret: Some("shh".into()),
        };
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let url = authorize_url(
            &Url::parse(AUTHORIZE_URL).expect("url"),
            &app,
            "https://herald.example/x/callback",
            SCOPES,
            "st4te",
            &pkce,
        );
        let pairs: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(pairs["code_challenge"], pkce.challenge);
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["redirect_uri"], "https://herald.example/x/callback");
        assert!(pairs["scope"].contains("offline.access"));
        assert_eq!(pairs["state"], "st4te");
        assert!(!format!("{app:?}").contains("shh"));
    }
}
