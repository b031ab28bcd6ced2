//! X direct messages to the bot (see [`super::direct`]): a direct message to the conference's X account
//! that holds a command (`/start <token>` links the sender's X account to their person). The answer is a
//! direct message to the sender.

use serde_json::Value;

use super::direct::Direct;
use crate::delivery::networks::X as PLATFORM;

/// A stored X event as a direct message to the bot; `None` unless it is a direct message from someone
/// other than the account itself (`own`).
pub fn command(notification: &Value, own: &str) -> Option<Direct> {
    if notification["kind"].as_str() != Some("dm") {
        return None;
    }
    let text = |p: &str| notification.pointer(p).and_then(Value::as_str);
    let user = text("/author/id")?.to_owned();
    if user == own {
        return None;
    }
    let username = text("/author/username").unwrap_or_default().to_owned();
    let name = text("/author/name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&username)
        .to_owned();
    Some(Direct {
        platform: PLATFORM,
        id: text("/id")?.to_owned(),
        user: user.clone(),
        username,
        name,
        text: text("/text")?.trim().to_owned(),
        answer_to: user,
        thread: false,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::command;

    #[test]
    fn a_direct_message_from_someone_else_is_one_for_the_bot() {
        let dm = json!({ "id": "9", "kind": "dm", "text": " /start abc ",
                         "author": { "id": "22", "username": "dana", "name": "" } });
        let found = command(&dm, "11").unwrap();
        assert_eq!(
            (
                found.user.as_str(),
                found.text.as_str(),
                found.name.as_str()
            ),
            ("22", "/start abc", "dana")
        );
        assert!(command(&dm, "22").is_none(), "the account's own message");
        let mention = json!({ "id": "9", "kind": "mention", "text": "/today",
                              "author": { "id": "22", "username": "dana", "name": "Dana" } });
        assert!(command(&mention, "11").is_none());
    }
}
