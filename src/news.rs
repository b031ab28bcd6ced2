//! News: `/news <title> <url>` and a conference's feed (RSS or Atom, polled every few minutes) become one
//! approved post per item — the title, the link, a blank line and the conference's auto-add hashtags — and
//! each item is posted once, ever. The first read of a new feed only learns what is there already.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    db::{Db, Tx, conferences::Conference, hashtags, news as store, posts as posts_store},
    health::Reporter,
    posts,
};

/// How often a feed is read.
pub const EVERY: TimeDelta = TimeDelta::minutes(5);
/// The most a feed may weigh.
const MAX_FEED_BYTES: usize = 5 * 1024 * 1024;

/// What became of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Posted: the post's id.
    Posted(i64),
    /// Seen before (by the feed or `/news`).
    Known,
}

/// Posts one news item (approved, as automatic posts are: the posting window applies) unless it was posted
/// before. `guid` identifies it for "once, ever".
pub async fn post_item(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: &Conference,
    guid: &str,
    title: &str,
    url: Option<&str>,
    by: Option<i64>,
) -> anyhow::Result<Outcome> {
    let Some(item) = store::insert_item(tx, now, conference.id, guid, title, url).await? else {
        return Ok(Outcome::Known);
    };
    let body = match url {
        Some(url) => format!("{}\n{url}", title.trim()),
        None => title.trim().to_owned(),
    };
    let tags = hashtags::hashtags(tx, conference.id).await?;
    let text = posts::with_hashtags(&body, &tags);
    let id =
        posts_store::create_post(tx, now, conference.id, None, "news", "approved", &text).await?;
    posts_store::audit(tx, now, id, by, "created", "news", Some(guid)).await?;
    let post = posts_store::post(tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("post vanished"))?;
    // News is never refused for length: a long title goes out as a thread.
    let _ = posts::deliver(tx, now, conference, &post).await?;
    store::set_item_post(tx, item, id).await?;
    Ok(Outcome::Posted(id))
}

/// One feed entry, as news needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub guid: String,
    pub title: String,
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
}

/// Reads an RSS or Atom document, oldest entry first.
pub fn parse_feed(bytes: &[u8]) -> anyhow::Result<Vec<Item>> {
    let feed = feed_rs::parser::parse(bytes).map_err(|e| anyhow::anyhow!("not a feed: {e}"))?;
    let mut items: Vec<Item> = feed
        .entries
        .into_iter()
        .filter_map(|e| {
            let url = e.links.first().map(|l| l.href.clone());
            let title = e.title.map(|t| t.content.trim().to_owned())?;
            Some(Item {
                guid: if e.id.is_empty() {
                    url.clone().unwrap_or_else(|| title.clone())
                } else {
                    e.id
                },
                title,
                url,
                published: e.published.or(e.updated),
            })
        })
        .collect();
    // Feeds list the newest first; post in the order things happened.
    items.sort_by_key(|i| i.published);
    Ok(items)
}

async fn fetch(http: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let response = http
        .get(url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        anyhow::bail!("the feed answered HTTP {status}");
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.without_url()))?;
    if bytes.len() > MAX_FEED_BYTES {
        anyhow::bail!(
            "the feed is {} bytes, more than {MAX_FEED_BYTES}",
            bytes.len()
        );
    }
    Ok(bytes.to_vec())
}

/// Reads every feed that is due; returns how many items were posted.
pub async fn poll_once(
    db: &Db,
    clock: &SharedClock,
    http: &reqwest::Client,
) -> anyhow::Result<usize> {
    let due = {
        let mut tx = db.begin().await?;
        let due = store::due_feeds(&mut tx, clock.now() - EVERY).await?;
        tx.commit().await?;
        due
    };
    let mut posted = 0;
    for feed in due {
        let read = match fetch(http, &feed.url).await {
            Ok(bytes) => parse_feed(&bytes),
            Err(err) => Err(err),
        };
        let mut tx = db.begin().await?;
        let now = clock.now();
        match read {
            Ok(items) => {
                if let Some(conference) =
                    crate::db::conferences::conference_by_id(&mut tx, feed.conference_id).await?
                {
                    for item in &items {
                        if !feed.primed {
                            // The back catalogue: remembered, not posted.
                            store::insert_item(
                                &mut tx,
                                now,
                                conference.id,
                                &item.guid,
                                &item.title,
                                item.url.as_deref(),
                            )
                            .await?;
                            continue;
                        }
                        let outcome = post_item(
                            &mut tx,
                            now,
                            &conference,
                            &item.guid,
                            &item.title,
                            item.url.as_deref(),
                            None,
                        )
                        .await?;
                        posted += usize::from(matches!(outcome, Outcome::Posted(_)));
                    }
                }
                store::record_check(&mut tx, feed.conference_id, now, None).await?;
            }
            Err(err) => {
                let text = format!("{err:#}");
                tracing::warn!(url = %crate::token::redact_url(&feed.url), error = %text, "news feed unreadable");
                store::record_check(&mut tx, feed.conference_id, now, Some(&text)).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(posted)
}

/// Reads feeds until shutdown, looking every 30 seconds for one that is due.
pub async fn run(db: Db, clock: SharedClock, health: Reporter, shutdown: CancellationToken) {
    let http = reqwest::Client::new();
    crate::health::repeat(&clock, &health, &shutdown, Duration::from_secs(30), || {
        poll_once(&db, &clock, &http)
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::parse_feed;

    #[test]
    fn rss_and_atom_read_oldest_first() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
            <item><title>Second</title><link>https://c.example/2</link><guid>n2</guid><pubDate>Tue, 02 Feb 2027 10:00:00 GMT</pubDate></item>
            <item><title>First</title><link>https://c.example/1</link><guid>n1</guid><pubDate>Mon, 01 Feb 2027 10:00:00 GMT</pubDate></item>
            </channel></rss>"#;
        let items = parse_feed(rss).unwrap();
        assert_eq!(
            items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(),
            ["First", "Second"]
        );
        assert_eq!(items[0].url.as_deref(), Some("https://c.example/1"));
        let atom = br#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>N</title>
            <id>urn:x</id><updated>2027-02-01T10:00:00Z</updated>
            <entry><title>Only</title><id>urn:e1</id><link href="https://c.example/e1"/><updated>2027-02-01T10:00:00Z</updated></entry></feed>"#;
        let items = parse_feed(atom).unwrap();
        assert_eq!(items[0].guid, "urn:e1");
        assert!(parse_feed(b"<html>not a feed</html>").is_err());
    }
}
