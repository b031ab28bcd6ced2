//! Reading Telegram updates, leniently.
//!
//! Only the fields Herald acts on are read, and every one of them may be missing, so a new Bot API
//! field, an update kind we do not know, or a test server's sparse payload never makes a whole update
//! unreadable. Field names follow the Bot API's `Update`, `Message`, `CallbackQuery` and
//! `ChatMemberUpdated` objects.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// The IETF language tag of the user's Telegram client (`de`, `pt-br`), when Telegram tells.
    #[serde(default)]
    pub language_code: Option<String>,
}

impl User {
    /// "First Last", or the username, or the id.
    pub fn display_name(&self) -> String {
        let name = match &self.last_name {
            Some(last) if !last.is_empty() => format!("{} {last}", self.first_name),
            _ => self.first_name.clone(),
        };
        let name = name.trim().to_owned();
        if !name.is_empty() {
            return name;
        }
        self.username.clone().unwrap_or_else(|| self.id.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// private, group, supergroup or channel.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// The IETF language tag of the user's Telegram client (`de`, `pt-br`), when Telegram tells.
    #[serde(default)]
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Message {
    pub message_id: i32,
    pub chat: Chat,
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    /// A photo in the sizes Telegram made of it, smallest first.
    #[serde(default)]
    pub photo: Vec<PhotoSize>,
    /// A file sent as a document (an image sent "without compression" arrives this way).
    #[serde(default)]
    pub document: Option<Document>,
    #[serde(default)]
    pub migrate_to_chat_id: Option<i64>,
    /// The message this one replies to (only its id is read).
    #[serde(default)]
    pub reply_to_message: Option<RepliedTo>,
}

/// The message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RepliedTo {
    pub message_id: i32,
}

/// `PhotoSize`: one size of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// `Document`: a general file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Document {
    pub file_id: String,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A picture attached to a message: the largest size of a photo, or a document whose type is an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub file_id: String,
    /// Telegram re-encodes photos as JPEG; a document keeps its own type.
    pub mime: String,
    pub size: Option<u64>,
}

impl Message {
    /// The picture this message carries, if any. Other documents (PDFs, archives) are not pictures.
    pub fn picture(&self) -> Option<Picture> {
        if let Some(largest) = self
            .photo
            .iter()
            .max_by_key(|p| (p.width * p.height, p.file_size))
        {
            return Some(Picture {
                file_id: largest.file_id.clone(),
                mime: "image/jpeg".into(),
                size: largest.file_size,
            });
        }
        let document = self.document.as_ref()?;
        let mime = document.mime_type.as_deref()?;
        mime.starts_with("image/").then(|| Picture {
            file_id: document.file_id.clone(),
            mime: mime.to_owned(),
            size: document.file_size,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChatMember {
    /// creator, administrator, member, restricted, left or kicked.
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    pub from: User,
    pub old_chat_member: ChatMember,
    pub new_chat_member: ChatMember,
}

/// The update kinds Herald acts on; everything else is `Other` with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Message(Message),
    EditedMessage(Message),
    ChannelPost(Message),
    CallbackQuery(CallbackQuery),
    MyChatMember(ChatMemberUpdated),
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub update_id: i64,
    pub event: Event,
}

/// Why an update could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("update without update_id")]
    NoUpdateId,
    #[error("malformed {kind}: {error}")]
    Malformed { kind: String, error: String },
}

/// Reads one update. An unknown kind is not an error.
pub fn parse(raw: &str) -> Result<Update, UpdateError> {
    let mut value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| UpdateError::NotJson(e.to_string()))?;
    // A NUL in a name or a text is legal JSON but no database text; it reads as U+FFFD.
    without_nul(&mut value);
    let object = value
        .as_object()
        .ok_or_else(|| UpdateError::NotJson("expected an object".into()))?;
    let update_id = object
        .get("update_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or(UpdateError::NoUpdateId)?;
    // The update's kind is the one key Herald knows, whatever other keys it carries (newer Bot API
    // fields, fields of other kinds); an update with none of them is another kind, named by its first.
    let (kind, body) = KINDS
        .iter()
        .find_map(|k| object.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.as_str() != "update_id")
                .map(|(k, v)| (k.clone(), v.clone()))
        })
        .unwrap_or_else(|| ("empty".into(), serde_json::Value::Null));
    fn read<T: serde::de::DeserializeOwned>(
        kind: &str,
        body: serde_json::Value,
    ) -> Result<T, UpdateError> {
        serde_json::from_value(body).map_err(|e| UpdateError::Malformed {
            kind: kind.to_owned(),
            error: e.to_string(),
        })
    }
    let event = match kind.as_str() {
        "message" => Event::Message(read(&kind, body)?),
        "edited_message" => Event::EditedMessage(read(&kind, body)?),
        "channel_post" => Event::ChannelPost(read(&kind, body)?),
        "callback_query" => Event::CallbackQuery(read(&kind, body)?),
        "my_chat_member" => Event::MyChatMember(read(&kind, body)?),
        _ => Event::Other(kind),
    };
    Ok(Update { update_id, event })
}

/// The update kinds Herald reads.
const KINDS: [&str; 5] = [
    "message",
    "edited_message",
    "channel_post",
    "callback_query",
    "my_chat_member",
];

/// Replaces NUL characters in every string of `value` (keys included) with U+FFFD.
fn without_nul(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{fffd}"),
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_nul),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', "\u{fffd}"), v))
                    .collect();
            }
            map.values_mut().for_each(without_nul);
        }
        _ => {}
    }
}

/// The update id of a raw update, for storing it before reading the rest.
pub fn update_id(raw: &serde_json::Value) -> Option<i64> {
    raw.get("update_id").and_then(serde_json::Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/../tests/fixtures/telegram/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn an_update_is_read_by_the_key_herald_knows_whatever_else_it_carries() {
        let raw = r#"{"update_id": 7, "a_field_from_a_newer_api": {"x": 1},
            "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                        "from": {"id": 5, "is_bot": false, "first_name": "Ada\u0000Lovelace"},
                        "text": "hi\u0000"}}"#;
        let update = parse(raw).unwrap();
        let Event::Message(message) = update.event else {
            panic!("read as {:?}", update.event);
        };
        assert_eq!(message.text.as_deref(), Some("hi\u{fffd}"));
        assert_eq!(
            message.from.map(|f| f.first_name).as_deref(),
            Some("Ada\u{fffd}Lovelace")
        );
    }

    #[test]
    fn every_recorded_update_sample_is_read_or_named() {
        let dir = format!("{}/../tests/fixtures/telegram", env!("CARGO_MANIFEST_DIR"));
        let entries = std::fs::read_dir(&dir).expect("fixtures are in the repository");
        let mut read = 0;
        for sub in entries.flatten() {
            if !sub.path().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(sub.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = file.file_name().to_string_lossy().into_owned();
                if !(name.starts_with("update") || name.starts_with("regression"))
                    || !name.ends_with(".json")
                {
                    continue;
                }
                let raw = std::fs::read_to_string(file.path()).expect("readable");
                let parsed = parse(&raw);
                assert!(parsed.is_ok(), "{name}: {parsed:?}");
                read += 1;
            }
        }
        assert!(read >= 10, "read {read} samples");
    }

    #[test]
    fn a_command_in_a_forum_topic_is_a_message_with_text() {
        let raw = sample("teloxide/update-message-L685.json");
        let Ok(Update {
            event: Event::Message(m),
            ..
        }) = parse(&raw)
        else {
            panic!("message")
        };
        assert!(m.text.unwrap_or_default().starts_with('/'));
        assert_eq!(m.chat.kind, "supergroup");
    }

    #[test]
    fn unknown_update_kinds_are_named_not_errors() {
        let update = parse(r#"{"update_id": 5, "new_update_kind": {"x": 1}}"#).expect("parses");
        assert_eq!(update.event, Event::Other("new_update_kind".into()));
    }

    #[test]
    fn garbage_is_an_error_that_says_why() {
        assert!(matches!(parse("{not json"), Err(UpdateError::NotJson(_))));
        assert!(matches!(parse("{}"), Err(UpdateError::NoUpdateId)));
        assert!(matches!(
            parse(r#"{"update_id": 1, "message": {"chat": 5}}"#),
            Err(UpdateError::Malformed { .. })
        ));
    }
}
