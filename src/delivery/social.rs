//! The rows the social networks' senders read (a thread, a boost, a direct message), their length rules,
//! and the writer for direct messages to people on Mastodon (direct statuses) and X (direct messages). (Each network's length rule is in
//! [`super::networks`].)

use chrono::{DateTime, Utc};
use herald_bots::{mastodon, text::split_thread, x};
use serde::{Deserialize, Serialize};

use super::{
    Notice,
    networks::{Measure, X},
};
use crate::{
    db::{
        Tx,
        mentions::Mention,
        outbox::{self, NewMessage},
        providers::{self, Provider},
    },
    templates::{Templates, Words},
};

/// Body of a post's delivery row for Mastodon and Bluesky: the thread, posted part after part, and the
/// post's images (`post_images` ids), attached to the first part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreadBody {
    pub parts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<i64>,
    /// The post this one answers: the thread's first part replies to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<PlatformRef>,
    /// Not a post but a boost (reblog, repost) of this one; `parts` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boost: Option<PlatformRef>,
    /// A private message (Mastodon: direct visibility; X: a direct message) rather than a public post.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub direct: bool,
    /// X: the user id a direct message goes to (Mastodon names its recipients in the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A post on a network, as replies and boosts point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformRef {
    /// Mastodon: the status id; Bluesky: the post's URI.
    pub id: String,
    /// Bluesky: the post's CID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Bluesky: the thread's root, which replies point at too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cid: Option<String>,
    /// Mastodon: the post was a direct message, so the answer is one too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub direct: bool,
    /// Mastodon: who could see the post (`unlisted`, `private`: followers only); the answer is seen by
    /// no more people than that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// The author's id on the network, for a private answer (X sends it as a direct message to them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl PlatformRef {
    pub fn of_mention(m: &Mention) -> Self {
        let direct = m.visibility.as_deref() == Some("direct");
        Self {
            id: m.platform_id.clone(),
            cid: m.platform_cid.clone(),
            root_id: m.root_id.clone(),
            root_cid: m.root_cid.clone(),
            direct,
            visibility: m.visibility.clone(),
            author: direct.then(|| m.author_platform_id.clone()),
        }
    }

    /// A post by its id alone.
    pub fn id(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            cid: None,
            root_id: None,
            root_cid: None,
            direct: false,
            visibility: None,
            author: None,
        }
    }
}

/// The outbox's name for a provider account, which its rate limits and credentials belong to.
fn provider_key(id: i64) -> String {
    format!("provider:{id}")
}

/// Tells the organisers once when a network starts refusing a provider account's credentials (a
/// revoked token, a changed password), and forgets it when they work again (a send went through, a
/// check passed, new ones were saved), so the next refusal is news again. The messages wait meanwhile.
#[derive(Debug)]
pub struct CredentialsWatch {
    pub templates: std::sync::Arc<Templates>,
}

#[async_trait::async_trait]
impl crate::outbox::Observer for CredentialsWatch {
    async fn credentials(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        accounts: &[(&str, Option<&str>)],
    ) -> anyhow::Result<()> {
        for (key, refused) in accounts {
            let Some(id) = key
                .strip_prefix("provider:")
                .and_then(|id| id.parse::<i64>().ok())
            else {
                continue;
            };
            match refused {
                Some(error) => credentials_refused(tx, &self.templates, now, id, error).await?,
                None => providers::credentials_work(tx, id).await?,
            }
        }
        Ok(())
    }
}

/// Records that the network refuses provider `id`'s credentials (`error` says how: a refused send, a
/// revocation X announced) and tells the organisers of its conferences, once until they work again.
pub async fn credentials_refused(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    id: i64,
    error: &str,
) -> anyhow::Result<()> {
    if !providers::credentials_refused(tx, now, id, error).await? {
        return Ok(());
    }
    let Some(provider) = providers::provider_by_id(tx, id).await? else {
        return Ok(());
    };
    for conference in providers::conferences_using(tx, id).await? {
        super::organisers::notify(
            tx,
            templates,
            now,
            conference,
            "notify_credentials_refused",
            &format!("credentials-refused:{id}:{}", now.timestamp_micros()),
            serde_json::json!({ "provider": provider.internal_name, "network": provider.kind,
                                "error": error }),
        )
        .await?;
    }
    Ok(())
}

/// Writes a thread (a public post, an answer, a boost) for provider `provider`, due at `due`.
pub async fn write_thread(
    tx: &mut Tx,
    now: DateTime<Utc>,
    provider: &Provider,
    kind: &str,
    key: &str,
    body: &ThreadBody,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    let message = NewMessage {
        provider: provider_key(provider.id),
        platform: provider.kind.clone(),
        target: provider.id.to_string(),
        kind: kind.into(),
        idempotency_key: key.to_owned(),
        body: serde_json::to_string(body)?,
        due_at: due,
        expires_at: None,
    };
    outbox::enqueue(tx, now, &message).await?;
    Ok(())
}

/// Writes `notice` as a direct message from provider `via` to the account `to` on its network (see
/// [`direct_thread`]). Networks without buttons get the commands that do the same after the text; edits
/// are not made. Returns the idempotency keys written.
pub async fn write_direct(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    via: i64,
    to: &str,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<Vec<String>> {
    if notice.replaces.is_some() {
        return Ok(Vec::new());
    }
    let Some(provider) = providers::provider_by_id(tx, via).await? else {
        return Ok(Vec::new());
    };
    let html = direct_html(words, notice)?;
    let body = direct_thread(&provider, to, &html, None)?;
    let message = NewMessage {
        provider: provider_key(provider.id),
        platform: provider.kind.clone(),
        target: provider.id.to_string(),
        kind: notice.kind.into(),
        idempotency_key: format!(
            "{key}{}",
            direct_key_suffix(&provider.kind, provider.id, to)
        ),
        body: serde_json::to_string(&body)?,
        due_at: notice.due.unwrap_or(now),
        expires_at: notice.deadline,
    };
    if notice.recomputable {
        outbox::upsert_scheduled(tx, now, &message).await?;
    } else {
        outbox::enqueue(tx, now, &message).await?;
    }
    Ok(vec![message.idempotency_key])
}

/// How the key of a direct message from provider `via` on `network` to `to` ends: what names its
/// recipient.
pub fn direct_key_suffix(network: &str, via: i64, to: &str) -> String {
    format!("/{network}:{via}:{to}")
}

/// A notice rendered for a network without buttons: its text, then the commands its buttons stand for.
pub fn direct_html(words: Words<'_>, notice: &Notice) -> anyhow::Result<String> {
    let html = words.render(
        &format!("messages/{}.html", notice.template),
        &notice.context,
    )?;
    Ok(match super::actions::hints(words, &notice.actions)? {
        Some(hints) => format!("{html}\n\n{hints}"),
        None => html,
    })
}

/// A direct message to `to` with the text of `html`, answering `reply_to` when given. On Mastodon a direct
/// status starting with `@to` (so only they see it), split at the provider's limit; on X a direct message
/// to the user id `to`, split at X's limit for direct messages.
pub fn direct_thread(
    provider: &Provider,
    to: &str,
    html: &str,
    reply_to: Option<&str>,
) -> anyhow::Result<ThreadBody> {
    let plain = herald_bots::html::to_text(html);
    let (text, limit, measure, recipient) = if provider.kind == X {
        (
            plain,
            x::text::DM_MAX_CHARS,
            x::text::dm_len as Measure,
            Some(to.to_owned()),
        )
    } else {
        let (limit, measure) = super::networks::measure(provider)
            .unwrap_or((mastodon::DEFAULT_LIMIT, mastodon::text_len));
        (format!("@{to} {plain}"), limit, measure, None)
    };
    let parts = split_thread(&text, limit, measure)
        .map_err(|e| anyhow::anyhow!("a direct message to {to}: {e}"))?;
    Ok(ThreadBody {
        parts,
        images: Vec::new(),
        reply_to: reply_to.map(|id| PlatformRef {
            direct: true,
            ..PlatformRef::id(id)
        }),
        boost: None,
        direct: true,
        to: recipient,
    })
}
