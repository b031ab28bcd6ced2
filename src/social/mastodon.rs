//! Mastodon: posting threads, boosts and direct statuses from provider accounts, checking their
//! credentials, and their listener (`crate::listen::mastodon`).

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::{
    Rate, RateLimits,
    mastodon::{MastodonClient, NewStatus, Visibility},
};
use tokio_util::sync::CancellationToken;

use super::{Driver, Pictures, Settings, Verified, load_images, transient};
use crate::{
    db::{Db, providers},
    delivery::networks::{self, Credentials, Network},
    listen::Listener,
    outbox::{ChatClass, Delivery, SendError, Sender},
};

/// The Mastodon driver.
#[derive(Debug)]
pub struct Mastodon;

#[async_trait]
impl Driver for Mastodon {
    fn network(&self) -> &'static dyn Network {
        networks::network(networks::MASTODON).expect("Mastodon is a network")
    }

    fn sender(&self, db: Db, pictures: Arc<Pictures>, _: &Settings) -> Arc<dyn Sender> {
        MastodonSender::new(db, pictures)
    }

    /// The account it signs in as, and the instance's text limit.
    async fn verify(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        _: &Settings,
    ) -> anyhow::Result<Verified> {
        let client = mastodon_client(provider, credentials)?;
        let account = client.verify_credentials().await?;
        let limit = client.character_limit().await?;
        Ok(Verified {
            account: format!("@{}", account.acct),
            max_characters: Some(limit),
            warning: None,
        })
    }

    async fn listen(
        &self,
        listener: &Listener,
        credentials: &serde_json::Value,
        cancel: CancellationToken,
    ) {
        crate::listen::mastodon::run(listener, credentials, cancel).await;
    }
}

fn mastodon_client(
    provider: &providers::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<MastodonClient> {
    let base = provider
        .base_url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("the provider has no instance address"))?;
    let Some(Credentials::Token { token }) = Credentials::read(credentials) else {
        anyhow::bail!("no access token stored; send it after /provider add");
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()?;
    Ok(MastodonClient::new(base.parse()?, &token, http))
}

/// Posts threads to Mastodon accounts.
#[derive(Debug)]
pub struct MastodonSender {
    db: Db,
    pictures: Arc<Pictures>,
    /// This database's random id, in every Idempotency-Key (see [`installation`]).
    installation: tokio::sync::OnceCell<String>,
}

impl MastodonSender {
    pub fn new(db: Db, pictures: Arc<Pictures>) -> Arc<Self> {
        Arc::new(Self {
            db,
            pictures,
            installation: tokio::sync::OnceCell::new(),
        })
    }
}

const INSTALLATION_KEY: &str = "installation_id";

/// A random id made once per database. Mastodon remembers Idempotency-Keys per account for an hour; a
/// key made of this database's post numbers alone would collide with another Herald's (a fresh install, a
/// staging copy) posting to the same account, which would get this one's status back instead of posting.
async fn installation(db: &Db) -> anyhow::Result<String> {
    let mut tx = db.begin().await?;
    let id = crate::db::system::set_system_if_absent(
        &mut tx,
        chrono::Utc::now(),
        INSTALLATION_KEY,
        &crate::token::new_token(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[async_trait]
impl Sender for MastodonSender {
    /// Mastodon's default: 300 requests per 5 minutes per account; one status at a time per account.
    fn limits(&self) -> RateLimits {
        RateLimits {
            per_provider: Rate::Limited {
                count: 300,
                per: std::time::Duration::from_secs(300),
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
        let client = mastodon_client(&provider, &credentials)
            .map_err(|e| SendError::permanent(format!("{e:#}")))?;
        if let Some(target) = &body.boost {
            let boosted = client.reblog(&target.id).await.map_err(|e| SendError {
                disposition: e.disposition(),
                message: e.to_string(),
                moved_to: None,
            })?;
            return Ok(boosted.url.unwrap_or(boosted.id));
        }
        // A thread: each part replies to the one before (the first to the post it answers, if any). Each
        // part has its own Idempotency-Key, so a retried delivery re-posts nothing that already went out
        // and continues the chain.
        let mut previous: Option<String> = body.reply_to.as_ref().map(|r| r.id.clone());
        // An answer is as private as what it answers.
        let answered = body.reply_to.as_ref();
        let visibility = if body.direct || answered.is_some_and(|r| r.direct) {
            Visibility::Direct
        } else {
            match answered.and_then(|r| r.visibility.as_deref()) {
                Some("private") => Visibility::Private,
                Some("unlisted") => Visibility::Unlisted,
                _ => Visibility::Public,
            }
        };
        let mut first_url = None;
        let installation = self
            .installation
            .get_or_try_init(|| installation(&self.db))
            .await
            .map_err(transient)?;
        // Uploaded media are not posts: an upload repeated after a lost answer leaves an unused
        // attachment on the server, which Mastodon removes on its own.
        let mut media_ids = Vec::new();
        for image in load_images(
            &self.db,
            &self.pictures,
            &body.images,
            herald_bots::mastodon::MAX_IMAGE_BYTES,
        )
        .await?
        {
            let id = client
                .upload_media(image.bytes, &image.mime, &image.alt)
                .await
                .map_err(|e| SendError {
                    disposition: e.disposition(),
                    message: format!("uploading a picture: {e}"),
                    moved_to: None,
                })?;
            media_ids.push(id);
        }
        for (i, part) in body.parts.iter().enumerate() {
            let status = NewStatus {
                text: part.clone(),
                in_reply_to_id: previous.clone(),
                media_ids: std::mem::take(&mut media_ids),
                visibility,
                idempotency_key: format!("{installation}:{}#{}", delivery.idempotency_key, i + 1),
            };
            let posted = client.post_status(&status).await.map_err(|e| SendError {
                disposition: e.disposition(),
                message: e.to_string(),
                moved_to: None,
            })?;
            first_url = first_url.or(posted.url.clone());
            previous = Some(posted.id);
        }
        Ok(first_url.or(previous).unwrap_or_default())
    }
}
