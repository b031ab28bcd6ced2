//! Property-style test: the parser never panics, whatever it is fed, and what it returns is consistent.

use herald_commands::catalog;
use herald_commands::{Command, parse, split};

/// Marsaglia's xorshift64: deterministic, so a failure reproduces.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FRAGMENTS: &[&str] = &[
    "/",
    "/",
    "@",
    "@",
    " ",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "\u{a0}",
    "\u{3000}",
    "-",
    "_",
    ":",
    "+",
    "|",
    "a",
    "Z",
    "é",
    "ß",
    "İ",
    "0",
    "9",
    "42",
    "-5",
    "09:00",
    "24:60",
    "2026-02-01",
    "2026-02-30",
    "off",
    "on",
    "@alice",
    "@",
    "HeraldBot",
    "heraldbot",
    "OtherBot",
    "fosdem-2026",
    "Europe/Brussels",
    "europe/BRUSSELS",
    "admin",
    "owner",
    "attendees",
    "organizers",
    "🎉",
    "👩‍💻",
    "🇧🇪",
    "\u{200b}",
    "\u{0}",
    "\u{202e}",
    "\u{fffd}",
    "会议",
    "عربى",
];

fn random_text(rng: &mut XorShift, words: &[&'static str]) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(24) {
        match rng.below(4) {
            0 => {
                text.push('/');
                text.push_str(rng.pick(words));
            }
            1 => text.push_str(rng.pick(words)),
            _ => text.push_str(rng.pick(FRAGMENTS)),
        }
    }
    text
}

#[test]
fn parse_never_panics_on_random_text() {
    let mut words: Vec<&'static str> = catalog::catalog()
        .iter()
        .flat_map(|spec| spec.name.split(' '))
        .collect();
    words.extend([
        "reminders",
        "announcements",
        "START",
        "Conference",
        "Help",
        "strat",
    ]);

    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut commands = 0;
    let mut errors = 0;
    for _ in 0..20_000 {
        let text = random_text(&mut rng, &words);
        for bot in [Some("HeraldBot"), Some("@heraldbot"), None] {
            match parse(&text, bot) {
                Ok(Some(command)) => {
                    commands += 1;
                    check_command(&text, &command);
                }
                Ok(None) => {}
                Err(error) => {
                    errors += 1;
                    assert!(
                        split(&text).is_some(),
                        "{text:?} is an error but not a command"
                    );
                    assert!(!error.to_string().is_empty());
                }
            }
        }
    }
    // The generator must exercise both outcomes, or the test proves little.
    assert!(
        commands > 100 && errors > 100,
        "commands {commands}, errors {errors}"
    );
}

fn check_command(text: &str, command: &Command) {
    assert!(
        split(text).is_some(),
        "{text:?} parsed but is not a command"
    );
    let spec = command.spec();
    assert!(
        catalog::catalog()
            .iter()
            .any(|entry| std::ptr::eq(entry, spec))
    );
    assert_eq!(command.min_role(), spec.min_role);
    // Parsing is a pure function of the text.
    assert_eq!(
        parse(text, None).ok().flatten().as_ref(),
        Some(command),
        "{text:?}"
    );
}

#[test]
fn parse_never_panics_on_long_or_odd_input() {
    let long_word = "a".repeat(100_000);
    let inputs = [
        format!("/{long_word}"),
        format!("/start {long_word}"),
        format!("/announce {long_word}"),
        format!("/help {long_word}"),
        format!("/grant @{long_word} admin"),
        format!("/conference new {long_word}"),
        "/".repeat(10_000),
        "@".repeat(10_000),
        "/help@".repeat(1_000),
        " \n".repeat(10_000) + "/status",
        "\u{0}/start\u{0}".to_owned(),
    ];
    for text in inputs {
        let _ = parse(&text, Some("HeraldBot"));
        let _ = parse(&text, None);
    }
}
