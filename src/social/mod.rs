//! Social networks as the application uses them: each network's driver ([`Driver`]: its outbox sender, how
//! to check its credentials, its listener), one module per network, and what they share (pictures). The
//! senders are built from the providers table (credentials are read per send, so a change takes effect at
//! once and a deactivated provider stops its queued posts).

pub mod bluesky;
pub mod linkedin;
pub mod mastodon;
pub mod tokens;
pub mod x;

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::Disposition;
use tokio_util::sync::CancellationToken;

use crate::{
    db::{Db, post_images, providers},
    delivery::{networks::Network, social::ThreadBody},
    images::{Fitted, sniff_image_type},
    listen::Listener,
    outbox::{SendError, Sender},
};

/// Where the bytes of a picture sent to the bot come from, by the file id the chat platform gave it.
#[async_trait]
pub trait PictureSource: Send + Sync + std::fmt::Debug {
    async fn fetch(&self, file_id: &str) -> Result<Vec<u8>, SendError>;
}

/// Picture bytes for the senders: fetched from the source once, then read from the database. One
/// download at a time, so two networks posting the same picture at once do not both fetch it.
#[derive(Debug)]
pub struct Pictures {
    source: Option<Arc<dyn PictureSource>>,
    fetching: tokio::sync::Mutex<()>,
}

impl Pictures {
    pub fn new(source: Option<Arc<dyn PictureSource>>) -> Arc<Self> {
        Arc::new(Self {
            source,
            fetching: tokio::sync::Mutex::new(()),
        })
    }
}

/// A post's image ready to upload.
pub(crate) struct Loaded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) mime: String,
    pub(crate) alt: String,
}

/// Reads a delivery's images, downloading (once, then kept) those that only have a Telegram file id,
/// each scaled down to at most `max_bytes` when larger.
pub(crate) async fn load_images(
    db: &Db,
    pictures: &Pictures,
    ids: &[i64],
    max_bytes: usize,
) -> Result<Vec<Loaded>, SendError> {
    let read = |id: i64| async move {
        let mut tx = db.begin().await.map_err(transient)?;
        let found = post_images::image_by_id(&mut tx, id)
            .await
            .map_err(transient)?;
        tx.commit().await.map_err(transient)?;
        found.ok_or_else(|| SendError::permanent(format!("image {id} of the post was removed")))
    };
    let mut loaded = Vec::with_capacity(ids.len());
    for &id in ids {
        let (mut image, mut bytes) = read(id).await?;
        let _fetching;
        if bytes.is_empty() {
            // Another delivery may be fetching it right now: wait, then look again.
            _fetching = pictures.fetching.lock().await;
            (image, bytes) = read(id).await?;
        }
        if bytes.is_empty() {
            let (Some(file_id), Some(source)) = (&image.telegram_file_id, &pictures.source) else {
                return Err(SendError::permanent(format!(
                    "picture {} has no bytes and Telegram is not configured to fetch it from",
                    image.position
                )));
            };
            bytes = source.fetch(file_id).await?;
            let mut tx = db.begin().await.map_err(transient)?;
            post_images::set_image_data(&mut tx, id, &bytes)
                .await
                .map_err(transient)?;
            tx.commit().await.map_err(transient)?;
        }
        let mime = sniff_image_type(&bytes).map_or(image.content_type, str::to_owned);
        let fitted = fit_off_thread(bytes, mime, max_bytes, image.position).await?;
        loaded.push(Loaded {
            mime: fitted.mime,
            bytes: fitted.bytes,
            alt: image.alt_text,
        });
    }
    Ok(loaded)
}

/// What a post's delivery names: its thread, and the provider account with its credentials.
pub(crate) struct Addressed {
    pub(crate) provider: providers::Provider,
    pub(crate) credentials: serde_json::Value,
    pub(crate) body: ThreadBody,
}

/// Reads what `delivery` names; a provider that is gone or deactivated stops it for good.
pub(crate) async fn addressed(
    db: &Db,
    delivery: &crate::outbox::Delivery<'_>,
) -> Result<Addressed, SendError> {
    let id: i64 = delivery
        .target
        .parse()
        .map_err(|_| SendError::permanent("not a provider id"))?;
    let body: ThreadBody = serde_json::from_str(delivery.body)
        .map_err(|e| SendError::permanent(format!("unreadable post: {e}")))?;
    let mut tx = db.begin().await.map_err(transient)?;
    let provider = providers::provider_by_id(&mut tx, id)
        .await
        .map_err(transient)?;
    let credentials = providers::credentials(&mut tx, id)
        .await
        .map_err(transient)?;
    tx.commit().await.map_err(transient)?;
    let Some(provider) = provider.filter(|p| p.active) else {
        return Err(SendError::permanent("the provider is deactivated"));
    };
    Ok(Addressed {
        provider,
        credentials,
        body,
    })
}

/// What checking a provider found: the account it signs in as, and the network's text limit if it has
/// its own.
#[derive(Debug, Clone)]
pub struct Verified {
    pub account: String,
    pub max_characters: Option<usize>,
    /// Something about the account's setup to act on soon (LinkedIn: the configured version ends within a
    /// month), as the `provider_ok` template's `warning`.
    pub warning: Option<serde_json::Value>,
}

/// A provider's webhook as the network knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookState {
    /// Herald's address the network calls.
    pub url: String,
    /// Registered with the network (its id there).
    pub id: Option<String>,
    /// The network's last check of the address passed (it delivers only then).
    pub valid: bool,
    /// The account's events are delivered to it.
    pub subscribed: bool,
}

/// The system-state key under which provider `id`'s registered webhook id is kept (empty: none), for the
/// listener to know whether the network pushes or must be polled.
pub fn webhook_key(id: i64) -> String {
    format!("webhook:{id}")
}

/// The webhook id stored for provider `id`, if one is registered.
pub async fn registered_webhook(db: &Db, id: i64) -> anyhow::Result<Option<String>> {
    let mut tx = db.begin().await?;
    let stored = crate::db::system::get_system(&mut tx, &webhook_key(id)).await?;
    tx.commit().await?;
    Ok(stored.filter(|s| !s.is_empty()))
}

/// Remembers (or forgets, with `None`) provider `id`'s registered webhook.
pub async fn remember_webhook(
    tx: &mut crate::db::Tx,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    webhook: Option<&str>,
) -> anyhow::Result<()> {
    crate::db::system::set_system(tx, now, &webhook_key(id), webhook.unwrap_or_default()).await
}

/// Herald's address for provider `id`'s X webhook under its public address.
pub fn x_webhook_url(public: &url::Url, id: i64) -> anyhow::Result<url::Url> {
    let path = crate::web::x::PATH.replace("{provider}", &id.to_string());
    Ok(public.join(path.trim_start_matches('/'))?)
}

/// The OAuth apps Herald signs in with, from the configuration: the config page's connect flows, the X
/// sender renewing OAuth 2.0 tokens, and the token watch renewing LinkedIn's.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Apps {
    /// X's OAuth 1.0a app: consumer key and secret.
    pub x: Option<(String, String)>,
    /// X's OAuth 2.0 app: client id, and its secret for a confidential client.
    pub x_oauth2: Option<(String, Option<String>)>,
    /// LinkedIn's app: client id and secret.
    pub linkedin: Option<(String, String)>,
    pub linkedin_oauth: Option<url::Url>,
}

impl std::fmt::Debug for Apps {
    /// Never the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apps")
            .field("x", &self.x.as_ref().map(|(key, _)| key))
            .field("x_oauth2", &self.x_oauth2.as_ref().map(|(id, _)| id))
            .field("linkedin", &self.linkedin.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

impl Apps {
    pub fn of(config: &crate::config::Config) -> Self {
        let set = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let secret = |value: &Option<crate::config::Secret>| {
            value
                .as_ref()
                .map(|s| s.expose().trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Self {
            x: set(&config.x_consumer_key).zip(secret(&config.x_consumer_secret)),
            x_oauth2: set(&config.x_client_id).map(|id| (id, secret(&config.x_client_secret))),
            linkedin: set(&config.linkedin_client_id).zip(secret(&config.linkedin_client_secret)),
            linkedin_oauth: Some(config.linkedin_oauth_url.clone()),
        }
    }

    /// X's OAuth 2.0 app as the driver takes it.
    pub fn x_oauth2_app(&self) -> Option<herald_bots::x::oauth2::App> {
        self.x_oauth2
            .clone()
            .map(|(client_id, client_secret)| herald_bots::x::oauth2::App {
                client_id,
                client_secret,
            })
    }
}

/// What the networks' drivers take from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The `Linkedin-Version` (`YYYYMM`) of every LinkedIn request.
    pub linkedin_version: String,
    /// The OAuth apps.
    pub apps: Apps,
}

impl Settings {
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            linkedin_version: config.linkedin_version.trim().to_owned(),
            apps: Apps::of(config),
        }
    }
}

/// One social network's working parts, beside its description ([`Network`]).
#[async_trait]
pub trait Driver: Sync + std::fmt::Debug {
    /// What the network is and can do.
    fn network(&self) -> &'static dyn Network;

    /// The outbox's sender for the network's provider accounts.
    fn sender(&self, db: Db, pictures: Arc<Pictures>, settings: &Settings) -> Arc<dyn Sender>;

    /// The provider's credentials as stored, or renewed first where the network's tokens run out and can
    /// be renewed (X's OAuth 2.0), in `tx` with the provider's row locked.
    async fn credentials(
        &self,
        tx: &mut crate::db::Tx,
        provider: &providers::Provider,
        settings: &Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<serde_json::Value> {
        let _ = (settings, now);
        providers::credentials(tx, provider.id).await
    }

    /// Checks a provider's credentials with the network.
    async fn verify(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        settings: &Settings,
    ) -> anyhow::Result<Verified>;

    /// Registers, takes back or shows the network's webhook for the account (`/provider webhook`), at
    /// `url` (Herald's own address for it). Only networks that push to a webhook have one.
    async fn webhook(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        url: &url::Url,
        action: herald_commands::WebhookAction,
    ) -> anyhow::Result<WebhookState> {
        let _ = (provider, credentials, url, action);
        anyhow::bail!("{} has no webhook to register", self.network().name())
    }

    /// Hears what the network tells the account (mentions, direct messages) until `cancel`; a network
    /// without a mentions inbox returns at once.
    async fn listen(
        &self,
        listener: &Listener,
        credentials: &serde_json::Value,
        cancel: CancellationToken,
    );
}

/// Every network's driver: `app.rs` builds the senders from this, the listeners' supervisor and `/provider
/// test` find theirs here.
pub static DRIVERS: &[&dyn Driver] = &[
    &mastodon::Mastodon,
    &bluesky::Bluesky,
    &x::X,
    &linkedin::LinkedIn,
];

/// The driver of a provider kind.
pub fn driver(kind: &str) -> Option<&'static dyn Driver> {
    DRIVERS.iter().copied().find(|d| d.network().name() == kind)
}

/// A provider's credentials, renewed first where its network's tokens can be ([`Driver::credentials`]).
pub async fn credentials(
    tx: &mut crate::db::Tx,
    provider: &providers::Provider,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<serde_json::Value> {
    match driver(&provider.kind) {
        Some(driver) => driver.credentials(tx, provider, settings, now).await,
        None => providers::credentials(tx, provider.id).await,
    }
}

/// Checks a provider's credentials.
pub async fn verify(
    provider: &providers::Provider,
    credentials: &serde_json::Value,
    settings: &Settings,
) -> anyhow::Result<Verified> {
    match driver(&provider.kind) {
        Some(driver) => driver.verify(provider, credentials, settings).await,
        None => anyhow::bail!("testing {} providers is not supported", provider.kind),
    }
}

/// [`crate::images::fit`] on a blocking thread; picture `position` of its post when it cannot fit.
async fn fit_off_thread(
    bytes: Vec<u8>,
    mime: String,
    max_bytes: usize,
    position: i64,
) -> Result<Fitted, SendError> {
    if bytes.len() <= max_bytes {
        return Ok(Fitted { bytes, mime });
    }
    tokio::task::spawn_blocking(move || crate::images::fit(bytes, &mime, max_bytes))
        .await
        .map_err(|e| transient(anyhow::anyhow!("scaling a picture: {e}")))?
        .map_err(|e| SendError::permanent(format!("picture {position}: {e}")))
}

pub(crate) fn transient(e: anyhow::Error) -> SendError {
    SendError {
        disposition: Disposition::Transient,
        message: format!("{e:#}"),
        moved_to: None,
    }
}
