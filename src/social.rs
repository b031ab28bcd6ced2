//! Social networks as the application uses them: the outbox's senders for provider accounts, built from
//! the providers table (credentials are read per send, so a change takes effect at once and a
//! deactivated provider stops its queued posts).

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::{
    Disposition, Rate, RateLimits,
    bluesky::{BlueskyClient, NewPost, ReplyRef, StrongRef},
    mastodon::{MastodonClient, NewStatus, Visibility},
};

use crate::{
    db::{Db, posts as store},
    outbox::{ChatClass, Delivery, SendError, Sender},
    posts::ThreadBody,
};

/// What checking a provider found: the account it signs in as, and the network's text limit if it has
/// its own.
#[derive(Debug, Clone)]
pub struct Verified {
    pub account: String,
    pub max_characters: Option<usize>,
}

/// Checks a provider's credentials.
pub async fn verify(
    provider: &store::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<Verified> {
    match provider.kind.as_str() {
        "mastodon" => {
            let client = mastodon_client(provider, credentials)?;
            let account = client.verify_credentials().await?;
            let limit = client.character_limit().await?;
            Ok(Verified {
                account: format!("@{}", account.acct),
                max_characters: Some(limit),
            })
        }
        "bluesky" => {
            let client = bluesky_client(provider, credentials)?;
            Ok(Verified {
                account: client.did().await?,
                max_characters: None,
            })
        }
        other => anyhow::bail!("testing {other} providers is not supported"),
    }
}

fn mastodon_client(
    provider: &store::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<MastodonClient> {
    let base = provider
        .base_url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("the provider has no instance address"))?;
    let token = credentials
        .get("token")
        .and_then(|t| t.as_str())
        .ok_or_else(|| anyhow::anyhow!("no access token stored; send it after /provider add"))?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()?;
    Ok(MastodonClient::new(base.parse()?, token, http))
}

fn bluesky_client(
    provider: &store::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<BlueskyClient> {
    let base = provider
        .base_url
        .as_deref()
        .unwrap_or("https://bsky.social");
    let field = |name: &str| {
        credentials
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let (Some(identifier), Some(password)) = (field("identifier"), field("app_password")) else {
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
    /// Per provider: a digest of the credentials the client was made with, and the client.
    clients: tokio::sync::Mutex<std::collections::HashMap<i64, (String, BlueskyClient)>>,
}

impl BlueskySender {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Self {
            db,
            clients: Default::default(),
        })
    }
}

fn transient(e: anyhow::Error) -> SendError {
    SendError {
        disposition: Disposition::Transient,
        message: format!("{e:#}"),
        moved_to: None,
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
        let id: i64 = delivery
            .target
            .parse()
            .map_err(|_| SendError::permanent("not a provider id"))?;
        let body: ThreadBody = serde_json::from_str(delivery.body)
            .map_err(|e| SendError::permanent(format!("unreadable post: {e}")))?;
        let (provider, credentials) = {
            let mut tx = self.db.begin().await.map_err(transient)?;
            let provider = store::provider_by_id(&mut tx, id)
                .await
                .map_err(transient)?;
            let credentials = store::credentials(&mut tx, id).await.map_err(transient)?;
            tx.commit().await.map_err(transient)?;
            (provider, credentials)
        };
        let Some(provider) = provider.filter(|p| p.active) else {
            return Err(SendError::permanent("the provider is deactivated"));
        };
        let client = {
            let mut clients = self.clients.lock().await;
            // A digest, not the credentials: this map is printed by Debug.
            let stamp = crate::chat::links::hash(&credentials.to_string());
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
        let mut root: Option<StrongRef> = None;
        let mut parent: Option<StrongRef> = None;
        let mut first_uri = None;
        for (i, part) in body.parts.iter().enumerate() {
            let mut post = NewPost::text(part.clone(), chrono::Utc::now());
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

/// Posts threads to Mastodon accounts.
#[derive(Debug)]
pub struct MastodonSender {
    db: Db,
}

impl MastodonSender {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Self { db })
    }
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
        let id: i64 = delivery
            .target
            .parse()
            .map_err(|_| SendError::permanent("not a provider id"))?;
        let body: ThreadBody = serde_json::from_str(delivery.body)
            .map_err(|e| SendError::permanent(format!("unreadable post: {e}")))?;
        let (provider, credentials) = {
            let fail = |e: anyhow::Error| SendError {
                disposition: Disposition::Transient,
                message: format!("{e:#}"),
                moved_to: None,
            };
            let mut tx = self.db.begin().await.map_err(fail)?;
            let provider = store::provider_by_id(&mut tx, id).await.map_err(fail)?;
            let credentials = store::credentials(&mut tx, id).await.map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            (provider, credentials)
        };
        let Some(provider) = provider.filter(|p| p.active) else {
            return Err(SendError::permanent("the provider is deactivated"));
        };
        let client = mastodon_client(&provider, &credentials)
            .map_err(|e| SendError::permanent(format!("{e:#}")))?;
        // A thread: each part replies to the one before. Each part has its own Idempotency-Key, so a
        // retried delivery re-posts nothing that already went out and continues the chain.
        let mut previous: Option<String> = None;
        let mut first_url = None;
        for (i, part) in body.parts.iter().enumerate() {
            let status = NewStatus {
                text: part.clone(),
                in_reply_to_id: previous.clone(),
                media_ids: Vec::new(),
                visibility: Visibility::Public,
                idempotency_key: format!("{}#{}", delivery.idempotency_key, i + 1),
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
