//! X webhooks: the CRC challenge, the signature of each delivery, and the deliveries read into one enum.
//!
//! (X docs "Webhooks quickstart" and the legacy "Securing webhooks".) X checks a webhook by
//! `GET ?crc_token=…`, to be answered within 3 s with `{"response_token": "sha256=" + base64(HMAC-SHA256(key:
//! consumer secret, message: crc_token))}`. Every `POST` carries `x-twitter-webhooks-signature: sha256=…`, the
//! same HMAC over the raw body bytes — compared here in constant time (`hmac`'s `verify_slice`).
//!
//! Two envelopes arrive on the same kind of webhook:
//! - the Account Activity API (AAA): `{"for_user_id", "tweet_create_events": [v1.1 Tweet], "direct_message_events":
//!   [...], "users": {...}, ...}` — several kinds of events in one body, and the same event once per subscribed
//!   user it concerns (tell copies apart by `for_user_id`, deduplicate by event id);
//! - the X Activity API (XAA) that replaces it: `{"data": {"event_uuid", "filter": {"user_id"}, "event_type",
//!   "payload", "includes"}}`, one event per body, posts in the v2 shape.
//!
//! [`parse`] reads both into a [`Delivery`] of [`Event`]s; what Herald does not act on is kept as
//! [`Event::Other`] with its kind, so it can be counted and ignored.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// The header X signs deliveries with.
pub const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

fn mac(consumer_secret: &str) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(consumer_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// `sha256=` and the base64 HMAC-SHA256 of `message` keyed with the consumer secret.
pub fn sign(consumer_secret: &str, message: &[u8]) -> String {
    let mut mac = mac(consumer_secret);
    mac.update(message);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The body answering a CRC check: `{"response_token": "sha256=…"}`, served as `application/json`.
pub fn crc_response(consumer_secret: &str, crc_token: &str) -> Value {
    serde_json::json!({ "response_token": sign(consumer_secret, crc_token.as_bytes()) })
}

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no x-twitter-webhooks-signature header")]
    Missing,
    #[error("the signature header is not sha256=<base64>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a delivery's signature header against its raw body, in constant time.
pub fn verify_signature(
    consumer_secret: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let encoded = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| SignatureError::Malformed)?;
    let mut mac = mac(consumer_secret);
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// One delivery: the events of one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The subscribed account the delivery is for (AAA `for_user_id`, XAA `filter.user_id`).
    pub for_user_id: Option<String>,
    /// XAA's `event_uuid`; AAA has none.
    pub event_uuid: Option<String>,
    pub events: Vec<Event>,
}

/// An account as a delivery names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: String,
    /// Without the `@`; empty when the delivery does not say.
    pub username: String,
    pub name: String,
}

/// How a post relates to the subscribed account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    /// The account's own post.
    Own,
    /// Someone mentions the account.
    Mention,
    /// Someone replies to the account.
    Reply,
    /// Someone quotes one of the account's posts.
    Quote,
    /// A repost (of or by the account).
    Repost,
    /// None of these (an AAA post the account is otherwise part of).
    Other,
}

/// A post created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostEvent {
    pub id: String,
    pub kind: PostKind,
    /// The full text (`extended_tweet.full_text` when AAA truncated it).
    pub text: String,
    pub author: Author,
    pub created_at: Option<DateTime<Utc>>,
    pub in_reply_to_post_id: Option<String>,
}

/// A direct message, received or sent by the subscribed account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage {
    pub id: String,
    pub sender: Author,
    pub recipient_id: String,
    pub text: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// One event of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Post(PostEvent),
    PostDeleted {
        id: String,
        author_id: Option<String>,
    },
    DirectMessage(DirectMessage),
    Follow {
        source_id: String,
        target_id: String,
        unfollow: bool,
    },
    /// The account took back the app's access (AAA `user_event.revoke`, XAA `oauth.revoke`).
    AccessRevoked {
        user_id: String,
    },
    /// Anything else (likes, blocks, typing indicators, profile changes…), by its kind.
    Other {
        kind: String,
    },
}

impl Event {
    /// A key that names this event across copies and redeliveries, for the inbox's deduplication.
    pub fn dedup_key(&self) -> Option<String> {
        match self {
            Self::Post(post) => Some(format!("post:{}", post.id)),
            Self::PostDeleted { id, .. } => Some(format!("post-deleted:{id}")),
            Self::DirectMessage(dm) => Some(format!("dm:{}", dm.id)),
            Self::Follow {
                source_id,
                target_id,
                unfollow,
            } => Some(format!(
                "{}:{source_id}:{target_id}",
                if *unfollow { "unfollow" } else { "follow" }
            )),
            Self::AccessRevoked { user_id } => Some(format!("revoke:{user_id}")),
            Self::Other { .. } => None,
        }
    }
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is neither an Account Activity nor an X Activity delivery")]
    UnknownEnvelope,
    #[error("a {kind} event lacks {field}")]
    Missing { kind: String, field: &'static str },
}

/// Reads a delivery's body (after [`verify_signature`]).
pub fn parse(body: &[u8]) -> Result<Delivery, ParseError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(ParseError::UnknownEnvelope);
    };
    match object.get("data") {
        Some(Value::Object(data)) if data.contains_key("event_type") => parse_xaa(data),
        _ => parse_aaa(&object),
    }
}

fn string(value: &Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(
    value: &Value,
    pointer: &str,
    kind: &str,
    field: &'static str,
) -> Result<String, ParseError> {
    string(value, pointer).ok_or_else(|| ParseError::Missing {
        kind: kind.to_owned(),
        field,
    })
}

/// The id of the user at `side` (`source`, `target`): v1.1's `id_str`, or v2's `id`, bare (AAA) or under
/// `data` (XAA).
fn user_id(value: &Value, side: &'static str, kind: &str) -> Result<String, ParseError> {
    ["id_str", "id", "data/id"]
        .iter()
        .find_map(|field| string(value, &format!("/{side}/{field}")))
        .ok_or_else(|| ParseError::Missing {
            kind: kind.to_owned(),
            field: side,
        })
}

/// Milliseconds since the epoch, as a string or a number.
fn from_millis(value: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(string(value, pointer)?.parse().ok()?)
}

fn parse_aaa(object: &Map<String, Value>) -> Result<Delivery, ParseError> {
    let for_user_id = object
        .get("for_user_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let users = object.get("users").cloned().unwrap_or(Value::Null);
    let mut events = Vec::new();
    let mut known = false;
    for (key, value) in object {
        let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
        match key.as_str() {
            "tweet_create_events" => {
                for tweet in items {
                    events.push(Event::Post(aaa_tweet(tweet, for_user_id.as_deref())?));
                }
            }
            "tweet_delete_events" => {
                for deleted in items {
                    events.push(Event::PostDeleted {
                        id: required(deleted, "/status/id", key, "status.id")?,
                        author_id: string(deleted, "/status/user_id"),
                    });
                }
            }
            "direct_message_events" => {
                for dm in items {
                    if let Some(dm) = direct_message(dm, &users, key)? {
                        events.push(Event::DirectMessage(dm));
                    }
                }
            }
            "follow_events" => {
                for follow in items {
                    events.push(Event::Follow {
                        source_id: user_id(follow, "source", key)?,
                        target_id: user_id(follow, "target", key)?,
                        unfollow: follow.get("type").and_then(Value::as_str) == Some("unfollow"),
                    });
                }
            }
            "user_event" => {
                if let Some(user_id) = string(value, "/revoke/source/user_id") {
                    events.push(Event::AccessRevoked { user_id });
                } else {
                    events.push(Event::Other { kind: key.clone() });
                }
            }
            other if other.ends_with("_events") => {
                events.extend(items.iter().map(|_| Event::Other { kind: key.clone() }));
            }
            _ => continue,
        }
        known = true;
    }
    if !known {
        return Err(ParseError::UnknownEnvelope);
    }
    Ok(Delivery {
        for_user_id,
        event_uuid: None,
        events,
    })
}

/// A v1.1 Tweet object (AAA `tweet_create_events`).
fn aaa_tweet(tweet: &Value, for_user_id: Option<&str>) -> Result<PostEvent, ParseError> {
    const KIND: &str = "tweet_create_events";
    let author_id = required(tweet, "/user/id_str", KIND, "user.id_str")?;
    let text = string(tweet, "/extended_tweet/full_text")
        .or_else(|| string(tweet, "/full_text"))
        .or_else(|| string(tweet, "/text"))
        .unwrap_or_default();
    let concerns =
        |pointer: &str| for_user_id.is_some() && string(tweet, pointer).as_deref() == for_user_id;
    let mentioned = tweet
        .pointer("/entities/user_mentions")
        .and_then(Value::as_array)
        .is_some_and(|mentions| {
            mentions
                .iter()
                .any(|m| for_user_id.is_some() && string(m, "/id_str").as_deref() == for_user_id)
        });
    let kind = if tweet.get("retweeted_status").is_some() {
        PostKind::Repost
    } else if for_user_id == Some(author_id.as_str()) {
        PostKind::Own
    } else if concerns("/in_reply_to_user_id_str") {
        PostKind::Reply
    } else if concerns("/quoted_status/user/id_str") {
        PostKind::Quote
    } else if mentioned {
        PostKind::Mention
    } else {
        PostKind::Other
    };
    Ok(PostEvent {
        id: required(tweet, "/id_str", KIND, "id_str")?,
        kind,
        text,
        author: Author {
            id: author_id,
            username: string(tweet, "/user/screen_name").unwrap_or_default(),
            name: string(tweet, "/user/name").unwrap_or_default(),
        },
        created_at: from_millis(tweet, "/timestamp_ms").or_else(|| {
            DateTime::parse_from_str(&string(tweet, "/created_at")?, "%a %b %d %H:%M:%S %z %Y")
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }),
        in_reply_to_post_id: string(tweet, "/in_reply_to_status_id_str"),
    })
}

/// A `message_create` event; `users` is AAA's `{id: user}` or XAA's `{id: {"data": user}}`.
fn direct_message(
    dm: &Value,
    users: &Value,
    kind: &str,
) -> Result<Option<DirectMessage>, ParseError> {
    if dm.get("type").and_then(Value::as_str) != Some("message_create") {
        return Ok(None);
    }
    let sender_id = required(
        dm,
        "/message_create/sender_id",
        kind,
        "message_create.sender_id",
    )?;
    let user = users
        .get(&sender_id)
        .map(|u| u.get("data").unwrap_or(u))
        .cloned()
        .unwrap_or(Value::Null);
    Ok(Some(DirectMessage {
        id: required(dm, "/id", kind, "id")?,
        sender: Author {
            username: string(&user, "/screen_name")
                .or_else(|| string(&user, "/username"))
                .unwrap_or_default(),
            name: string(&user, "/name").unwrap_or_default(),
            id: sender_id,
        },
        recipient_id: required(
            dm,
            "/message_create/target/recipient_id",
            kind,
            "message_create.target.recipient_id",
        )?,
        text: string(dm, "/message_create/message_data/text").unwrap_or_default(),
        created_at: from_millis(dm, "/created_timestamp"),
    }))
}

fn parse_xaa(data: &Map<String, Value>) -> Result<Delivery, ParseError> {
    let data = Value::Object(data.clone());
    let kind = string(&data, "/event_type").unwrap_or_default();
    let payload = data.get("payload").cloned().unwrap_or(Value::Null);
    let post_kind = match kind.as_str() {
        "post.create" => Some(PostKind::Own),
        "post.mention.create" => Some(PostKind::Mention),
        "post.reply.create" => Some(PostKind::Reply),
        "post.quote.create" => Some(PostKind::Quote),
        "post.repost.create" => Some(PostKind::Repost),
        _ => None,
    };
    let events = if let Some(post_kind) = post_kind {
        vec![Event::Post(xaa_post(&payload, &data, post_kind, &kind)?)]
    } else {
        match kind.as_str() {
            "post.delete" => vec![Event::PostDeleted {
                id: required(&payload, "/id", &kind, "payload.id")?,
                author_id: string(&payload, "/author_id"),
            }],
            "dm.received" | "dm.sent" => {
                let users = payload.get("users").cloned().unwrap_or(Value::Null);
                let mut events = Vec::new();
                for dm in payload
                    .get("direct_message_events")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if let Some(dm) = direct_message(dm, &users, &kind)? {
                        events.push(Event::DirectMessage(dm));
                    }
                }
                events
            }
            "follow.follow" | "follow.unfollow" => vec![Event::Follow {
                source_id: user_id(&payload, "source", &kind)?,
                target_id: user_id(&payload, "target", &kind)?,
                unfollow: kind == "follow.unfollow",
            }],
            "oauth.revoke" => vec![Event::AccessRevoked {
                user_id: required(&payload, "/user_id", &kind, "payload.user_id")?,
            }],
            _ => vec![Event::Other { kind: kind.clone() }],
        }
    };
    Ok(Delivery {
        for_user_id: string(&data, "/filter/user_id"),
        event_uuid: string(&data, "/event_uuid"),
        events,
    })
}

/// A v2 post (XAA `post.*` payloads); its author from `includes.users`.
fn xaa_post(
    payload: &Value,
    data: &Value,
    post_kind: PostKind,
    kind: &str,
) -> Result<PostEvent, ParseError> {
    let author_id = required(payload, "/author_id", kind, "payload.author_id")?;
    let author = data
        .pointer("/includes/users")
        .and_then(Value::as_array)
        .and_then(|users| {
            users
                .iter()
                .find(|u| string(u, "/id").as_deref() == Some(&author_id))
        })
        .cloned()
        .unwrap_or(Value::Null);
    let replied_to = payload
        .get("referenced_tweets")
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| string(r, "/type").as_deref() == Some("replied_to"))
        })
        .and_then(|r| string(r, "/id"));
    Ok(PostEvent {
        id: required(payload, "/id", kind, "payload.id")?,
        kind: post_kind,
        text: string(payload, "/note_tweet/text")
            .or_else(|| string(payload, "/text"))
            .unwrap_or_default(),
        author: Author {
            username: string(&author, "/username").unwrap_or_default(),
            name: string(&author, "/name").unwrap_or_default(),
            id: author_id,
        },
        created_at: string(payload, "/created_at")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        in_reply_to_post_id: string(payload, "/in_reply_to_tweet_id").or(replied_to),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// shared/data/twitter/crc-and-signature.md (inputs from Twitter DevRel's CRC gist).
    const SECRET: &str = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu";

    #[test]
    fn crc_tokens_are_answered_as_the_documented_vectors() {
        assert_eq!(
            crc_response(SECRET, "9b4507b3-9040-4669-9ca3-6b94edb50553"),
            serde_json::json!({ "response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=" })
        );
        assert_eq!(
            sign(SECRET, b"challenge_string"),
            "sha256=lTxlIqPHfjEGDgP7vjc1sZHAXswy3dwd940B4GrpUos="
        );
    }

    #[test]
    fn a_signature_is_checked_against_the_raw_body() {
        let body = br#"{"for_user_id":"1","tweet_create_events":[]}"#;
        let good = sign(SECRET, body);
        assert_eq!(verify_signature(SECRET, body, Some(&good)), Ok(()));
        let mut tampered = body.to_vec();
        tampered[20] = b'2';
        assert_eq!(
            verify_signature(SECRET, &tampered, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("other", body, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, body, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(SECRET, body, Some("sha256=not base64!")),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn an_aaa_mention_and_reply_are_told_apart_from_the_accounts_own_post() {
        let body = serde_json::json!({
            "for_user_id": "42",
            "user_has_blocked": "false",
            "tweet_create_events": [
                { "id_str": "100", "text": "@herald when is the keynote?", "timestamp_ms": "1700000000000",
                  "user": { "id_str": "7", "screen_name": "alice", "name": "Alice" },
                  "entities": { "user_mentions": [{ "id_str": "42", "screen_name": "herald" }] } },
                { "id_str": "101", "text": "@herald thanks!", "truncated": true,
                  "extended_tweet": { "full_text": "@herald thanks! The whole text, longer than 140." },
                  "in_reply_to_status_id_str": "99", "in_reply_to_user_id_str": "42",
                  "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                  "user": { "id_str": "8", "screen_name": "bob", "name": "Bob" } },
                { "id_str": "102", "text": "Our own post", "user": { "id_str": "42", "screen_name": "herald", "name": "Herald" } }
            ],
            "favorite_events": [{ "id": "x" }]
        });
        let delivery = parse(body.to_string().as_bytes()).expect("parses");
        assert_eq!(delivery.for_user_id.as_deref(), Some("42"));
        let posts: Vec<&PostEvent> = delivery
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Post(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(
            posts.iter().map(|p| p.kind).collect::<Vec<_>>(),
            [PostKind::Mention, PostKind::Reply, PostKind::Own]
        );
        assert_eq!(posts[0].author.username, "alice");
        assert_eq!(
            posts[0].created_at.map(|t| t.timestamp()),
            Some(1_700_000_000)
        );
        assert_eq!(
            posts[1].text,
            "@herald thanks! The whole text, longer than 140."
        );
        assert_eq!(posts[1].in_reply_to_post_id.as_deref(), Some("99"));
        assert_eq!(
            posts[1].created_at.map(|t| t.timestamp()),
            Some(1_539_202_764)
        );
        assert!(delivery.events.contains(&Event::Other {
            kind: "favorite_events".into()
        }));
        assert_eq!(
            Event::Post(posts[0].clone()).dedup_key().as_deref(),
            Some("post:100")
        );
    }

    #[test]
    fn bodies_that_are_no_delivery_are_refused() {
        assert!(matches!(parse(b"not json"), Err(ParseError::NotJson(_))));
        assert_eq!(parse(b"{\"hello\":1}"), Err(ParseError::UnknownEnvelope));
        assert_eq!(parse(b"[]"), Err(ParseError::UnknownEnvelope));
    }
}
