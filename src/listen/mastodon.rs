//! The Mastodon listener: the user stream (server-sent events) for mentions as they happen, and a catch-up
//! through `GET /api/v1/notifications?types[]=mention&since_id=…` after every (re)connect, so nothing said
//! while disconnected is missed. The stream is opened before the catch-up, so a mention arriving in between
//! is in one or the other (the inbox keeps it once).

use std::time::Duration;

use anyhow::Context;
use herald_bots::mastodon::MastodonClient;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Item, Listener};
use crate::mentions::{Heard, MASTODON_KIND};

/// Pages read per catch-up (40 notifications each).
const CATCH_UP_PAGES: usize = 25;

pub(crate) async fn run(listener: &Listener, credentials: &Value, cancel: CancellationToken) {
    let mut failures = 0u32;
    loop {
        match session(listener, credentials, &cancel).await {
            Ok(()) => failures = 0,
            Err(err) => {
                listener.failed(&err).await;
                failures += 1;
            }
        }
        if cancel.is_cancelled() {
            return;
        }
        // A closed stream is reconnected after a moment; a failure waits longer each time.
        let wait = if failures == 0 {
            Duration::from_millis(listener.settings.backoff_base_ms.max(1))
        } else {
            listener.backoff(failures - 1)
        };
        if !listener.pause(wait, &cancel).await {
            return;
        }
    }
}

/// Mastodon ids are decimal numbers as strings, ordered by value.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

fn newest<'a>(ids: impl Iterator<Item = &'a str>, start: Option<&'a str>) -> Option<&'a str> {
    ids.fold(start, |best, id| match best {
        Some(b) if !newer(id, b) => Some(b),
        _ => Some(id),
    })
}

fn item(own: &str, notification: Value, provider: i64) -> Item {
    let event_id = notification
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("invalid:{}", crate::token::hash(&notification.to_string())));
    Item {
        event_id,
        heard: Heard {
            provider_id: provider,
            own_account: own.to_owned(),
            notification,
        },
    }
}

/// One connection: open the stream, catch up, then store mentions as they arrive until the stream ends.
async fn session(
    listener: &Listener,
    credentials: &Value,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let provider = &listener.provider;
    let base = provider
        .base_url
        .as_deref()
        .context("the provider has no instance address")?
        .parse()
        .context("the provider's instance address is not a URL")?;
    let token = credentials
        .get("token")
        .and_then(Value::as_str)
        .context("no access token stored")?;
    let client = MastodonClient::new(base, token, listener.http.clone());
    let own = client.verify_credentials().await?.id;
    let streaming = client.streaming_base().await?;
    let mut stream = client.notification_stream(&streaming).await?;

    listener.working("catching_up").await?;
    let mut cursor = listener.cursor().await?;
    match cursor.as_deref() {
        // First start: listen from now on, rather than flood the moderation chat with the past.
        None => {
            let recent = client.mentions_since(None, 1).await?;
            let start = newest(
                recent
                    .iter()
                    .filter_map(|n| n.get("id").and_then(Value::as_str)),
                None,
            )
            .unwrap_or("0")
            .to_owned();
            listener
                .store(MASTODON_KIND, Vec::new(), Some(&start), "catching_up")
                .await?;
            cursor = Some(start);
        }
        Some(since) => {
            let missed = client.mentions_since(Some(since), CATCH_UP_PAGES).await?;
            let next = newest(
                missed
                    .iter()
                    .filter_map(|n| n.get("id").and_then(Value::as_str)),
                Some(since),
            )
            .map(str::to_owned);
            // Listed newest first; stored oldest first, so mentions are numbered in order.
            let items = missed
                .into_iter()
                .rev()
                .map(|n| item(&own, n, provider.id))
                .collect();
            listener
                .store(MASTODON_KIND, items, next.as_deref(), "catching_up")
                .await?;
            cursor = next;
        }
    }
    listener.working("connected").await?;

    let idle = Duration::from_secs(listener.settings.stream_idle_secs.max(1));
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            read = tokio::time::timeout(idle, stream.next()) => match read {
                // Silence longer than the heartbeat interval: the connection is gone without a word.
                Err(_) => return Ok(()),
                Ok(event) => event?,
            },
        };
        let Some(event) = event else {
            return Ok(());
        };
        if event.name != "notification" {
            continue;
        }
        let notification = serde_json::from_str::<Value>(&event.data)
            // Unreadable data is kept as it came: the inbox records it failed, and the stream goes on.
            .unwrap_or(Value::String(event.data.clone()));
        if notification.get("type").and_then(Value::as_str) != Some("mention")
            && notification.is_object()
        {
            continue;
        }
        let id = notification
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let next = match (&id, &cursor) {
            (Some(id), Some(c)) if newer(id, c) => Some(id.clone()),
            (Some(id), None) => Some(id.clone()),
            _ => cursor.clone(),
        };
        listener
            .store(
                MASTODON_KIND,
                vec![item(&own, notification, provider.id)],
                next.as_deref(),
                "connected",
            )
            .await?;
        listener.report.ok(listener.clock.now());
        cursor = next;
    }
}

#[cfg(test)]
mod tests {
    use super::{newer, newest};

    #[test]
    fn ids_compare_as_numbers() {
        assert!(newer("117020577157693549", "99999999999999999"));
        assert!(!newer("21", "21"));
        assert!(newer("22", "21"));
        assert_eq!(newest(["5", "12", "9"].into_iter(), Some("10")), Some("12"));
        assert_eq!(newest([].into_iter(), Some("10")), Some("10"));
        assert_eq!(newest([].into_iter(), None), None);
    }
}
