//! The Bluesky listener: `app.bsky.notification.listNotifications` polled every `bluesky_poll_secs`,
//! newest first, page after page down to the checkpoint (the newest `indexedAt` already stored); mentions,
//! replies and quotes are stored, other reasons are passed over; then `updateSeen` marks them read.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use herald_bots::bluesky::BlueskyClient;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Item, Listener};
use crate::mentions::{BLUESKY_KIND, Heard};

/// Pages read per poll (50 notifications each).
const PAGES: usize = 10;

pub(crate) async fn run(listener: &Listener, credentials: &Value, cancel: CancellationToken) {
    let client = match client(listener, credentials) {
        Ok(client) => client,
        Err(err) => {
            listener.failed(&err).await;
            return;
        }
    };
    let every = Duration::from_secs(listener.settings.bluesky_poll_secs.max(1));
    listener
        .poll_every(every, &cancel, || poll(listener, &client))
        .await;
}

fn client(listener: &Listener, credentials: &Value) -> anyhow::Result<BlueskyClient> {
    let field = |name: &str| {
        credentials
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("no {name} stored"))
    };
    let base = listener
        .provider
        .base_url
        .as_deref()
        .unwrap_or("https://bsky.social")
        .parse()
        .context("the provider's address is not a URL")?;
    Ok(BlueskyClient::new(
        base,
        field("identifier")?,
        field("app_password")?,
        listener.http.clone(),
    ))
}

fn indexed_at(n: &Value) -> Option<DateTime<Utc>> {
    n.get("indexedAt")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// One poll: read down to the checkpoint, store what is new, move the checkpoint, mark seen.
async fn poll(listener: &Listener, client: &BlueskyClient) -> anyhow::Result<()> {
    let own = client.did().await?;
    // No cursor: the first poll. An empty one: the first poll found nothing, so everything is new.
    let checkpoint = listener.cursor().await?.map(|c| {
        DateTime::parse_from_rfc3339(&c)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    let mut heard = Vec::new();
    let mut page_cursor: Option<String> = None;
    for _ in 0..PAGES {
        let (page, next) = client
            .list_notifications(page_cursor.as_deref(), 50)
            .await?;
        let mut reached = page.is_empty();
        for n in page {
            match (indexed_at(&n), checkpoint) {
                // Not newer than the checkpoint: everything from here down was read before.
                (Some(at), Some(cp)) if at <= cp => {
                    reached = true;
                    break;
                }
                _ => heard.push(n),
            }
        }
        // The first poll only learns where "now" is.
        if reached || checkpoint.is_none() {
            break;
        }
        match next {
            Some(next) => page_cursor = Some(next),
            None => break,
        }
    }
    let newest = heard.iter().filter_map(indexed_at).max();
    let Some(checkpoint) = checkpoint else {
        // The server's own time of its newest notification: our clock may differ from its.
        let start = newest.map(stamp).unwrap_or_default();
        listener
            .store(BLUESKY_KIND, Vec::new(), Some(&start), "connected")
            .await?;
        return listener.working("connected").await;
    };
    // Stored oldest first, so mentions are numbered in the order they were written.
    let items: Vec<Item> = heard
        .into_iter()
        .rev()
        .filter(|n| {
            // Likes, follows, reposts are not mentions; an unreadable notification is kept, to be recorded.
            !matches!(
                n.get("reason").and_then(Value::as_str),
                Some(r) if !matches!(r, "mention" | "reply" | "quote")
            )
        })
        .map(|n| Item {
            event_id: n
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("invalid:{}", crate::token::hash(&n.to_string()))),
            heard: Heard {
                provider_id: listener.provider.id,
                own_account: own.clone(),
                notification: n,
            },
        })
        .collect();
    let next = newest.filter(|n| *n > checkpoint);
    listener
        .store(BLUESKY_KIND, items, next.map(stamp).as_deref(), "connected")
        .await?;
    if let Some(seen) = next
        && let Err(err) = client.update_seen(seen).await
    {
        // Only the account's unread count suffers; the checkpoint is ours.
        tracing::info!(provider = %listener.provider.internal_name, "updateSeen failed: {err}");
    }
    listener.working("connected").await
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
