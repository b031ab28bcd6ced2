//! Connecting a provider account from the config page, as an organiser would: "Connect X account" and
//! "Connect LinkedIn page" on a provider's row run the network's authorisation in the browser, and the
//! tokens they end with are stored as the provider's credentials (write-only, like typed ones).
//!
//! ```text
//!  X        POST …/providers/<name>/connect ─► request token (callback, or "oob" without a public address)
//!           ─► x.com/oauth/authorize ─► GET /connect/x/callback?oauth_token&oauth_verifier ─► access token
//!           (no public address: the page shows the link and takes the PIN: POST /connect/x/pin)
//!  LinkedIn POST …/providers/<name>/connect ─► linkedin.com/oauth/v2/authorization (state)
//!           ─► GET /connect/linkedin/callback?code&state ─► tokens ─► the pages the member administers
//!           ─► one: saved; several: the page asks which (POST /connect/linkedin/pick)
//! ```
//!
//! What a flow started is kept in the system state under its request token or `state` for 15 minutes and
//! only for the person who started it; it is spent when used. The apps' keys come from the configuration
//! ([`crate::social::Apps`]); for X, an account added with keys falls back to its own consumer key and secret.

use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, TimeDelta, Utc};
use herald_bots::{
    linkedin::{self, LinkedInClient, Version, oauth},
    x,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    AppState,
    act::{self, Notice},
    auth::Signed,
    config::may,
};
use crate::{
    db::{conferences, providers, system},
    delivery::networks::{Credentials, LINKEDIN, X},
};

/// Where X sends the browser back in the OAuth 2.0 flow, under the public address.
const X_OAUTH2_CALLBACK: &str = "connect/x/oauth2/callback";

/// How long a started connection waits for the person to come back.
pub const PENDING_FOR: TimeDelta = TimeDelta::minutes(15);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/config/{slug}/providers/{name}/connect", post(start))
        .route("/connect/x/callback", get(x_callback))
        .route("/connect/x/pin", post(x_pin))
        .route(&format!("/{X_OAUTH2_CALLBACK}"), get(x_oauth2_callback))
        .route("/connect/linkedin/callback", get(linkedin_callback))
        .route("/connect/linkedin/pick", post(linkedin_pick))
}

/// Which flow a pending connection is in: each finish takes only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Flow {
    XOAuth1,
    XOAuth2,
    LinkedIn,
}

/// A connection started and not yet finished (its `Debug` leaves the secrets out).
#[derive(Clone, Serialize, Deserialize)]
struct Pending {
    flow: Flow,
    provider: i64,
    person: i64,
    slug: String,
    started: DateTime<Utc>,
    /// LinkedIn: the pages offered to pick from (their URNs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pages: Vec<String>,
    /// X: the request token's secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// LinkedIn: the tokens, while the person picks the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tokens: Option<StoredTokens>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("flow", &self.flow)
            .field("provider", &self.provider)
            .field("person", &self.person)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    expires_at: DateTime<Utc>,
    refresh_token: Option<String>,
    refresh_expires_at: Option<DateTime<Utc>>,
}

fn pending_key(key: &str) -> String {
    format!("{}{}", system::CONNECT_PENDING, crate::token::hash(key))
}

async fn keep_pending(state: &AppState, key: &str, pending: &Pending) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    system::set_system(
        &mut tx,
        state.clock.now(),
        &pending_key(key),
        &serde_json::to_string(pending)?,
    )
    .await?;
    tx.commit().await
}

/// The connection `key` names in `flow`, spent (it works once, and only for its person: another's look
/// leaves it be), if `signed` started it less than [`PENDING_FOR`] ago and may still change the providers.
async fn take_pending(
    state: &AppState,
    signed: &Signed,
    key: &str,
    flow: Flow,
) -> anyhow::Result<Option<Pending>> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mine = |stored: Option<String>| {
        stored
            .and_then(|s| serde_json::from_str::<Pending>(&s).ok())
            .filter(|p| p.person == signed.person && p.flow == flow)
    };
    let taken = match mine(system::get_system(&mut tx, &pending_key(key)).await?) {
        Some(_) => mine(system::take_system(&mut tx, &pending_key(key)).await?),
        None => None,
    };
    let allowed = match &taken {
        Some(pending) => match conferences::conference_by_slug(&mut tx, &pending.slug).await? {
            Some(conference) => may(
                crate::chat::role_of(&mut tx, signed.person, Some(conference.id)).await?,
                "provider add",
            ),
            None => false,
        },
        None => false,
    };
    tx.commit().await?;
    Ok(taken.filter(|p| allowed && now - p.started <= PENDING_FOR))
}

/// [`take_pending`], or the page to answer when it is not there.
async fn pending_or_page(
    state: &AppState,
    signed: &Signed,
    key: &str,
    flow: Flow,
) -> Result<Pending, Response> {
    match take_pending(state, signed, key, flow).await {
        Ok(Some(pending)) => Ok(pending),
        Ok(None) => Err(expired(state)),
        Err(err) => Err(super::internal(state, &err)),
    }
}

/// The config page's providers section, with `template` (from `messages/`) as its notice.
async fn back(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    template: &str,
    context: serde_json::Value,
) -> Response {
    let result = async {
        let text = state
            .templates
            .words(super::language().as_deref())
            .render(&format!("messages/{template}.html"), &context)?;
        let notice = Notice {
            text: herald_bots::html::to_text(&text),
            field: None,
            form: Some("providers".into()),
            kept: None,
        };
        act::keep(state, signed, &notice).await?;
        anyhow::Ok(Some(()))
    }
    .await;
    super::after_form(state, result, &format!("/config?c={slug}#providers"))
}

/// Why Herald itself will not connect an account (the words are `messages/connect_failed.html`'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "snake_case")]
enum Refusal {
    #[error("not yours to connect")]
    NotYours,
    #[error("connected with /provider add")]
    NotConnectable,
    #[error("no X app configured")]
    NoXApp,
    #[error("no LinkedIn app configured")]
    NoLinkedInApp,
    #[error("no public address")]
    NoPublicUrl,
    #[error("an X webhook is registered")]
    WebhookRegistered,
    #[error("no organisation page")]
    NoPages,
    #[error("a page not offered")]
    PageNotOffered,
}

/// Back to the providers section, saying why connecting `name` did not work: Herald's own reason, or the
/// network's error.
async fn failed(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    name: &str,
    err: &anyhow::Error,
) -> Response {
    let context = match err.downcast_ref::<Refusal>() {
        Some(reason) => json!({ "name": name, "reason": reason }),
        None => json!({ "name": name, "error": format!("{err:#}") }),
    };
    back(state, signed, slug, "connect_failed", context).await
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// "Connect": starts the network's authorisation for provider `name` of the conference `slug`.
async fn start(
    State(state): State<AppState>,
    signed: Signed,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<super::auth::CsrfOnly>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    let found = async {
        let mut tx = state.db.begin().await?;
        let Some(conference) = conferences::conference_by_slug(&mut tx, &slug).await? else {
            return anyhow::Ok(None);
        };
        let role = crate::chat::role_of(&mut tx, signed.person, Some(conference.id)).await?;
        let provider = providers::provider_by_name(&mut tx, conference.series_id, &name).await?;
        let stored = match &provider {
            Some(p) => providers::credentials(&mut tx, p.id).await?,
            None => serde_json::Value::Null,
        };
        tx.commit().await?;
        Ok(Some((role, provider, stored)))
    }
    .await;
    let (role, provider, stored) = match found {
        Ok(Some(found)) => found,
        other => return super::after_form(&state, other.map(|_| None), "/config"),
    };
    let Some(provider) = provider.filter(|_| may(role, "provider add")) else {
        return failed(&state, &signed, &slug, &name, &Refusal::NotYours.into()).await;
    };
    let result = match provider.kind.as_str() {
        X => start_x(&state, &signed, &slug, &provider, &stored).await,
        LINKEDIN => start_linkedin(&state, &signed, &slug, &provider).await,
        _ => Err(Refusal::NotConnectable.into()),
    };
    match result {
        Ok(response) => response,
        Err(err) => failed(&state, &signed, &slug, &name, &err).await,
    }
}

/// The X app to sign in with: the configured one, or the consumer key and secret the account has.
fn x_app(state: &AppState, stored: &serde_json::Value) -> anyhow::Result<(String, String)> {
    if let Some(app) = &state.connect.apps.x {
        return Ok(app.clone());
    }
    match Credentials::read(stored) {
        Some(Credentials::OAuth1 {
            consumer_key,
            consumer_secret,
            ..
        }) => Ok((consumer_key, consumer_secret)),
        _ => Err(Refusal::NoXApp.into()),
    }
}

fn x_base(provider: &providers::Provider) -> anyhow::Result<url::Url> {
    Ok(provider
        .base_url
        .as_deref()
        .unwrap_or(x::API_BASE)
        .parse()?)
}

async fn start_x(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    provider: &providers::Provider,
    stored: &serde_json::Value,
) -> anyhow::Result<Response> {
    let base = x_base(provider)?;
    // With an OAuth 2.0 app and an address to come back to: the code flow with PKCE.
    if let (Some(app), Some(public)) = (state.connect.apps.x_oauth2_app(), &state.public_url) {
        let pkce = x::oauth2::Pkce::generate();
        let key = crate::token::new_token();
        // An OAuth 2.0 account has no consumer secret to check X's webhook with: take that back first.
        if crate::social::registered_webhook(&state.db, provider.id)
            .await?
            .is_some()
        {
            return Err(Refusal::WebhookRegistered.into());
        }
        let pending = Pending {
            flow: Flow::XOAuth2,
            provider: provider.id,
            person: signed.person,
            slug: slug.to_owned(),
            started: state.clock.now(),
            pages: Vec::new(),
            secret: Some(pkce.verifier.clone()),
            tokens: None,
        };
        keep_pending(state, &key, &pending).await?;
        let redirect = public.join(X_OAUTH2_CALLBACK)?;
        let authorize = x::oauth2::authorize_url(
            &x::oauth2::AUTHORIZE_URL.parse()?,
            &app,
            redirect.as_str(),
            x::oauth2::SCOPES,
            &key,
            &pkce,
        );
        return Ok(Redirect::to(authorize.as_str()).into_response());
    }
    let (key, secret) = x_app(state, stored)?;
    let callback = match &state.public_url {
        Some(public) => public.join("connect/x/callback")?.to_string(),
        None => x::oauth1::OUT_OF_BAND.to_owned(),
    };
    let request = x::oauth1::request_token(&http()?, &base, &key, &secret, &callback).await?;
    let pending = Pending {
        flow: Flow::XOAuth1,
        provider: provider.id,
        person: signed.person,
        slug: slug.to_owned(),
        started: state.clock.now(),
        pages: Vec::new(),
        secret: Some(request.secret.clone()),
        tokens: None,
    };
    keep_pending(state, &request.token, &pending).await?;
    let authorize = x::oauth1::authorize_url(&base, &request.token);
    if state.public_url.is_some() {
        return Ok(Redirect::to(authorize.as_str()).into_response());
    }
    // No address X could send the browser back to: X shows a PIN, typed here.
    Ok(super::page(
        state,
        StatusCode::OK,
        "connect",
        json!({ "me": { "name": signed.name, "csrf": signed.session.csrf_token },
                "network": X, "name": provider.internal_name, "slug": slug,
                "authorize": authorize.as_str(), "token": request.token }),
    ))
}

/// Finishes X's flow with the verifier (from the callback or the PIN): the account's token is stored.
async fn finish_x(state: &AppState, signed: &Signed, token: &str, verifier: &str) -> Response {
    let pending = match pending_or_page(state, signed, token, Flow::XOAuth1).await {
        Ok(pending) => pending,
        Err(page) => return page,
    };
    let result = async {
        let provider = pending_provider(state, &pending).await?;
        let stored = provider_credentials(state, provider.id).await?;
        let (key, secret) = x_app(state, &stored)?;
        let access = x::oauth1::access_token(
            &http()?,
            &x_base(&provider)?,
            &key,
            &secret,
            token,
            pending.secret.as_deref().unwrap_or_default(),
            verifier.trim(),
        )
        .await?;
        let credentials = Credentials::OAuth1 {
            consumer_key: key,
            consumer_secret: secret,
            token: access.token,
            token_secret: access.secret,
        };
        let mut tx = state.db.begin().await?;
        providers::set_credentials(
            &mut tx,
            state.clock.now(),
            provider.id,
            &credentials.to_json(),
        )
        .await?;
        tx.commit().await?;
        anyhow::Ok((provider.internal_name, format!("@{}", access.screen_name)))
    }
    .await;
    match result {
        Ok((name, account)) => {
            back(
                state,
                signed,
                &pending.slug,
                "connect_done",
                json!({ "name": name, "account": account }),
            )
            .await
        }
        Err(err) => failed(state, signed, &pending.slug, "X", &err).await,
    }
}

/// A flow that is not (or no longer) there: a plain page saying to start again.
fn expired(state: &AppState) -> Response {
    super::page(
        state,
        StatusCode::BAD_REQUEST,
        "error",
        json!({ "reason": "connect_expired" }),
    )
}

/// The provider a pending connection is for; an error when it was removed meanwhile.
async fn pending_provider(
    state: &AppState,
    pending: &Pending,
) -> anyhow::Result<providers::Provider> {
    let mut tx = state.db.begin().await?;
    let provider = providers::provider_by_id(&mut tx, pending.provider).await?;
    tx.commit().await?;
    provider.ok_or_else(|| anyhow::anyhow!("the provider was removed meanwhile"))
}

async fn provider_credentials(state: &AppState, id: i64) -> anyhow::Result<serde_json::Value> {
    let mut tx = state.db.begin().await?;
    let stored = providers::credentials(&mut tx, id).await?;
    tx.commit().await?;
    Ok(stored)
}

#[derive(Debug, Deserialize)]
struct XCallback {
    oauth_token: Option<String>,
    oauth_verifier: Option<String>,
    /// Set instead when the person declined.
    denied: Option<String>,
}

/// Where X sends the browser back.
async fn x_callback(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<XCallback>,
) -> Response {
    match (query.oauth_token, query.oauth_verifier, query.denied) {
        (Some(token), Some(verifier), None) => finish_x(&state, &signed, &token, &verifier).await,
        (_, _, Some(token)) => {
            match pending_or_page(&state, &signed, &token, Flow::XOAuth1).await {
                Ok(pending) => {
                    let context = json!({ "network": X });
                    back(&state, &signed, &pending.slug, "connect_declined", context).await
                }
                Err(page) => page,
            }
        }
        _ => expired(&state),
    }
}

#[derive(Debug, Deserialize)]
struct CodeCallback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl CodeCallback {
    /// What a code flow's callback brought for `flow`: its pending connection (spent), its state and the
    /// code; or the page to answer (not under way, or declined at `network`).
    async fn read(
        self,
        state: &AppState,
        signed: &Signed,
        flow: Flow,
        network: &str,
    ) -> Result<(Pending, String, String), Response> {
        let Some(key) = self.state else {
            return Err(expired(state));
        };
        let pending = pending_or_page(state, signed, &key, flow).await?;
        match self.code.filter(|_| self.error.is_none()) {
            Some(code) => Ok((pending, key, code)),
            None => {
                let why = self.error_description.or(self.error).unwrap_or_default();
                let context = json!({ "network": network, "why": why });
                Err(back(state, signed, &pending.slug, "connect_declined", context).await)
            }
        }
    }
}

/// Where X sends the browser back in the OAuth 2.0 flow: the code (with the PKCE verifier kept) traded for
/// the account's tokens, stored with their end.
async fn x_oauth2_callback(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<CodeCallback>,
) -> Response {
    let (pending, _, code) = match query.read(&state, &signed, Flow::XOAuth2, X).await {
        Ok(read) => read,
        Err(page) => return page,
    };
    let result = async {
        let app = state
            .connect
            .apps
            .x_oauth2_app()
            .ok_or_else(|| anyhow::anyhow!("the X OAuth 2.0 app is no longer configured"))?;
        let public = state
            .public_url
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no public address"))?;
        let provider = pending_provider(&state, &pending).await?;
        let pair = x::oauth2::exchange_code(
            &http()?,
            &x_base(&provider)?,
            &app,
            &code,
            public.join(X_OAUTH2_CALLBACK)?.as_str(),
            pending.secret.as_deref().unwrap_or_default(),
            chrono::Utc::now(),
        )
        .await?;
        let mut credentials = Credentials::XOAuth2 {
            client_id: app.client_id,
            user_id: None,
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            expires_at: pair.expires_at,
        }
        .to_json();
        let me = crate::social::x::client(&provider, &credentials)?
            .me()
            .await?;
        credentials["user_id"] = json!(me.id);
        let mut tx = state.db.begin().await?;
        providers::set_credentials(&mut tx, state.clock.now(), provider.id, &credentials).await?;
        tx.commit().await?;
        anyhow::Ok((provider.internal_name, format!("@{}", me.username)))
    }
    .await;
    match result {
        Ok((name, account)) => {
            back(
                &state,
                &signed,
                &pending.slug,
                "connect_done",
                json!({ "name": name, "account": account }),
            )
            .await
        }
        Err(err) => failed(&state, &signed, &pending.slug, "X", &err).await,
    }
}

#[derive(Debug, Deserialize)]
struct PinForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    pin: String,
}

/// The PIN X showed, typed on the connect page.
async fn x_pin(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<PinForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    finish_x(&state, &signed, &form.token, &form.pin).await
}

fn linkedin_redirect(state: &AppState) -> anyhow::Result<url::Url> {
    let Some(public) = &state.public_url else {
        return Err(Refusal::NoPublicUrl.into());
    };
    Ok(public.join("connect/linkedin/callback")?)
}

fn linkedin_app(state: &AppState) -> anyhow::Result<(String, String)> {
    state
        .connect
        .apps
        .linkedin
        .clone()
        .ok_or_else(|| Refusal::NoLinkedInApp.into())
}

async fn start_linkedin(
    state: &AppState,
    signed: &Signed,
    slug: &str,
    provider: &providers::Provider,
) -> anyhow::Result<Response> {
    let (client_id, _) = linkedin_app(state)?;
    let redirect = linkedin_redirect(state)?;
    let key = crate::token::new_token();
    let pending = Pending {
        flow: Flow::LinkedIn,
        provider: provider.id,
        person: signed.person,
        slug: slug.to_owned(),
        started: state.clock.now(),
        pages: Vec::new(),
        secret: None,
        tokens: None,
    };
    keep_pending(state, &key, &pending).await?;
    let authorize = oauth::authorize_url(&client_id, redirect.as_str(), &key, oauth::SCOPES);
    Ok(Redirect::to(authorize.as_str()).into_response())
}

fn linkedin_client(
    state: &AppState,
    provider: &providers::Provider,
    token: &str,
) -> anyhow::Result<LinkedInClient> {
    let base: url::Url = provider
        .base_url
        .as_deref()
        .unwrap_or(linkedin::API_BASE)
        .parse()?;
    Ok(LinkedInClient::new(
        base,
        token,
        Version::parse(&state.connect.linkedin_version)?,
        http()?,
    ))
}

/// Where LinkedIn sends the browser back: the code is traded for tokens, then the page is the one the
/// member administers, or the one they pick.
async fn linkedin_callback(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<CodeCallback>,
) -> Response {
    let (mut pending, key, code) = match query.read(&state, &signed, Flow::LinkedIn, LINKEDIN).await
    {
        Ok(read) => read,
        Err(page) => return page,
    };
    let slug = pending.slug.clone();
    let result = async {
        let (client_id, client_secret) = linkedin_app(&state)?;
        let redirect = linkedin_redirect(&state)?;
        let oauth_base = state
            .connect
            .apps
            .linkedin_oauth
            .clone()
            .unwrap_or(oauth::OAUTH_BASE.parse()?);
        let tokens = oauth::exchange_code(
            &http()?,
            &oauth_base,
            &client_id,
            &client_secret,
            redirect.as_str(),
            &code,
            state.clock.now(),
        )
        .await?;
        let provider = pending_provider(&state, &pending).await?;
        let pages = linkedin_client(&state, &provider, &tokens.access_token)?
            .administered_organizations()
            .await?;
        pending.tokens = Some(StoredTokens {
            access_token: tokens.access_token,
            expires_at: tokens.expires_at,
            refresh_token: tokens.refresh_token,
            refresh_expires_at: tokens.refresh_expires_at,
        });
        anyhow::Ok((provider, pages))
    }
    .await;
    let (provider, pages) = match result {
        Ok(found) => found,
        Err(err) => {
            return failed(&state, &signed, &slug, "LinkedIn", &err).await;
        }
    };
    match pages.as_slice() {
        [] => {
            failed(
                &state,
                &signed,
                &slug,
                &provider.internal_name,
                &Refusal::NoPages.into(),
            )
            .await
        }
        [page] => {
            save_linkedin(
                &state,
                &signed,
                &pending,
                &page.urn,
                &page.organization.localized_name,
            )
            .await
        }
        several => {
            // Kept again, with the tokens and the pages offered, for the pick.
            pending.pages = several.iter().map(|p| p.urn.clone()).collect();
            if let Err(err) = keep_pending(&state, &key, &pending).await {
                return super::internal(&state, &err);
            }
            let choices: Vec<serde_json::Value> = several
                .iter()
                .map(|p| json!({ "urn": p.urn, "name": p.organization.localized_name }))
                .collect();
            super::page(
                &state,
                StatusCode::OK,
                "connect",
                json!({ "me": { "name": signed.name, "csrf": signed.session.csrf_token },
                        "network": LINKEDIN, "name": provider.internal_name, "slug": slug,
                        "state": key, "pages": choices }),
            )
        }
    }
}

/// Stores the LinkedIn tokens as the provider's credentials, posting as `urn`.
async fn save_linkedin(
    state: &AppState,
    signed: &Signed,
    pending: &Pending,
    urn: &str,
    page: &str,
) -> Response {
    let Some(tokens) = pending.tokens.clone() else {
        return expired(state);
    };
    let result = async {
        let credentials = Credentials::LinkedIn {
            access_token: tokens.access_token,
            organization: urn.to_owned(),
            expires_at: Some(tokens.expires_at),
            refresh_token: tokens.refresh_token,
            refresh_expires_at: tokens.refresh_expires_at,
        };
        let provider = pending_provider(state, pending).await?;
        let mut tx = state.db.begin().await?;
        providers::set_credentials(
            &mut tx,
            state.clock.now(),
            provider.id,
            &credentials.to_json(),
        )
        .await?;
        tx.commit().await?;
        anyhow::Ok(provider.internal_name)
    }
    .await;
    match result {
        Ok(name) => {
            back(
                state,
                signed,
                &pending.slug,
                "connect_done",
                json!({ "name": name,
                 "account": format!("{page} ({urn})"), "expires": tokens.expires_at.to_rfc3339() }),
            )
            .await
        }
        Err(err) => super::internal(state, &err),
    }
}

#[derive(Debug, Deserialize)]
struct PickForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    organization: String,
}

/// The page picked among those the member administers.
async fn linkedin_pick(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<PickForm>,
) -> Response {
    if !signed.csrf_ok(&form.csrf) {
        return super::csrf_refused(&state);
    }
    let pending = match pending_or_page(&state, &signed, &form.state, Flow::LinkedIn).await {
        Ok(pending) => pending,
        Err(page) => return page,
    };
    // Only a page that was offered (one the member administers).
    let Some(urn) =
        linkedin::organization_urn(&form.organization).filter(|urn| pending.pages.contains(urn))
    else {
        return failed(
            &state,
            &signed,
            &pending.slug,
            "LinkedIn",
            &Refusal::PageNotOffered.into(),
        )
        .await;
    };
    let name = async {
        let tokens = pending
            .tokens
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no tokens kept"))?;
        let provider = pending_provider(&state, &pending).await?;
        let page = linkedin_client(&state, &provider, &tokens.access_token)?
            .organization(&urn)
            .await?;
        anyhow::Ok(page.localized_name)
    }
    .await;
    match name {
        Ok(name) => save_linkedin(&state, &signed, &pending, &urn, &name).await,
        Err(err) => failed(&state, &signed, &pending.slug, "LinkedIn", &err).await,
    }
}
