//! The catalog is complete and consistent: every entry is reachable by parsing an example derived from its
//! usage line, names are unique, and the README table lists every entry.

use std::collections::HashSet;

use herald_commands::catalog::{self, CONFERENCE_SUBCOMMANDS};
use herald_commands::{Role, Scope, catalog_markdown, parse};

/// A sample value for each `<placeholder>` in the catalog's usage lines.
fn sample(placeholder: &str) -> &'static str {
    match placeholder {
        "token" => "inv_42",
        "command" => "grant",
        "slug" => "fosdem-2026",
        "tz" => "Europe/Brussels",
        "start-date" => "2026-01-31",
        "end-date" => "2026-02-01",
        "name" => "FOSDEM 2026",
        "0-4" => "2",
        "from" => "09:00",
        "to" => "18:00",
        "person" => "@alice",
        "role" => "speaker",
        "text" => "Doors open\nat nine.",
        "number" | "session" => "12",
        "pattern" => "rust",
        "start" => "2027-02-06T09:00",
        "end" => "2027-02-06T11:00",
        "title" => "Info desk",
        "url" => "https://pretalx.example.org/conf/schedule/export/schedule.json",
        "kind" => "mastodon",
        "account" => "fosstodon",
        "base-url" => "https://fosstodon.org",
        "provider" => "fosstodon",
        "feature" => "public",
        "state" => "on",
        "reason" => "duplicate",
        "tag" => "fosdem",
        "auto" => "auto",
        "order" => "1",
        "alt text" => "A packed lecture hall",
        "page" => "2",
        "filter" => "Security",
        "level" => "Platinum",
        "sponsor" => "1",
        "benefit" => "2",
        "logout" => "logout",
        "channel" => "web",
        "code" => "herald-bind-4kq2ZbX9w",
        "lang" => "de",
        "sessions" => "10",
        "speakers" => "15",
        "volunteers" => "30",
        "minutes" => "60",
        "address" => "ada@example.org",
        other => panic!("no sample for <{other}>; add one"),
    }
}

/// Turns a usage line into a command: the first form (before ` | `), `<a|b>` choices resolved to their first
/// option, other `<placeholder>`s to [`sample`] values, and `[optional]` parts kept or dropped. An optional
/// part is either a bare placeholder (`[name]`) or a sequence of its own (`[<a|b> <on|off>]`).
fn example(usage: &str, with_optional: bool) -> String {
    let form = usage.split(" | ").next().unwrap_or(usage);
    let mut out = String::new();
    let mut chars = form.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let inner: String = chars.by_ref().take_while(|&c| c != ']').collect();
                match (with_optional, inner.contains('<')) {
                    (false, _) => {}
                    (true, true) => out.push_str(&example(&inner, true)),
                    (true, false) => out.push_str(sample(&inner)),
                }
            }
            '<' => {
                let placeholder: String = chars.by_ref().take_while(|&c| c != '>').collect();
                let value = match placeholder.split_once('|') {
                    Some((first, _)) => first,
                    None => sample(&placeholder),
                };
                out.push_str(value);
            }
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

#[test]
fn examples_are_derived_as_expected() {
    assert_eq!(
        example("/invite <role> [name]", true),
        "/invite speaker FOSDEM 2026"
    );
    assert_eq!(example("/invite <role> [name]", false), "/invite speaker");
    assert_eq!(
        example("/settings [<announcements|reminders> <on|off>]", true),
        "/settings announcements on"
    );
    assert_eq!(
        example("/settings [<announcements|reminders> <on|off>]", false),
        "/settings"
    );
    assert_eq!(
        example("/conference window <from> <to> | off", true),
        "/conference window 09:00 18:00"
    );
}

#[test]
fn every_entry_is_reachable_from_its_usage() {
    for spec in catalog::catalog() {
        for with_optional in [true, false] {
            let text = example(spec.usage, with_optional);
            for bot in [Some("HeraldBot"), None] {
                let command = parse(&text, bot)
                    .unwrap_or_else(|e| panic!("{text:?} failed: {e}"))
                    .unwrap_or_else(|| panic!("{text:?} is not a command"));
                assert!(
                    std::ptr::eq(command.spec(), spec),
                    "{text:?} parsed as {}",
                    command.spec().name
                );
                assert_eq!(command.min_role(), spec.min_role);
            }
        }
    }
}

#[test]
fn names_are_unique_and_usages_match_them() {
    let catalog = catalog::catalog();
    let names: HashSet<_> = catalog.iter().map(|spec| spec.name).collect();
    assert_eq!(names.len(), catalog.len(), "duplicate names");
    for spec in catalog {
        // "/conference new …" for "conference new"; "/cancel <number>" for "cancel post" and "/bind <code>"
        // for "bind code", which share their command word with another entry and are told apart by their
        // argument.
        let prefix = match spec.name {
            "cancel post" => "/cancel".to_owned(),
            "bind code" => "/bind".to_owned(),
            name => format!("/{name}"),
        };
        assert!(
            spec.usage == prefix || spec.usage.starts_with(&format!("{prefix} ")),
            "{} has usage {}",
            spec.name,
            spec.usage
        );
        assert!(
            !spec.help.is_empty() && !spec.help.contains('\n'),
            "{} help is one line",
            spec.name
        );
        assert_eq!(catalog::find(spec.name), Some(spec));
    }
    let subcommands = |group: &str| -> Vec<&str> {
        catalog
            .iter()
            .filter(|spec| spec.group() == group)
            .filter_map(|spec| spec.subcommand())
            .collect()
    };
    assert_eq!(subcommands("conference"), CONFERENCE_SUBCOMMANDS);
    assert_eq!(subcommands("slot"), catalog::SLOT_SUBCOMMANDS);
}

#[test]
fn roles_and_scopes() {
    let role = |name| catalog::find(name).expect("in catalog").min_role;
    let scope = |name| catalog::find(name).expect("in catalog").scope;
    for name in ["start", "help", "whoami", "cancel"] {
        assert_eq!(role(name), Role::Guest, "{name}");
    }
    for name in ["stop", "settings", "settings early", "settings email"] {
        assert_eq!(role(name), Role::Attendee, "{name}");
    }
    for name in [
        "conference list",
        "conference use",
        "conference status",
        "status",
        "admins",
    ] {
        assert_eq!(role(name), Role::Volunteer, "{name}");
    }
    for name in [
        "conference new",
        "conference policy",
        "conference window",
        "grant",
        "revoke",
        "invite",
        "bind",
        "unbind",
        "dm",
        "announce",
    ] {
        assert_eq!(role(name), Role::Admin, "{name}");
    }
    assert_eq!(scope("start"), Scope::Private);
    // /bind hands out a code in private; the code is then posted in the group.
    assert_eq!(scope("bind"), Scope::Private);
    assert_eq!(scope("unbind"), Scope::Any);
    assert_eq!(
        scope("invite"),
        Scope::Private,
        "an invite link must not be posted in a group"
    );
    assert_eq!(scope("help"), Scope::Any);
}

#[test]
fn markdown_table_lists_every_entry() {
    let markdown = catalog_markdown();
    let lines: Vec<&str> = markdown.lines().collect();
    assert_eq!(lines[0], "| Command | Who may use it | What it does |");
    assert_eq!(lines[1], "| --- | --- | --- |");
    assert_eq!(lines.len(), 2 + catalog::catalog().len());
    for (line, spec) in lines[2..].iter().zip(catalog::catalog()) {
        let unescaped_pipes = line.replace("\\|", "").matches('|').count();
        assert_eq!(unescaped_pipes, 4, "{line}");
        assert!(
            line.starts_with(&format!("| `{}`", spec.usage.replace('|', "\\|"))),
            "{line}"
        );
    }
    assert!(markdown.contains("| `/start [token]` | anyone | "));
    assert!(
        markdown.contains("| `/bind <attendees\\|organisers\\|moderation>` | admins and owners | ")
    );
}
