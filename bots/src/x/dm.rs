//! Looking for a direct message whose send answer was lost, in the conversation with its recipient.

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::{Body, XClient, dm_events::DmEvent, error::XError, same_text};

impl XClient {
    /// Looks for a direct message to `participant_id` whose send answer was lost
    /// (`GET /2/dm_conversations/with/:participant_id/dm_events`): the conversation's messages not sent by
    /// them, since `attempted_at` (less a minute of clock skew), matched by text ([`same_text`]); its event
    /// id when found. `Err`: it cannot be told.
    #[tracing::instrument(skip_all)]
    pub async fn find_sent_dm(
        &self,
        participant_id: &str,
        text: &str,
        attempted_at: DateTime<Utc>,
    ) -> Result<Option<String>, XError> {
        let since = attempted_at - chrono::TimeDelta::minutes(1);
        let mut query = vec![
            (
                "dm_event.fields",
                "id,text,event_type,created_at,sender_id".to_owned(),
            ),
            ("event_types", "MessageCreate".to_owned()),
            ("max_results", "100".to_owned()),
        ];
        let path = format!("2/dm_conversations/with/{participant_id}/dm_events");
        // Newest first; three pages is plenty for the messages Herald sends one person in two minutes.
        for _ in 0..3 {
            let page = self.call(Method::GET, &path, &query, Body::Empty).await?;
            let events: Vec<DmEvent> = match page.get("data") {
                Some(data) => serde_json::from_value(data.clone())
                    .map_err(|e| XError::InvalidResponse(format!("dm_events: {e}")))?,
                None => Vec::new(),
            };
            let mut older = false;
            for event in events {
                match event.created_at {
                    Some(at) if at < since => older = true,
                    _ if event.sender_id.as_deref() == Some(participant_id) => {}
                    _ if same_text(&event.text, text) => return Ok(Some(event.id)),
                    _ => {}
                }
            }
            let next = page
                .pointer("/meta/next_token")
                .and_then(serde_json::Value::as_str);
            match next {
                Some(token) if !older => {
                    query.retain(|(k, _)| *k != "pagination_token");
                    query.push(("pagination_token", token.to_owned()));
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}
