//! A created campaign before its moderators: one digest message for all its posts — how many, when they go
//! out, the template, the first few texts and what is too long where — with Approve all and Review one by
//! one, instead of a moderation message per post. (215 of those would hold a Telegram group's budget of 20
//! messages a minute for eleven minutes, and bury everything else said there.)
//!
//! Review one by one writes the per-post moderation messages after all, paced by the outbox like any; the
//! campaign remembers it, so that approving all later also edits those messages.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::{
    campaign::Options,
    db::{
        Tx,
        campaigns::{self, Campaign},
        conferences, outbox, people,
        posts::{self as store, Post},
    },
    delivery::{self, Action, Notice, Recipient, Slot},
    posts,
    templates::Templates,
};

/// Posts whose text the digest shows.
const SAMPLES: usize = 3;
/// Characters of the template the digest shows: enough to recognise it, short enough to leave room.
const TEMPLATE_SHOWN: usize = 600;

/// The outbox key of a campaign's digest (each moderation chat's row is keyed `<key>/<chat>`).
fn key(campaign: i64) -> String {
    format!("campaign-digest:{campaign}")
}

/// How the posts of a campaign measure on one network: how many are too long for one post there.
#[derive(Debug, Clone, Serialize)]
struct Network {
    network: String,
    limit: usize,
    too_long: usize,
    /// The longest text, and the most parts a thread of them would have.
    longest: usize,
    parts: usize,
}

/// Queues the campaign's digest for the moderation chats; `false` when none is bound.
pub async fn send(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    campaign: &Campaign,
) -> anyhow::Result<bool> {
    let notice = notice(tx, campaign).await?;
    let moderation = Recipient::Slot {
        conference: campaign.conference_id,
        slot: Slot::Moderation,
    };
    Ok(delivery::send(tx, templates, now, moderation, &notice, &key(campaign.id)).await? > 0)
}

/// The digest of the campaign's waiting posts, with its two buttons.
async fn notice(tx: &mut Tx, campaign: &Campaign) -> anyhow::Result<Notice> {
    let pending = store::pending_in_campaign(tx, campaign.id).await?;
    let conference = conferences::conference_by_id(tx, campaign.conference_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("campaign #{}: its conference vanished", campaign.id))?;
    let by = match campaign.created_by {
        Some(person) => people::person_name(tx, person).await?,
        None => None,
    };
    let options: Option<Options> = serde_json::from_str(&campaign.options).ok();
    let filters: Vec<String> = serde_json::from_str(&campaign.filters).unwrap_or_default();
    let due = |post: &Post| post.scheduled_at.unwrap_or(post.created_at);
    let context = json!({
        "number": campaign.id, "kind": campaign.kind, "filters": filters, "by": by,
        "count": pending.len(),
        "first": pending.iter().map(due).min().map(|t| conference.local(t)),
        "last": pending.iter().map(due).max().map(|t| conference.local(t)),
        "every": options.map(|o| o.every_secs / 60),
        "template": campaign.template.as_deref().map(shortened),
        "samples": pending.iter().take(SAMPLES).map(|p| &p.text).collect::<Vec<_>>(),
        "networks": networks(tx, &pending).await?,
    });
    Ok(
        Notice::new("campaign_digest", context).with_actions(vec![vec![
            Action::ApproveCampaign(campaign.id),
            Action::ReviewCampaign(campaign.id),
        ]]),
    )
}

/// Every network the posts go to, measured as their moderation messages would measure them one by one.
async fn networks(tx: &mut Tx, pending: &[Post]) -> anyhow::Result<Vec<Network>> {
    let mut networks: Vec<Network> = Vec::new();
    for post in pending {
        for length in posts::lengths(tx, post, &post.text).await? {
            let index = match networks.iter().position(|n| n.network == length.network) {
                Some(i) => i,
                None => {
                    networks.push(Network {
                        network: length.network.clone(),
                        limit: length.limit,
                        too_long: 0,
                        longest: 0,
                        parts: 1,
                    });
                    networks.len() - 1
                }
            };
            let network = &mut networks[index];
            if length.length > length.limit {
                network.too_long += 1;
            }
            network.longest = network.longest.max(length.length);
            network.parts = network.parts.max(length.parts);
        }
    }
    Ok(networks)
}

/// Writes the per-post moderation messages of the campaign's waiting posts (each `by` the campaign), and
/// remembers that they exist. Returns how many.
pub async fn review(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    campaign: &Campaign,
) -> anyhow::Result<usize> {
    let by = format!("campaign #{}", campaign.id);
    let pending = store::pending_in_campaign(tx, campaign.id).await?;
    for post in &pending {
        posts::send_to_moderation(tx, templates, now, post, &by).await?;
    }
    campaigns::set_reviewed(tx, now, campaign.id).await?;
    Ok(pending.len())
}

/// Replaces the campaign's digest, wherever it was sent, with `notice` (its actions, if any, as buttons).
pub async fn show(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    campaign: i64,
    notice: &Notice,
) -> anyhow::Result<()> {
    // One key per change: approving what was left after a first Approve all is news again.
    let edit = format!("campaign-digest-edit:{campaign}:{}", now.timestamp_micros());
    for sent in outbox::sent_messages(tx, &key(campaign)).await? {
        delivery::edit(tx, templates, now, &sent.into(), notice, &edit).await?;
    }
    Ok(())
}

/// `text`, cut after [`TEMPLATE_SHOWN`] characters with an ellipsis.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(TEMPLATE_SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
