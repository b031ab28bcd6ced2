//! Social networks as the application uses them: the outbox's senders for provider accounts, built from
//! the providers table (credentials are read per send, so a change takes effect at once and a
//! deactivated provider stops its queued posts).

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::{
    Disposition, Rate, RateLimits,
    mastodon::{MastodonClient, NewStatus, Visibility},
};

use crate::{
    db::{Db, posts as store},
    outbox::{ChatClass, Delivery, SendError, Sender},
    posts::ThreadBody,
};

/// Checks a provider's credentials; returns the account it signs in as.
pub async fn verify(
    provider: &store::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<String> {
    match provider.kind.as_str() {
        "mastodon" => {
            let client = mastodon_client(provider, credentials)?;
            let account = client.verify_credentials().await?;
            Ok(format!("@{}", account.acct))
        }
        other => anyhow::bail!("testing {other} providers is not supported yet"),
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
