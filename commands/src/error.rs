//! Why a command did not parse, as structured values the application renders through its templates.
//!
//! This module owns [`ParseError`] and the "did you mean" suggestion for mistyped command names. The
//! `Display` text is plain English for logs only.

use crate::catalog;

/// A message that is a command for this bot but does not follow the grammar.
///
/// `command` fields hold a catalog name such as `grant` or `conference new` (or `conference` when the
/// subcommand itself is wrong); `usage` is the matching [`CommandSpec::usage`](crate::CommandSpec::usage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// `/name` is not in the catalog. `name` is lowercased; `suggestion` is the closest command word within
    /// two edits, if any.
    #[error("unknown command /{name}{}", suggestion_suffix(*.suggestion))]
    UnknownCommand {
        name: String,
        suggestion: Option<&'static str>,
    },
    /// A required argument, named as in the usage line (`slug`, `person`, `text`, …), is absent.
    #[error("/{command} is missing its {argument} argument; usage: {usage}")]
    MissingArgument {
        command: &'static str,
        argument: &'static str,
        usage: &'static str,
    },
    /// An argument is present but malformed. `expected` is one of the stable phrases in
    /// [`args::expected`](crate::args::expected).
    #[error("/{command} got {value:?} for {argument}, expected {expected}")]
    InvalidArgument {
        command: &'static str,
        argument: &'static str,
        value: String,
        expected: &'static str,
    },
    /// Text follows the last argument the command takes.
    #[error("/{command} got more arguments than it takes; usage: {usage}")]
    TooManyArguments {
        command: &'static str,
        usage: &'static str,
    },
    /// `given` is not one of the `valid` subcommands (or help topics) of `command`.
    #[error("/{command} has no subcommand {given:?}; expected one of: {}", .valid.join(", "))]
    UnknownSubcommand {
        command: &'static str,
        given: String,
        valid: &'static [&'static str],
    },
}

impl ParseError {
    /// An [`UnknownCommand`](Self::UnknownCommand) with the closest catalog word as its suggestion.
    pub(crate) fn unknown_command(name: &str) -> Self {
        Self::UnknownCommand {
            name: name.to_owned(),
            suggestion: closest_command(name),
        }
    }
}

fn suggestion_suffix(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean /{s}?)"))
}

/// Longest name worth comparing; anything longer is more than two edits from every command.
const MAX_SUGGESTIBLE_LEN: usize = 24;

/// The command word closest to `name` by edit distance, if it is at most two edits away and fewer edits than
/// `name` has characters (so `/x` does not suggest `/dm`). Ties go to the earlier catalog entry.
fn closest_command(name: &str) -> Option<&'static str> {
    let name: Vec<char> = name.chars().collect();
    if name.len() > MAX_SUGGESTIBLE_LEN {
        return None;
    }
    catalog::command_words()
        .map(|word| (edit_distance(&name, word), word))
        .filter(|&(distance, _)| distance <= 2 && distance < name.len())
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, word)| word)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions each
/// cost one.
fn edit_distance(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    // Rows i-2, i-1 and i of the dynamic-programming table.
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> usize {
        edit_distance(&a.chars().collect::<Vec<_>>(), b)
    }

    #[test]
    fn edit_distances() {
        let table = [
            ("", "", 0),
            ("", "dm", 2),
            ("start", "start", 0),
            ("strat", "start", 1),
            ("stauts", "status", 1),
            ("anounce", "announce", 1),
            ("gant", "grant", 1),
            ("grnat", "grant", 1),
            ("kitten", "sitting", 3),
            ("ca", "abc", 3),
            ("héllo", "hello", 1),
        ];
        for (a, b, expected) in table {
            assert_eq!(distance(a, b), expected, "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn suggestions() {
        let table = [
            ("strat", Some("start")),
            ("stauts", Some("status")),
            ("anounce", Some("announce")),
            ("confernce", Some("conference")),
            ("unbnd", Some("unbind")),
            ("dn", Some("dm")),
            ("x", None),
            ("ab", None),
            ("frobnicate", None),
            ("new", Some("now")),
            ("nxt", Some("next")),
        ];
        for (name, expected) in table {
            assert_eq!(closest_command(name), expected, "{name:?}");
        }
    }

    #[test]
    fn display_is_plain_english() {
        let error = ParseError::unknown_command("strat");
        assert_eq!(
            error.to_string(),
            "unknown command /strat (did you mean /start?)"
        );
        let error = ParseError::UnknownSubcommand {
            command: "conference",
            given: "frob".to_owned(),
            valid: catalog::CONFERENCE_SUBCOMMANDS,
        };
        assert_eq!(
            error.to_string(),
            "/conference has no subcommand \"frob\"; expected one of: new, list, use, policy, window, reminders, email, status"
        );
    }
}
