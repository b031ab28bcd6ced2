//! Reading direct messages by polling: `GET /2/dm_events` (X docs "Direct Messages lookup"), for when no
//! webhook can reach Herald and the Account Activity API cannot bring them.
//!
//! X returns the account's DM events of the last 30 days, newest first, both received and sent: the caller
//! skips its own (`sender_id` is the account's id) and remembers the newest id it has handled, since the
//! endpoint takes no `since_id`. Only `MessageCreate` events are asked for; joins and leaves of group
//! conversations are not messages.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{Body, User, XClient, XError};

/// One direct message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DmEvent {
    pub id: String,
    /// As X stores it: links replaced by `https://t.co/…`.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub sender_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// The conversation to answer in (`dm_conversation_id`: `lower-id-higher-id` for one-to-one ones).
    #[serde(default, rename = "dm_conversation_id")]
    pub conversation_id: Option<String>,
    /// Everyone in the conversation, when X says (group conversations).
    #[serde(default)]
    pub participant_ids: Vec<String>,
}

/// What page of direct messages to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DmQuery {
    /// 1 to 100 (X's bounds); X's default (100) when `None`.
    pub max_results: Option<u8>,
    /// `meta.next_token` of the previous page.
    pub pagination_token: Option<String>,
}

impl DmQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (
                "dm_event.fields",
                "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids".into(),
            ),
            ("event_types", "MessageCreate".into()),
            ("expansions", "sender_id".into()),
            ("user.fields", "username,name".into()),
        ];
        if let Some(max) = self.max_results {
            pairs.push(("max_results", max.clamp(1, 100).to_string()));
        }
        if let Some(token) = &self.pagination_token {
            pairs.push(("pagination_token", token.clone()));
        }
        pairs
    }
}

/// A page of direct messages with their senders (`includes.users`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DmEvents {
    pub events: Vec<DmEvent>,
    pub users: Vec<User>,
    /// `meta.next_token`: the next (older) page.
    pub next_token: Option<String>,
}

impl DmEvents {
    /// The sender of `event`, when the page includes them.
    pub fn sender(&self, event: &DmEvent) -> Option<&User> {
        let id = event.sender_id.as_deref()?;
        self.users.iter().find(|u| u.id == id)
    }
}

impl XClient {
    /// `GET /2/dm_events`: a page of the account's direct messages (user context, `dm.read`), newest first.
    #[tracing::instrument(skip_all)]
    pub async fn dm_events(&self, query: &DmQuery) -> Result<DmEvents, XError> {
        let value = self
            .call(Method::GET, "2/dm_events", &query.pairs(), Body::Empty)
            .await?;
        let read = |pointer: &str| value.pointer(pointer).cloned().unwrap_or(Value::Null);
        let events: Vec<DmEvent> = match read("/data") {
            // No messages: no `data`, only `meta.result_count: 0`.
            Value::Null if value.get("errors").is_none() => Vec::new(),
            Value::Null => {
                return Err(Self::data::<Vec<DmEvent>>(value)
                    .err()
                    .unwrap_or_else(|| XError::InvalidResponse("dm_events: no data".into())));
            }
            data => serde_json::from_value(data)
                .map_err(|e| XError::InvalidResponse(format!("dm events: {e}")))?,
        };
        let users: Vec<User> = match read("/includes/users") {
            Value::Null => Vec::new(),
            users => serde_json::from_value(users)
                .map_err(|e| XError::InvalidResponse(format!("users: {e}")))?,
        };
        Ok(DmEvents {
            events,
            users,
            next_token: read("/meta/next_token").as_str().map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dm_query_asks_for_messages_and_their_senders() {
        let pairs = DmQuery {
            max_results: Some(0),
            pagination_token: Some("next".into()),
        }
        .pairs();
        assert!(pairs.contains(&("event_types", "MessageCreate".into())));
        assert!(pairs.contains(&("expansions", "sender_id".into())));
        assert!(pairs.contains(&("max_results", "1".into())));
        assert!(pairs.contains(&("pagination_token", "next".into())));
        assert!(
            pairs
                .iter()
                .any(|(k, v)| *k == "dm_event.fields" && v.contains("dm_conversation_id"))
        );
    }

    #[tokio::test]
    async fn a_page_of_messages_comes_with_its_senders_and_the_next_token() {
        use crate::x::{Auth, fake};

        let (base, fake) = fake::serve(&[(
            "GET",
            "/2/dm_events",
            200,
            r#"{"data":[
                {"id":"1580705921830768647","event_type":"MessageCreate","text":"Is the keynote recorded?","sender_id":"906948460078698496","dm_conversation_id":"906948460078698496-1072250532645998596","created_at":"2026-12-04T09:58:01.000Z"},
                {"id":"1580705921830768640","event_type":"MessageCreate","text":"Hello","sender_id":"1072250532645998596","dm_conversation_id":"906948460078698496-1072250532645998596","created_at":"2026-12-04T09:50:00.000Z"}
              ],
              "includes":{"users":[{"id":"906948460078698496","name":"Ada","username":"ada"}]},
              "meta":{"result_count":2,"next_token":"18LAA581J5II7LA00C00ZZZZ"}}"#,
        )])
        .await;
        let client = XClient::new(base, Auth::Bearer("user".into()), reqwest::Client::new());
        let page = client
            .dm_events(&DmQuery {
                max_results: Some(50),
                pagination_token: None,
            })
            .await
            .expect("page");
        assert_eq!(page.events.len(), 2);
        let first = &page.events[0];
        assert_eq!(first.text, "Is the keynote recorded?");
        assert_eq!(
            first.conversation_id.as_deref(),
            Some("906948460078698496-1072250532645998596")
        );
        assert_eq!(page.sender(first).map(|u| u.username.as_str()), Some("ada"));
        assert_eq!(
            page.sender(&page.events[1]),
            None,
            "the account's own message"
        );
        assert_eq!(page.next_token.as_deref(), Some("18LAA581J5II7LA00C00ZZZZ"));

        let query = fake.lock().expect("lock").seen[0].query.clone();
        let pairs: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        assert_eq!(pairs["event_types"], "MessageCreate");
        assert_eq!(pairs["expansions"], "sender_id");
        assert_eq!(pairs["user.fields"], "username,name");
        assert_eq!(pairs["max_results"], "50");
        assert!(pairs["dm_event.fields"].contains("sender_id"));
    }

    #[tokio::test]
    async fn no_messages_is_an_empty_page() {
        use crate::x::{Auth, fake};

        let (base, _) =
            fake::serve(&[("GET", "/2/dm_events", 200, r#"{"meta":{"result_count":0}}"#)]).await;
        let client = XClient::new(base, Auth::Bearer("user".into()), reqwest::Client::new());
        let page = client.dm_events(&DmQuery::default()).await.expect("page");
        assert_eq!(page, DmEvents::default());
    }
}
