//! Every chat message template under `templates/messages/`, rendered whole and compared with the exact
//! text its reader sees: line breaks, blank lines and all. Templates are rendered with `trim_blocks` and
//! `lstrip_blocks`, so a newline after a block tag at the end of a line is dropped unless the tag ends in
//! `+%}`; these tests are what keeps list items on lines of their own and paragraphs apart.
//!
//! Each case of the table in [`cases`] renders one template with one context and compares the result
//! with `tests/fixtures/messages/<template stem>[.<case>].txt` (the rendered text plus a final newline).
//! A new template needs a case: [`every_message_template_has_a_case`] fails otherwise.
//!
//! To write the expected files of new cases: `HERALD_BLESS=1 cargo test --test messages`; then read
//! every file it wrote — the files are the specification, not a record of what the code did.

#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use herald::templates::Templates;
use serde_json::{Value, json};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/messages")
}

/// `start_joined.html` and `speaker` → `start_joined.speaker.txt`; no case → `start_joined.txt`.
fn expected_file(template: &str, case: &str) -> String {
    let stem = template.rsplit_once('.').map_or(template, |(stem, _)| stem);
    if case.is_empty() {
        format!("{stem}.txt")
    } else {
        format!("{stem}.{case}.txt")
    }
}

fn conference() -> Value {
    json!({
        "slug": "fosdem-2027", "name": "FOSDEM 2027", "time_zone": "Europe/Brussels",
        "starts_on": "2027-02-06", "ends_on": "2027-02-07", "policy": 2, "window": "08:00–20:00",
    })
}

fn lengths() -> Value {
    json!([
        { "network": "fosdem_mastodon", "length": 132, "limit": 500, "parts": 1, "own_text": false },
        { "network": "fosdem_bluesky", "length": 318, "limit": 300, "parts": 2, "own_text": true },
        { "network": "telegram", "length": 132, "limit": 4096, "parts": 1, "own_text": false },
    ])
}

fn mention(kind: &str, direct: bool, url: Option<&str>) -> Value {
    json!({
        "number": 7, "kind": kind, "author": "@dan@fosstodon.org", "name": "Dan",
        "text": "Will the Rust devroom talks be streamed?\nAsking for a friend.",
        "excerpt": "Will the Rust devroom talks be streamed? Asking for a friend.", "url": url,
        "network": "mastodon", "provider": "fosdem_mastodon", "state": "open",
        "visibility": if direct { "direct" } else { "public" },
    })
}

/// A mention that not everyone could see (`private`: followers only; `unlisted`).
fn seen_by(mut mention: Value, visibility: &str) -> Value {
    mention["visibility"] = json!(visibility);
    mention
}

/// A mention after someone handled it.
fn closed(mut mention: Value, state: &str) -> Value {
    mention["state"] = json!(state);
    mention
}

/// A session as `/now`, `/next`, `/today`, `/room` and `/session` show it.
fn session(number: i64, start: &str, end: &str, title: &str, room: Option<&str>) -> Value {
    json!({
        "number": number, "title": title, "room": room, "track": "Rust", "url": null,
        "start": format!("2027-02-06T{start}:00+01:00"), "end": format!("2027-02-06T{end}:00+01:00"),
        "speakers": ["Ada Lovelace"],
        "status": "confirmed",
    })
}

/// (template file under `templates/messages/`, case, context).
fn cases() -> Vec<(&'static str, &'static str, Value)> {
    let conference = conference();
    vec![
        (
            "action_hints.html",
            "",
            json!({ "hints": [
                { "label": "✅ Approve", "command": "/approve 12" },
                { "label": "🚫 Reject", "command": "/reject 12" },
            ] }),
        ),
        (
            "action_hints.html",
            "one",
            json!({ "hints": [{ "label": "↩️ Reply", "command": "/reply 7 <text>" }] }),
        ),
        (
            "action_hints.html",
            "campaign",
            json!({ "hints": [
                { "label": "✅ Approve all", "command": "/campaign approve 4" },
                { "label": "🔎 Review one by one", "command": "/campaign review 4" },
            ] }),
        ),
        (
            "admins.html",
            "",
            json!({ "conference": "FOSDEM 2027", "people": [
                { "person_id": 1, "display_name": "Olga", "username": null, "role": "owner" },
                { "person_id": 2, "display_name": "Ada", "username": "ada", "role": "admin" },
                { "person_id": 3, "display_name": "Bob", "username": "bob", "role": "owner" },
            ] }),
        ),
        (
            "admins.html",
            "none",
            json!({ "conference": "FOSDEM 2027", "people": [] }),
        ),
        (
            "already_following.html",
            "",
            json!({ "label": "Rust in the kernel", "pattern": false, "matching": 1, "reminders": 1 }),
        ),
        (
            "already_following.html",
            "pattern",
            json!({ "label": "/rust/", "pattern": true, "matching": 3, "reminders": 3 }),
        ),
        (
            "already_granted.html",
            "",
            json!({ "person": "Ada", "role": "volunteer", "conference": "FOSDEM 2027" }),
        ),
        (
            "announce_queued.html",
            "",
            json!({ "conference": "FOSDEM 2027", "count": 412 }),
        ),
        (
            "announce_queued.html",
            "one",
            json!({ "conference": "FOSDEM 2027", "count": 1 }),
        ),
        (
            "announcement.html",
            "",
            json!({ "conference": "FOSDEM 2027", "text": "Doors open at 9:00.\nCoffee in building K." }),
        ),
        ("apology.html", "", json!({})),
        (
            "bad_command.html",
            "unknown",
            json!({ "kind": "unknown", "name": "folow", "suggestion": "follow" }),
        ),
        (
            "bad_command.html",
            "unknown_without_suggestion",
            json!({ "kind": "unknown", "name": "xyzzy", "suggestion": null }),
        ),
        (
            "bad_command.html",
            "missing",
            json!({ "kind": "missing", "argument": "number", "usage": "/follow <number|/pattern/>" }),
        ),
        (
            "bad_command.html",
            "invalid",
            json!({ "kind": "invalid", "argument": "number", "value": "x1", "expected": "a number",
                    "usage": "/session <number>" }),
        ),
        (
            "bad_command.html",
            "invalid_without_usage",
            json!({ "kind": "invalid", "argument": "policy", "value": "9", "expected": "a level from 0 to 4",
                    "usage": null }),
        ),
        (
            "bad_command.html",
            "too_many",
            json!({ "kind": "too_many", "usage": "/now" }),
        ),
        (
            "bad_command.html",
            "subcommand",
            json!({ "kind": "subcommand", "command": "provider", "given": "remove",
                    "valid": ["add", "list", "test", "on", "off"] }),
        ),
        (
            "benefit_added.html",
            "",
            json!({ "number": 3, "level": "gold", "name": "Thank-you post" }),
        ),
        (
            "benefit_confirmed.html",
            "",
            json!({ "sponsor": "Acme", "benefit": "Booth", "post": null }),
        ),
        (
            "benefit_confirmed.html",
            "pending",
            json!({ "sponsor": "Acme", "benefit": "Thank-you post", "post": 21, "pending": true }),
        ),
        (
            "benefit_confirmed.html",
            "approved",
            json!({ "sponsor": "Acme", "benefit": "Thank-you post", "post": 21, "pending": false }),
        ),
        (
            "benefit_other_level.html",
            "",
            json!({ "sponsor": "Acme", "level": "silver", "benefit": "Keynote slot", "benefit_level": "gold" }),
        ),
        (
            "benefit_template_error.html",
            "",
            json!({ "error": "unknown filter: socail", "network": "bluesky" }),
        ),
        (
            "benefit_template_error.html",
            "any_network",
            json!({ "error": "undefined value: sponsor.handle", "network": null }),
        ),
        (
            "benefit_template_saved.html",
            "",
            json!({ "number": 3, "name": "Thank-you post",
                    "preview": "Thanks to Example Sponsor for supporting FOSDEM 2027!\nhttps://sponsor.example" }),
        ),
        (
            "benefit_unknown.html",
            "",
            json!({ "sponsor": 9, "benefit": 4 }),
        ),
        (
            "bind_instructions.html",
            "",
            json!({ "slot": "moderation", "conference": "FOSDEM 2027", "bot": "herald_bot",
                    "token": "herald-bind-4kq2ZbX9w",
                    "group_link": "https://t.me/herald_bot?startgroup=herald-bind-4kq2ZbX9w" }),
        ),
        (
            "bind_instructions.html",
            "web",
            json!({ "slot": "moderation", "conference": "FOSDEM 2027", "bot": "herald",
                    "token": "herald-bind-4kq2ZbX9w", "group_link": null }),
        ),
        ("bind_not_yours.html", "", json!({})),
        ("bind_token_in_private.html", "", json!({})),
        (
            "bot_added.html",
            "",
            json!({ "title": "FOSDEM moderators", "bot": "herald_bot" }),
        ),
        (
            "bot_added.html",
            "untitled",
            json!({ "title": null, "bot": "herald_bot" }),
        ),
        (
            "bound.html",
            "",
            json!({ "slot": "attendees", "conference": "FOSDEM 2027" }),
        ),
        ("button_unknown.html", "", json!({})),
        (
            "calendar_link.html",
            "",
            json!({ "conference": "FOSDEM 2027", "url": "https://herald.example/calendar/k3J9xQ.ics" }),
        ),
        ("calendar_off.html", "", json!({})),
        (
            "conference_email_set.html",
            "",
            json!({ "conference": "FOSDEM 2027", "address": "orga@fosdem.org" }),
        ),
        (
            "conference_email_set.html",
            "off",
            json!({ "conference": "FOSDEM 2027", "address": null }),
        ),
        (
            "calendar_invitation_mailed.html",
            "",
            json!({ "title": "Rust in Space", "address": "ada@example.org" }),
        ),
        (
            "calendar_invitation_already.html",
            "",
            json!({ "title": "Rust in Space", "address": "ada@example.org" }),
        ),
        ("calendar_needs_email.html", "", json!({})),
        ("calendar_no_session.html", "", json!({ "number": 12 })),
        ("campaign_admins_only.html", "", json!({})),
        (
            "campaign_bad_start.html",
            "",
            json!({ "time_zone": "Europe/Brussels" }),
        ),
        ("campaign_cancelled.html", "", json!({ "number": 4 })),
        (
            "campaign_approved.html",
            "",
            json!({ "number": 4, "approved": 212, "own": 0, "too_long": 0, "by": "Bob" }),
        ),
        (
            "campaign_approved.html",
            "some_left",
            json!({ "number": 4, "approved": 1, "own": 2, "too_long": 1, "by": "Bob" }),
        ),
        (
            "campaign_approved.html",
            "nothing",
            json!({ "number": 4, "approved": 0, "own": 1, "too_long": 0, "by": "Ada" }),
        ),
        (
            "campaign_created.html",
            "",
            json!({ "number": 4, "count": 12, "first": "2027-02-06T09:00:00+01:00", "last": "2027-02-07T17:30:00+01:00" }),
        ),
        (
            "campaign_created.html",
            "one",
            json!({ "number": 5, "count": 1, "first": "2027-02-06T09:00:00+01:00", "last": "2027-02-06T09:00:00+01:00" }),
        ),
        (
            "campaign_digest.html",
            "",
            json!({ "number": 4, "kind": "sessions", "filters": ["Rust", "Go"], "by": "Olga", "count": 212,
                    "first": "2027-02-06T09:00:00+01:00", "last": "2027-02-07T17:30:00+01:00", "every": 30,
                    "template": "Next up: {{ session.title }}, {{ session.start|time }} in {{ session.room }} <3",
                    "samples": ["Next up: Rust in the kernel, 10:00 in K.1.105",
                                "Next up: Async Rust,\n11:00 in K.1.105", "Next up: Go & you, 11:30 in UD2"],
                    "networks": [
                        { "network": "fosdem_mastodon", "limit": 500, "too_long": 0, "longest": 212, "parts": 1 },
                        { "network": "fosdem_bluesky", "limit": 300, "too_long": 3, "longest": 412, "parts": 2 },
                        { "network": "telegram", "limit": 4096, "too_long": 0, "longest": 212, "parts": 1 },
                    ] }),
        ),
        (
            "campaign_digest.html",
            "one",
            json!({ "number": 5, "kind": "sponsors", "filters": [], "by": null, "count": 1,
                    "first": "2027-02-06T09:00:00+01:00", "last": "2027-02-06T09:00:00+01:00", "every": 60,
                    "template": "Thanks, {{ sponsor.displayname }}!", "samples": ["Thanks, Acme!"],
                    "networks": [] }),
        ),
        (
            "campaign_done_already.html",
            "",
            json!({ "number": 4, "state": "created" }),
        ),
        (
            "campaign_jitter_too_wide.html",
            "",
            json!({ "jitter": 40, "every": 60 }),
        ),
        (
            "campaign_nothing.html",
            "asked",
            json!({ "kind": "sessions", "asked": ["Go", "Perl"], "known": ["Rust", "Python"] }),
        ),
        (
            "campaign_nothing.html",
            "no_sessions",
            json!({ "kind": "sessions", "asked": [], "known": [] }),
        ),
        (
            "campaign_nothing.html",
            "no_sponsors",
            json!({ "kind": "sponsors", "asked": [], "known": [] }),
        ),
        (
            "campaign_nothing.html",
            "asked_level",
            json!({ "kind": "sponsors", "asked": ["diamond"], "known": ["gold", "silver"] }),
        ),
        (
            "campaign_preview.html",
            "",
            json!({ "number": 4, "count": 12, "moved": 2, "first": "2027-02-06T09:00:00+01:00", "last": "2027-02-07T17:30:00+01:00",
                    "networks": [
                        { "provider": "fosdem_mastodon", "network": "mastodon", "too_long": 0, "samples": [
                            { "text": "Next up: Rust in the kernel, 10:00 in K.1.105", "length": 46, "limit": 500 },
                            { "text": "Next up: Async Rust,\n11:00 in K.1.105", "length": 37, "limit": 500 },
                        ] },
                        { "provider": "fosdem_bluesky", "network": "bluesky", "too_long": 3, "samples": [
                            { "text": "Next up: Rust in the kernel", "length": 27, "limit": 300 },
                        ] },
                    ] }),
        ),
        (
            "campaign_preview.html",
            "one",
            json!({ "number": 5, "count": 1, "moved": 0, "first": "2027-02-06T09:00:00+01:00", "last": "2027-02-06T09:00:00+01:00",
                    "networks": [
                        { "provider": "fosdem_mastodon", "network": "mastodon", "too_long": 0, "samples": [
                            { "text": "Thanks, Acme!", "length": 13, "limit": 500 },
                        ] },
                    ] }),
        ),
        ("campaign_may_not_approve.html", "", json!({ "number": 4 })),
        ("campaign_nothing_waiting.html", "", json!({ "number": 4 })),
        (
            "campaign_providers.html",
            "",
            json!({ "unknown": ["fosdem_x", "old"], "broadcasting": ["fosdem_mastodon", "fosdem_bluesky"] }),
        ),
        (
            "campaign_providers.html",
            "none",
            json!({ "unknown": [], "broadcasting": [] }),
        ),
        (
            "campaign_reviewed.html",
            "",
            json!({ "number": 4, "count": 212, "by": "Bob" }),
        ),
        (
            "campaign_reviewed.html",
            "one",
            json!({ "number": 5, "count": 1, "by": "Bob" }),
        ),
        (
            "campaign_send_template.html",
            "",
            json!({ "count": 12, "kind": "sessions", "filters": ["Rust", "Go"], "start": "2027-02-06T09:00:00+01:00",
                    "every": 30, "jitter": 5, "providers": ["fosdem_mastodon", "fosdem_bluesky"] }),
        ),
        (
            "campaign_send_template.html",
            "sponsors",
            json!({ "count": 1, "kind": "sponsors", "filters": [], "start": "2027-02-06T09:00:00+01:00",
                    "every": 60, "jitter": 0, "providers": ["fosdem_mastodon"] }),
        ),
        (
            "campaign_template_error.html",
            "",
            json!({ "subject": "Rust in the kernel", "error": "undefined value: session.speaker" }),
        ),
        ("campaign_unknown.html", "", json!({ "number": 9 })),
        ("cancelled.html", "", json!({ "had_pending": true })),
        ("cancelled.html", "nothing", json!({ "had_pending": false })),
        (
            "conference_created.html",
            "",
            json!({ "conference": conference }),
        ),
        (
            "conference_exists.html",
            "",
            json!({ "slug": "fosdem-2027" }),
        ),
        (
            "conference_list.html",
            "",
            json!({ "conferences": [
                { "slug": "fosdem-2026", "name": "FOSDEM 2026", "time_zone": "Europe/Brussels",
                  "starts_on": "2026-01-31", "ends_on": "2026-02-01", "current": false },
                { "slug": "fosdem-2027", "name": "FOSDEM 2027", "time_zone": "Europe/Brussels",
                  "starts_on": "2027-02-06", "ends_on": "2027-02-07", "current": true },
            ] }),
        ),
        ("conference_list.html", "none", json!({ "conferences": [] })),
        (
            "conference_new_refused.html",
            "",
            json!({ "series": "fosdem" }),
        ),
        (
            "conference_not_yours.html",
            "",
            json!({ "slug": "fosdem-2027" }),
        ),
        (
            "conference_selected.html",
            "",
            json!({ "conference": conference }),
        ),
        (
            "conference_status.html",
            "",
            json!({ "conference": conference, "local_now": "2027-02-06T09:12:00+01:00", "tz": "Europe/Brussels", "open_mentions": 0,
                    "bindings": [
                        { "slot": "attendees", "chat": "FOSDEM attendees" },
                        { "slot": "organisers", "chat": null },
                        { "slot": "moderation", "chat": "-1001234" },
                    ],
                    "listeners": [], "unreachable": 0, "queues": [] }),
        ),
        (
            "conference_status.html",
            "listening",
            json!({ "conference": conference, "local_now": "2027-02-06T09:12:00+01:00", "tz": "Europe/Brussels", "open_mentions": 3,
                    "bindings": [
                        { "slot": "attendees", "chat": "FOSDEM attendees" },
                        { "slot": "organisers", "chat": "FOSDEM orga" },
                        { "slot": "moderation", "chat": "FOSDEM moderators" },
                    ],
                    "listeners": [
                        { "name": "fosdem_mastodon", "network": "mastodon", "state": "listening", "error": null,
                          "last_event": "2027-02-06T09:10:42+01:00", "failing_since": null },
                        { "name": "fosdem_bluesky", "network": "bluesky", "state": "failing", "error": "HTTP 502",
                          "last_event": null, "failing_since": "2027-02-06T08:40:00+01:00" },
                    ],
                    "unreachable": 0, "queues": [] }),
        ),
        (
            "conference_status.html",
            "unreachable",
            json!({ "conference": conference, "local_now": "2027-02-06T09:12:00+01:00", "tz": "Europe/Brussels", "open_mentions": 0,
                    "bindings": [
                        { "slot": "attendees", "chat": null },
                        { "slot": "organisers", "chat": null },
                        { "slot": "moderation", "chat": null },
                    ],
                    "listeners": [], "unreachable": 1,
                    "queues": [{ "platform": "telegram", "pending": 12, "failed": 0 },
                               { "platform": "mastodon", "pending": 1, "failed": 2 }] }),
        ),
        (
            "conference_status.html",
            "everything",
            json!({ "conference": conference, "local_now": "2027-02-06T09:12:00+01:00", "tz": "Europe/Brussels", "open_mentions": 1,
                    "bindings": [
                        { "slot": "attendees", "chat": "FOSDEM attendees" },
                        { "slot": "organisers", "chat": "FOSDEM orga" },
                        { "slot": "moderation", "chat": "FOSDEM moderators" },
                    ],
                    "listeners": [
                        { "name": "fosdem_mastodon", "network": "mastodon", "state": "catching up", "error": null,
                          "last_event": null, "failing_since": null },
                    ],
                    "unreachable": 17,
                    "queues": [{ "platform": "telegram", "pending": 3, "failed": 1 }] }),
        ),
        (
            "conference_unknown.html",
            "",
            json!({ "slug": "fosdem-2028" }),
        ),
        ("confirmation_expired.html", "", json!({})),
        (
            "credentials_saved.html",
            "",
            json!({ "name": "fosdem_mastodon" }),
        ),
        ("credentials_shape.html", "", json!({ "kind": "mastodon" })),
        (
            "credentials_shape.html",
            "bluesky",
            json!({ "kind": "bluesky" }),
        ),
        ("credentials_shape.html", "x", json!({ "kind": "x" })),
        (
            "credentials_shape.html",
            "linkedin",
            json!({ "kind": "linkedin" }),
        ),
        (
            "dm.html",
            "",
            json!({ "from": "Olga <orga>", "conference": "FOSDEM 2027",
                    "text": "Could you help at the info desk at 14:00?\nThanks & see you there." }),
        ),
        ("dm_queued.html", "", json!({ "person": "Ada", "count": 2 })),
        (
            "dm_queued.html",
            "nowhere",
            json!({ "person": "Ada", "count": 0 }),
        ),
        ("document_not_awaited.html", "", json!({})),
        ("document_reading.html", "", json!({})),
        (
            "document_unreadable.html",
            "too_large",
            json!({ "reason": "too_large", "max_kb": 64 }),
        ),
        (
            "document_unreadable.html",
            "not_text",
            json!({ "reason": "not_text", "detail": null, "max_kb": 64 }),
        ),
        (
            "document_unreadable.html",
            "download",
            json!({ "reason": "download", "detail": "HTTP 404", "max_kb": 64 }),
        ),
        (
            "email_confirm_sent.html",
            "",
            json!({ "address": "ada@example.org", "days": 7 }),
        ),
        (
            "email_invalid.html",
            "",
            json!({ "address": "ada@<example>" }),
        ),
        (
            "email_undeliverable.html",
            "",
            json!({ "address": "ada@example.org",
                    "error": "the mail server answered 550: permanent error (550): 5.1.1 no such user here" }),
        ),
        (
            "early_reminder_set.html",
            "",
            json!({ "minutes": 60, "session_minutes": 10, "conference": "FOSDEM 2027", "reminders": true,
                    "active": true }),
        ),
        (
            "early_reminder_set.html",
            "off",
            json!({ "minutes": null, "session_minutes": 10, "conference": "FOSDEM 2027", "reminders": true,
                    "active": true }),
        ),
        (
            "early_reminder_set.html",
            "reminders_off",
            json!({ "minutes": 60, "session_minutes": 10, "conference": "FOSDEM 2027", "reminders": false,
                    "active": true }),
        ),
        (
            "early_reminder_set.html",
            "stopped",
            json!({ "minutes": 60, "session_minutes": 10, "conference": "FOSDEM 2027", "reminders": false,
                    "active": false }),
        ),
        (
            "early_reminder_too_late.html",
            "",
            json!({ "minutes": 10, "session_minutes": 15, "suggestion": 60 }),
        ),
        (
            "early_reminder_too_late.html",
            "a_day_ahead",
            json!({ "minutes": 600, "session_minutes": 1440, "suggestion": null }),
        ),
        (
            "followed.html",
            "",
            json!({ "label": "Rust in the kernel", "pattern": false, "matching": 1, "reminders": 1 }),
        ),
        (
            "followed.html",
            "pattern",
            json!({ "label": "/rust/", "pattern": true, "matching": 3, "reminders": 3 }),
        ),
        (
            "followed.html",
            "pattern_one",
            json!({ "label": "/kernel/", "pattern": true, "matching": 1, "reminders": 1 }),
        ),
        (
            "following.html",
            "",
            json!({ "conference": "FOSDEM 2027", "follows": [
                { "pattern": null, "number": 14, "title": "Rust in the kernel", "when": "2027-02-06T10:00:00+01:00", "room": "K.1.105" },
                { "pattern": null, "number": 15, "title": "Async Rust", "when": "2027-02-06T11:00:00+01:00", "room": null },
                { "pattern": "rust|go" },
            ] }),
        ),
        (
            "following.html",
            "one",
            json!({ "conference": "FOSDEM 2027", "follows": [
                { "pattern": null, "number": 14, "title": "Rust in the kernel", "when": "2027-02-06T10:00:00+01:00", "room": "K.1.105" },
            ] }),
        ),
        (
            "following.html",
            "nothing",
            json!({ "conference": "FOSDEM 2027", "follows": [] }),
        ),
        ("free_text.html", "", json!({})),
        (
            "granted.html",
            "",
            json!({ "person": "Ada", "role": "admin", "conference": "FOSDEM 2027" }),
        ),
        ("hashtag_unknown.html", "", json!({ "tag": "fosdm" })),
        (
            "hashtags.html",
            "",
            json!({ "conference": "FOSDEM 2027", "tags": [
                { "tag": "fosdem", "auto_add": true, "sort_key": 0 },
                { "tag": "rustlang", "auto_add": false, "sort_key": 1 },
                { "tag": "fosdem2027", "auto_add": true, "sort_key": 2 },
            ] }),
        ),
        (
            "hashtags.html",
            "none",
            json!({ "conference": "FOSDEM 2027", "tags": [] }),
        ),
        (
            "help.html",
            "",
            json!({ "topic": false, "role": "attendee", "conference": "FOSDEM 2027", "commands": [
                { "usage": "/now", "help": "what is running now", "role": "attendee", "allowed": true },
                { "usage": "/next", "help": "what comes next", "role": "attendee", "allowed": true },
                { "usage": "/follow <number|/pattern/>", "help": "a reminder before a session", "role": "attendee", "allowed": true },
            ] }),
        ),
        (
            "help.html",
            "guest",
            json!({ "topic": false, "role": "guest", "conference": null, "commands": [
                { "usage": "/start", "help": "join with your link", "role": "guest", "allowed": true },
            ] }),
        ),
        (
            "help.html",
            "topic",
            json!({ "topic": true, "role": "volunteer", "conference": "FOSDEM 2027", "commands": [
                { "usage": "/post <text>", "help": "a post for the conference's accounts", "role": "volunteer", "allowed": true },
                { "usage": "/approve <number>", "help": "approve a post", "role": "admin", "allowed": false },
            ] }),
        ),
        (
            "hook_created.html",
            "",
            json!({ "secret": "hk_9QxLw2", "url": null, "slug": "fosdem-2027", "conference": "FOSDEM 2027",
                    "rotated": false }),
        ),
        (
            "hook_created.html",
            "rotated",
            json!({ "secret": "hk_7PzKe1", "url": "https://herald.example/hooks/notify/fosdem-2027",
                    "slug": "fosdem-2027", "conference": "FOSDEM 2027", "rotated": true }),
        ),
        (
            "image_added.html",
            "",
            json!({ "position": 2, "max": 4, "number": 12 }),
        ),
        ("image_too_many.html", "", json!({ "number": 12, "max": 4 })),
        ("image_without_picture.html", "", json!({ "number": 12 })),
        (
            "import_scheduled.html",
            "",
            json!({ "conference": "FOSDEM 2027", "url": "https://fosdem.org/2027/schedule/xml" }),
        ),
        (
            "invite_undeliverable.html",
            "",
            json!({ "address": "ada@exmaple.org",
                    "error": "the mail server answered 550: permanent error (550): 5.1.1 no such user here" }),
        ),
        (
            "invite_mailed.html",
            "",
            json!({ "address": "ada@example.org", "role": "speaker", "name": "Ada Lovelace",
                    "conference": "FOSDEM 2027", "expires": "2027-01-20" }),
        ),
        (
            "invite_mailed.html",
            "unnamed",
            json!({ "address": "ada@example.org", "role": "attendee", "name": null,
                    "conference": "FOSDEM 2027", "expires": "2027-01-20" }),
        ),
        (
            "invite_created.html",
            "",
            json!({ "link": "https://t.me/herald_bot?start=inv_Zk3", "role": "speaker", "name": "Ada Lovelace",
                    "conference": "FOSDEM 2027", "expires": "2027-01-20" }),
        ),
        (
            "invite_created.html",
            "unnamed",
            json!({ "link": "https://t.me/herald_bot?start=inv_Q8w", "role": "attendee", "name": null,
                    "conference": "FOSDEM 2027", "expires": "2027-01-20" }),
        ),
        ("lengths.inc.html", "", json!({ "lengths": lengths() })),
        ("lengths.inc.html", "none", json!({ "lengths": [] })),
        (
            "mention.html",
            "",
            mention("mention", false, Some("https://fosstodon.org/@dan/1130")),
        ),
        ("mention.html", "direct", mention("mention", true, None)),
        (
            "mention.html",
            "reply",
            mention("reply", false, Some("https://fosstodon.org/@dan/1131")),
        ),
        ("mention.html", "quote", mention("quote", false, None)),
        (
            "mention.html",
            "followers",
            seen_by(mention("mention", false, None), "private"),
        ),
        (
            "mention_boosted.html",
            "",
            json!({ "number": 7, "network": "mastodon" }),
        ),
        (
            "mention_closed.html",
            "",
            json!({ "number": 7, "state": "replied" }),
        ),
        ("mention_discarded.html", "", json!({ "number": 7 })),
        (
            "mention_done.html",
            "replied",
            json!({ "mention": closed(mention("mention", false, None), "replied"), "by": "Ada" }),
        ),
        (
            "mention_done.html",
            "boosted",
            json!({ "mention": closed(mention("reply", false, None), "boosted"), "by": "Bob" }),
        ),
        (
            "mention_done.html",
            "discarded",
            json!({ "mention": closed(mention("quote", false, None), "discarded"), "by": "Olga" }),
        ),
        (
            "mention_how_to_reply.html",
            "",
            json!({ "by": "Ada", "author": "@dan@fosstodon.org", "number": 7 }),
        ),
        (
            "mention_may_not_boost.html",
            "",
            json!({ "role": "volunteer" }),
        ),
        ("mention_provider_off.html", "", json!({ "number": 7 })),
        ("mention_unknown.html", "", json!({ "number": 70 })),
        (
            "mentions.html",
            "",
            json!({ "conference": "FOSDEM 2027", "page": 1, "pages": 1, "total": 2, "mentions": [
                mention("mention", false, Some("https://fosstodon.org/@dan/1130")),
                { "number": 8, "kind": "reply", "author": "@eve.bsky.social", "name": "Eve", "text": "Great talk!",
                  "excerpt": "Great talk!", "url": null, "network": "bluesky", "provider": "fosdem_bluesky",
                  "state": "open", "visibility": null },
            ] }),
        ),
        (
            "mentions.html",
            "paged",
            json!({ "conference": "FOSDEM 2027", "page": 1, "pages": 3, "total": 11, "mentions": [
                mention("mention", false, None),
            ] }),
        ),
        (
            "mentions.html",
            "last_page",
            json!({ "conference": "FOSDEM 2027", "page": 3, "pages": 3, "total": 11, "mentions": [
                mention("quote", false, Some("https://fosstodon.org/@dan/1132")),
            ] }),
        ),
        (
            "mentions.html",
            "none",
            json!({ "conference": "FOSDEM 2027", "page": 1, "pages": 0, "total": 0, "mentions": [] }),
        ),
        (
            "moderate_image.txt",
            "",
            json!({ "number": 12, "position": 1, "count": 2, "alt": "The registration desk & its queue" }),
        ),
        (
            "moderate_post.html",
            "",
            json!({ "number": 12, "author": "Ada", "text": "Doors open at 9:00!\nSee you in building K.",
                    "lengths": lengths(), "images": [], "variants": [], "when": null, "answers": null }),
        ),
        (
            "moderate_post.html",
            "everything",
            json!({ "number": 13, "author": "Bob", "text": "Yes, every devroom is streamed: https://live.fosdem.org",
                    "lengths": [
                        { "network": "fosdem_mastodon", "length": 54, "limit": 500, "parts": 1, "own_text": false },
                    ],
                    "images": [
                        { "id": 1, "position": 1, "content_type": "image/jpeg", "alt_text": "The stream team at work",
                          "telegram_file_id": "AgAD1", "byte_size": 1024 },
                        { "id": 2, "position": 2, "content_type": "image/jpeg", "alt_text": "A camera on a tripod",
                          "telegram_file_id": "AgAD2", "byte_size": 2048 },
                    ],
                    "variants": [
                        { "provider": "fosdem_bluesky", "text": "Every devroom is streamed:\nhttps://live.fosdem.org",
                          "measured": { "length": 51, "limit": 300 } },
                        { "provider": "fosdem_x", "text": "Streams: https://live.fosdem.org", "measured": null },
                    ],
                    "when": "2027-02-06T08:00:00+01:00", "tz": "Europe/Brussels",
                    "answers": { "number": 7, "kind": "mention", "author": "@dan@fosstodon.org", "network": "mastodon",
                                 "excerpt": "Will the Rust devroom talks be streamed? Asking for a friend." } }),
        ),
        (
            "moderate_post.html",
            "one_image",
            json!({ "number": 14, "author": "Ada", "text": "Our volunteers!", "lengths": [],
                    "images": [
                        { "id": 3, "position": 1, "content_type": "image/png", "alt_text": "Twelve people in orange shirts",
                          "telegram_file_id": null, "byte_size": 4096 },
                    ],
                    "variants": [], "when": null, "answers": null }),
        ),
        (
            "moderate_post.html",
            "variant",
            json!({ "number": 15, "author": "Ada", "text": "Lunch is served in building F.", "lengths": lengths(),
                    "images": [],
                    "variants": [
                        { "provider": "fosdem_bluesky", "text": "Lunch: building F.", "measured": { "length": 18, "limit": 300 } },
                    ],
                    "when": null, "answers": null }),
        ),
        (
            "moderated.html",
            "approved",
            json!({ "action": "approved", "post": { "number": 12, "destinations": 3, "by": "Bob", "reason": null,
                                                    "text": "Doors open at 9:00!\nSee you in building K." } }),
        ),
        (
            "moderated.html",
            "rejected",
            json!({ "action": "rejected", "post": { "number": 12, "destinations": 0, "by": "Bob",
                                                    "reason": "wrong building", "text": "Doors open at 9:00!" } }),
        ),
        (
            "moderated.html",
            "cancelled",
            json!({ "action": "cancelled", "post": { "number": 12, "by": "Ada", "reason": null,
                                                     "text": "Doors open at 9:00!" } }),
        ),
        (
            "news_known.html",
            "",
            json!({ "url": "https://fosdem.org/2027/news/2027-01-10-streams/" }),
        ),
        ("news_posted.html", "", json!({ "number": 16 })),
        (
            "newsfeed_set.html",
            "",
            json!({ "url": "https://fosdem.org/2027/news/feed.xml", "conference": "FOSDEM 2027", "minutes": 15 }),
        ),
        (
            "newsfeed_set.html",
            "off",
            json!({ "url": null, "conference": "FOSDEM 2027", "minutes": 15 }),
        ),
        ("no_conference.html", "", json!({})),
        (
            "not_bound.html",
            "",
            json!({ "conference": "FOSDEM 2027", "slot": "moderation" }),
        ),
        (
            "not_following.html",
            "",
            json!({ "label": "Rust in the kernel", "pattern": false, "matching": 1, "reminders": 0 }),
        ),
        (
            "not_following.html",
            "pattern",
            json!({ "label": "/rust/", "pattern": true, "matching": 3, "reminders": 0 }),
        ),
        (
            "not_granted.html",
            "",
            json!({ "person": "Ada", "role": "admin", "conference": "FOSDEM 2027" }),
        ),
        ("not_linked.html", "", json!({})),
        (
            "notify_hook.html",
            "",
            json!({ "conference": "FOSDEM 2027", "title": "Sold out", "text": "All T-shirts are gone.",
                    "level": "info" }),
        ),
        (
            "notify_hook.html",
            "warning",
            json!({ "conference": "FOSDEM 2027", "title": "Queue at the entrance",
                    "text": "Open the side door.\nSend two volunteers.", "level": "warning" }),
        ),
        (
            "notify_hook.html",
            "urgent",
            json!({ "conference": "FOSDEM 2027", "title": "Power cut in K", "text": "Evacuate K.1.105 & K.3.201.",
                    "level": "urgent" }),
        ),
        (
            "notify_import.html",
            "",
            json!({ "conference": "FOSDEM 2027", "summary": {
                "added": 3, "moved": 0, "changed": 1, "cancelled": 0, "removed": 0, "unchanged": 640,
                "notices": 0, "reminders": 3, "notes": [],
            } }),
        ),
        (
            "notify_import.html",
            "notes",
            json!({ "conference": "FOSDEM 2027", "summary": {
                "added": 0, "moved": 2, "changed": 0, "cancelled": 1, "removed": 0, "unchanged": 641,
                "notices": 37, "reminders": 0,
                "notes": ["2 sessions have no room", "“Closing talk” ends before it starts; kept as 5 minutes"],
            } }),
        ),
        (
            "notify_joined.html",
            "",
            json!({ "name": "Ada Lovelace", "username": "ada", "role": "speaker", "conference": "FOSDEM 2027" }),
        ),
        (
            "notify_joined.html",
            "without_username",
            json!({ "name": "Bob", "username": null, "role": "volunteer", "conference": "FOSDEM 2027" }),
        ),
        (
            "notify_credentials_refused.html",
            "",
            json!({ "provider": "fosstodon", "network": "mastodon", "error": "the access token was refused (401)" }),
        ),
        (
            "notify_token_expiring.html",
            "",
            json!({ "provider": "fosdem_li", "network": "linkedin", "refresh": false,
                    "at": "2027-01-20T10:00:00+00:00", "days": 14, "ended": false }),
        ),
        (
            "notify_token_expiring.html",
            "refresh_ended",
            json!({ "provider": "fosdem_li", "network": "linkedin", "refresh": true,
                    "at": "2027-01-20T10:00:00+00:00", "days": 0, "ended": true }),
        ),
        (
            "notify_linkedin_version.html",
            "",
            json!({ "provider": "fosdem_li", "linkedin_version": "202602", "until": "2027-02-01",
                    "ended": false }),
        ),
        (
            "notify_listener_failing.html",
            "",
            json!({ "provider": "fosdem_bluesky", "network": "bluesky", "minutes": 30, "error": "HTTP 502" }),
        ),
        (
            "notify_listener_recovered.html",
            "",
            json!({ "provider": "fosdem_bluesky", "network": "bluesky" }),
        ),
        (
            "notify_removed.html",
            "",
            json!({ "title": "FOSDEM attendees", "slot": "attendees" }),
        ),
        (
            "notify_sync_failed.html",
            "",
            json!({ "conference": "FOSDEM 2027", "url": "https://fosdem.org/2027/schedule/xml",
                    "error": "HTTP 503" }),
        ),
        ("owner_exists.html", "", json!({})),
        (
            "pattern_invalid.html",
            "",
            json!({ "pattern": "rust(", "error": "unclosed group" }),
        ),
        ("person_ambiguous.html", "", json!({ "person": "@ada" })),
        (
            "person_not_here.html",
            "",
            json!({ "person": "Ada", "conference": "FOSDEM 2027" }),
        ),
        ("person_stopped.html", "", json!({ "person": "Ada" })),
        ("person_unknown.html", "", json!({ "person": "@adah" })),
        (
            "policy_set.html",
            "",
            json!({ "conference": "FOSDEM 2027", "level": 2, "key": "volunteers_admins_approve" }),
        ),
        (
            "policy_set.html",
            "staff",
            json!({ "conference": "FOSDEM 2027", "level": 4, "key": "staff_without_approval" }),
        ),
        (
            "post_approved.html",
            "",
            json!({ "number": 12, "destinations": 3 }),
        ),
        (
            "post_approved.html",
            "one",
            json!({ "number": 12, "destinations": 1 }),
        ),
        (
            "post_cancelled.html",
            "",
            json!({ "number": 12, "stopped": 0 }),
        ),
        (
            "post_cancelled.html",
            "stopped",
            json!({ "number": 12, "stopped": 2 }),
        ),
        ("post_duplicate.html", "", json!({})),
        (
            "post_edited.html",
            "",
            json!({ "number": 12, "lengths": lengths() }),
        ),
        (
            "post_edited.html",
            "nowhere",
            json!({ "number": 12, "lengths": [] }),
        ),
        ("post_how_to_edit.html", "", json!({ "number": 12 })),
        ("notify_unreachable.html", "", json!({ "count": 3 })),
        ("notify_unreachable.html", "one", json!({ "count": 1 })),
        ("notify_reminders_expired.html", "", json!({ "count": 4 })),
        (
            "notify_reminders_expired.html",
            "one",
            json!({ "count": 1 }),
        ),
        (
            "reminders_set.html",
            "",
            json!({ "conference": "FOSDEM 2027", "sessions": 10, "speakers": 15, "volunteers": 30 }),
        ),
        ("post_image_needs_alt.html", "", json!({})),
        ("post_may_not_approve.html", "", json!({ "number": 12 })),
        (
            "post_not_allowed.html",
            "",
            json!({ "policy": "volunteers_admins_approve", "role": "attendee" }),
        ),
        (
            "post_not_allowed.html",
            "nobody",
            json!({ "policy": "nobody", "role": "admin" }),
        ),
        (
            "post_not_pending.html",
            "",
            json!({ "number": 12, "state": "approved" }),
        ),
        (
            "post_outside_window.html",
            "",
            json!({ "window": "08:00–20:00", "time_zone": "Europe/Brussels" }),
        ),
        ("post_own.html", "", json!({ "number": 12 })),
        (
            "post_pending.html",
            "",
            json!({ "number": 12, "moderation": true, "lengths": lengths() }),
        ),
        (
            "post_pending.html",
            "unmoderated",
            json!({ "number": 12, "moderation": false, "lengths": [] }),
        ),
        (
            "post_queue.html",
            "",
            json!({ "conference": "FOSDEM 2027", "posts": [
                { "number": 12, "state": "pending", "text": "Doors open at 9:00!" },
                { "number": 13, "state": "approved", "text": "Lunch is served in building F." },
            ], "failed": [] }),
        ),
        (
            "post_queue.html",
            "empty",
            json!({ "conference": "FOSDEM 2027", "posts": [], "failed": [] }),
        ),
        (
            "post_queue.html",
            "failed",
            json!({ "conference": "FOSDEM 2027", "posts": [
                { "number": 12, "state": "pending", "text": "Doors open at 9:00!" },
            ], "failed": [
                { "number": 9, "state": "partial", "text": "Keynote in Janson at 10:00", "deliveries": [
                    { "platform": "mastodon", "state": "sent", "last_error": null },
                    { "platform": "bluesky", "state": "given_up", "last_error": "gave up after 8 attempts: HTTP 502" },
                ] },
            ] }),
        ),
        (
            "post_retried.html",
            "",
            json!({ "number": 9, "networks": 1 }),
        ),
        (
            "post_not_failed.html",
            "",
            json!({ "number": 9, "state": "sent" }),
        ),
        (
            "post_history.html",
            "",
            json!({ "number": 9, "state": "partial", "events": [
                { "at": "2027-02-06T09:01:00+01:00", "action": "created", "who": "Ada", "surface": "telegram", "detail": null },
                { "at": "2027-02-06T09:03:00+01:00", "action": "rejected", "who": "Olga", "surface": "telegram-button",
                  "detail": "wrong room" },
                { "at": "2027-02-06T09:05:00+01:00", "action": "retried", "who": null, "surface": "web", "detail": null },
            ] }),
        ),
        (
            "post_history.html",
            "nothing",
            json!({ "number": 9, "state": "pending", "events": [] }),
        ),
        (
            "notify_post_failed.html",
            "",
            json!({ "number": 9, "state": "partial", "text": "Keynote in Janson at 10:00", "deliveries": [
                { "platform": "mastodon", "state": "sent", "last_error": null },
                { "platform": "bluesky", "state": "given_up", "last_error": "gave up after 8 attempts: HTTP 502" },
            ] }),
        ),
        (
            "notify_post_failed.html",
            "everywhere",
            json!({ "number": 9, "state": "failed", "text": "Keynote in Janson at 10:00", "deliveries": [
                { "platform": "mastodon", "state": "expired", "last_error": "deadline passed" },
            ] }),
        ),
        (
            "notify_post_failed.html",
            "maybe_on_x",
            json!({ "number": 12, "state": "partial", "text": "Keynote in Janson at 10:00", "deliveries": [
                { "platform": "mastodon", "state": "sent", "last_error": null },
                { "platform": "x", "state": "given_up",
                  "last_error": "may already be on X: part 1 — its answer was lost and the account's posts cannot be read (X server error 503); check the account before sending it again" },
            ], "uncertain": ["x"] }),
        ),
        (
            "post_rejected.html",
            "",
            json!({ "number": 12, "reason": null }),
        ),
        (
            "post_rejected.html",
            "reason",
            json!({ "number": 12, "reason": "wrong building" }),
        ),
        (
            "post_split_set.html",
            "",
            json!({ "number": 12, "allow": true }),
        ),
        (
            "post_split_set.html",
            "whole",
            json!({ "number": 12, "allow": false }),
        ),
        (
            "post_start.html",
            "",
            json!({ "tags": "#fosdem #fosdem2027" }),
        ),
        ("post_start.html", "without_tags", json!({ "tags": "" })),
        (
            "post_too_long_unsplit.html",
            "",
            json!({ "number": 12, "networks": [
                { "provider": "fosdem_bluesky", "length": 318, "limit": 300 },
                { "provider": "fosdem_x", "length": 318, "limit": 280 },
            ] }),
        ),
        ("post_unknown.html", "", json!({ "number": 99 })),
        (
            "post_variant_set.html",
            "",
            json!({ "number": 12, "provider": "fosdem_bluesky", "set": true,
                    "measured": { "length": 120, "limit": 300 } }),
        ),
        (
            "post_variant_set.html",
            "too_long",
            json!({ "number": 12, "provider": "fosdem_bluesky", "set": true,
                    "measured": { "length": 420, "limit": 300 } }),
        ),
        (
            "post_variant_set.html",
            "unmeasured",
            json!({ "number": 12, "provider": "fosdem_x", "set": true, "measured": null }),
        ),
        (
            "post_variant_set.html",
            "removed",
            json!({ "number": 12, "provider": "fosdem_bluesky", "set": false, "measured": null }),
        ),
        (
            "provider_active.html",
            "",
            json!({ "name": "fosdem_mastodon", "on": true }),
        ),
        (
            "provider_active.html",
            "off",
            json!({ "name": "fosdem_mastodon", "on": false }),
        ),
        (
            "provider_added.html",
            "",
            json!({ "name": "fosdem_mastodon", "kind": "mastodon", "base_url": "https://fosstodon.org" }),
        ),
        (
            "provider_added.html",
            "bluesky",
            json!({ "name": "fosdem_bluesky", "kind": "bluesky", "base_url": null }),
        ),
        (
            "provider_added.html",
            "x",
            json!({ "name": "fosdem_x", "kind": "x", "base_url": "https://api.x.com/" }),
        ),
        (
            "provider_added.html",
            "linkedin",
            json!({ "name": "fosdem_page", "kind": "linkedin", "base_url": "https://api.linkedin.com/" }),
        ),
        (
            "provider_exists.html",
            "",
            json!({ "name": "fosdem_mastodon" }),
        ),
        (
            "provider_failed.html",
            "",
            json!({ "name": "fosdem_mastodon", "error": "HTTP 401: The access token is invalid" }),
        ),
        (
            "provider_webhook.html",
            "",
            json!({ "name": "xconf", "action": "on", "state": { "url": "https://herald.fosdem.org/hooks/x/3",
                    "id": "1400000000000000001", "valid": true, "subscribed": true } }),
        ),
        (
            "provider_webhook.html",
            "invalid",
            json!({ "name": "xconf", "action": "status", "state": { "url": "https://herald.fosdem.org/hooks/x/3",
                    "id": "1400000000000000001", "valid": false, "subscribed": false } }),
        ),
        (
            "provider_webhook.html",
            "off",
            json!({ "name": "xconf", "action": "off", "state": { "url": "https://herald.fosdem.org/hooks/x/3",
                    "id": null, "valid": false, "subscribed": false } }),
        ),
        (
            "provider_webhook.html",
            "none",
            json!({ "name": "xconf", "action": "status", "state": { "url": "https://herald.fosdem.org/hooks/x/3",
                    "id": null, "valid": false, "subscribed": false } }),
        ),
        (
            "provider_webhook_needs_url.html",
            "",
            json!({ "name": "xconf" }),
        ),
        (
            "connect_done.html",
            "",
            json!({ "name": "xconf", "account": "@fosdem" }),
        ),
        (
            "connect_done.html",
            "linkedin",
            json!({ "name": "page", "account": "FOSDEM (urn:li:organization:2414183)",
                    "expires": "2027-03-01T10:00:00+00:00" }),
        ),
        (
            "connect_failed.html",
            "",
            json!({ "name": "xconf", "error": "X refused the request token (401)" }),
        ),
        (
            "connect_failed.html",
            "webhook_registered",
            json!({ "name": "xconf", "reason": "webhook_registered" }),
        ),
        (
            "connect_declined.html",
            "",
            json!({ "network": "linkedin", "why": "The member cancelled" }),
        ),
        (
            "provider_kind_unknown.html",
            "",
            json!({ "kind": "myspace", "known": ["mastodon", "bluesky"] }),
        ),
        (
            "provider_list.html",
            "",
            json!({ "providers": [
                { "id": 1, "series_id": 1, "kind": "mastodon", "internal_name": "fosdem_mastodon",
                  "public_name": "FOSDEM", "base_url": "https://fosstodon.org", "active": true, "max_characters": 500, "refused": null },
                { "id": 2, "series_id": 1, "kind": "bluesky", "internal_name": "fosdem_bluesky",
                  "public_name": "FOSDEM", "base_url": null, "active": false, "max_characters": null, "refused": null },
                { "id": 3, "series_id": 1, "kind": "mastodon", "internal_name": "old_mastodon",
                  "public_name": "FOSDEM", "base_url": "https://chaos.social", "active": true, "max_characters": 500,
                  "refused": "the access token was refused (401)" },
            ] }),
        ),
        ("provider_list.html", "none", json!({ "providers": [] })),
        (
            "provider_needs_url.html",
            "",
            json!({ "name": "fosdem_mastodon" }),
        ),
        (
            "provider_ok.html",
            "",
            json!({ "name": "fosdem_mastodon", "account": "@fosdem@fosstodon.org", "limit": 500 }),
        ),
        (
            "provider_ok.html",
            "without_limit",
            json!({ "name": "fosdem_bluesky", "account": "fosdem.org", "limit": null }),
        ),
        (
            "provider_ok.html",
            "linkedin_version_ending",
            json!({ "name": "fosdem_page", "account": "FOSDEM (urn:li:organization:2414183)", "limit": null,
                    "warning": { "linkedin_version": "202511", "until": "2026-11-01", "ended": false } }),
        ),
        (
            "provider_ok.html",
            "linkedin_version_ended",
            json!({ "name": "fosdem_page", "account": "FOSDEM (urn:li:organization:2414183)", "limit": null,
                    "warning": { "linkedin_version": "202511", "until": "2026-11-01", "ended": true } }),
        ),
        ("provider_unknown.html", "", json!({ "name": "fosdem_x" })),
        (
            "refused.html",
            "",
            json!({ "usage": "/announce <text>", "needed": "admin", "role": "volunteer",
                    "conference": "FOSDEM 2027" }),
        ),
        (
            "refused.html",
            "guest",
            json!({ "usage": "/follow <number|/pattern/>", "needed": "attendee", "role": "guest",
                    "conference": null }),
        ),
        (
            "reminder_personal.html",
            "",
            json!({ "minutes": 10, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "number": 14 },
            ] }),
        ),
        (
            "reminder_personal.html",
            "two_now",
            json!({ "minutes": 0, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "number": 14 },
                { "title": "Go generics", "room": null, "number": 31 },
            ] }),
        ),
        (
            "reminder_sessions.html",
            "",
            json!({ "minutes": 10, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "track": "Rust" },
            ] }),
        ),
        (
            "reminder_sessions.html",
            "without_room",
            json!({ "minutes": 0, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Keynote", "room": null, "track": null },
            ] }),
        ),
        (
            "reminder_sessions.html",
            "parallel",
            json!({ "minutes": 10, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "track": "Rust" },
                { "title": "PostgreSQL indexes", "room": "H.2215", "track": "Databases" },
                { "title": "Lightning talks", "room": null, "track": null },
            ] }),
        ),
        (
            "reminder_sessions.html",
            "parallel_now",
            json!({ "minutes": 0, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "track": "Rust" },
                { "title": "PostgreSQL indexes", "room": "H.2215", "track": "Databases" },
            ] }),
        ),
        (
            "reminder_speaker.html",
            "",
            json!({ "minutes": 30, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "number": 14 },
            ] }),
        ),
        (
            "reminder_speaker.html",
            "two_now",
            json!({ "minutes": 0, "time": "2027-02-06T10:00:00+01:00", "sessions": [
                { "title": "Rust in the kernel", "room": "K.1.105", "number": 14 },
                { "title": "Rust BoF", "room": null, "number": 40 },
            ] }),
        ),
        (
            "reminder_volunteer.html",
            "",
            json!({ "title": "Info desk", "minutes": 15, "time": "2027-02-06T14:00:00+01:00", "end": "2027-02-06T16:00:00+01:00" }),
        ),
        (
            "reminder_volunteer.html",
            "now",
            json!({ "title": "Info desk", "minutes": 0, "time": "2027-02-06T14:00:00+01:00", "end": "2027-02-06T16:00:00+01:00" }),
        ),
        ("revoke_self.html", "", json!({})),
        (
            "revoked.html",
            "",
            json!({ "person": "Ada", "role": "admin", "conference": "FOSDEM 2027" }),
        ),
        (
            "room.html",
            "",
            json!({ "room": "K.1.105", "sessions": [
                session(14, "10:00", "10:50", "Rust in the kernel", Some("K.1.105")),
                session(15, "11:00", "11:50", "Async Rust", Some("K.1.105")),
            ] }),
        ),
        (
            "room.html",
            "nothing",
            json!({ "room": "K.1.105", "sessions": [] }),
        ),
        (
            "room_unknown.html",
            "",
            json!({ "name": "K4", "rooms": ["H.2215", "K.1.105"] }),
        ),
        (
            "room_unknown.html",
            "no_rooms",
            json!({ "name": "K4", "rooms": [] }),
        ),
        (
            "schedule_next.html",
            "",
            json!({ "same_day": true, "sessions": [
                session(14, "10:00", "10:50", "Rust in the kernel", Some("K.1.105")),
                { "number": 22, "title": "PostgreSQL indexes", "room": "H.2215", "track": "Databases", "url": null,
                  "start": "2027-02-06T10:00:00+01:00", "end": "2027-02-06T10:30:00+01:00", "day": "2027-02-06",
                  "speakers": ["Bruce", "Magnus"], "status": "confirmed" },
                { "number": 30, "title": "Lightning talks", "room": null, "track": null, "url": null,
                  "start": "2027-02-06T10:00:00+01:00", "end": "2027-02-06T11:00:00+01:00", "day": "2027-02-06", "speakers": [],
                  "status": "confirmed" },
            ] }),
        ),
        (
            "schedule_next.html",
            "tomorrow",
            json!({ "same_day": false, "sessions": [
                session(40, "09:00", "09:50", "Opening", Some("Janson")),
            ] }),
        ),
        (
            "schedule_next.html",
            "nothing",
            json!({ "same_day": null, "sessions": [] }),
        ),
        (
            "schedule_now.html",
            "",
            json!({ "time": "2027-02-06T10:12:00+01:00", "sessions": [
                session(14, "10:00", "10:50", "Rust in the kernel", Some("K.1.105")),
                session(30, "10:00", "11:00", "Lightning talks", None),
            ] }),
        ),
        (
            "schedule_now.html",
            "nothing",
            json!({ "time": "2027-02-06T08:12:00+01:00", "sessions": [] }),
        ),
        (
            "schedule_today.html",
            "",
            json!({ "conference": "FOSDEM 2027", "day": "2027-02-06", "page": 1, "pages": 1,
                    "sessions": [
                        session(14, "10:00", "10:50", "Rust in the kernel", Some("K.1.105")),
                        session(30, "10:00", "11:00", "Lightning talks", None),
                        session(15, "11:00", "11:50", "Async Rust", Some("K.1.105")),
                    ] }),
        ),
        (
            "schedule_today.html",
            "paged",
            json!({ "conference": "FOSDEM 2027", "day": "2027-02-06", "page": 2, "pages": 3,
                    "sessions": [
                        session(15, "11:00", "11:50", "Async Rust", Some("K.1.105")),
                    ] }),
        ),
        (
            "schedule_today.html",
            "nothing",
            json!({ "conference": "FOSDEM 2027", "day": "2027-02-08", "page": 1, "pages": 1,
                    "sessions": [] }),
        ),
        (
            "session.html",
            "",
            json!({ "session": {
                "number": 14, "title": "Rust in the kernel", "room": "K.1.105", "track": "Rust",
                "url": "https://fosdem.org/2027/schedule/event/rust_kernel/", "start": "2027-02-06T10:00:00+01:00", "end": "2027-02-06T10:50:00+01:00",
                "day": "2027-02-06", "speakers": ["Ada Lovelace", "Linus"], "status": "confirmed",
            }, "invitations": [] }),
        ),
        (
            "session.html",
            "invitations",
            json!({ "session": {
                "number": 14, "title": "Rust in the kernel", "room": "K.1.105", "track": "Rust",
                "url": null, "start": "2027-02-06T10:00:00+01:00", "end": "2027-02-06T10:50:00+01:00",
                "day": "2027-02-06", "speakers": ["Ada Lovelace"], "status": "confirmed",
            }, "invitations": [
                { "name": "Ada Lovelace", "origin": "speaker", "answer": "accepted" },
                { "name": "Bob", "origin": "asked", "answer": null },
            ] }),
        ),
        (
            "session.html",
            "bare",
            json!({ "session": {
                "number": 30, "title": "Lightning talks", "room": null, "track": null, "url": null,
                "start": "2027-02-06T10:00:00+01:00", "end": "2027-02-06T11:00:00+01:00", "day": "2027-02-06", "speakers": [],
                "status": "confirmed",
            }, "invitations": [] }),
        ),
        (
            "session.html",
            "cancelled",
            json!({ "session": {
                "number": 22, "title": "PostgreSQL indexes", "room": "H.2215", "track": null,
                "url": "https://fosdem.org/2027/schedule/event/pg_indexes/", "start": "2027-02-06T10:00:00+01:00", "end": "2027-02-06T10:30:00+01:00",
                "day": "2027-02-06", "speakers": [], "status": "cancelled",
            }, "invitations": [] }),
        ),
        (
            "session_cancelled.html",
            "",
            json!({ "title": "PostgreSQL indexes", "old_time": "2027-02-06T10:00:00+01:00", "old_room": "H.2215", "new_time": null,
                    "new_day": null, "new_room": null }),
        ),
        (
            "session_cancelled.html",
            "without_room",
            json!({ "title": "Lightning talks", "old_time": "2027-02-06T10:00:00+01:00", "old_room": null, "new_time": null,
                    "new_day": null, "new_room": null }),
        ),
        (
            "session_moved.html",
            "",
            json!({ "title": "Rust in the kernel", "old_time": "2027-02-06T10:00:00+01:00", "old_room": "K.1.105", "new_time": "2027-02-06T15:00:00+01:00",
                    "new_day": "2027-02-07T15:00:00+01:00", "new_room": "H.2215" }),
        ),
        (
            "session_moved.html",
            "without_rooms",
            json!({ "title": "Lightning talks", "old_time": "2027-02-06T10:00:00+01:00", "old_room": null, "new_time": "2027-02-06T10:30:00+01:00",
                    "new_day": null, "new_room": null }),
        ),
        ("session_unknown.html", "", json!({ "number": 999 })),
        (
            "settings.html",
            "",
            json!({ "conference": "FOSDEM 2027", "announcements": true, "reminders": false, "active": true,
                    "early": null, "session_minutes": 10,
                    "channels": [
                        { "platform": "telegram", "username": "ada", "announcements": true, "reminders": false,
                          "direct": true },
                    ] }),
        ),
        (
            "settings.html",
            "channels",
            json!({ "conference": "FOSDEM 2027", "announcements": true, "reminders": true, "active": true,
                    "early": 60, "session_minutes": 10,
                    "channels": [
                        { "platform": "telegram", "username": "ada", "announcements": true, "reminders": true,
                          "direct": true },
                        { "platform": "mastodon", "username": null, "announcements": false, "reminders": true,
                          "direct": false },
                    ] }),
        ),
        (
            "settings.html",
            "stopped",
            json!({ "conference": "FOSDEM 2027", "announcements": false, "reminders": true, "active": false,
                    "early": null, "session_minutes": 10,
                    "channels": [
                        { "platform": "telegram", "username": "ada", "announcements": true, "reminders": true,
                          "direct": true },
                    ] }),
        ),
        (
            "settings.html",
            "stopped_channels",
            json!({ "conference": "FOSDEM 2027", "announcements": true, "reminders": true, "active": false,
                    "early": 30, "session_minutes": 30,
                    "channels": [
                        { "platform": "telegram", "username": null, "announcements": true, "reminders": true,
                          "direct": true },
                        { "platform": "mastodon", "username": "@ada@fosstodon.org", "announcements": true,
                          "reminders": false, "direct": false },
                    ] }),
        ),
        (
            "settings_no_channel.html",
            "",
            json!({ "channel": "bluesky", "channels": [
                { "platform": "telegram" }, { "platform": "mastodon" },
            ] }),
        ),
        (
            "slot_added.html",
            "",
            json!({ "number": 5, "title": "Info desk", "start": "2027-02-06T14:00:00+01:00", "end": "2027-02-06T16:00:00+01:00" }),
        ),
        (
            "slot_already_assigned.html",
            "",
            json!({ "person": "Ada", "title": "Info desk", "start": "2027-02-06T14:00:00+01:00" }),
        ),
        (
            "slot_assigned.html",
            "",
            json!({ "person": "Ada", "title": "Info desk", "start": "2027-02-06T14:00:00+01:00" }),
        ),
        ("slot_not_volunteer.html", "", json!({ "person": "Eve" })),
        ("slot_unknown.html", "", json!({ "number": 55 })),
        (
            "slots.html",
            "",
            json!({ "mine": false, "conference": "FOSDEM 2027", "slots": [
                { "number": 5, "title": "Info desk", "people": ["Ada", "Bob"], "start": "2027-02-06T14:00:00+01:00", "end": "2027-02-06T16:00:00+01:00" },
                { "number": 6, "title": "Cloakroom", "people": [], "start": "2027-02-06T16:00:00+01:00", "end": "2027-02-06T18:00:00+01:00" },
            ] }),
        ),
        (
            "slots.html",
            "mine",
            json!({ "mine": true, "conference": "FOSDEM 2027", "slots": [
                { "number": 5, "title": "Info desk", "people": ["Ada", "Bob"], "start": "2027-02-06T14:00:00+01:00", "end": "2027-02-06T16:00:00+01:00" },
                { "number": 9, "title": "Heralding", "people": ["Ada"], "start": "2027-02-07T09:00:00+01:00", "end": "2027-02-06T12:00:00+01:00" },
            ] }),
        ),
        (
            "slots.html",
            "none",
            json!({ "mine": false, "conference": "FOSDEM 2027", "slots": [] }),
        ),
        (
            "slots.html",
            "none_mine",
            json!({ "mine": true, "conference": "FOSDEM 2027", "slots": [] }),
        ),
        (
            "sponsor_added.html",
            "",
            json!({ "name": "Acme", "level": "gold", "conference": "FOSDEM 2027",
                    "handles": { "bluesky": "@acme.example", "mastodon": "@acme@fosstodon.org" } }),
        ),
        (
            "sponsor_added.html",
            "without_handles",
            json!({ "name": "Initech", "level": "silver", "conference": "FOSDEM 2027", "handles": {} }),
        ),
        (
            "sponsors.html",
            "",
            json!({ "conference": "FOSDEM 2027",
                    "sponsors": [
                        { "number": 1, "name": "Acme", "level": "gold",
                          "handles": { "bluesky": "@acme.example", "mastodon": "@acme@fosstodon.org" } },
                        { "number": 2, "name": "Initech", "level": "silver", "handles": {} },
                    ],
                    "benefits": [
                        { "number": 1, "level": "gold", "name": "Thank-you post", "post": true },
                        { "number": 2, "level": "gold", "name": "Booth", "post": false },
                    ] }),
        ),
        (
            "sponsors.html",
            "without_benefits",
            json!({ "conference": "FOSDEM 2027",
                    "sponsors": [
                        { "number": 1, "name": "Acme", "level": "gold", "handles": { "mastodon": "@acme@fosstodon.org" } },
                        { "number": 2, "name": "Initech", "level": "silver", "handles": {} },
                    ],
                    "benefits": [] }),
        ),
        (
            "sponsors.html",
            "benefits_only",
            json!({ "conference": "FOSDEM 2027", "sponsors": [],
                    "benefits": [{ "number": 1, "level": "gold", "name": "Thank-you post", "post": true }] }),
        ),
        (
            "sponsors.html",
            "none",
            json!({ "conference": "FOSDEM 2027", "sponsors": [], "benefits": [] }),
        ),
        ("start_guest.html", "", json!({ "name": "Eve" })),
        ("start_in_private.html", "", json!({ "bot": "herald_bot" })),
        (
            "start_joined.html",
            "",
            json!({ "name": "Eve", "role": "attendee", "conference": conference, "label": null }),
        ),
        (
            "start_joined.html",
            "speaker",
            json!({ "name": "Ada", "role": "speaker", "conference": conference, "label": "Ada Lovelace" }),
        ),
        (
            "start_joined.html",
            "volunteer",
            json!({ "name": "Bob", "role": "volunteer", "conference": conference, "label": null }),
        ),
        (
            "start_joined.html",
            "nameless",
            json!({ "name": null, "role": "attendee", "conference": conference, "label": null }),
        ),
        (
            "start_linked.html",
            "",
            json!({ "name": "Ada", "role": "speaker", "conference": conference, "resumed": false }),
        ),
        (
            "start_linked.html",
            "resumed",
            json!({ "name": "Ada", "role": "speaker", "conference": conference, "resumed": true }),
        ),
        (
            "start_linked.html",
            "no_conference",
            json!({ "name": "Olga", "role": "owner", "conference": null, "resumed": false }),
        ),
        ("start_owner.html", "", json!({ "name": "Olga" })),
        ("stop_confirm.html", "", json!({})),
        (
            "stop_done.html",
            "",
            json!({ "subscriptions": 1, "cancelled": 0 }),
        ),
        (
            "stop_done.html",
            "one_cancelled",
            json!({ "subscriptions": 1, "cancelled": 1 }),
        ),
        (
            "stop_done.html",
            "cancelled",
            json!({ "subscriptions": 2, "cancelled": 3 }),
        ),
        ("stop_kept.html", "", json!({})),
        (
            "switch_impossible.html",
            "",
            json!({ "kind": "bluesky", "feature": "direct messages" }),
        ),
        (
            "switch_set.html",
            "",
            json!({ "name": "fosdem_mastodon", "feature": "public", "on": true, "conference": "FOSDEM 2027",
                    "listening": false, "moved_from": null, "active": true }),
        ),
        (
            "switch_set.html",
            "off",
            json!({ "name": "fosdem_mastodon", "feature": "public", "on": false, "conference": "FOSDEM 2027",
                    "listening": false, "moved_from": null, "active": true }),
        ),
        (
            "switch_set.html",
            "listening",
            json!({ "name": "fosdem_mastodon", "feature": "social_management", "on": true,
                    "conference": "FOSDEM 2027", "listening": true, "moved_from": "FOSDEM 2026", "active": false }),
        ),
        (
            "switch_set.html",
            "listening_active",
            json!({ "name": "fosdem_mastodon", "feature": "social_management", "on": true,
                    "conference": "FOSDEM 2027", "listening": true, "moved_from": null, "active": true }),
        ),
        ("token_expired.html", "", json!({})),
        ("token_unknown.html", "", json!({})),
        ("token_used.html", "", json!({})),
        (
            "unbound.html",
            "",
            json!({ "slot": "organisers", "conference": "FOSDEM 2027" }),
        ),
        (
            "unfollowed.html",
            "",
            json!({ "label": "Rust in the kernel", "pattern": false, "matching": 1, "reminders": 0 }),
        ),
        (
            "unfollowed.html",
            "pattern",
            json!({ "label": "/rust/", "pattern": true, "matching": 3, "reminders": 0 }),
        ),
        (
            "web_link.html",
            "",
            json!({ "url": "https://herald.example/login/Zq8x", "minutes": 15, "mobile": false }),
        ),
        (
            "web_link.html",
            "mobile",
            json!({ "url": "https://herald.example/login/Ab3y?next=/m", "minutes": 15, "mobile": true }),
        ),
        ("web_logged_out.html", "", json!({ "ended": 2 })),
        ("web_logged_out.html", "one", json!({ "ended": 1 })),
        ("web_logged_out.html", "none", json!({ "ended": 0 })),
        ("web_off.html", "", json!({})),
        (
            "whoami.html",
            "",
            json!({ "name": "Ada", "user_id": "1001", "linked": true, "roles": ["speaker", "volunteer"],
                    "conference": conference, "chat": { "id": "1001", "kind": "private", "title": null },
                    "platform": "telegram" }),
        ),
        (
            "whoami.html",
            "no_roles",
            json!({ "name": "Eve", "user_id": "1005", "linked": true, "roles": [], "conference": null,
                    "chat": { "id": "-1001234", "kind": "group", "title": "FOSDEM attendees" },
                    "platform": "telegram" }),
        ),
        (
            "whoami.html",
            "not_linked",
            json!({ "name": "Mallory", "user_id": "1006", "linked": false, "roles": [], "conference": null,
                    "chat": { "id": "1006", "kind": "private", "title": null }, "platform": "telegram" }),
        ),
        (
            "window_set.html",
            "",
            json!({ "conference": "FOSDEM 2027", "time_zone": "Europe/Brussels", "window": "08:00–20:00" }),
        ),
        (
            "window_set.html",
            "off",
            json!({ "conference": "FOSDEM 2027", "time_zone": "Europe/Brussels", "window": null }),
        ),
        (
            "wrong_chat.html",
            "",
            json!({ "usage": "/settings", "scope": "private", "bot": "herald_bot" }),
        ),
        (
            "language_list.html",
            "",
            json!({ "current": "de", "languages": [{ "code": "en", "name": "English" }, { "code": "de", "name": "Deutsch" }] }),
        ),
        (
            "language_set.html",
            "",
            json!({ "code": "de", "name": "Deutsch" }),
        ),
        (
            "language_unknown.html",
            "",
            json!({ "code": "xx", "languages": [{ "code": "en", "name": "English" }, { "code": "de", "name": "Deutsch" }] }),
        ),
        (
            "wrong_chat.html",
            "group",
            json!({ "usage": "/bind <code>", "scope": "group", "bot": "herald_bot" }),
        ),
    ]
}

/// Every case in every shipped language: English in `tests/fixtures/messages/`, each translation in its
/// own folder there (`de/`), so a reviewer reads what each reader gets.
#[test]
fn every_message_template_renders_as_its_reader_sees_it() {
    let templates = Templates::new();
    let mut failures = String::new();
    for lang in templates.languages() {
        let dir = if lang == "en" {
            fixtures()
        } else {
            fixtures().join(lang)
        };
        failures.push_str(&render_cases(&templates, lang, &dir));
    }
    assert!(failures.is_empty(), "\n{failures}");
}

/// Renders every case in `lang` and compares each with its file in `dir`; what differs, as a report.
fn render_cases(templates: &Templates, lang: &str, dir: &Path) -> String {
    let bless = std::env::var_os("HERALD_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut files = BTreeSet::new();
    let mut failures = String::new();
    let mut compared = 0;
    for (template, case, context) in cases() {
        let file = expected_file(template, case);
        assert!(files.insert(file.clone()), "two cases for {file}");
        let words = templates.words(Some(lang));
        let rendered = match words.render(&format!("messages/{template}"), &context) {
            Ok(text) => format!("{text}\n"),
            Err(err) => {
                writeln!(failures, "✗ {file}: {err:#}\n").unwrap();
                continue;
            }
        };
        let path = dir.join(&file);
        if bless {
            std::fs::write(&path, &rendered).unwrap();
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == rendered => compared += 1,
            Ok(expected) => writeln!(
                failures,
                "✗ {file} differs\n--- expected ({}) ---\n{expected}--- rendered ---\n{rendered}",
                path.display()
            )
            .unwrap(),
            Err(err) => writeln!(
                failures,
                "✗ {file}: {err} (HERALD_BLESS=1 writes it; then read it)\n--- rendered ---\n{rendered}"
            )
            .unwrap(),
        }
    }
    // An expected file that no case reads is a case that was renamed or dropped.
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if entry.path().is_file() && !files.contains(&name) {
            writeln!(
                failures,
                "✗ {lang}/{name}: no case of the table renders it\n"
            )
            .unwrap();
        }
    }
    if failures.is_empty() {
        assert_eq!(compared, files.len());
    }
    failures
}

#[test]
fn every_message_template_has_a_case() {
    let covered: BTreeSet<&str> = cases().iter().map(|(template, _, _)| *template).collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("templates/messages")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !covered.contains(name.as_str()) {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "templates without a case in tests/messages.rs: {missing:?}"
    );
    let unknown: Vec<_> = covered
        .iter()
        .filter(|t| !root().join("templates/messages").join(t).is_file())
        .collect();
    assert!(unknown.is_empty(), "cases for no template: {unknown:?}");
}

/// Button labels are one line each: a line break would show in the button.
#[test]
fn every_button_label_is_one_line() {
    let templates = Templates::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("templates/buttons")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let label = templates
            .render(&format!("buttons/{name}"), json!({ "minutes": 60 }))
            .unwrap();
        assert!(
            !label.is_empty() && !label.contains('\n') && label.trim() == label,
            "{name}: {label:?}"
        );
        checked += 1;
    }
    assert!(checked > 0);
}
