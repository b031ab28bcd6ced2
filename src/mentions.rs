//! Mentions of the conference on Mastodon, Bluesky and X: what the listeners and X's webhooks hear
//! becomes one inbox of mentions, posted to the moderation chat with Reply / Discard / Boost.
//!
//! The listeners (`crate::listen`) store each notification through the inbox as it came; the handler
//! here reads it, keeps mentions (Mastodon `mention`; Bluesky `mention`, `reply`, `quote`) and ignores the
//! rest, drops the account's own posts, stores the mention once per (provider, platform id) for the
//! conference its provider routes to, and queues the moderation-chat message. A notification that cannot be
//! read fails its inbox event (recorded with the error) and the ones behind it go on.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    db::{
        Tx,
        mentions::{self as store, Mention, NewMention},
        providers,
    },
    delivery::{self, Action, Notice, Recipient, Slot},
    templates::Templates,
};

/// Inbox kinds of the listeners' events.
pub const MASTODON_KIND: &str = "mastodon.notification";
pub const BLUESKY_KIND: &str = "bluesky.notification";
/// X's: one mention from a webhook delivery (`crate::web::x`) or the mentions timeline.
pub const X_KIND: &str = "x.mention";

/// What a listener stores in the inbox: the notification as the network sent it, and whose it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heard {
    pub provider_id: i64,
    /// The listening account's own id (Mastodon account id, Bluesky DID): its own posts are not mentions.
    pub own_account: String,
    pub notification: Value,
}

/// An X account as a stored notification names it.
#[derive(Debug, Clone, Copy)]
pub struct XAuthor<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub name: &'a str,
}

impl Heard {
    /// A direct message to X account `own_account` of provider `provider`, as the webhook and the listener
    /// store it (`kind` `dm`): a command goes to the chat core, anything else is a private mention.
    pub fn x_direct_message(
        provider: i64,
        own_account: &str,
        id: &str,
        text: &str,
        sender: XAuthor<'_>,
        created_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            provider_id: provider,
            own_account: own_account.to_owned(),
            notification: serde_json::json!({
                "id": id,
                "kind": "dm",
                "text": text,
                "author": { "id": sender.id, "username": sender.username, "name": sender.name },
                "created_at": created_at,
            }),
        }
    }
}

fn text_of<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn time_of(value: &Value, pointer: &str) -> anyhow::Result<DateTime<Utc>> {
    let text =
        text_of(value, pointer).with_context(|| format!("the notification has no {pointer}"))?;
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("{pointer} is not a time: {text}"))?
        .with_timezone(&Utc))
}

/// A Mastodon notification as a mention: `None` for other types and the account's own statuses.
pub fn from_mastodon(n: &Value, own_account: &str) -> anyhow::Result<Option<NewMention>> {
    let kind = text_of(n, "/type").context("the notification has no type")?;
    if kind != "mention" {
        return Ok(None);
    }
    let status = n
        .get("status")
        .filter(|s| s.is_object())
        .context("a mention without a status")?;
    let author_id = text_of(status, "/account/id").context("the status has no account")?;
    if author_id == own_account {
        return Ok(None);
    }
    let acct = text_of(status, "/account/acct").context("the account has no acct")?;
    let name = text_of(status, "/account/display_name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(acct);
    let content = text_of(status, "/content").context("the status has no content")?;
    Ok(Some(NewMention {
        platform_id: text_of(status, "/id")
            .context("the status has no id")?
            .to_owned(),
        platform_cid: None,
        root_id: None,
        root_cid: None,
        kind: if status.get("in_reply_to_id").is_some_and(|v| !v.is_null()) {
            "reply".into()
        } else {
            "mention".into()
        },
        visibility: text_of(status, "/visibility").map(str::to_owned),
        author_platform_id: author_id.to_owned(),
        author_handle: format!("@{acct}"),
        author_name: name.to_owned(),
        text: herald_bots::html::to_text(content),
        // Shown as a link: only a web address, whatever else a server sends.
        url: text_of(status, "/url")
            .or_else(|| text_of(status, "/uri"))
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_owned),
        written_at: time_of(status, "/created_at")?,
    }))
}

/// A Bluesky notification as a mention: `None` for likes, follows, reposts, reasons we do not know, and
/// the account's own posts.
pub fn from_bluesky(n: &Value, own_did: &str) -> anyhow::Result<Option<NewMention>> {
    let reason = text_of(n, "/reason").context("the notification has no reason")?;
    if !matches!(reason, "mention" | "reply" | "quote") {
        return Ok(None);
    }
    let did = text_of(n, "/author/did").context("the notification has no author")?;
    if did == own_did {
        return Ok(None);
    }
    let uri = text_of(n, "/uri").context("the notification has no uri")?;
    let cid = text_of(n, "/cid").context("the notification has no cid")?;
    let handle = text_of(n, "/author/handle").unwrap_or(did);
    let name = text_of(n, "/author/displayName")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(handle);
    let text = text_of(n, "/record/text").context("the post has no text")?;
    // A reply continues its thread: answers keep the same root.
    let (root_id, root_cid) = match (
        text_of(n, "/record/reply/root/uri"),
        text_of(n, "/record/reply/root/cid"),
    ) {
        (Some(uri), Some(cid)) => (uri.to_owned(), cid.to_owned()),
        _ => (uri.to_owned(), cid.to_owned()),
    };
    let rkey = uri.rsplit('/').next().unwrap_or_default();
    Ok(Some(NewMention {
        platform_id: uri.to_owned(),
        platform_cid: Some(cid.to_owned()),
        root_id: Some(root_id),
        root_cid: Some(root_cid),
        kind: reason.to_owned(),
        visibility: None,
        author_platform_id: did.to_owned(),
        author_handle: format!("@{handle}"),
        author_name: name.to_owned(),
        text: text.to_owned(),
        url: Some(format!("https://bsky.app/profile/{handle}/post/{rkey}")),
        written_at: time_of(n, "/record/createdAt").or_else(|_| time_of(n, "/indexedAt"))?,
    }))
}

/// An X mention, reply, quote or direct message as `crate::web::x` and `crate::listen::x` store it
/// (`kind` `mention`, `reply`, `quote` or `dm`): `None` for the account's own.
pub fn from_x(n: &Value, own_account: &str) -> anyhow::Result<Option<NewMention>> {
    let author_id = text_of(n, "/author/id").context("the post has no author")?;
    if author_id == own_account {
        return Ok(None);
    }
    let id = text_of(n, "/id").context("the post has no id")?;
    let username = text_of(n, "/author/username").unwrap_or_default();
    let handle = if username.is_empty() {
        author_id.to_owned()
    } else {
        format!("@{username}")
    };
    let name = text_of(n, "/author/name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&handle);
    // A direct message is answered by one, and has no public address.
    let direct = text_of(n, "/kind") == Some("dm");
    Ok(Some(NewMention {
        platform_id: id.to_owned(),
        platform_cid: None,
        root_id: None,
        root_cid: None,
        kind: match text_of(n, "/kind") {
            Some(kind @ ("reply" | "quote")) => kind.to_owned(),
            _ => "mention".to_owned(),
        },
        visibility: direct.then(|| "direct".to_owned()),
        author_platform_id: author_id.to_owned(),
        author_handle: handle.clone(),
        author_name: name.to_owned(),
        text: text_of(n, "/text")
            .context("the post has no text")?
            .to_owned(),
        url: (!username.is_empty() && !direct)
            .then(|| format!("https://x.com/{username}/status/{id}")),
        // A delivery that does not say when was written when it arrived.
        written_at: time_of(n, "/created_at").unwrap_or_else(|_| Utc::now()),
    }))
}

/// Stores a mention the listeners heard (unless it is the account's own or already known) for the
/// conference its provider routes to, and posts it to that conference's moderation chat once.
pub async fn receive(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    provider: &providers::Provider,
    mention: &NewMention,
) -> anyhow::Result<()> {
    let Some(conference) = store::route_of(tx, provider.id).await? else {
        tracing::info!(provider = %provider.internal_name, "a mention for a provider routed nowhere; dropped");
        return Ok(());
    };
    if let Some(id) = store::insert(tx, now, conference, provider.id, mention).await?
        && let Some(stored) = store::mention(tx, id).await?
    {
        post_to_moderation(tx, templates, now, &stored, provider).await?;
    }
    Ok(())
}

/// Reads a stored notification as a mention: `None` for notifications that are not mentions.
pub fn read(kind: &str, heard: &Heard) -> anyhow::Result<Option<NewMention>> {
    match kind {
        MASTODON_KIND => from_mastodon(&heard.notification, &heard.own_account),
        BLUESKY_KIND => from_bluesky(&heard.notification, &heard.own_account),
        X_KIND => from_x(&heard.notification, &heard.own_account),
        other => anyhow::bail!("no mention reader for {other}"),
    }
}

/// The first `max` characters of `text`, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// The mention as templates show it.
pub fn mention_json(m: &Mention, provider: &providers::Provider) -> Value {
    json!({
        "number": m.id, "kind": m.kind, "author": m.author_handle, "name": m.author_name,
        "text": m.text, "excerpt": excerpt(&m.text, 200), "url": m.url, "network": provider.kind,
        "provider": provider.internal_name,
        "state": m.state, "visibility": m.visibility,
    })
}

/// Queues the mention for the conference's moderation chat, with Reply / Discard / Boost.
async fn post_to_moderation(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    mention: &Mention,
    provider: &providers::Provider,
) -> anyhow::Result<()> {
    let notice = open_notice(mention, provider);
    let moderation = Recipient::Slot {
        conference: mention.conference_id,
        slot: Slot::Moderation,
    };
    let key = format!("mention:{}", mention.id);
    delivery::send(tx, templates, now, moderation, &notice, &key).await?;
    Ok(())
}

/// Shows a mention's outcome on its moderation-chat message (the buttons go).
/// An open mention as moderators see it: its text, with Reply / Discard / Boost.
fn open_notice(mention: &Mention, provider: &providers::Provider) -> Notice {
    Notice::new("mention", mention_json(mention, provider)).with_actions(vec![vec![
        Action::AnswerMention(mention.id),
        Action::DiscardMention(mention.id),
        Action::BoostMention(mention.id),
    ]])
}

/// A mention open again (its answer was rejected): its messages show it with its buttons again.
pub async fn show_open(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    mention: &Mention,
) -> anyhow::Result<()> {
    let Some(provider) = providers::provider_by_id(tx, mention.provider_id).await? else {
        return Ok(());
    };
    let notice = open_notice(mention, &provider);
    let key = format!("mention-open:{}:{}", mention.id, now.timestamp_micros());
    for sent in store::chat_messages(tx, mention.id).await? {
        delivery::edit(tx, templates, now, &sent.into(), &notice, &key).await?;
    }
    Ok(())
}

pub async fn show_outcome(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    mention: &Mention,
    by: &str,
) -> anyhow::Result<()> {
    let sent = store::chat_messages(tx, mention.id).await?;
    let Some(provider) = providers::provider_by_id(tx, mention.provider_id).await? else {
        return Ok(());
    };
    let notice = Notice::new(
        "mention_done",
        json!({ "mention": mention_json(mention, &provider), "by": by }),
    );
    let key = format!(
        "mention-done:{}:{}:{}",
        mention.id,
        mention.state,
        now.timestamp_micros()
    );
    for sent in sent {
        delivery::edit(tx, templates, now, &sent.into(), &notice, &key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Value {
        let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
    }

    #[test]
    fn a_recorded_mastodon_mention_reads_as_a_mention() {
        let n = fixture("mastodon/notification-mention-single.json");
        let m = from_mastodon(&n, "1").unwrap().unwrap();
        assert_eq!(m.platform_id, "117020577157693549");
        assert_eq!(m.author_handle, "@admin");
        assert_eq!(
            m.author_name, "admin",
            "an empty display name falls back to the acct"
        );
        assert_eq!(m.text, "@mastodonpy_test hello!");
        assert_eq!(m.kind, "mention");
        assert_eq!(m.visibility.as_deref(), Some("public"));
        assert_eq!(
            m.url.as_deref(),
            Some("http://localhost:3000/@admin/117020577157693549")
        );
        assert_eq!(m.written_at.to_rfc3339(), "2026-08-01T13:51:42.823+00:00");
        // Its own status is not a mention of it.
        assert_eq!(from_mastodon(&n, "117020565693913441").unwrap(), None);
        // Other types are ignored.
        let mut favourite = n.clone();
        favourite["type"] = json!("favourite");
        assert_eq!(from_mastodon(&favourite, "1").unwrap(), None);
        // A mention without its status is an error (recorded, not silently dropped).
        let mut broken = n;
        broken["status"] = Value::Null;
        assert!(from_mastodon(&broken, "1").is_err());
    }

    #[test]
    fn a_recorded_bluesky_mention_reads_as_a_mention_and_likes_are_ignored() {
        let page = fixture("bluesky/listNotifications-response-reason-mention.json");
        let n = &page["notifications"][0];
        let m = from_bluesky(n, "did:plc:herald").unwrap().unwrap();
        assert_eq!(m.platform_id, "record(0)");
        assert_eq!(m.platform_cid.as_deref(), Some("cids(0)"));
        assert_eq!(
            m.root_id.as_deref(),
            Some("record(0)"),
            "not a reply: its own root"
        );
        assert_eq!(m.author_handle, "@dan.test");
        assert_eq!(m.text, "@alice.bluesky.xyz is the best");
        assert_eq!(m.kind, "mention");
        assert_eq!(from_bluesky(n, "user(0)").unwrap(), None, "its own post");
        let others = fixture("bluesky/listNotifications-without-last-seen.json");
        let mut kept = 0;
        for n in others["notifications"].as_array().unwrap() {
            let reason = n["reason"].as_str().unwrap();
            let read = from_bluesky(n, "did:plc:herald").unwrap();
            assert_eq!(
                read.is_some(),
                matches!(reason, "mention" | "reply" | "quote"),
                "{reason}"
            );
            kept += usize::from(read.is_some());
            if let Some(m) = read
                && reason == "reply"
            {
                assert_eq!(
                    m.root_id.as_deref(),
                    n.pointer("/record/reply/root/uri").and_then(Value::as_str),
                    "a reply keeps its thread's root"
                );
            }
        }
        assert!(kept > 0);
        let mut unknown = n.clone();
        unknown["reason"] = json!("starterpack-joined");
        assert_eq!(from_bluesky(&unknown, "did:plc:herald").unwrap(), None);
    }
}
