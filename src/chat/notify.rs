//! Organiser notifications: whatever the organisers must know goes to the conference's bound organisers
//! chat, through the outbox, from this one function.

use serde::Serialize;

use crate::{
    chat::telegram::render_to_outbox,
    db::{Tx, chat},
    templates::Templates,
};

/// Queues `template` (under `templates/messages/notify_*.html`) for the organisers of `conference`.
/// Returns `false` when no organisers chat is bound (the notice is logged instead).
pub async fn organisers(
    tx: &mut Tx,
    templates: &Templates,
    now: chrono::DateTime<chrono::Utc>,
    conference: i64,
    template: &'static str,
    key: &str,
    context: impl Serialize,
) -> anyhow::Result<bool> {
    let Some(binding) =
        chat::binding(tx, conference, "organisers", crate::telegram::PLATFORM).await?
    else {
        tracing::info!(
            conference,
            template,
            "no organisers chat bound; notice not sent"
        );
        return Ok(false);
    };
    let chat_id: i64 = binding.chat_id.parse()?;
    let text = templates.render(&format!("messages/{template}.html"), context)?;
    render_to_outbox(tx, now, chat_id, &text, None, &format!("notify:{key}")).await?;
    Ok(true)
}
