//! Bluesky: posting threads and reposts from provider accounts (one login per provider and
//! credentials), checking their credentials, and their listener (`crate::listen::bluesky`).

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::{
    RateLimits,
    bluesky::{BlueskyClient, NewPost, ReplyRef, StrongRef},
};
use tokio_util::sync::CancellationToken;

use super::{Driver, Pictures, Settings, Verified, load_images};
use crate::{
    db::{Db, providers},
    delivery::networks::{self, Credentials, Network},
    listen::Listener,
    outbox::{ChatClass, Delivery, SendError, Sender},
};

/// The Bluesky driver.
#[derive(Debug)]
pub struct Bluesky;

#[async_trait]
impl Driver for Bluesky {
    fn network(&self) -> &'static dyn Network {
        networks::network(networks::BLUESKY).expect("Bluesky is a network")
    }

    fn sender(&self, db: Db, pictures: Arc<Pictures>, _: &Settings) -> Arc<dyn Sender> {
        BlueskySender::new(db, pictures)
    }

    /// The account's DID (signing in checks the app password).
    async fn verify(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        _: &Settings,
    ) -> anyhow::Result<Verified> {
        let client = bluesky_client(provider, credentials)?;
        Ok(Verified {
            account: client.did().await?,
            max_characters: None,
            warning: None,
        })
    }

    async fn listen(
        &self,
        listener: &Listener,
        credentials: &serde_json::Value,
        cancel: CancellationToken,
    ) {
        crate::listen::bluesky::run(listener, credentials, cancel).await;
    }
}

fn bluesky_client(
    provider: &providers::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<BlueskyClient> {
    let base = provider
        .base_url
        .as_deref()
        .or_else(|| Bluesky.network().default_base_url())
        .unwrap_or_default();
    let Some(Credentials::AppPassword {
        identifier,
        app_password: password,
    }) = Credentials::read(credentials)
    else {
        anyhow::bail!("no handle and app password stored; send them after /provider add");
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()?;
    Ok(BlueskyClient::new(
        base.parse()?,
        identifier,
        password,
        http,
    ))
}

/// Posts threads to Bluesky accounts. Clients are kept per provider (and credentials), so one login
/// serves many posts: Bluesky limits logins to about 30 per 5 minutes.
#[derive(Debug)]
pub struct BlueskySender {
    db: Db,
    pictures: Arc<Pictures>,
    /// Per provider: a digest of the credentials the client was made with, and the client.
    clients: tokio::sync::Mutex<std::collections::HashMap<i64, (String, BlueskyClient)>>,
}

impl BlueskySender {
    pub fn new(db: Db, pictures: Arc<Pictures>) -> Arc<Self> {
        Arc::new(Self {
            db,
            pictures,
            clients: Default::default(),
        })
    }
}

#[async_trait]
impl Sender for BlueskySender {
    fn limits(&self) -> RateLimits {
        herald_bots::bluesky::LIMITS
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
        let client = {
            let mut clients = self.clients.lock().await;
            // A digest, not the credentials: this map is printed by Debug.
            let stamp = crate::token::hash(&credentials.to_string());
            match clients.get(&id) {
                Some((known, client)) if *known == stamp => client.clone(),
                _ => {
                    let client = bluesky_client(&provider, &credentials)
                        .map_err(|e| SendError::permanent(format!("{e:#}")))?;
                    clients.insert(id, (stamp, client.clone()));
                    client
                }
            }
        };
        let refs = |r: &crate::delivery::social::PlatformRef| -> Result<(StrongRef, StrongRef), SendError> {
            let cid = r
                .cid
                .clone()
                .ok_or_else(|| SendError::permanent("a Bluesky post reference without its CID"))?;
            let post = StrongRef {
                uri: r.id.clone(),
                cid: cid.clone(),
            };
            let root = StrongRef {
                uri: r.root_id.clone().unwrap_or_else(|| r.id.clone()),
                cid: r.root_cid.clone().unwrap_or(cid),
            };
            Ok((post, root))
        };
        if let Some(target) = &body.boost {
            let (subject, _) = refs(target)?;
            let reposted = client.repost(&subject).await.map_err(|e| SendError {
                disposition: e.disposition(),
                message: e.to_string(),
                moved_to: None,
            })?;
            return Ok(reposted.uri);
        }
        let mut images = load_images(
            &self.db,
            &self.pictures,
            &body.images,
            herald_bots::bluesky::MAX_IMAGE_BYTES,
        )
        .await?
        .into_iter()
        .map(|i| herald_bots::bluesky::Image {
            bytes: i.bytes,
            mime: i.mime,
            alt: i.alt,
        })
        .collect::<Vec<_>>();
        // An answer starts under the post it answers, in that post's thread.
        let (mut parent, mut root) = match &body.reply_to {
            Some(target) => {
                let (post, root) = refs(target)?;
                (Some(post), Some(root))
            }
            None => (None, None),
        };
        let mut first_uri = None;
        for (i, part) in body.parts.iter().enumerate() {
            let mut post = NewPost::text(part.clone(), chrono::Utc::now());
            // The pictures go with the first part.
            post.images = std::mem::take(&mut images);
            // A stable record key per part: a retry after a lost answer finds the part already posted.
            let clock_id = u16::try_from(i).unwrap_or(0) + key_salt(delivery.idempotency_key);
            post.rkey = Some(herald_bots::bluesky::tid(
                delivery.created_at.timestamp_micros(),
                clock_id,
            ));
            if let (Some(root), Some(parent)) = (&root, &parent) {
                post.reply_to = Some(ReplyRef {
                    root: root.clone(),
                    parent: parent.clone(),
                });
            }
            let posted = client.post(&post).await.map_err(|e| SendError {
                disposition: e.disposition(),
                message: e.to_string(),
                moved_to: None,
            })?;
            first_uri = first_uri.or(Some(posted.uri.clone()));
            let reference = StrongRef::from(&posted);
            root = root.or(Some(reference.clone()));
            parent = Some(reference);
        }
        Ok(first_uri.unwrap_or_default())
    }
}

/// A few bits from the delivery's key, so two providers' rows written in the same microsecond differ.
fn key_salt(key: &str) -> u16 {
    let sum = key.bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    u16::try_from((sum % 64) * 16).unwrap_or(0)
}
