//! The X listener. With a public HTTPS address, X's webhooks bring the mentions (`crate::web::x`) and the
//! listener only says so ("by webhook" in `/status`). Without one, it reads the account's mentions timeline
//! every `x_poll_secs` ("polling"), everything newer than the checkpoint (the newest post id already
//! stored), and stores each mention through the inbox in the shape the webhook stores it, under the same
//! key: a mention heard both ways is stored once.

use std::time::Duration;

use herald_bots::x::{Post, Timeline, TimelineQuery, XClient};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Item, Listener};
use crate::mentions::{Heard, X_KIND};

/// The state `/status` shows while X's webhooks bring the mentions.
pub const BY_WEBHOOK: &str = "by webhook";
/// The state while the mentions timeline is read.
pub const POLLING: &str = "polling";

pub(crate) async fn run(listener: &Listener, credentials: &Value, cancel: CancellationToken) {
    if listener.x_webhooks {
        if let Err(err) = listener.working(BY_WEBHOOK).await {
            listener.failed(&err).await;
        }
        cancel.cancelled().await;
        return;
    }
    let client = match crate::social::x::client(&listener.provider, credentials) {
        Ok(client) => client,
        Err(err) => {
            listener.failed(&err).await;
            return;
        }
    };
    let every = Duration::from_secs(listener.settings.x_poll_secs.max(1));
    let own = tokio::sync::OnceCell::new();
    listener
        .poll_every(every, &cancel, || poll(listener, &client, &own))
        .await;
}

/// A post of the mentions timeline as `crate::mentions::from_x` reads it (the webhook's shape).
fn heard(listener: &Listener, own: &str, timeline: &Timeline, post: &Post) -> Heard {
    let author = timeline.author(post);
    Heard {
        provider_id: listener.provider.id,
        own_account: own.to_owned(),
        notification: json!({
            "id": post.id,
            "kind": if post.in_reply_to_user_id.as_deref() == Some(own) { "reply" } else { "mention" },
            "text": post.text,
            "author": {
                "id": post.author_id.clone().unwrap_or_default(),
                "username": author.map(|a| a.username.clone()).unwrap_or_default(),
                "name": author.map(|a| a.name.clone()).unwrap_or_default(),
            },
            "created_at": post.created_at,
        }),
    }
}

/// One poll: what is newer than the checkpoint, stored oldest first; the first poll only learns where
/// "now" is.
async fn poll(
    listener: &Listener,
    client: &XClient,
    own: &tokio::sync::OnceCell<String>,
) -> anyhow::Result<()> {
    let me = own
        .get_or_try_init(|| async { anyhow::Ok(client.me().await?.id) })
        .await?
        .clone();
    let checkpoint = listener.cursor().await?;
    let query = TimelineQuery {
        since_id: checkpoint.clone().filter(|c| !c.is_empty()),
        max_results: Some(100),
        ..TimelineQuery::default()
    };
    let timeline = client.mentions(&me, &query).await?;
    let newest = timeline.newest_id.clone();
    if checkpoint.is_none() {
        let start = newest.unwrap_or_default();
        listener
            .store(X_KIND, Vec::new(), Some(&start), POLLING)
            .await?;
        return listener.working(POLLING).await;
    }
    let items: Vec<Item> = timeline
        .posts
        .iter()
        .rev()
        .filter(|p| p.author_id.as_deref() != Some(me.as_str()))
        .map(|post| Item {
            // The key the webhook stores the same post under.
            event_id: format!("post:{}", post.id),
            heard: heard(listener, &me, &timeline, post),
        })
        .collect();
    listener
        .store(
            X_KIND,
            items,
            newest.as_deref().or(checkpoint.as_deref()),
            POLLING,
        )
        .await?;
    listener.working(POLLING).await
}
