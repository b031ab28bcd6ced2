//! Argument values: each thing a command takes is parsed once, at the edge, into a type that can only hold a
//! valid value.
//!
//! This module owns the lexical rules for slugs, time zones, posting policies, chat slots, people, deep-link
//! tokens, times and dates. A rejected value is reported as an [`InvalidValue`] carrying one of the stable
//! phrases in [`expected`]; the command parser adds which command and argument it was.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, Timelike};
use chrono_tz::Tz;

/// Stable descriptions of what an argument should have looked like, used as
/// [`ParseError::InvalidArgument::expected`](crate::ParseError::InvalidArgument). Templates may match on them.
pub mod expected {
    pub const SLUG: &str =
        "a slug of 2 to 40 lowercase letters, digits and inner hyphens, such as fosdem-2026";
    pub const TIME_ZONE: &str = "a time zone such as Europe/Brussels";
    pub const POSTING_POLICY: &str = "a posting policy from 0 to 4";
    pub const LEAD_MINUTES: &str = "a number of minutes from 1 to 1440";
    pub const BIND_CODE: &str = "the code /bind gave you, such as herald-bind-…";
    pub const SLOT: &str = "attendees, organisers or moderation";
    pub const PERSON: &str = "a @username or a numeric user id";
    pub const START_TOKEN: &str = "a token of 1 to 64 letters, digits, underscores or hyphens";
    pub const TIME: &str = "a time as HH:MM, such as 09:30";
    pub const DATE: &str = "a date as YYYY-MM-DD, such as 2026-02-01";
    pub const CONFERENCE_ROLE: &str = "a role: attendee, speaker, volunteer or admin";
    pub const SETTING: &str = "announcements, reminders, direct or early";
    pub const EARLY_MINUTES: &str = "a number of minutes from 1 to 1440, or off";
    pub const CHANNEL: &str = "one of your channels, as /settings lists them";
    pub const ON_OFF: &str = "on or off";
    pub const WEBHOOK_ACTION: &str = "on, off or status";
    pub const EMAIL: &str = "an e-mail address such as ada@example.org";
    pub const LANGUAGE: &str = "a language code such as de or en";
    pub const LOGOUT: &str = "nothing, or logout";
    pub const END_DATE: &str = "a date on or after the start date";
    pub const WINDOW_END: &str = "a time different from the start of the window";
    pub const NAME: &str = "a name on one line of at most 128 characters";
    pub const SESSION: &str = "a session number, as /today or /now show it";
    pub const DATE_TIME: &str =
        "a local date and time as YYYY-MM-DDTHH:MM, such as 2027-02-06T09:30";
    pub const SLOT_END: &str = "a time after the start";
    pub const URL: &str = "an http:// or https:// address";
    pub const POST: &str = "a post number, as /queue shows it";
    pub const MENTION: &str = "a mention number, as /mentions shows it";
    pub const DURATION: &str = "a duration such as 90m, 2h, 1d or 1h30m";
    pub const CAMPAIGN_OPTION: &str = "start=YYYY-MM-DDTHH:MM, every=<duration>, jitter=<duration>, to=<provider,…> or order=schedule|shuffled";
    pub const PAGE: &str = "a page number from 1";
    pub const HASHTAG: &str = "a hashtag of letters, digits and underscores, such as #fosdem";
    pub const ORDER: &str = "auto, manual or a number for the order";
    pub const FEATURE: &str = "public, attendees, private, organisers or moderation";
    pub const PROVIDER_KIND: &str = "a network's name, such as mastodon or bluesky";
    pub const PROVIDER_NAME: &str = "a short name of letters, digits, hyphens and underscores";
    pub const FOLLOW: &str = "a session number, or a pattern between slashes such as /rust|zig/";
}

/// A value that does not fit its argument's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}")]
pub struct InvalidValue {
    /// One of the phrases in [`expected`].
    pub expected: &'static str,
}

impl InvalidValue {
    const fn new(expected: &'static str) -> Self {
        Self { expected }
    }
}

/// Implements `FromStr` and `Display` for a type with `parse` and a displayable form.
macro_rules! from_str_via_parse {
    ($ty:ty) => {
        impl FromStr for $ty {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// A conference's short name: 2–40 lowercase ASCII letters, digits and hyphens, not starting or ending with a
/// hyphen, such as `fosdem-2026`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 40;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        let valid = (Self::MIN_LEN..=Self::MAX_LEN).contains(&s.len())
            && s.bytes().all(allowed)
            && !s.starts_with('-')
            && !s.ends_with('-');
        valid
            .then(|| Self(s.to_owned()))
            .ok_or(InvalidValue::new(expected::SLUG))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

from_str_via_parse!(Slug);

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone such as `Europe/Brussels`. The exact spelling is tried first, then any spelling that
/// differs only in ASCII case, so `europe/brussels` works too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if let Ok(tz) = s.parse::<Tz>() {
            return Ok(Self(tz));
        }
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(s))
            .map(|&tz| Self(tz))
            .ok_or(InvalidValue::new(expected::TIME_ZONE))
    }

    pub const fn tz(self) -> Tz {
        self.0
    }

    /// The canonical IANA spelling.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

from_str_via_parse!(TimeZoneName);

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<TimeZoneName> for Tz {
    fn from(name: TimeZoneName) -> Self {
        name.0
    }
}

/// Who may post to a conference's channels, as the levels 0–4 typed in `/conference policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PostingPolicy {
    /// 0: nobody may post.
    Nobody = 0,
    /// 1: admins post, without approval.
    AdminsWithoutApproval = 1,
    /// 2: volunteers may post too; an admin approves their posts.
    VolunteersAdminsApprove = 2,
    /// 3: volunteers may post too; another volunteer approves their posts.
    VolunteersVolunteersApprove = 3,
    /// 4: admins and volunteers post without approval (attendees and speakers never post publicly).
    StaffWithoutApproval = 4,
}

impl PostingPolicy {
    /// Every policy, by level.
    pub const ALL: [Self; 5] = [
        Self::Nobody,
        Self::AdminsWithoutApproval,
        Self::VolunteersAdminsApprove,
        Self::VolunteersVolunteersApprove,
        Self::StaffWithoutApproval,
    ];

    /// The level typed in commands, 0–4.
    pub const fn level(self) -> u8 {
        self as u8
    }

    pub const fn from_level(level: u8) -> Option<Self> {
        match level {
            0 => Some(Self::Nobody),
            1 => Some(Self::AdminsWithoutApproval),
            2 => Some(Self::VolunteersAdminsApprove),
            3 => Some(Self::VolunteersVolunteersApprove),
            4 => Some(Self::StaffWithoutApproval),
            _ => None,
        }
    }

    /// A stable key for templates and storage, such as `volunteers_admins_approve`.
    pub const fn describe_key(self) -> &'static str {
        match self {
            Self::Nobody => "nobody",
            Self::AdminsWithoutApproval => "admins_without_approval",
            Self::VolunteersAdminsApprove => "volunteers_admins_approve",
            Self::VolunteersVolunteersApprove => "volunteers_volunteers_approve",
            Self::StaffWithoutApproval => "staff_without_approval",
        }
    }

    /// Parses a single digit 0–4.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let level = match s.as_bytes() {
            [digit @ b'0'..=b'9'] => digit - b'0',
            _ => return Err(InvalidValue::new(expected::POSTING_POLICY)),
        };
        Self::from_level(level).ok_or(InvalidValue::new(expected::POSTING_POLICY))
    }
}

from_str_via_parse!(PostingPolicy);

impl fmt::Display for PostingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.level())
    }
}

/// The kind of chat a group can be bound to for a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// The group where attendees talk.
    Attendees,
    /// The organisers' back room.
    Organisers,
    /// Where posts wait for approval.
    Moderation,
}

impl Slot {
    pub const ALL: [Self; 3] = [Self::Attendees, Self::Organisers, Self::Moderation];

    /// The stable lowercase name; `organisers` in British spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Attendees => "attendees",
            Self::Organisers => "organisers",
            Self::Moderation => "moderation",
        }
    }

    /// Accepts the names from [`Slot::as_str`] and `organizers`, in any case.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.eq_ignore_ascii_case("organizers") {
            return Ok(Self::Organisers);
        }
        Self::ALL
            .into_iter()
            .find(|slot| slot.as_str().eq_ignore_ascii_case(s))
            .ok_or(InvalidValue::new(expected::SLOT))
    }
}

from_str_via_parse!(Slot);

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person named in a command: `@username` or a numeric user id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PersonRef {
    /// The username without its leading `@`, in the case it was typed. Besides Telegram usernames this admits
    /// Bluesky handles (`@alice.bsky.social`) and fediverse addresses (`@alice@example.social`): ASCII
    /// letters, digits, `_`, `.`, `-` and inner `@`, at most 253 characters.
    Username(String),
    /// A positive user id, such as a Telegram user id.
    Id(i64),
}

impl PersonRef {
    pub const MAX_USERNAME_LEN: usize = 253;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let invalid = InvalidValue::new(expected::PERSON);
        if let Some(username) = s.strip_prefix('@') {
            let allowed =
                |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@');
            let valid = (1..=Self::MAX_USERNAME_LEN).contains(&username.len())
                && username.bytes().all(allowed)
                && !username.starts_with('@')
                && !username.ends_with('@');
            return valid
                .then(|| Self::Username(username.to_owned()))
                .ok_or(invalid);
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid);
        }
        match s.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self::Id(id)),
            _ => Err(invalid),
        }
    }
}

from_str_via_parse!(PersonRef);

impl fmt::Display for PersonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Username(username) => write!(f, "@{username}"),
            Self::Id(id) => write!(f, "{id}"),
        }
    }
}

/// A Telegram deep-link payload as received by `/start`: 1–64 characters of `A-Z a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StartToken(String);

impl StartToken {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        let valid = (1..=Self::MAX_LEN).contains(&s.len()) && s.bytes().all(allowed);
        valid
            .then(|| Self(s.to_owned()))
            .ok_or(InvalidValue::new(expected::START_TOKEN))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

from_str_via_parse!(StartToken);

impl fmt::Display for StartToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A wall-clock time in the conference's time zone, typed as `HH:MM` (a single-digit hour is accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        let time = match s.split_once(':') {
            Some((h, m))
                if (1..=2).contains(&h.len()) && m.len() == 2 && digits(h) && digits(m) =>
            {
                let (hour, minute) = (h.parse().ok(), m.parse().ok());
                hour.zip(minute)
                    .and_then(|(h, m)| NaiveTime::from_hms_opt(h, m, 0))
            }
            _ => None,
        };
        time.map(Self).ok_or(InvalidValue::new(expected::TIME))
    }

    pub const fn time(self) -> NaiveTime {
        self.0
    }
}

from_str_via_parse!(LocalTime);

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl From<LocalTime> for NaiveTime {
    fn from(time: LocalTime) -> Self {
        time.0
    }
}

/// A calendar date typed as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalDate(NaiveDate);

impl LocalDate {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let shape_ok = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let number = |range: std::ops::Range<usize>| s[range].parse::<u32>().unwrap_or(0);
        let date = shape_ok
            .then(|| NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10)))
            .flatten();
        date.map(Self).ok_or(InvalidValue::new(expected::DATE))
    }

    pub const fn date(self) -> NaiveDate {
        self.0
    }
}

from_str_via_parse!(LocalDate);

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<LocalDate> for NaiveDate {
    fn from(date: LocalDate) -> Self {
        date.0
    }
}

/// A session's number, as listings show it.
pub fn session_number(s: &str) -> Result<i64, InvalidValue> {
    let s = s.strip_prefix('#').unwrap_or(s);
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(InvalidValue {
            expected: expected::SESSION,
        })
}

/// A wall-clock date and time in the conference's time zone, typed as `YYYY-MM-DDTHH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalDateTime(chrono::NaiveDateTime);

impl LocalDateTime {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .map(Self)
            .map_err(|_| InvalidValue::new(expected::DATE_TIME))
    }

    pub const fn date_time(self) -> chrono::NaiveDateTime {
        self.0
    }
}

/// An http(s) address, as typed (the application fetches it).
pub fn http_url(s: &str) -> Result<String, InvalidValue> {
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(s.to_owned()),
        _ => Err(InvalidValue::new(expected::URL)),
    }
}

/// A mention number (`12` or `#12`).
pub fn mention_number(s: &str) -> Result<i64, InvalidValue> {
    post_number(s).map_err(|_| InvalidValue {
        expected: expected::MENTION,
    })
}

/// A duration in seconds from `90m`, `2h`, `1d`, `45s` or combinations (`1h30m`).
pub fn duration_secs(s: &str) -> Result<i64, InvalidValue> {
    let invalid = || InvalidValue {
        expected: expected::DURATION,
    };
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        let n: i64 = number.parse().map_err(|_| invalid())?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(invalid)?)
            .ok_or_else(invalid)?;
        number.clear();
        any = true;
    }
    if !number.is_empty() || !any {
        return Err(invalid());
    }
    Ok(total)
}

/// A page number from 1.
pub fn page_number(s: &str) -> Result<i64, InvalidValue> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(InvalidValue {
            expected: expected::PAGE,
        })
}

/// How every binding code starts (what `/bind <slot>` hands out).
pub const BIND_CODE_PREFIX: &str = "herald-bind-";

/// A binding code: the prefix and a URL-safe token.
pub fn bind_code(s: &str) -> Result<String, InvalidValue> {
    let token = s.strip_prefix(BIND_CODE_PREFIX).unwrap_or_default();
    if !token.is_empty()
        && token.len() <= 64
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(s.to_owned())
    } else {
        Err(InvalidValue::new(expected::BIND_CODE))
    }
}

/// How many minutes before a start a reminder goes out: 1 to a day.
pub fn lead_minutes(s: &str) -> Result<i64, InvalidValue> {
    s.parse::<i64>()
        .ok()
        .filter(|n| (1..=1440).contains(n))
        .ok_or(InvalidValue {
            expected: expected::LEAD_MINUTES,
        })
}

/// An earlier reminder's lead time (`/settings early`): minutes from 1 to a day, or `off` for none.
/// Whether it comes before the conference's own reminder is the application's to say.
pub fn early_minutes(s: &str) -> Result<Option<i64>, InvalidValue> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    lead_minutes(s)
        .map(Some)
        .map_err(|_| InvalidValue::new(expected::EARLY_MINUTES))
}

/// An e-mail address as typed: one word with a name before `@` and a domain after it. (Whether the
/// domain takes mail is for the mail server to say.)
pub fn email_address(s: &str) -> Result<String, InvalidValue> {
    let valid = s.len() <= 254
        && s.rsplit_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.contains(['<', '>', ',', ';', '"'])
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        });
    valid.then(|| s.to_owned()).ok_or(InvalidValue {
        expected: expected::EMAIL,
    })
}

/// A language code as typed: letters, with a region after `-` or `_` (`de`, `pt-BR`); lowercased.
/// Whether Herald speaks it is the application's question.
pub fn language_code(s: &str) -> Result<String, InvalidValue> {
    let mut parts = s.split(['-', '_']);
    let primary = parts.next().unwrap_or_default();
    let valid = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    valid.then(|| s.to_ascii_lowercase()).ok_or(InvalidValue {
        expected: expected::LANGUAGE,
    })
}

/// A post's number, as `/queue` shows it.
pub fn post_number(s: &str) -> Result<i64, InvalidValue> {
    let s = s.strip_prefix('#').unwrap_or(s);
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(InvalidValue {
            expected: expected::POST,
        })
}

/// A provider's internal name, as typed in commands.
pub fn provider_name(s: &str) -> Result<String, InvalidValue> {
    let ok = (1..=40).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(InvalidValue::new(expected::PROVIDER_NAME))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["ab", "fosdem-2026", "a-b-c", "x1", "a--b", &"a".repeat(40)] {
            assert_eq!(
                Slug::parse(ok).map(|s| s.to_string()),
                Ok(ok.to_owned()),
                "{ok:?}"
            );
        }
        for bad in [
            "",
            "a",
            "-ab",
            "ab-",
            "Fosdem",
            "fos dem",
            "fos_dem",
            "föö",
            &"a".repeat(41),
        ] {
            assert_eq!(
                Slug::parse(bad),
                Err(InvalidValue::new(expected::SLUG)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn time_zones_prefer_exact_then_any_case() {
        let tz = |s: &str| TimeZoneName::parse(s).map(TimeZoneName::name);
        assert_eq!(tz("Europe/Brussels"), Ok("Europe/Brussels"));
        assert_eq!(tz("europe/brussels"), Ok("Europe/Brussels"));
        assert_eq!(
            tz("AMERICA/ARGENTINA/BUENOS_AIRES"),
            Ok("America/Argentina/Buenos_Aires")
        );
        assert_eq!(tz("UTC"), Ok("UTC"));
        // Both spellings exist in the database; the exact one wins.
        assert_eq!(tz("EST"), Ok("EST"));
        for bad in ["", "Europe/Atlantis", "Brussels", "Europe/Brussels ", "🕐"] {
            assert_eq!(
                tz(bad),
                Err(InvalidValue::new(expected::TIME_ZONE)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn posting_policies() {
        for policy in PostingPolicy::ALL {
            assert_eq!(PostingPolicy::parse(&policy.to_string()), Ok(policy));
            assert_eq!(PostingPolicy::from_level(policy.level()), Some(policy));
        }
        let keys: Vec<_> = PostingPolicy::ALL
            .iter()
            .map(|p| p.describe_key())
            .collect();
        assert_eq!(
            keys,
            [
                "nobody",
                "admins_without_approval",
                "volunteers_admins_approve",
                "volunteers_volunteers_approve",
                "staff_without_approval"
            ]
        );
        for bad in ["", "5", "-1", "01", "one", "٣"] {
            assert!(PostingPolicy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn slots_accept_both_spellings() {
        assert_eq!(Slot::parse("organizers"), Ok(Slot::Organisers));
        assert_eq!(Slot::parse("Organisers"), Ok(Slot::Organisers));
        assert_eq!(Slot::parse("MODERATION"), Ok(Slot::Moderation));
        assert_eq!(
            Slot::parse("attendee"),
            Err(InvalidValue::new(expected::SLOT))
        );
    }

    #[test]
    fn people() {
        let table = [
            ("@alice", Ok(PersonRef::Username("alice".to_owned()))),
            ("@Alice_99", Ok(PersonRef::Username("Alice_99".to_owned()))),
            (
                "@alice.bsky.social",
                Ok(PersonRef::Username("alice.bsky.social".to_owned())),
            ),
            (
                "@alice@example.social",
                Ok(PersonRef::Username("alice@example.social".to_owned())),
            ),
            ("123456789", Ok(PersonRef::Id(123_456_789))),
            ("9223372036854775807", Ok(PersonRef::Id(i64::MAX))),
        ];
        for (text, expected) in table {
            assert_eq!(PersonRef::parse(text), expected, "{text:?}");
            let parsed = PersonRef::parse(text).expect("valid");
            assert_eq!(parsed.to_string(), text);
        }
        for bad in [
            "",
            "@",
            "@@alice",
            "@alice@",
            "alice",
            "0",
            "-5",
            "+5",
            "9223372036854775808",
            "@al ice",
            "@zoë",
        ] {
            assert_eq!(
                PersonRef::parse(bad),
                Err(InvalidValue::new(expected::PERSON)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn start_tokens() {
        assert!(StartToken::parse("abc-DEF_123").is_ok());
        assert!(StartToken::parse(&"x".repeat(64)).is_ok());
        for bad in ["", "a b", "a+b", "a=", "ünï", &"x".repeat(65)] {
            assert_eq!(
                StartToken::parse(bad),
                Err(InvalidValue::new(expected::START_TOKEN)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn times_and_dates() {
        let time = |s: &str| LocalTime::parse(s).map(|t| t.to_string());
        assert_eq!(time("09:30"), Ok("09:30".to_owned()));
        assert_eq!(time("9:05"), Ok("09:05".to_owned()));
        assert_eq!(time("23:59"), Ok("23:59".to_owned()));
        assert_eq!(time("00:00"), Ok("00:00".to_owned()));
        for bad in [
            "",
            "24:00",
            "12:60",
            "12:5",
            "123:00",
            "12-00",
            "12:00:00",
            "+1:00",
            "١٢:٠٠",
        ] {
            assert_eq!(
                LocalTime::parse(bad),
                Err(InvalidValue::new(expected::TIME)),
                "{bad:?}"
            );
        }
        let date = |s: &str| LocalDate::parse(s).map(|d| d.to_string());
        assert_eq!(date("2026-02-01"), Ok("2026-02-01".to_owned()));
        assert_eq!(date("2024-02-29"), Ok("2024-02-29".to_owned()));
        for bad in [
            "",
            "2025-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "+2026-01-01",
            "2026-01-01x",
        ] {
            assert_eq!(
                LocalDate::parse(bad),
                Err(InvalidValue::new(expected::DATE)),
                "{bad:?}"
            );
        }
    }
}
