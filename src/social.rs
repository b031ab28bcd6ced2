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
    delivery::{networks::Credentials, social::ThreadBody},
    outbox::{ChatClass, Delivery, SendError, Sender},
};

/// Where the bytes of a picture sent to the bot come from: Telegram, by file id.
#[async_trait]
pub trait PictureSource: Send + Sync + std::fmt::Debug {
    async fn fetch(&self, file_id: &str) -> Result<Vec<u8>, SendError>;
}

/// Bots may download files up to 20 MB.
const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

#[async_trait]
impl PictureSource for herald_bots::telegram::TelegramClient {
    async fn fetch(&self, file_id: &str) -> Result<Vec<u8>, SendError> {
        self.download_file(file_id, MAX_DOWNLOAD)
            .await
            .map_err(|e| SendError {
                disposition: e.disposition(),
                message: format!("downloading a picture from Telegram: {e}"),
                moved_to: None,
            })
    }
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
struct Loaded {
    bytes: Vec<u8>,
    mime: String,
    alt: String,
}

/// The image type the bytes themselves say (their magic numbers), which beats what the sender claimed.
pub(crate) fn sniff_image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

/// Reads a delivery's images, downloading (once, then kept) those that only have a Telegram file id.
async fn load_images(db: &Db, pictures: &Pictures, ids: &[i64]) -> Result<Vec<Loaded>, SendError> {
    let read = |id: i64| async move {
        let mut tx = db.begin().await.map_err(transient)?;
        let found = store::image_by_id(&mut tx, id).await.map_err(transient)?;
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
            store::set_image_data(&mut tx, id, &bytes)
                .await
                .map_err(transient)?;
            tx.commit().await.map_err(transient)?;
        }
        loaded.push(Loaded {
            mime: sniff_image_type(&bytes).map_or(image.content_type, str::to_owned),
            bytes,
            alt: image.alt_text,
        });
    }
    Ok(loaded)
}

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
    let Some(Credentials::Token { token }) = Credentials::read(credentials) else {
        anyhow::bail!("no access token stored; send it after /provider add");
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()?;
    Ok(MastodonClient::new(base.parse()?, &token, http))
}

fn bluesky_client(
    provider: &store::Provider,
    credentials: &serde_json::Value,
) -> anyhow::Result<BlueskyClient> {
    let base = provider
        .base_url
        .as_deref()
        .unwrap_or("https://bsky.social");
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
        let mut images = load_images(&self.db, &self.pictures, &body.images)
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
    let id = crate::db::chat::set_system_if_absent(
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
        let visibility = if body.direct || body.reply_to.as_ref().is_some_and(|r| r.direct) {
            Visibility::Direct
        } else {
            Visibility::Public
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
        for image in load_images(&self.db, &self.pictures, &body.images).await? {
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

#[cfg(test)]
mod tests {
    use super::sniff_image_type;

    #[test]
    fn image_types_come_from_the_bytes() {
        assert_eq!(
            sniff_image_type(b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(
            sniff_image_type(&[0xff, 0xd8, 0xff, 0xe0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_image_type(b"GIF89a...."), Some("image/gif"));
        assert_eq!(
            sniff_image_type(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_image_type(b"%PDF-1.7"), None);
        assert_eq!(sniff_image_type(b""), None);
    }
}
