//! The X listener. With a webhook registered (`/provider webhook <name> on`, which needs Herald's public
//! HTTPS address), X's webhooks bring the mentions and direct messages (`crate::web::x`): the listener has X
//! check the address again after a restart when its last check failed, and says "by webhook" in
//! `/status`. Without one, it reads the
//! account's mentions timeline and its direct messages every `x_poll_secs` ("polling"), everything newer
//! than the checkpoint (the newest post and message ids already stored), and stores each through the
//! inbox in the shape the webhook stores it, under the same key: one heard both ways is stored once.

use std::time::Duration;

use herald_bots::x::{DmQuery, Post, Timeline, TimelineQuery, XClient};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Item, Listener};
use crate::mentions::{Heard, X_KIND, XAuthor};

/// The state `/status` shows while X's webhooks bring the mentions.
pub const BY_WEBHOOK: &str = "by webhook";
/// The state while the mentions timeline is read.
pub const POLLING: &str = "polling";

pub(crate) async fn run(listener: &Listener, credentials: &Value, cancel: CancellationToken) {
    let every = Duration::from_secs(listener.settings.x_poll_secs.max(1));
    let registered = crate::social::registered_webhook(&listener.db, listener.provider.id)
        .await
        .unwrap_or_else(|err| {
            tracing::warn!(error = %format!("{err:#}"), "X listener: could not read the webhook's state");
            None
        });
    let mut fell_back = false;
    if let (Some(public), Some(_)) = (&listener.public_url, registered) {
        if by_webhook(listener, credentials, public).await {
            // Until `/provider webhook … off`: then the restarted listener polls.
            tokio::select! {
                () = cancel.cancelled() => {}
                () = registration_is(listener, false, every) => {}
            }
            return;
        }
        // The webhook cannot be used (X lost it, the app's secret is gone): nothing would arrive, so
        // the account is read by polling until the next restart.
        fell_back = true;
    }
    let own = tokio::sync::OnceCell::new();
    // Until `/provider webhook … on` registers one (with a public address): then X pushes.
    tokio::select! {
        () = listener.poll_every(every, &cancel, || async {
            let client = fresh_client(listener, credentials).await?;
            poll(listener, &client, &own).await
        }) => {}
        () = registration_is(listener, true, every), if listener.public_url.is_some() && !fell_back => {}
    }
}

/// A client with the account's credentials: as the listener was started with them, or, for an OAuth 2.0
/// token, as they are now (renewed when it is about to end: [`crate::social::x::renewed`]). Only those
/// take a transaction per poll.
async fn fresh_client(listener: &Listener, credentials: &Value) -> anyhow::Result<XClient> {
    if !matches!(
        crate::delivery::networks::Credentials::read(credentials),
        Some(crate::delivery::networks::Credentials::XOAuth2 { .. })
    ) {
        return crate::social::x::client(&listener.provider, credentials);
    }
    let mut tx = listener.db.begin().await?;
    let credentials = crate::social::x::renewed(
        &mut tx,
        &listener.provider,
        &listener.networks,
        listener.clock.now(),
    )
    .await?;
    tx.commit().await?;
    crate::social::x::client(&listener.provider, &credentials)
}

/// X pushes to the webhook: after a deploy (a restart) X is asked to check the address again when its last
/// check failed, so deliveries resume without waiting for X's hourly check. `false` when the webhook cannot
/// be used (X has none at the address, or it cannot be asked).
async fn by_webhook(listener: &Listener, credentials: &Value, public: &url::Url) -> bool {
    let checked = async {
        let url = crate::social::x_webhook_url(public, listener.provider.id)?;
        let app = crate::social::x::app_client(&listener.provider, credentials).await?;
        let ours = app
            .list_webhooks()
            .await?
            .into_iter()
            .find(|h| h.url == url.as_str());
        match ours {
            Some(hook) if !hook.valid => {
                tracing::info!(provider = %listener.provider.internal_name, "asking X to check the webhook again");
                app.validate_webhook(&hook.id).await?;
            }
            Some(_) => {}
            None => anyhow::bail!(
                "X has no webhook at {url} any more: send /provider webhook {} on",
                listener.provider.internal_name
            ),
        }
        anyhow::Ok(())
    };
    match checked.await {
        Ok(()) => {
            if let Err(err) = listener.working(BY_WEBHOOK).await {
                listener.failed(&err).await;
            }
            true
        }
        Err(err) => {
            listener.failed(&err).await;
            false
        }
    }
}

/// Returns once a webhook is (`true`) or is no longer (`false`) registered for the provider, looking every
/// `every`.
async fn registration_is(listener: &Listener, registered: bool, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Ok(found) =
            crate::social::registered_webhook(&listener.db, listener.provider.id).await
            && found.is_some() == registered
        {
            return;
        }
    }
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

/// Where the listener is: the newest mention and the newest direct message already stored, kept as one
/// cursor `<mention>|<dm>` (a cursor without `|` is a mention's, from before direct messages were read).
/// `None`: not read yet (the first read only learns where "now" is); empty: nothing there yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Cursor {
    mentions: Option<String>,
    dms: Option<String>,
}

impl Cursor {
    fn parse(stored: Option<&str>) -> Self {
        match stored.map(|s| s.split_once('|')) {
            None => Self::default(),
            Some(None) => Self {
                mentions: stored.map(str::to_owned),
                dms: None,
            },
            Some(Some((mentions, dms))) => Self {
                mentions: Some(mentions.to_owned()),
                dms: Some(dms.to_owned()),
            },
        }
    }

    fn to_stored(&self) -> String {
        format!(
            "{}|{}",
            self.mentions.as_deref().unwrap_or_default(),
            self.dms.as_deref().unwrap_or_default()
        )
    }
}

/// Whether X id `a` is newer than `b` (ids are decimal numbers that grow with time).
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// One poll: the mentions and direct messages newer than the cursor, stored oldest first; what is there
/// at the first poll is only where "now" is.
async fn poll(
    listener: &Listener,
    client: &XClient,
    own: &tokio::sync::OnceCell<String>,
) -> anyhow::Result<()> {
    let me = own
        .get_or_try_init(|| async { anyhow::Ok(client.me().await?.id) })
        .await?
        .clone();
    let mut cursor = Cursor::parse(listener.cursor().await?.as_deref());
    let mut items = Vec::new();

    let query = TimelineQuery {
        since_id: cursor.mentions.clone().filter(|c| !c.is_empty()),
        max_results: Some(100),
        ..TimelineQuery::default()
    };
    let timeline = client.mentions(&me, &query).await?;
    if cursor.mentions.is_some() {
        items.extend(
            timeline
                .posts
                .iter()
                .rev()
                .filter(|p| p.author_id.as_deref() != Some(me.as_str()))
                .map(|post| Item {
                    // The key the webhook stores the same post under.
                    event_id: format!("post:{}", post.id),
                    heard: heard(listener, &me, &timeline, post),
                }),
        );
    }
    if let Some(newest) = timeline.newest_id.clone() {
        cursor.mentions = Some(newest);
    }
    cursor.mentions.get_or_insert_default();

    // Direct messages: X keeps no "since", so the newest page is read and what is newer than the cursor
    // kept; what the account sent itself is left out.
    // An app or token without access to direct messages still hears its mentions: the messages are
    // skipped (and said in the log), the cursor for them kept.
    let page = match client.dm_events(&DmQuery::default()).await {
        Ok(page) => page,
        Err(err) => {
            tracing::warn!(provider = %listener.provider.internal_name, error = %err, "could not read the X account's direct messages; mentions only");
            herald_bots::x::DmEvents {
                events: Vec::new(),
                users: Vec::new(),
                next_token: None,
            }
        }
    };
    let known = cursor.dms.clone();
    for event in page.events.iter().rev() {
        let fresh = known.as_deref().is_some_and(|k| newer(&event.id, k));
        if fresh && event.sender_id.as_deref().is_some_and(|s| s != me) {
            let sender = page.sender(event);
            let author = XAuthor {
                id: event.sender_id.as_deref().unwrap_or_default(),
                username: sender.map_or("", |u| u.username.as_str()),
                name: sender.map_or("", |u| u.name.as_str()),
            };
            items.push(Item {
                // The key the webhook stores the same message under.
                event_id: format!("dm:{}", event.id),
                heard: Heard::x_direct_message(
                    listener.provider.id,
                    &me,
                    &event.id,
                    &event.text,
                    author,
                    event.created_at,
                ),
            });
        }
        if cursor.dms.as_deref().is_none_or(|k| newer(&event.id, k)) {
            cursor.dms = Some(event.id.clone());
        }
    }
    cursor.dms.get_or_insert_default();

    listener
        .store(X_KIND, items, Some(&cursor.to_stored()), POLLING)
        .await?;
    listener.working(POLLING).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_keeps_both_and_reads_one_from_before_direct_messages() {
        let both = Cursor {
            mentions: Some("190".into()),
            dms: Some("".into()),
        };
        assert_eq!(Cursor::parse(Some(&both.to_stored())), both);
        assert_eq!(
            Cursor::parse(Some("190")),
            Cursor {
                mentions: Some("190".into()),
                dms: None
            }
        );
        assert_eq!(Cursor::parse(None), Cursor::default());
        assert!(newer("1000", "999") && !newer("999", "1000") && !newer("5", "5"));
    }
}
