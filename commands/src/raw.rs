//! Recognising a command: splits `/name@bot args` into its parts without interpreting the arguments.
//!
//! This module owns the lexical shape of a command message and nothing else; the typed grammar lives in
//! [`crate::command`].

/// A message that starts with `/name`, split into the lowercased name and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommand<'a> {
    pub name: String,
    /// `Some("herald_bot")` for `/cmd@herald_bot`: Telegram appends the bot's username in groups.
    pub addressed_to: Option<&'a str>,
    pub args: &'a str,
}

/// Splits `/cmd@bot args` into its parts; `None` when the text is not a command.
pub fn split(text: &str) -> Option<RawCommand<'_>> {
    let rest = text.trim_start().strip_prefix('/')?;
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (head, args) = rest.split_at(end);
    let (name, addressed_to) = match head.split_once('@') {
        Some((name, bot)) => (name, Some(bot)),
        None => (head, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some(RawCommand {
        name: name.to_ascii_lowercase(),
        addressed_to,
        args: args.trim(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_into_name_bot_and_arguments() {
        let table = [
            ("/start", Some(("start", None, ""))),
            ("/Start abc", Some(("start", None, "abc"))),
            (
                "/help@HeraldBot  topics ",
                Some(("help", Some("HeraldBot"), "topics")),
            ),
            ("  /post hello\nworld", Some(("post", None, "hello\nworld"))),
            ("hello", None),
            ("/", None),
            ("/ä", None),
            ("/@bot", None),
        ];
        for (text, expected) in table {
            let got = split(text).map(|c| (c.name, c.addressed_to, c.args));
            let expected = expected.map(|(n, b, a)| (n.to_owned(), b, a));
            assert_eq!(got, expected, "{text:?}");
        }
    }
}
