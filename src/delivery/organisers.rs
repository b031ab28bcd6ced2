//! Organiser notices: whatever the organisers must know goes to the conference's bound organisers chat,
//! through the outbox, from this one function — and to the conference's notification address by mail
//! when one is set (`crate::delivery::email::mirror`).

use serde::Serialize;

use super::{Notice, Recipient, Slot};
use crate::{db::Tx, templates::Templates};

/// Queues `template` (under `templates/messages/notify_*.html`) for the organisers of `conference`.
/// Returns `false` when no organisers chat is bound (the notice is logged instead).
pub async fn notify(
    tx: &mut Tx,
    templates: &Templates,
    now: chrono::DateTime<chrono::Utc>,
    conference: i64,
    template: &'static str,
    key: &str,
    context: impl Serialize,
) -> anyhow::Result<bool> {
    let recipient = Recipient::Slot {
        conference,
        slot: Slot::Organisers,
    };
    let notice = Notice::new(template, context);
    let reached = super::send(
        tx,
        templates,
        now,
        recipient,
        &notice,
        &format!("notify:{key}"),
    )
    .await?;
    super::email::mirror(tx, templates.words(None), now, conference, &notice).await?;
    if reached == 0 {
        tracing::info!(
            conference,
            template,
            "no organisers chat bound; notice not sent"
        );
    }
    Ok(reached > 0)
}

/// Tells the organisers what a fan-out lost: attendees an announcement could not reach because they
/// blocked the bot or left (they are skipped from now on), and reminders that could not go out before
/// their start. Counted per conference over what the outbox records together, at most one notice a
/// minute for each.
#[derive(Debug)]
pub struct Losses {
    pub templates: std::sync::Arc<Templates>,
}

/// The conference id in a key such as `announce:<conference>:…` or `reminder:<conference>:…`.
fn conference_of_key(key: &str) -> Option<i64> {
    key.split(':').nth(1)?.parse().ok()
}

#[async_trait::async_trait]
impl crate::outbox::Observer for Losses {
    fn kinds(&self) -> &'static [&'static str] {
        &["announcement", "reminder"]
    }

    async fn finished(
        &self,
        tx: &mut Tx,
        now: chrono::DateTime<chrono::Utc>,
        rows: &[(&str, &crate::db::outbox::Outcome)],
    ) -> anyhow::Result<()> {
        use crate::db::outbox::Outcome;
        // Per conference: (unreachable attendees, expired reminders).
        let mut lost: std::collections::BTreeMap<i64, (usize, usize)> = Default::default();
        for (key, outcome) in rows {
            let Some(conference) = conference_of_key(key) else {
                continue;
            };
            match outcome {
                Outcome::Gone { .. } if key.starts_with("announce:") => {
                    lost.entry(conference).or_default().0 += 1;
                }
                Outcome::Expired { .. } if !key.starts_with("announce:") => {
                    lost.entry(conference).or_default().1 += 1;
                }
                _ => {}
            }
        }
        let minute = now.timestamp() / 60;
        for (conference, (gone, expired)) in lost {
            if gone > 0 {
                notify(
                    tx,
                    &self.templates,
                    now,
                    conference,
                    "notify_unreachable",
                    &format!("unreachable:{conference}:{minute}"),
                    serde_json::json!({ "count": gone }),
                )
                .await?;
            }
            if expired > 0 {
                notify(
                    tx,
                    &self.templates,
                    now,
                    conference,
                    "notify_reminders_expired",
                    &format!("reminders-expired:{conference}:{minute}"),
                    serde_json::json!({ "count": expired }),
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_conference_is_read_from_the_key() {
        assert_eq!(
            super::conference_of_key("announce:3:1001:55/telegram:42"),
            Some(3)
        );
        assert_eq!(
            super::conference_of_key("reminder:7:1800000000/telegram:42"),
            Some(7)
        );
        assert_eq!(super::conference_of_key("announce"), None);
        assert_eq!(super::conference_of_key("reminder:x:1"), None);
    }
}
