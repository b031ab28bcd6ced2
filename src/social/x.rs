//! X: posting threads (pictures with alt text on the first part), reposts and direct messages from provider
//! accounts, and checking their credentials. (Mentions and direct messages are heard by `crate::web::x`
//! and `crate::listen::x`.)
//!
//! **X has no idempotency key.** A create whose answer was lost may or may not have made the post, so a
//! thread's progress is kept durably per delivery ([`Progress`], in `system_state`): the ids of the parts
//! posted, and the part whose create went out without an answer. That part is never sent blindly again:
//!
//! ```text
//!   create part i ── ok ───────────► id kept, next part replies to it
//!        │ answer lost (timeout, 5xx, cut connection; or the process died meanwhile)
//!        ▼
//!   retry in a minute (X's timeline lags) ─► find_sent_post(part i since the attempt)
//!        found ─► its id kept, the thread goes on from it
//!        not there ─► create again
//!        cannot tell, or lost again ─► given up: "may already be on X" — the moderators check, then
//!                                      /retry (a person decided: a failed look-up no longer stops it)
//!                                      or /cancel
//! ```

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_bots::{
    Disposition, Rate, RateLimits,
    x::{self, Auth, NewPost, XClient, XError},
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Driver, Pictures, Settings, Verified, WebhookState, load_images, transient};
use crate::{
    db::{Db, providers, system},
    delivery::networks::{self, Credentials, MAYBE_SENT, Network},
    listen::Listener,
    outbox::{ChatClass, Delivery, SendError, Sender},
};
use herald_commands::WebhookAction;

/// How long after a lost answer the account's posts are looked at: X's timeline can lag a new post.
const LOOKUP_AFTER: Duration = Duration::from_secs(60);

/// The X driver.
#[derive(Debug)]
pub struct X;

#[async_trait]
impl Driver for X {
    fn network(&self) -> &'static dyn Network {
        networks::network(networks::X).expect("X is a network")
    }

    fn sender(&self, db: Db, pictures: Arc<Pictures>, settings: &Settings) -> Arc<dyn Sender> {
        XSender::new(db, pictures, settings.clone())
    }

    /// OAuth 2.0 access tokens are renewed when they are about to end ([`renewed`]).
    async fn credentials(
        &self,
        tx: &mut crate::db::Tx,
        provider: &providers::Provider,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> anyhow::Result<serde_json::Value> {
        renewed(tx, provider, settings, now).await
    }

    /// The account the credentials act for (`GET /2/users/me`).
    async fn verify(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        _: &Settings,
    ) -> anyhow::Result<Verified> {
        let me = client(provider, credentials)?.me().await?;
        Ok(Verified {
            account: format!("@{}", me.username),
            max_characters: None,
            warning: None,
        })
    }

    /// `on`: registers `url` with the app (or has X check it again when it is registered but failed its
    /// last check) and subscribes the account; `off`: unsubscribes the account and takes the webhook back;
    /// `status`: what X says about both.
    async fn webhook(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        url: &url::Url,
        action: WebhookAction,
    ) -> anyhow::Result<WebhookState> {
        let account = client(provider, credentials)?;
        let app = app_client(provider, credentials).await?;
        let ours = |hooks: Vec<x::WebhookConfig>| hooks.into_iter().find(|h| h.url == url.as_str());
        let found = ours(app.list_webhooks().await?);
        let mut state = WebhookState {
            url: url.to_string(),
            id: found.as_ref().map(|h| h.id.clone()),
            valid: found.as_ref().is_some_and(|h| h.valid),
            subscribed: false,
        };
        match (action, found) {
            (WebhookAction::On, found) => {
                let hook = match found {
                    Some(hook) if hook.valid => hook,
                    Some(hook) => {
                        app.validate_webhook(&hook.id).await?;
                        ours(app.list_webhooks().await?).unwrap_or(hook)
                    }
                    None => app.create_webhook(url.as_str()).await?,
                };
                state.id = Some(hook.id.clone());
                state.valid = hook.valid;
                state.subscribed = account.subscribe(&hook.id).await?;
            }
            (WebhookAction::Off, Some(hook)) => {
                let me = account.me().await?.id;
                app.unsubscribe(&hook.id, &me).await?;
                app.delete_webhook(&hook.id).await?;
                state.id = None;
                state.valid = false;
            }
            (WebhookAction::Status, Some(hook)) => {
                state.subscribed = account.is_subscribed(&hook.id).await?;
            }
            (WebhookAction::Off | WebhookAction::Status, None) => {}
        }
        Ok(state)
    }

    /// Mentions come by webhook when X can reach Herald, else from the mentions timeline.
    async fn listen(
        &self,
        listener: &Listener,
        credentials: &serde_json::Value,
        cancel: CancellationToken,
    ) {
        crate::listen::x::run(listener, credentials, cancel).await;
    }
}

/// The inbox kind of "the account took back the app's access", as X's webhook announces it.
pub const REVOKED_KIND: &str = "x.revoked";

/// What a revocation stores: the provider whose account revoked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revoked {
    pub provider_id: i64,
    pub user_id: String,
}

/// Tells the organisers at once when an X account revokes the app's access (rather than at the next
/// refused post): its credentials are marked refused, as a refused send would.
#[derive(Debug)]
pub struct RevokedHandler {
    pub templates: Arc<crate::templates::Templates>,
}

#[async_trait]
impl crate::inbox::InboxHandler for RevokedHandler {
    async fn handle(
        &self,
        mut tx: crate::db::Tx,
        event: &crate::db::inbox::InboxEvent,
    ) -> anyhow::Result<crate::db::Tx> {
        let revoked: Revoked = serde_json::from_str(&event.payload)?;
        // The account's user id (an OAuth 1.0a token starts with it; an OAuth 2.0 connection stored it):
        // another account of the same app revoking is not this provider's news.
        let stored = providers::credentials(&mut tx, revoked.provider_id).await?;
        let account = match Credentials::read(&stored) {
            Some(Credentials::OAuth1 { token, .. }) => token
                .split_once('-')
                .map(|(account, _)| account.to_owned())
                .filter(|a| a.bytes().all(|b| b.is_ascii_digit())),
            Some(Credentials::XOAuth2 { user_id, .. }) => user_id,
            _ => None,
        };
        if account.is_some_and(|a| a != revoked.user_id) {
            return Ok(tx);
        }
        crate::delivery::social::credentials_refused(
            &mut tx,
            &self.templates,
            event.received_at,
            revoked.provider_id,
            "the X account took back the app's access (revoked); connect it again",
        )
        .await?;
        Ok(tx)
    }
}

/// A client for provider `provider`'s account.
pub(crate) fn client(
    provider: &providers::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<XClient> {
    let base = provider
        .base_url
        .as_deref()
        .or_else(|| X.network().default_base_url())
        .unwrap_or(x::API_BASE);
    let auth = match Credentials::read(credentials) {
        Some(Credentials::OAuth1 {
            consumer_key,
            consumer_secret,
            token,
            token_secret,
        }) => Auth::OAuth1(x::oauth1::Credentials {
            consumer_key,
            consumer_secret,
            token,
            token_secret,
        }),
        Some(Credentials::XOAuth2 { access_token, .. }) => Auth::Bearer(access_token),
        _ => anyhow::bail!(
            "no consumer key and secret, access token and secret stored; send them after /provider add, or connect the account on the config page"
        ),
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    Ok(XClient::new(base.parse()?, auth, http))
}

/// How long before its end an OAuth 2.0 access token is renewed.
const RENEW_BEFORE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Provider `provider`'s credentials, an OAuth 2.0 access token renewed first when it ends within
/// [`RENEW_BEFORE`]. X's refresh tokens are single-use, so this runs in the caller's transaction with the
/// provider's row locked ([`providers::lock`]): the credentials are read again under the lock (another
/// sender may have renewed them meanwhile), the refresh is made, and the new pair is stored in the same
/// transaction — a rotated refresh token is never sent again. OAuth 1.0a credentials come back as stored.
pub async fn renewed(
    tx: &mut crate::db::Tx,
    provider: &providers::Provider,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    let stored = providers::credentials(tx, provider.id).await?;
    let due = |c: &serde_json::Value| match Credentials::read(c) {
        Some(Credentials::XOAuth2 {
            refresh_token: Some(_),
            expires_at: Some(ends),
            ..
        }) => ends - now <= RENEW_BEFORE,
        _ => false,
    };
    if !due(&stored) {
        return Ok(stored);
    }
    providers::lock(tx, provider.id).await?;
    let stored = providers::credentials(tx, provider.id).await?;
    let Some(Credentials::XOAuth2 {
        client_id,
        user_id,
        refresh_token: Some(refresh),
        ..
    }) = Credentials::read(&stored).filter(|_| due(&stored))
    else {
        return Ok(stored);
    };
    // The configured app's secret when it is the app the account was connected with (a public client
    // has none).
    let app = settings
        .apps
        .x_oauth2_app()
        .filter(|app| app.client_id == client_id)
        .unwrap_or(x::oauth2::App {
            client_id: client_id.clone(),
            client_secret: None,
        });
    let base: url::Url = provider
        .base_url
        .as_deref()
        .unwrap_or(x::API_BASE)
        .parse()?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let pair = x::oauth2::refresh(&http, &base, &app, &refresh, now)
        .await
        .map_err(|e| anyhow::Error::new(e).context("X did not renew the access token"))?;
    let renewed = Credentials::XOAuth2 {
        client_id,
        user_id,
        access_token: pair.access_token,
        refresh_token: pair.refresh_token,
        expires_at: pair.expires_at,
    }
    .to_json();
    providers::set_credentials(tx, now, provider.id, &renewed).await?;
    tracing::info!(provider = %provider.internal_name, "renewed the X access token");
    Ok(renewed)
}

/// A client acting as provider `provider`'s app (an app-only bearer token from its consumer key and
/// secret): what registers webhooks.
pub(crate) async fn app_client(
    provider: &providers::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<XClient> {
    let base: url::Url = provider
        .base_url
        .as_deref()
        .unwrap_or(x::API_BASE)
        .parse()?;
    let Some(Credentials::OAuth1 {
        consumer_key,
        consumer_secret,
        ..
    }) = Credentials::read(credentials)
    else {
        anyhow::bail!("no consumer key and secret stored; send them after /provider add");
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let token = x::oauth2::app_bearer_token(&http, &base, &consumer_key, &consumer_secret).await?;
    Ok(XClient::new(base, Auth::Bearer(token), http))
}

/// How far a delivery's thread got, kept across attempts (and processes) under [`progress_key`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Progress {
    /// The ids of the parts on X, in order.
    posted: Vec<String>,
    /// The part whose create went out without a known answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unknown: Option<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Attempt {
    part: usize,
    at: DateTime<Utc>,
    /// The moderators were asked to check: the next send is their decision.
    #[serde(default)]
    asked: bool,
}

fn progress_key(delivery_key: &str) -> String {
    format!("{}x:{delivery_key}", system::DELIVERY_PROGRESS)
}

/// Posts threads and reposts to X accounts.
#[derive(Debug)]
pub struct XSender {
    db: Db,
    pictures: Arc<Pictures>,
    /// The OAuth 2.0 app, for renewing access tokens.
    settings: Settings,
    /// Per provider: a digest of the credentials and the account's user id (for look-ups and reposts).
    users: tokio::sync::Mutex<HashMap<i64, (String, String)>>,
}

impl XSender {
    pub fn new(db: Db, pictures: Arc<Pictures>, settings: Settings) -> Arc<Self> {
        Arc::new(Self {
            db,
            pictures,
            settings,
            users: Default::default(),
        })
    }

    async fn load(&self, key: &str) -> Result<Progress, SendError> {
        let mut tx = self.db.begin().await.map_err(transient)?;
        let stored = system::get_system(&mut tx, &progress_key(key))
            .await
            .map_err(transient)?;
        tx.commit().await.map_err(transient)?;
        Ok(stored
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    async fn save(&self, key: &str, progress: &Progress) -> Result<(), SendError> {
        let value = serde_json::to_string(progress)
            .map_err(|e| SendError::permanent(format!("thread progress: {e}")))?;
        let mut tx = self.db.begin().await.map_err(transient)?;
        system::set_system(&mut tx, Utc::now(), &progress_key(key), &value)
            .await
            .map_err(transient)?;
        tx.commit().await.map_err(transient)
    }

    /// The account's user id, asked of X once per provider and credentials.
    async fn user_id(
        &self,
        provider: i64,
        credentials: &serde_json::Value,
        client: &XClient,
    ) -> Result<String, XError> {
        // A digest, not the credentials: this map is printed by Debug.
        let stamp = crate::token::hash(&credentials.to_string());
        if let Some((known, id)) = self.users.lock().await.get(&provider)
            && *known == stamp
        {
            return Ok(id.clone());
        }
        let id = client.me().await?.id;
        self.users
            .lock()
            .await
            .insert(provider, (stamp, id.clone()));
        Ok(id)
    }
}

impl XSender {
    /// The provider's OAuth 2.0 credentials, renewed first when they are about to end ([`renewed`]); a
    /// refused renewal stops its posts until the account is connected again, and the organisers are told.
    async fn fresh(&self, provider: &providers::Provider) -> Result<serde_json::Value, SendError> {
        let mut tx = self.db.begin().await.map_err(transient)?;
        match renewed(&mut tx, provider, &self.settings, Utc::now()).await {
            Ok(credentials) => {
                tx.commit().await.map_err(transient)?;
                Ok(credentials)
            }
            // A refused renewal needs a person; a timeout or a database hiccup passes.
            Err(e) => Err(match e.downcast_ref::<XError>().map(XError::disposition) {
                Some(Disposition::Refused | Disposition::Permanent) => SendError {
                    disposition: Disposition::Refused,
                    message: format!("{e:#} — connect the X account again on the config page"),
                    moved_to: None,
                },
                _ => transient(e),
            }),
        }
    }

    /// Sends `parts` as direct messages to the user `to`, part after part, with the same care as a thread:
    /// a part whose answer was lost is looked for in the conversation a minute later before it is sent
    /// again. Returns the first message's id.
    async fn send_direct(
        &self,
        key: &str,
        client: &XClient,
        to: &str,
        parts: &[String],
    ) -> Result<String, SendError> {
        let mut progress = self.load(key).await?;
        for (i, text) in parts.iter().enumerate().skip(progress.posted.len()) {
            let earlier = progress.unknown.clone().filter(|a| a.part == i);
            if let Some(attempt) = &earlier {
                match client.find_sent_dm(to, text, attempt.at).await {
                    Ok(Some(found)) => {
                        progress.posted.push(found);
                        progress.unknown = None;
                        self.save(key, &progress).await?;
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(maybe_sent(
                            i,
                            &format!(
                                "its answer was lost and the conversation cannot be read ({e})"
                            ),
                        ));
                    }
                }
            }
            self.attempt(key, &mut progress, i).await?;
            let sent = client.send_dm(to, text, None).await.map(|s| s.event_id);
            self.settle(key, &mut progress, i, earlier.is_some(), sent, "message")
                .await?;
        }
        Ok(progress.posted.first().cloned().unwrap_or_default())
    }

    /// Writes that part `i`'s create goes out now, before it does: if the answer (or this process) is
    /// lost, the next attempt looks before it sends.
    async fn attempt(&self, key: &str, progress: &mut Progress, i: usize) -> Result<(), SendError> {
        progress.unknown = Some(Attempt {
            part: i,
            at: Utc::now(),
            asked: false,
        });
        self.save(key, progress).await
    }

    /// Records what the create of part `i` (a post or a direct message, `what`) came to: its id kept; a
    /// lost answer looked up a minute later, or given up as "may already be on X" when it was lost
    /// `again`; a refusal returned (nothing was made).
    async fn settle(
        &self,
        key: &str,
        progress: &mut Progress,
        i: usize,
        again: bool,
        created: Result<String, XError>,
        what: &str,
    ) -> Result<(), SendError> {
        match created {
            Ok(id) => {
                progress.posted.push(id);
                progress.unknown = None;
                self.save(key, progress).await
            }
            Err(e) if e.is_unknown_outcome() && again => {
                progress.unknown = progress
                    .unknown
                    .take()
                    .map(|a| Attempt { asked: true, ..a });
                self.save(key, progress).await?;
                Err(maybe_sent(i, &format!("its answer was lost again ({e})")))
            }
            Err(e) if e.is_unknown_outcome() => Err(SendError {
                disposition: Disposition::RetryAfter(LOOKUP_AFTER),
                message: format!("{e}; looking for {what} {} on X first", i + 1),
                moved_to: None,
            }),
            Err(e) => {
                progress.unknown = None;
                self.save(key, progress).await?;
                Err(failed(&e))
            }
        }
    }
}

fn failed(e: &XError) -> SendError {
    SendError {
        disposition: e.disposition(),
        message: e.to_string(),
        moved_to: None,
    }
}

/// Given up: part `part` may be on X, and a person must look.
fn maybe_sent(part: usize, why: &str) -> SendError {
    SendError::permanent(format!(
        "{MAYBE_SENT} X: part {} — {why}; check the account before sending it again",
        part + 1
    ))
}

#[async_trait]
impl Sender for XSender {
    /// X's own limits are per endpoint and per day and come back as 429 with their reset; Herald keeps
    /// under the 100 posts per 15 minutes per user of `POST /2/tweets`.
    fn limits(&self) -> RateLimits {
        RateLimits {
            per_provider: Rate::Limited {
                count: 100,
                per: Duration::from_secs(15 * 60),
            },
            per_private_chat: Rate::Unlimited,
            per_group_chat: Rate::Unlimited,
        }
    }

    fn chat_class(&self, _target: &str) -> ChatClass {
        ChatClass::Group
    }

    async fn send(&self, delivery: Delivery<'_>) -> Result<String, SendError> {
        let super::Addressed {
            provider,
            credentials,
            body,
        } = super::addressed(&self.db, &delivery).await?;
        let id = provider.id;
        let credentials = if matches!(
            Credentials::read(&credentials),
            Some(Credentials::XOAuth2 { .. })
        ) {
            self.fresh(&provider).await?
        } else {
            credentials
        };
        let client =
            client(&provider, &credentials).map_err(|e| SendError::permanent(format!("{e:#}")))?;
        // A notice to a person, or the answer to a direct message: direct messages to them.
        let private = body.reply_to.as_ref().filter(|r| r.direct);
        if body.direct || private.is_some() {
            let to = body
                .to
                .clone()
                .or_else(|| private.and_then(|r| r.author.clone()))
                .ok_or_else(|| SendError::permanent("a direct message with no recipient"))?;
            return self
                .send_direct(delivery.idempotency_key, &client, &to, &body.parts)
                .await;
        }
        if let Some(target) = &body.boost {
            // Reposting twice reposts once: safe to retry.
            let user = self
                .user_id(id, &credentials, &client)
                .await
                .map_err(|e| failed(&e))?;
            client
                .repost(&user, &target.id)
                .await
                .map_err(|e| failed(&e))?;
            return Ok(target.id.clone());
        }

        let key = delivery.idempotency_key;
        let mut progress = self.load(key).await?;
        // Pictures go on the first part (X takes four a post); not uploaded again once it is out.
        let mut images = Vec::new();
        if progress.posted.is_empty() && !body.images.is_empty() {
            for image in load_images(&self.db, &self.pictures, &body.images, x::MAX_IMAGE_BYTES)
                .await?
                .into_iter()
                .take(x::MAX_IMAGES)
            {
                let image = x::Image {
                    bytes: image.bytes,
                    mime: image.mime,
                    alt: image.alt,
                };
                let media = client.upload_image(&image).await.map_err(|e| SendError {
                    message: format!("uploading a picture: {e}"),
                    ..failed(&e)
                })?;
                images.push(media);
            }
        }
        for (i, text) in body.parts.iter().enumerate().skip(progress.posted.len()) {
            let earlier = progress.unknown.clone().filter(|a| a.part == i);
            if let Some(attempt) = &earlier {
                let user = self.user_id(id, &credentials, &client).await;
                let found = match user {
                    Ok(user) => client.find_sent_post(&user, text, attempt.at).await,
                    Err(e) => Err(e),
                };
                match found {
                    Ok(Some(post)) => {
                        tracing::info!(part = i + 1, "a part whose answer was lost is on X");
                        progress.posted.push(post.id);
                        progress.unknown = None;
                        self.save(key, &progress).await?;
                        continue;
                    }
                    Ok(None) => {}
                    // The moderators looked and sent it again: theirs is the decision.
                    Err(e) if attempt.asked => {
                        tracing::warn!(error = %e, "could not look for a lost part; posting as the moderators asked");
                    }
                    Err(e) => {
                        progress.unknown = Some(Attempt {
                            asked: true,
                            ..attempt.clone()
                        });
                        self.save(key, &progress).await?;
                        return Err(maybe_sent(
                            i,
                            &format!(
                                "its answer was lost and the account's posts cannot be read ({e})"
                            ),
                        ));
                    }
                }
            }
            let post = NewPost {
                text: text.clone(),
                reply_to: progress
                    .posted
                    .last()
                    .cloned()
                    .or_else(|| body.reply_to.as_ref().map(|r| r.id.clone())),
                media_ids: if i == 0 {
                    std::mem::take(&mut images)
                } else {
                    Vec::new()
                },
            };
            self.attempt(key, &mut progress, i).await?;
            let posted = client.create_post(&post).await.map(|p| p.id);
            self.settle(key, &mut progress, i, earlier.is_some(), posted, "part")
                .await?;
        }
        Ok(progress.posted.first().cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_back_and_an_old_one_without_asked_is_not_asked() {
        let progress = Progress {
            posted: vec!["1".into()],
            unknown: Some(Attempt {
                part: 1,
                at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
                asked: false,
            }),
        };
        let text = serde_json::to_string(&progress).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Progress>(&text).ok(), Some(progress));
        let old: Progress = serde_json::from_str(
            r#"{"posted":[],"unknown":{"part":0,"at":"2026-01-01T00:00:00Z"}}"#,
        )
        .unwrap_or_default();
        assert_eq!(old.unknown.map(|a| a.asked), Some(false));
    }
}
