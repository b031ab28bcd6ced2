//! Organiser notices: whatever the organisers must know goes to the conference's bound organisers chat,
//! through the outbox, from this one function.

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
    if reached == 0 {
        tracing::info!(
            conference,
            template,
            "no organisers chat bound; notice not sent"
        );
    }
    Ok(reached > 0)
}
