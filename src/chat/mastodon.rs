//! Mastodon direct messages to the bot: a direct-visibility mention of a conference account (see
//! [`super::direct`]). The answer is a direct status replying to it, naming its sender.

use serde_json::Value;

use super::direct::Direct;
use crate::{db::providers::Provider, delivery::networks::MASTODON as PLATFORM};

/// The command or text of a direct message: its HTML as text, without the mentions it starts with.
pub fn command_text(content_html: &str) -> String {
    let text = herald_bots::html::to_text(content_html);
    let mut rest = text.trim_start();
    while let Some(word) = rest
        .split_whitespace()
        .next()
        .filter(|w| w.starts_with('@'))
    {
        rest = rest[word.len()..].trim_start();
    }
    rest.to_owned()
}

/// A notification's status as a direct message to the bot; `None` unless it is a direct status.
pub fn command(notification: &Value, provider: &Provider) -> Option<Direct> {
    let status = &notification["status"];
    if status["visibility"].as_str() != Some("direct") {
        return None;
    }
    let text = |p: &str| status.pointer(p).and_then(Value::as_str);
    let acct = text("/account/acct")?.to_owned();
    // The account's URI is unique across instances; its id only on one.
    let user = text("/account/uri")
        .or_else(|| text("/account/url"))
        .map_or_else(|| format!("{acct}@provider{}", provider.id), str::to_owned);
    let name = text("/account/display_name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&acct)
        .to_owned();
    Some(Direct {
        platform: PLATFORM,
        id: text("/id")?.to_owned(),
        user,
        username: acct.clone(),
        name,
        text: command_text(text("/content")?),
        answer_to: acct,
        thread: true,
    })
}

#[cfg(test)]
mod tests {
    use super::command_text;

    #[test]
    fn the_leading_mentions_are_not_the_command() {
        let html = r#"<p><span class="h-card" translate="no"><a href="https://m.example/@conf" class="u-url mention">@<span>conf</span></a></span> /follow 12</p>"#;
        assert_eq!(command_text(html), "/follow 12");
        assert_eq!(
            command_text("<p>@conf@m.example @other hello @you</p>"),
            "hello @you"
        );
        assert_eq!(command_text("<p>/today</p>"), "/today");
    }
}
