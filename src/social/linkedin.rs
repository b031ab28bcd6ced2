//! LinkedIn: posting to an organisation page (one post, with its first picture) and checking the page's
//! credentials and the configured `Linkedin-Version` (`crate::config::linkedin_version`). LinkedIn has no
//! mentions inbox for pages, so there is nothing to listen to.
//!
//! Like X, LinkedIn has no idempotency key: the time of each create is written before it goes out (under
//! the delivery's progress key), and a create whose answer was lost is looked for among the page's newest
//! posts a minute later; found, it is the post; not there, it is posted; not to be told, the post is given
//! up as "may already be on LinkedIn" for the moderators to check (after their `/retry` it is posted).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use herald_bots::{
    Disposition, Rate, RateLimits,
    linkedin::{self, LinkedInClient, LinkedInError, NewPost, Version, VersionStatus},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Driver, Pictures, Settings, Verified, load_images, transient};
use crate::{
    db::{Db, providers, system},
    delivery::networks::{self, Credentials, MAYBE_SENT, Network},
    listen::Listener,
    outbox::{ChatClass, Delivery, SendError, Sender},
};

/// How long after a lost answer the page's posts are looked at (a new post can take a moment to list).
const LOOKUP_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// The largest picture sent (LinkedIn takes bigger ones; this keeps uploads quick).
const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// The LinkedIn driver.
#[derive(Debug)]
pub struct LinkedIn;

#[async_trait]
impl Driver for LinkedIn {
    fn network(&self) -> &'static dyn Network {
        networks::network(networks::LINKEDIN).expect("LinkedIn is a network")
    }

    fn sender(&self, db: Db, pictures: Arc<Pictures>, settings: &Settings) -> Arc<dyn Sender> {
        LinkedInSender::new(db, pictures, &settings.linkedin_version)
    }

    /// The page the token posts as (reading it checks the token, the version and access to the page),
    /// and a warning when the configured version ends within a month (or has ended).
    async fn verify(
        &self,
        provider: &providers::Provider,
        credentials: &serde_json::Value,
        settings: &Settings,
    ) -> anyhow::Result<Verified> {
        let (client, organization) =
            linkedin_client(provider, credentials, &settings.linkedin_version)?;
        let page = client.organization(&organization).await?;
        let version = Version::parse(&settings.linkedin_version)?;
        Ok(Verified {
            account: format!("{} ({organization})", page.localized_name),
            max_characters: None,
            warning: version_warning(version, Utc::now().date_naive()),
        })
    }

    async fn listen(
        &self,
        _listener: &Listener,
        _credentials: &serde_json::Value,
        _cancel: CancellationToken,
    ) {
    }
}

/// The `provider_ok` warning about the configured version, when it ends within a month or has ended.
fn version_warning(version: Version, today: NaiveDate) -> Option<serde_json::Value> {
    match version.status(today) {
        VersionStatus::Supported { .. } => None,
        VersionStatus::EndingSoon { until } => Some(json!({
            "linkedin_version": version.to_string(), "until": until.to_string(), "ended": false,
        })),
        VersionStatus::Sunset { since } => Some(json!({
            "linkedin_version": version.to_string(), "until": since.to_string(), "ended": true,
        })),
    }
}

/// The client and the organisation's URN.
fn linkedin_client(
    provider: &providers::Provider,
    credentials: &serde_json::Value,
    version: &str,
) -> anyhow::Result<(LinkedInClient, String)> {
    let base = provider
        .base_url
        .as_deref()
        .or_else(|| LinkedIn.network().default_base_url())
        .unwrap_or(linkedin::API_BASE);
    let Some(Credentials::LinkedIn {
        access_token,
        organization,
        ..
    }) = Credentials::read(credentials)
    else {
        anyhow::bail!("no access token and organisation stored; send them after /provider add");
    };
    let Some(organization) = linkedin::organization_urn(&organization) else {
        anyhow::bail!("{organization:?} is not an organisation id or urn:li:organization:…");
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let client = LinkedInClient::new(base.parse()?, access_token, Version::parse(version)?, http);
    Ok((client, organization))
}

/// Posts to LinkedIn organisation pages.
#[derive(Debug)]
pub struct LinkedInSender {
    db: Db,
    pictures: Arc<Pictures>,
    /// The configured `Linkedin-Version`.
    version: String,
}

impl LinkedInSender {
    pub fn new(db: Db, pictures: Arc<Pictures>, version: &str) -> Arc<Self> {
        Arc::new(Self {
            db,
            pictures,
            version: version.to_owned(),
        })
    }

    /// The create of delivery `key` that went out without a known answer, if any.
    async fn attempted(&self, key: &str) -> Result<Option<Attempt>, SendError> {
        let mut tx = self.db.begin().await.map_err(transient)?;
        let stored = system::get_system(&mut tx, &attempt_key(key))
            .await
            .map_err(transient)?;
        tx.commit().await.map_err(transient)?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn remember(&self, key: &str, attempt: Option<&Attempt>) -> Result<(), SendError> {
        let value = attempt
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| SendError::permanent(format!("progress: {e}")))?
            .unwrap_or_default();
        let mut tx = self.db.begin().await.map_err(transient)?;
        system::set_system(&mut tx, Utc::now(), &attempt_key(key), &value)
            .await
            .map_err(transient)?;
        tx.commit().await.map_err(transient)
    }
}

/// A create sent without a known answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    at: DateTime<Utc>,
    /// The moderators were asked to check: the next send is their decision.
    #[serde(default)]
    asked: bool,
}

fn attempt_key(delivery_key: &str) -> String {
    format!("{}linkedin:{delivery_key}", system::DELIVERY_PROGRESS)
}

/// Given up: the post may be on the page, and a person must look.
fn maybe_sent(why: &str) -> SendError {
    SendError::permanent(format!(
        "{MAYBE_SENT} LinkedIn: {why}; check the page before sending it again"
    ))
}

/// A LinkedIn error as the outbox needs it, with what to do about the ones a person must fix.
fn failed(e: &LinkedInError) -> SendError {
    let message = match e {
        LinkedInError::VersionSunset { .. } => format!(
            "{e} — set linkedin_version (HERALD_LINKEDIN_VERSION) and restart Herald, then /retry"
        ),
        LinkedInError::TokenRefused { .. } => {
            format!("{e} — connect the LinkedIn page again (a new access token), then /retry")
        }
        _ => e.to_string(),
    };
    SendError {
        disposition: e.disposition(),
        message,
        moved_to: None,
    }
}

#[async_trait]
impl Sender for LinkedInSender {
    /// LinkedIn's quotas are daily and told by 429 (waited out until midnight UTC); a page's posts are
    /// few, so Herald paces them only lightly.
    fn limits(&self) -> RateLimits {
        RateLimits {
            per_provider: Rate::Limited {
                count: 100,
                per: std::time::Duration::from_secs(3600),
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
        if body.boost.is_some() || body.reply_to.is_some() || body.direct {
            return Err(SendError::permanent(
                "LinkedIn pages only post: no reposts, answers or messages",
            ));
        }
        let [text] = body.parts.as_slice() else {
            return Err(SendError::permanent(format!(
                "a LinkedIn post is one post of at most {} characters; this one needs {} parts",
                linkedin::MAX_COMMENTARY_CHARS,
                body.parts.len()
            )));
        };
        let (client, organization) = linkedin_client(&provider, &credentials, &self.version)
            .map_err(|e| SendError::permanent(format!("{e:#}")))?;
        let key = delivery.idempotency_key;
        let earlier = self.attempted(key).await?;
        if let Some(attempt) = &earlier {
            match client.find_sent_post(&organization, text, attempt.at).await {
                Ok(Some(urn)) => {
                    tracing::info!("a LinkedIn post whose answer was lost is on the page");
                    self.remember(key, None).await?;
                    return Ok(urn);
                }
                Ok(None) => {}
                Err(e) if attempt.asked => {
                    tracing::warn!(error = %e, "could not look for a lost LinkedIn post; posting as the moderators asked");
                }
                Err(e) => {
                    let asked = Attempt {
                        asked: true,
                        ..attempt.clone()
                    };
                    self.remember(key, Some(&asked)).await?;
                    return Err(maybe_sent(&format!(
                        "its answer was lost and the page's posts cannot be read ({e})"
                    )));
                }
            }
        }
        // One picture per post: the first.
        let image = match body.images.first() {
            Some(&first) => {
                let loaded = load_images(&self.db, &self.pictures, &[first], MAX_IMAGE_BYTES)
                    .await?
                    .into_iter()
                    .next();
                match loaded {
                    Some(image) => {
                        let alt = image.alt.clone();
                        let image = linkedin::Image {
                            bytes: image.bytes,
                            mime: image.mime,
                            alt: image.alt,
                        };
                        let urn =
                            client
                                .upload_image(&organization, &image)
                                .await
                                .map_err(|e| SendError {
                                    message: format!(
                                        "uploading the picture: {}",
                                        failed(&e).message
                                    ),
                                    ..failed(&e)
                                })?;
                        Some((urn, alt))
                    }
                    None => None,
                }
            }
            None => None,
        };
        let post = NewPost {
            author: organization,
            text: text.clone(),
            image,
        };
        // Written before the create: if the answer (or this process) is lost, the next attempt looks first.
        let attempt = Attempt {
            at: Utc::now(),
            asked: false,
        };
        self.remember(key, Some(&attempt)).await?;
        match client.create_post(&post).await {
            Ok(urn) => {
                self.remember(key, None).await?;
                Ok(urn)
            }
            Err(e @ LinkedInError::UnknownOutcome(_)) if earlier.is_some() => {
                let asked = Attempt {
                    asked: true,
                    ..attempt
                };
                self.remember(key, Some(&asked)).await?;
                Err(maybe_sent(&format!("its answer was lost again ({e})")))
            }
            Err(e @ LinkedInError::UnknownOutcome(_)) => Err(SendError {
                disposition: Disposition::RetryAfter(LOOKUP_AFTER),
                message: format!("{e}; looking for the post on the page first"),
                moved_to: None,
            }),
            Err(e) => {
                self.remember(key, None).await?;
                Err(failed(&e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_warning_starts_a_month_before_the_end() {
        let version = Version::parse("202511").unwrap_or_else(|e| panic!("{e}"));
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(version_warning(version, day(2026, 9, 30)), None);
        assert_eq!(
            version_warning(version, day(2026, 10, 2)),
            Some(json!({ "linkedin_version": "202511", "until": "2026-11-01", "ended": false }))
        );
        assert_eq!(
            version_warning(version, day(2026, 12, 4)).map(|w| w["ended"].clone()),
            Some(json!(true))
        );
    }
}
