//! Table-driven tests of the grammar, one table per command family.

use herald_commands::args::expected;
use herald_commands::catalog::{self, CONFERENCE_SUBCOMMANDS, CONFERENCE_USAGE};
use herald_commands::{
    Command, ConferenceCommand, HelpTopic, LocalDate, LocalTime, ParseError, PersonRef,
    PostingPolicy, Role, Setting, SettingChange, Slot, Slug, StartToken, TimeZoneName,
    WindowSetting, parse,
};

const BOT: Option<&str> = Some("HeraldBot");

type Expected = Result<Option<Command>, ParseError>;

fn check(table: &[(&str, Expected)]) {
    for (text, expected) in table {
        assert_eq!(&parse(text, BOT), expected, "{text:?}");
    }
}

fn ok(command: Command) -> Expected {
    Ok(Some(command))
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).expect("valid slug")
}

fn date(s: &str) -> LocalDate {
    LocalDate::parse(s).expect("valid date")
}

fn time(s: &str) -> LocalTime {
    LocalTime::parse(s).expect("valid time")
}

fn user(name: &str) -> PersonRef {
    PersonRef::Username(name.to_owned())
}

fn spec(name: &str) -> &'static herald_commands::CommandSpec {
    catalog::find(name).expect("in catalog")
}

fn missing(command: &'static str, argument: &'static str) -> Expected {
    Err(ParseError::MissingArgument {
        command,
        argument,
        usage: spec(command).usage,
    })
}

fn invalid(
    command: &'static str,
    argument: &'static str,
    value: &str,
    expected: &'static str,
) -> Expected {
    Err(ParseError::InvalidArgument {
        command,
        argument,
        value: value.to_owned(),
        expected,
    })
}

fn too_many(command: &'static str) -> Expected {
    Err(ParseError::TooManyArguments {
        command,
        usage: spec(command).usage,
    })
}

fn unknown(name: &str, suggestion: Option<&'static str>) -> Expected {
    Err(ParseError::UnknownCommand {
        name: name.to_owned(),
        suggestion,
    })
}

fn conference(sub: ConferenceCommand) -> Expected {
    ok(Command::Conference(sub))
}

#[test]
fn text_that_is_not_a_command_is_ignored() {
    check(&[
        ("", Ok(None)),
        ("   ", Ok(None)),
        ("hello", Ok(None)),
        ("hello /start", Ok(None)),
        ("/", Ok(None)),
        ("/ start", Ok(None)),
        ("//start", Ok(None)),
        ("/ä", Ok(None)),
        ("/🎉", Ok(None)),
        ("/@HeraldBot", Ok(None)),
        ("/start-now", Ok(None)),
        ("\\start", Ok(None)),
    ]);
}

#[test]
fn addressing_to_this_bot_or_another() {
    check(&[
        ("/help@HeraldBot", ok(Command::Help { topic: None })),
        ("/help@heraldbot", ok(Command::Help { topic: None })),
        ("/help@HERALDBOT", ok(Command::Help { topic: None })),
        ("/help@OtherBot", Ok(None)),
        ("/help@OtherBot grant", Ok(None)),
        ("/nonsense@OtherBot", Ok(None)),
        ("/help@", Ok(None)),
        ("/help@HeraldBot@OtherBot", Ok(None)),
        ("/whoami@HeraldBot extra", too_many("whoami")),
    ]);
    // A leading `@` on our own name is tolerated.
    assert_eq!(
        parse("/help@HeraldBot", Some("@HeraldBot")),
        ok(Command::Help { topic: None })
    );
    // Without a known bot name (Mastodon, Bluesky) any address is accepted.
    assert_eq!(
        parse("/help@AnyBot", None),
        ok(Command::Help { topic: None })
    );
    assert_eq!(parse("/help", None), ok(Command::Help { topic: None }));
    assert_eq!(parse("/help@", None), Ok(None));
}

#[test]
fn names_are_case_insensitive_and_leading_whitespace_is_skipped() {
    check(&[
        ("/WHOAMI", ok(Command::Whoami)),
        ("/WhoAmI", ok(Command::Whoami)),
        ("   /whoami", ok(Command::Whoami)),
        ("\n\t/whoami  ", ok(Command::Whoami)),
        ("\u{3000}/whoami", ok(Command::Whoami)),
        ("/Conference LIST", conference(ConferenceCommand::List)),
        (
            "/BIND Attendees",
            ok(Command::Bind {
                slot: Slot::Attendees,
            }),
        ),
    ]);
}

#[test]
fn unknown_commands_suggest_the_closest_name() {
    check(&[
        ("/strat", unknown("strat", Some("start"))),
        ("/Stauts", unknown("stauts", Some("status"))),
        ("/anounce hello", unknown("anounce", Some("announce"))),
        (
            "/conferense list",
            unknown("conferense", Some("conference")),
        ),
        ("/grnat @alice admin", unknown("grnat", Some("grant"))),
        ("/frobnicate", unknown("frobnicate", None)),
        ("/x", unknown("x", None)),
        ("/frobnicate hello", unknown("frobnicate", None)),
        ("/unknown@HeraldBot", unknown("unknown", None)),
    ]);
}

#[test]
fn start() {
    let token = |s: &str| Some(StartToken::parse(s).expect("valid token"));
    let long = "a".repeat(64);
    let too_long = "a".repeat(65);
    check(&[
        ("/start", ok(Command::Start { token: None })),
        (
            "/start abc-DEF_123",
            ok(Command::Start {
                token: token("abc-DEF_123"),
            }),
        ),
        (
            "/start@HeraldBot inv_42",
            ok(Command::Start {
                token: token("inv_42"),
            }),
        ),
        (
            &format!("/start {long}"),
            ok(Command::Start {
                token: token(&long),
            }),
        ),
        (
            &format!("/start {too_long}"),
            invalid("start", "token", &too_long, expected::START_TOKEN),
        ),
        (
            "/start bad+token",
            invalid("start", "token", "bad+token", expected::START_TOKEN),
        ),
        (
            "/start tökén",
            invalid("start", "token", "tökén", expected::START_TOKEN),
        ),
        ("/start one two", too_many("start")),
    ]);
}

#[test]
fn help() {
    let command = |name| {
        ok(Command::Help {
            topic: Some(HelpTopic::Command(spec(name))),
        })
    };
    let group = |name| {
        ok(Command::Help {
            topic: Some(HelpTopic::Group(name)),
        })
    };
    check(&[
        ("/help", ok(Command::Help { topic: None })),
        ("/help grant", command("grant")),
        ("/help /grant", command("grant")),
        ("/help GRANT", command("grant")),
        ("/help status", command("status")),
        ("/help conference", group("conference")),
        ("/help conference new", command("conference new")),
        ("/help /Conference Window", command("conference window")),
        ("/help grnt", unknown("grnt", Some("grant"))),
        ("/help 🎉", unknown("🎉", None)),
        (
            "/help conference frob",
            Err(ParseError::UnknownSubcommand {
                command: "conference",
                given: "frob".to_owned(),
                valid: CONFERENCE_SUBCOMMANDS,
            }),
        ),
        ("/help grant admin", too_many("help")),
        ("/help conference new now", too_many("help")),
    ]);
    let Ok(Some(Command::Help { topic: Some(topic) })) = parse("/help conference", BOT) else {
        panic!("expected a help topic");
    };
    let names: Vec<_> = topic.specs().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "conference new",
            "conference list",
            "conference use",
            "conference policy",
            "conference window",
            "conference reminders",
            "conference email",
            "conference status"
        ]
    );
    assert_eq!(HelpTopic::Command(spec("grant")).specs().count(), 1);
}

#[test]
fn commands_without_arguments() {
    check(&[
        ("/whoami", ok(Command::Whoami)),
        ("/whoami please", too_many("whoami")),
        ("/stop", ok(Command::Stop)),
        ("/stop now", too_many("stop")),
        ("/cancel", ok(Command::Cancel)),
        ("/cancel@HeraldBot", ok(Command::Cancel)),
        // With an argument, /cancel withdraws a post by number.
        ("/cancel 7", ok(Command::CancelPost { number: 7 })),
        ("/admins", ok(Command::Admins)),
        ("/admins all", too_many("admins")),
        ("/status", ok(Command::Status)),
        ("/status\nverbose", too_many("status")),
    ]);
}

#[test]
fn settings() {
    let change = |setting, enabled| {
        ok(Command::Settings {
            change: Some(SettingChange {
                setting,
                channel: None,
                enabled,
            }),
        })
    };
    let on_channel = |setting, channel: &str, enabled| {
        ok(Command::Settings {
            change: Some(SettingChange {
                setting,
                channel: Some(channel.to_owned()),
                enabled,
            }),
        })
    };
    check(&[
        ("/settings", ok(Command::Settings { change: None })),
        ("/settings reminders off", change(Setting::Reminders, false)),
        (
            "/settings announcements on",
            change(Setting::Announcements, true),
        ),
        (
            "/settings Announcements ON",
            change(Setting::Announcements, true),
        ),
        ("/settings direct off", change(Setting::Direct, false)),
        (
            "/settings announcements Mastodon off",
            on_channel(Setting::Announcements, "mastodon", false),
        ),
        (
            "/settings direct web on",
            on_channel(Setting::Direct, "web", true),
        ),
        ("/settings reminders", missing("settings", "state")),
        (
            "/settings reminders web",
            invalid("settings", "state", "web", expected::ON_OFF),
        ),
        (
            "/settings reminders we-b off",
            invalid("settings", "channel", "we-b", expected::CHANNEL),
        ),
        (
            "/settings reminders web maybe",
            invalid("settings", "state", "maybe", expected::ON_OFF),
        ),
        (
            "/settings volume on",
            invalid("settings", "setting", "volume", expected::SETTING),
        ),
        (
            "/settings reminders maybe",
            invalid("settings", "state", "maybe", expected::ON_OFF),
        ),
        ("/settings reminders on now", too_many("settings")),
        ("/settings reminders web on now", too_many("settings")),
    ]);
}

#[test]
fn settings_early() {
    let early = |minutes| ok(Command::EarlyReminder { minutes });
    check(&[
        ("/settings early 60", early(Some(60))),
        ("/settings Early 1440", early(Some(1440))),
        ("/settings early off", early(None)),
        ("/settings early OFF", early(None)),
        ("/settings early", missing("settings early", "minutes")),
        (
            "/settings early 0",
            invalid("settings early", "minutes", "0", expected::EARLY_MINUTES),
        ),
        (
            "/settings early 1441",
            invalid("settings early", "minutes", "1441", expected::EARLY_MINUTES),
        ),
        (
            "/settings early soon",
            invalid("settings early", "minutes", "soon", expected::EARLY_MINUTES),
        ),
        ("/settings early 60 120", too_many("settings early")),
    ]);
}

#[test]
fn settings_email() {
    let link = |address: &str| {
        ok(Command::LinkEmail {
            address: address.to_owned(),
        })
    };
    check(&[
        ("/settings email ada@example.org", link("ada@example.org")),
        (
            "/settings Email ada+herald@mail.example.org",
            link("ada+herald@mail.example.org"),
        ),
        ("/settings email", missing("settings email", "address")),
        (
            "/settings email ada",
            invalid("settings email", "address", "ada", expected::EMAIL),
        ),
        (
            "/settings email @ada",
            invalid("settings email", "address", "@ada", expected::EMAIL),
        ),
        (
            "/settings email <ada@example.org>",
            invalid(
                "settings email",
                "address",
                "<ada@example.org>",
                expected::EMAIL,
            ),
        ),
        (
            "/settings email ada@example.org now",
            too_many("settings email"),
        ),
    ]);
}

#[test]
fn conference_new() {
    let new = |name: &str, tz: &str| {
        conference(ConferenceCommand::New {
            slug: slug("fosdem-2026"),
            time_zone: TimeZoneName::parse(tz).expect("valid tz"),
            starts_on: date("2026-01-31"),
            ends_on: date("2026-02-01"),
            name: name.to_owned(),
        })
    };
    let cmd = "conference new";
    check(&[
        (
            "/conference new fosdem-2026 Europe/Brussels 2026-01-31 2026-02-01 FOSDEM 2026",
            new("FOSDEM 2026", "Europe/Brussels"),
        ),
        (
            "/conference new fosdem-2026 europe/brussels 2026-01-31 2026-02-01   Journées   du Libre ☕ ",
            new("Journées   du Libre ☕", "Europe/Brussels"),
        ),
        (
            "/Conference@HeraldBot NEW fosdem-2026 UTC 2026-01-31 2026-02-01 Ünïcödé 会议 🎉",
            new("Ünïcödé 会议 🎉", "UTC"),
        ),
        (
            "/conference new fosdem-2026 Europe/Brussels 2026-02-01 2026-02-01 One day",
            conference(ConferenceCommand::New {
                slug: slug("fosdem-2026"),
                time_zone: TimeZoneName::parse("Europe/Brussels").expect("valid tz"),
                starts_on: date("2026-02-01"),
                ends_on: date("2026-02-01"),
                name: "One day".to_owned(),
            }),
        ),
        ("/conference new", missing(cmd, "slug")),
        ("/conference new fosdem-2026", missing(cmd, "tz")),
        (
            "/conference new fosdem-2026 UTC",
            missing(cmd, "start-date"),
        ),
        (
            "/conference new fosdem-2026 UTC 2026-01-31",
            missing(cmd, "end-date"),
        ),
        (
            "/conference new fosdem-2026 UTC 2026-01-31 2026-02-01",
            missing(cmd, "name"),
        ),
        (
            "/conference new FOSDEM UTC 2026-01-31 2026-02-01 X",
            invalid(cmd, "slug", "FOSDEM", expected::SLUG),
        ),
        (
            "/conference new fosdem-2026 Europe/Atlantis 2026-01-31 2026-02-01 X",
            invalid(cmd, "tz", "Europe/Atlantis", expected::TIME_ZONE),
        ),
        (
            "/conference new fosdem-2026 UTC 31/01/2026 2026-02-01 X",
            invalid(cmd, "start-date", "31/01/2026", expected::DATE),
        ),
        (
            "/conference new fosdem-2026 UTC 2026-01-31 2026-02-30 X",
            invalid(cmd, "end-date", "2026-02-30", expected::DATE),
        ),
        (
            "/conference new fosdem-2026 UTC 2026-02-01 2026-01-31 X",
            invalid(cmd, "end-date", "2026-01-31", expected::END_DATE),
        ),
        (
            "/conference new fosdem-2026 UTC 2026-01-31 2026-02-01 Two\nlines",
            invalid(cmd, "name", "Two\nlines", expected::NAME),
        ),
    ]);
    let long_name = "é".repeat(129);
    let text = format!("/conference new fosdem-2026 UTC 2026-01-31 2026-02-01 {long_name}");
    assert_eq!(
        parse(&text, BOT),
        invalid(cmd, "name", &long_name, expected::NAME)
    );
}

#[test]
fn conference_subcommands() {
    check(&[
        (
            "/conference",
            Err(ParseError::MissingArgument {
                command: "conference",
                argument: "subcommand",
                usage: CONFERENCE_USAGE,
            }),
        ),
        (
            "/conference frobnicate",
            Err(ParseError::UnknownSubcommand {
                command: "conference",
                given: "frobnicate".to_owned(),
                valid: CONFERENCE_SUBCOMMANDS,
            }),
        ),
        ("/conference list", conference(ConferenceCommand::List)),
        ("/conference list all", too_many("conference list")),
        ("/conference status", conference(ConferenceCommand::Status)),
        ("/conference status now", too_many("conference status")),
        (
            "/conference email orga@fosdem.org",
            conference(ConferenceCommand::Email {
                address: Some("orga@fosdem.org".into()),
            }),
        ),
        (
            "/conference email OFF",
            conference(ConferenceCommand::Email { address: None }),
        ),
        (
            "/conference email orga",
            invalid("conference email", "address", "orga", expected::EMAIL),
        ),
        ("/conference email", missing("conference email", "address")),
        (
            "/conference use fosdem-2026",
            conference(ConferenceCommand::Use {
                slug: slug("fosdem-2026"),
            }),
        ),
        ("/conference use", missing("conference use", "slug")),
        (
            "/conference use -bad",
            invalid("conference use", "slug", "-bad", expected::SLUG),
        ),
        ("/conference use ab cd", too_many("conference use")),
    ]);
}

#[test]
fn conference_policy() {
    for policy in PostingPolicy::ALL {
        let text = format!("/conference policy {}", policy.level());
        assert_eq!(
            parse(&text, BOT),
            conference(ConferenceCommand::Policy { policy }),
            "{text:?}"
        );
    }
    let cmd = "conference policy";
    check(&[
        ("/conference policy", missing(cmd, "policy")),
        (
            "/conference policy 5",
            invalid(cmd, "policy", "5", expected::POSTING_POLICY),
        ),
        (
            "/conference policy everyone",
            invalid(cmd, "policy", "everyone", expected::POSTING_POLICY),
        ),
        ("/conference policy 2 3", too_many(cmd)),
    ]);
}

#[test]
fn conference_window() {
    let daily = |from, to| {
        conference(ConferenceCommand::Window(WindowSetting::Daily {
            from: time(from),
            to: time(to),
        }))
    };
    let cmd = "conference window";
    check(&[
        ("/conference window 09:00 18:30", daily("09:00", "18:30")),
        ("/conference window 9:00 18:30", daily("09:00", "18:30")),
        ("/conference window 22:00 06:00", daily("22:00", "06:00")),
        (
            "/conference window off",
            conference(ConferenceCommand::Window(WindowSetting::Off)),
        ),
        (
            "/conference window OFF",
            conference(ConferenceCommand::Window(WindowSetting::Off)),
        ),
        ("/conference window off now", too_many(cmd)),
        ("/conference window", missing(cmd, "from")),
        ("/conference window 09:00", missing(cmd, "to")),
        (
            "/conference window 25:00 18:00",
            invalid(cmd, "from", "25:00", expected::TIME),
        ),
        (
            "/conference window 09:00 noon",
            invalid(cmd, "to", "noon", expected::TIME),
        ),
        (
            "/conference window 09:00 9:00",
            invalid(cmd, "to", "9:00", expected::WINDOW_END),
        ),
        ("/conference window 09:00 18:00 20:00", too_many(cmd)),
    ]);
}

#[test]
fn grant_and_revoke() {
    for (name, make) in [
        (
            "grant",
            (|person, role| Command::Grant { person, role }) as fn(PersonRef, Role) -> Command,
        ),
        ("revoke", |person, role| Command::Revoke { person, role }),
    ] {
        let cmd = catalog::find(name).expect("in catalog").name;
        let table: Vec<(String, Expected)> = vec![
            (
                format!("/{name} @alice speaker"),
                ok(make(user("alice"), Role::Speaker)),
            ),
            (
                format!("/{name} @Alice_99 ADMIN"),
                ok(make(user("Alice_99"), Role::Admin)),
            ),
            (
                format!("/{name} 123456 volunteer"),
                ok(make(PersonRef::Id(123_456), Role::Volunteer)),
            ),
            (
                format!("/{name}@HeraldBot @bob attendee"),
                ok(make(user("bob"), Role::Attendee)),
            ),
            (format!("/{name}"), missing(cmd, "person")),
            (format!("/{name} @alice"), missing(cmd, "role")),
            (
                format!("/{name} alice admin"),
                invalid(cmd, "person", "alice", expected::PERSON),
            ),
            (
                format!("/{name} 0 admin"),
                invalid(cmd, "person", "0", expected::PERSON),
            ),
            (
                format!("/{name} -5 admin"),
                invalid(cmd, "person", "-5", expected::PERSON),
            ),
            (
                format!("/{name} @zoë admin"),
                invalid(cmd, "person", "@zoë", expected::PERSON),
            ),
            (
                format!("/{name} @alice owner"),
                invalid(cmd, "role", "owner", expected::CONFERENCE_ROLE),
            ),
            (
                format!("/{name} @alice guest"),
                invalid(cmd, "role", "guest", expected::CONFERENCE_ROLE),
            ),
            (
                format!("/{name} @alice king"),
                invalid(cmd, "role", "king", expected::CONFERENCE_ROLE),
            ),
            (format!("/{name} @alice admin now"), too_many(cmd)),
        ];
        for (text, expected) in table {
            assert_eq!(parse(&text, BOT), expected, "{text:?}");
        }
    }
}

#[test]
fn invite() {
    let invite = |role, name: Option<&str>| {
        ok(Command::Invite {
            role,
            email: None,
            name: name.map(str::to_owned),
        })
    };
    let mailed = |role, email: &str, name: Option<&str>| {
        ok(Command::Invite {
            role,
            email: Some(email.to_owned()),
            name: name.map(str::to_owned),
        })
    };
    check(&[
        ("/invite speaker", invite(Role::Speaker, None)),
        (
            "/invite Volunteer Zoë Ångström",
            invite(Role::Volunteer, Some("Zoë Ångström")),
        ),
        (
            "/invite admin   李小龍 (keynote) 🎤",
            invite(Role::Admin, Some("李小龍 (keynote) 🎤")),
        ),
        (
            "/invite attendee\u{a0}Ana",
            invite(Role::Attendee, Some("Ana")),
        ),
        (
            "/invite speaker ada@example.org",
            mailed(Role::Speaker, "ada@example.org", None),
        ),
        (
            "/invite volunteer ada@example.org Ada Lovelace",
            mailed(Role::Volunteer, "ada@example.org", Some("Ada Lovelace")),
        ),
        (
            "/invite attendee @ada",
            invite(Role::Attendee, Some("@ada")),
        ),
        (
            "/invite attendee ada@",
            invalid("invite", "address", "ada@", expected::EMAIL),
        ),
        ("/invite", missing("invite", "role")),
        (
            "/invite owner Bob",
            invalid("invite", "role", "owner", expected::CONFERENCE_ROLE),
        ),
        (
            "/invite @bob speaker",
            invalid("invite", "role", "@bob", expected::CONFERENCE_ROLE),
        ),
        (
            "/invite speaker Bob\nSmith",
            invalid("invite", "name", "Bob\nSmith", expected::NAME),
        ),
    ]);
}

#[test]
fn bind_and_unbind() {
    check(&[
        (
            "/bind attendees",
            ok(Command::Bind {
                slot: Slot::Attendees,
            }),
        ),
        (
            "/bind organisers",
            ok(Command::Bind {
                slot: Slot::Organisers,
            }),
        ),
        (
            "/bind organizers",
            ok(Command::Bind {
                slot: Slot::Organisers,
            }),
        ),
        (
            "/bind@HeraldBot Moderation",
            ok(Command::Bind {
                slot: Slot::Moderation,
            }),
        ),
        ("/bind", missing("bind", "slot")),
        (
            "/bind lobby",
            invalid("bind", "slot", "lobby", expected::SLOT),
        ),
        ("/bind attendees moderation", too_many("bind")),
        (
            "/unbind moderation",
            ok(Command::Unbind {
                slot: Slot::Moderation,
            }),
        ),
        (
            "/unbind ORGANIZERS",
            ok(Command::Unbind {
                slot: Slot::Organisers,
            }),
        ),
        ("/unbind", missing("unbind", "slot")),
        (
            "/unbind everything",
            invalid("unbind", "slot", "everything", expected::SLOT),
        ),
        ("/unbind attendees now", too_many("unbind")),
    ]);
}

#[test]
fn dm_keeps_text_verbatim() {
    let dm = |person, text: &str| {
        ok(Command::Dm {
            person,
            text: text.to_owned(),
        })
    };
    check(&[
        ("/dm @alice Hello!", dm(user("alice"), "Hello!")),
        (
            "/dm @alice Your talk moved:\n\n  * room K.1.105\n  * 14:00  (was 11:00)\n\nThanks ☕",
            dm(
                user("alice"),
                "Your talk moved:\n\n  * room K.1.105\n  * 14:00  (was 11:00)\n\nThanks ☕",
            ),
        ),
        (
            "/dm @alice\nLine one\nLine two",
            dm(user("alice"), "Line one\nLine two"),
        ),
        (
            "/dm@HeraldBot 42 Grüße,   Zoë",
            dm(PersonRef::Id(42), "Grüße,   Zoë"),
        ),
        ("/dm", missing("dm", "person")),
        ("/dm @alice", missing("dm", "text")),
        ("/dm @alice   \n  ", missing("dm", "text")),
        (
            "/dm Hello there",
            invalid("dm", "person", "Hello", expected::PERSON),
        ),
    ]);
}

#[test]
fn announce_keeps_text_verbatim() {
    let announce = |text: &str| {
        ok(Command::Announce {
            text: text.to_owned(),
        })
    };
    check(&[
        (
            "/announce Doors open at 09:00",
            announce("Doors open at 09:00"),
        ),
        (
            "/announce Schedule change!\n\nTrack A:\n\t10:00 Keynote\n\t11:00 Rust 🦀\n\nSee you there.",
            announce(
                "Schedule change!\n\nTrack A:\n\t10:00 Keynote\n\t11:00 Rust 🦀\n\nSee you there.",
            ),
        ),
        (
            "/announce\nFirst line\r\nSecond line",
            announce("First line\r\nSecond line"),
        ),
        ("/announce@HeraldBot Привет, мир", announce("Привет, мир")),
        ("/announce@OtherBot hello", Ok(None)),
        ("/announce", missing("announce", "text")),
        ("/announce   \n\n  ", missing("announce", "text")),
    ]);
}

#[test]
fn commands_map_to_their_catalog_entries() {
    let table = [
        ("/start", "start", Role::Guest),
        ("/help", "help", Role::Guest),
        ("/whoami", "whoami", Role::Guest),
        ("/cancel", "cancel", Role::Guest),
        ("/stop", "stop", Role::Attendee),
        ("/settings", "settings", Role::Attendee),
        ("/settings early 60", "settings early", Role::Attendee),
        (
            "/settings email ada@example.org",
            "settings email",
            Role::Attendee,
        ),
        (
            "/conference new ab UTC 2026-01-01 2026-01-02 X",
            "conference new",
            Role::Admin,
        ),
        ("/conference list", "conference list", Role::Volunteer),
        ("/conference use ab", "conference use", Role::Volunteer),
        ("/conference status", "conference status", Role::Volunteer),
        (
            "/conference reminders 10 15 30",
            "conference reminders",
            Role::Admin,
        ),
        ("/conference policy 1", "conference policy", Role::Admin),
        (
            "/conference email orga@fosdem.org",
            "conference email",
            Role::Admin,
        ),
        ("/conference window off", "conference window", Role::Admin),
        ("/status", "status", Role::Volunteer),
        ("/admins", "admins", Role::Volunteer),
        ("/grant @a admin", "grant", Role::Admin),
        ("/revoke @a admin", "revoke", Role::Admin),
        ("/invite admin", "invite", Role::Admin),
        ("/bind attendees", "bind", Role::Admin),
        ("/bind herald-bind-4kq2ZbX9w", "bind code", Role::Guest),
        ("/unbind attendees", "unbind", Role::Admin),
        ("/dm @a hi", "dm", Role::Admin),
        ("/announce hi", "announce", Role::Admin),
        ("/now", "now", Role::Attendee),
        ("/next", "next", Role::Attendee),
        ("/today", "today", Role::Attendee),
        ("/session 12", "session", Role::Attendee),
        ("/room Saal 1", "room", Role::Attendee),
        ("/follow 3", "follow", Role::Attendee),
        ("/unfollow /rust/", "unfollow", Role::Attendee),
        ("/following", "following", Role::Attendee),
        (
            "/slot add 2027-02-06T09:00 2027-02-06T11:00 Info desk",
            "slot add",
            Role::Admin,
        ),
        ("/slot assign 3 @ada", "slot assign", Role::Admin),
        ("/slot list", "slot list", Role::Volunteer),
        ("/myslots", "myslots", Role::Volunteer),
        ("/calendar", "calendar", Role::Attendee),
        (
            "/import https://example.org/schedule.json",
            "import",
            Role::Admin,
        ),
        ("/post Doors open at nine", "post", Role::Attendee),
        ("/queue", "queue", Role::Volunteer),
        ("/retry 3", "retry", Role::Volunteer),
        ("/history 3", "history", Role::Volunteer),
        ("/approve 3", "approve", Role::Volunteer),
        ("/reject 3 not now", "reject", Role::Volunteer),
        ("/edit 3 new text", "edit", Role::Volunteer),
        ("/split 3 off", "split", Role::Volunteer),
        ("/variant 3 bsky Short one", "variant", Role::Volunteer),
        ("/image 3 A packed lecture hall", "image", Role::Attendee),
        ("/mentions 2", "mentions", Role::Volunteer),
        ("/discard 4", "discard", Role::Volunteer),
        ("/boost #4", "boost", Role::Volunteer),
        (
            "/news Keynote video is online https://fosdem.org/v/1",
            "news",
            Role::Admin,
        ),
        ("/newsfeed off", "newsfeed", Role::Admin),
        ("/sponsors", "sponsors", Role::Volunteer),
        (
            "/sponsor add Gold - Crab Cloud bluesky=@crab.bsky.social",
            "sponsor add",
            Role::Admin,
        ),
        (
            "/benefit add Platinum Social post",
            "benefit add",
            Role::Admin,
        ),
        ("/benefit confirm 1 2", "benefit confirm", Role::Volunteer),
        (
            "/campaign sessions Security every=2h jitter=15m",
            "campaign",
            Role::Admin,
        ),
        ("/campaign approve 4", "campaign approve", Role::Volunteer),
        ("/campaign review #4", "campaign review", Role::Volunteer),
        ("/cancel 3", "cancel post", Role::Volunteer),
        (
            "/provider add mastodon fosstodon https://fosstodon.org",
            "provider add",
            Role::Admin,
        ),
        ("/provider list", "provider list", Role::Admin),
        ("/provider test fosstodon", "provider test", Role::Admin),
        ("/provider on fosstodon", "provider on", Role::Admin),
        ("/provider off fosstodon", "provider off", Role::Admin),
        (
            "/provider webhook xconf status",
            "provider webhook",
            Role::Admin,
        ),
        ("/switch fosstodon public on", "switch", Role::Admin),
        ("/hashtag add fosdem auto 1", "hashtag add", Role::Admin),
        ("/hashtag remove fosdem", "hashtag remove", Role::Admin),
        ("/hashtag list", "hashtag list", Role::Volunteer),
        ("/web logout", "web", Role::Guest),
        ("/mobile", "mobile", Role::Guest),
        ("/hook", "hook", Role::Admin),
        ("/settings language de", "settings language", Role::Guest),
    ];
    assert_eq!(table.len(), catalog::catalog().len());
    for (text, name, role) in table {
        let command = parse(text, BOT).expect("parses").expect("is a command");
        assert_eq!(command.spec().name, name, "{text:?}");
        assert_eq!(command.min_role(), role, "{text:?}");
    }
}

#[test]
fn errors_display_in_plain_english() {
    let table = [
        ("/strat", "unknown command /strat (did you mean /start?)"),
        ("/frob", "unknown command /frob"),
        (
            "/grant @alice",
            "/grant is missing its role argument; usage: /grant <person> <role>",
        ),
        (
            "/grant @alice king",
            "/grant got \"king\" for role, expected a role: attendee, speaker, volunteer or admin",
        ),
        (
            "/stop now",
            "/stop got more arguments than it takes; usage: /stop",
        ),
    ];
    for (text, message) in table {
        let error = parse(text, BOT).expect_err("fails");
        assert_eq!(error.to_string(), message, "{text:?}");
    }
}

#[test]
fn schedule_commands_take_a_number_or_a_room() {
    use herald_commands::{Command, ParseError};
    assert_eq!(
        parse("/session #7", BOT),
        Ok(Some(Command::Session { number: 7 }))
    );
    assert!(matches!(
        parse("/session seven", BOT),
        Err(ParseError::InvalidArgument {
            argument: "number",
            ..
        })
    ));
    assert!(matches!(
        parse("/session", BOT),
        Err(ParseError::MissingArgument {
            argument: "number",
            ..
        })
    ));
    assert_eq!(
        parse("/room  Saal GLITCH ", BOT),
        Ok(Some(Command::Room {
            name: "Saal GLITCH".into()
        }))
    );
    assert!(matches!(
        parse("/now please", BOT),
        Err(ParseError::TooManyArguments { .. })
    ));
}

#[test]
fn calendar_takes_an_optional_session_number() {
    use herald_commands::Command;
    assert_eq!(
        parse("/calendar", BOT),
        Ok(Some(Command::Calendar { session: None }))
    );
    assert_eq!(
        parse("/calendar #12", BOT),
        Ok(Some(Command::Calendar { session: Some(12) }))
    );
    assert_eq!(
        parse("/calendar rust", BOT),
        invalid(
            "calendar",
            "session",
            "rust",
            herald_commands::args::expected::SESSION
        )
    );
    assert_eq!(parse("/calendar 12 13", BOT), too_many("calendar"));
}

#[test]
fn follow_takes_a_session_number_or_a_pattern() {
    use herald_commands::{Command, FollowTarget, ParseError};
    assert_eq!(
        parse("/follow 12", BOT),
        Ok(Some(Command::Follow {
            target: FollowTarget::Session(12)
        }))
    );
    assert_eq!(
        parse("/follow /rust in space|zig/", BOT),
        Ok(Some(Command::Follow {
            target: FollowTarget::Pattern("rust in space|zig".into())
        }))
    );
    assert!(matches!(
        parse("/follow //", BOT),
        Err(ParseError::InvalidArgument {
            argument: "pattern",
            ..
        })
    ));
    assert!(matches!(
        parse("/follow rust", BOT),
        Err(ParseError::InvalidArgument {
            argument: "session",
            ..
        })
    ));
    assert!(matches!(
        parse("/unfollow", BOT),
        Err(ParseError::MissingArgument { .. })
    ));
}

#[test]
fn volunteer_slots_take_local_date_times() {
    use herald_commands::{Command, ParseError, SlotCommand};
    let Ok(Some(Command::VolunteerSlot(SlotCommand::Add { start, end, title }))) = parse(
        "/slot add 2027-02-06T09:00 2027-02-06T11:30 Info desk, building K",
        BOT,
    ) else {
        panic!("parses")
    };
    assert_eq!(
        (start.date_time().to_string(), end.date_time().to_string()),
        ("2027-02-06 09:00:00".into(), "2027-02-06 11:30:00".into())
    );
    assert_eq!(title, "Info desk, building K");
    assert!(matches!(
        parse("/slot add 2027-02-06T11:00 2027-02-06T09:00 X", BOT),
        Err(ParseError::InvalidArgument {
            argument: "end",
            ..
        })
    ));
    assert!(matches!(
        parse("/slot add 09:00 11:00 X", BOT),
        Err(ParseError::InvalidArgument {
            argument: "start",
            ..
        })
    ));
    assert!(matches!(
        parse("/slot remove 3", BOT),
        Err(ParseError::UnknownSubcommand {
            command: "slot",
            ..
        })
    ));
}

#[test]
fn campaigns_take_tracks_and_options() {
    use herald_commands::{CampaignRequest, Command};
    let parsed = parse(
        "/campaign sessions Security Rust start=2027-02-06T10:00 every=1h30m jitter=10m to=fosstodon,sky order=shuffled",
        None,
    )
    .unwrap()
    .unwrap();
    let Command::Campaign(CampaignRequest {
        kind: _,
        tracks,
        start,
        every_secs,
        jitter_secs,
        to,
        shuffled,
    }) = parsed
    else {
        panic!("{parsed:?}");
    };
    assert_eq!(tracks, ["Security", "Rust"]);
    assert_eq!(
        start.unwrap().date_time().to_string(),
        "2027-02-06 10:00:00"
    );
    assert_eq!((every_secs, jitter_secs), (Some(5400), Some(600)));
    assert_eq!(to, ["fosstodon", "sky"]);
    assert!(shuffled);
    for bad in [
        "/campaign sessions every=soon",
        "/campaign sessions every=0m",
        "/campaign sessions colour=blue",
        "/campaign sessions start=tomorrow",
        "/campaign speakers",
    ] {
        let err = parse(bad, None).unwrap_err().to_string();
        assert!(!err.is_empty(), "{bad}");
    }
    let err = parse("/campaign sessions every=soon", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("a duration such as 90m"), "{err}");
}

#[test]
fn a_campaigns_posts_are_approved_or_reviewed_by_its_number() {
    use herald_commands::Command;
    assert_eq!(
        parse("/campaign approve 4", None),
        Ok(Some(Command::CampaignApprove { number: 4 }))
    );
    assert_eq!(
        parse("/campaign Review #4", BOT),
        Ok(Some(Command::CampaignReview { number: 4 }))
    );
    let err = parse("/campaign approve", None).unwrap_err().to_string();
    assert!(
        err.contains("missing its number argument; usage: /campaign approve <number>"),
        "{err}"
    );
    for bad in ["/campaign approve four", "/campaign review 4 5"] {
        assert!(parse(bad, None).is_err(), "{bad}");
    }
    let err = parse("/campaign speakers", None).unwrap_err().to_string();
    assert!(err.contains("approve or review"), "{err}");
}

#[test]
fn provider_webhook_takes_on_off_or_status() {
    use herald_commands::{ProviderCommand, WebhookAction};
    assert_eq!(
        parse("/provider webhook xconf ON", BOT),
        Ok(Some(Command::Provider(ProviderCommand::Webhook {
            name: "xconf".into(),
            action: WebhookAction::On,
        })))
    );
    assert!(matches!(
        parse("/provider webhook xconf maybe", BOT),
        Err(ParseError::InvalidArgument {
            argument: "action",
            expected: "on, off or status",
            ..
        })
    ));
    assert!(matches!(
        parse("/provider webhook xconf", BOT),
        Err(ParseError::MissingArgument { .. })
    ));
}
