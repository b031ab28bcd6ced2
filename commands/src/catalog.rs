//! The catalog: one [`CommandSpec`] per command, the single source for usage lines, help text, the role a
//! command needs and where it makes sense to use it.
//!
//! Help replies, error templates and the README table ([`catalog_markdown`]) are all generated from here, so
//! adding a command means adding a spec, a [`Command`](crate::Command) variant and its parser arm.

use std::fmt::Write as _;

use crate::Role;

/// Where a command makes sense to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Only in a private chat with the bot, or a direct message on other networks.
    Private,
    /// Only in a group chat.
    Group,
    /// Anywhere.
    Any,
}

impl Scope {
    /// A stable lowercase name: `private`, `group` or `any`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Group => "group",
            Self::Any => "any",
        }
    }
}

/// What the catalog knows about one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandSpec {
    /// The command as typed, without the slash: `start`, or `conference new` for a subcommand. Unique.
    pub name: &'static str,
    /// How to type it, such as `/invite <role> [name]`: `<required>`, `[optional]`, `<a|b>` for a choice
    /// and ` | ` before an alternative form.
    pub usage: &'static str,
    /// One line of English for help listings; localised text lives in the application's templates.
    pub help: &'static str,
    /// The lowest role that may use the command.
    pub min_role: Role,
    pub scope: Scope,
}

impl CommandSpec {
    /// The first word of the name: `conference` for `conference new`, `start` for `start`.
    pub fn group(&self) -> &'static str {
        let name: &'static str = self.name;
        name.split_once(' ').map_or(name, |(group, _)| group)
    }

    /// The second word of the name, if the command is a subcommand.
    pub fn subcommand(&self) -> Option<&'static str> {
        let name: &'static str = self.name;
        name.split_once(' ').map(|(_, sub)| sub)
    }
}

/// Every command, in the order help lists them.
pub fn catalog() -> &'static [CommandSpec] {
    &CATALOG
}

/// The spec with this exact name, such as `conference new`.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    CATALOG.iter().find(|spec| spec.name == name)
}

/// The distinct first words of the catalog's names, in catalog order: what may follow the `/`.
pub fn command_words() -> impl Iterator<Item = &'static str> {
    CATALOG
        .iter()
        .enumerate()
        .filter(|&(i, spec)| i == 0 || CATALOG[i - 1].group() != spec.group())
        .map(|(_, spec)| spec.group())
}

/// The subcommands `/conference` accepts.
pub const CONFERENCE_SUBCOMMANDS: &[&str] = &[
    "new",
    "list",
    "use",
    "policy",
    "window",
    "reminders",
    "email",
    "status",
];

/// How to type `/conference` when the subcommand is missing.
/// The subcommands of `/slot`, in catalog order.
pub const SLOT_SUBCOMMANDS: &[&str] = &["add", "assign", "list"];

/// The subcommands of `/hashtag`, in catalog order.
pub const HASHTAG_SUBCOMMANDS: &[&str] = &["add", "remove", "list"];

/// Usage of `/hashtag` without a subcommand.
pub const HASHTAG_USAGE: &str = "/hashtag <add|remove|list>";

/// The subcommands of `/provider`, in catalog order.
pub const PROVIDER_SUBCOMMANDS: &[&str] = &["add", "list", "test", "on", "off", "webhook"];

/// Usage of `/provider` without a subcommand.
pub const PROVIDER_USAGE: &str = "/provider <add|list|test|on|off|webhook>";

/// The subcommands of `/benefit`.
pub const BENEFIT_SUBCOMMANDS: &[&str] = &["add", "confirm"];

/// Usage of `/benefit` without a subcommand.
pub const BENEFIT_USAGE: &str = "/benefit <add|confirm>";

/// Usage of `/slot` without a subcommand.
pub const SLOT_USAGE: &str = "/slot <add|assign|list>";

pub const CONFERENCE_USAGE: &str =
    "/conference <new|list|use|policy|window|reminders|email|status>";

/// Renders the catalog as a Markdown table (command, who may use it, what it does) for the README.
pub fn catalog_markdown() -> String {
    let mut out =
        String::from("| Command | Who may use it | What it does |\n| --- | --- | --- |\n");
    for spec in catalog() {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            escape_cell(spec.usage),
            audience(spec.min_role),
            escape_cell(spec.help),
        );
    }
    out
}

/// Pipes end a table cell even inside code spans, so they are escaped.
fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn audience(role: Role) -> &'static str {
    match role {
        Role::Guest => "anyone",
        Role::Attendee => "attendees and above",
        Role::Speaker => "speakers and above",
        Role::Volunteer => "volunteers and above",
        Role::Admin => "admins and owners",
        Role::Owner => "owners",
    }
}

/// Indexes into [`CATALOG`], one per [`Command`](crate::Command) variant, in catalog order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Id {
    Start,
    Help,
    Whoami,
    Stop,
    Settings,
    SettingsEarly,
    SettingsEmail,
    SettingsLanguage,
    Cancel,
    CancelPost,
    ConferenceNew,
    ConferenceList,
    ConferenceUse,
    ConferencePolicy,
    ConferenceWindow,
    ConferenceReminders,
    ConferenceEmail,
    ConferenceStatus,
    Status,
    Admins,
    Grant,
    Revoke,
    Invite,
    Bind,
    BindCode,
    Unbind,
    Dm,
    Announce,
    Now,
    Next,
    Today,
    Session,
    Room,
    Follow,
    Unfollow,
    Following,
    SlotAdd,
    SlotAssign,
    SlotList,
    MySlots,
    Calendar,
    Import,
    Post,
    Queue,
    RetryPost,
    History,
    Approve,
    Reject,
    EditPost,
    SplitPost,
    Variant,
    Image,
    Mentions,
    Discard,
    Boost,
    Campaign,
    CampaignApprove,
    CampaignReview,
    News,
    NewsFeed,
    Sponsors,
    SponsorAdd,
    BenefitAdd,
    BenefitConfirm,
    ProviderAdd,
    ProviderList,
    ProviderTest,
    ProviderOn,
    ProviderOff,
    ProviderWebhook,
    Switch,
    HashtagAdd,
    HashtagRemove,
    HashtagList,
    Web,
    Mobile,
    Hook,
}

impl Id {
    const COUNT: usize = Self::Hook as usize + 1;

    pub(crate) fn spec(self) -> &'static CommandSpec {
        &CATALOG[self as usize]
    }
}

const fn spec(
    name: &'static str,
    usage: &'static str,
    min_role: Role,
    scope: Scope,
    help: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        usage,
        help,
        min_role,
        scope,
    }
}

static CATALOG: [CommandSpec; Id::COUNT] = [
    spec(
        "start",
        "/start [token]",
        Role::Guest,
        Scope::Private,
        "Link this chat to Herald, with the token from an invitation link if you have one.",
    ),
    spec(
        "help",
        "/help [command]",
        Role::Guest,
        Scope::Any,
        "List the commands you can use, or explain one.",
    ),
    spec(
        "whoami",
        "/whoami",
        Role::Guest,
        Scope::Any,
        "Show who Herald thinks you are and which roles you hold.",
    ),
    spec(
        "stop",
        "/stop",
        Role::Attendee,
        Scope::Private,
        "Unlink this chat from Herald, after you confirm.",
    ),
    spec(
        "settings",
        "/settings [<announcements|reminders|direct> <on|off>] | /settings <announcements|reminders|direct> <channel> <on|off>",
        Role::Attendee,
        Scope::Private,
        "Show your settings and channels, or switch announcements, reminders or direct messages on or off, everywhere or on one channel.",
    ),
    spec(
        "settings early",
        "/settings early <minutes> | /settings early off",
        Role::Attendee,
        Scope::Private,
        "Also be reminded this many minutes before the sessions you follow (more than the conference's own reminder, at most 1440), or no longer.",
    ),
    spec(
        "settings email",
        "/settings email <address>",
        Role::Attendee,
        Scope::Private,
        "Receive messages by e-mail too: Herald mails a confirmation link and sends nothing else there until it is opened.",
    ),
    spec(
        "settings language",
        "/settings language [lang]",
        Role::Guest,
        Scope::Private,
        "Show the languages Herald speaks, or read Herald in one of them (such as de or en) on every channel.",
    ),
    spec(
        "cancel",
        "/cancel",
        Role::Guest,
        Scope::Any,
        "Cancel the action waiting for your confirmation.",
    ),
    spec(
        "cancel post",
        "/cancel <number>",
        Role::Volunteer,
        Scope::Any,
        "Withdraw a post that has not gone out yet.",
    ),
    spec(
        "conference new",
        "/conference new <slug> <tz> <start-date> <end-date> <name>",
        Role::Admin,
        Scope::Private,
        "Create a conference: short name, time zone, first and last day (YYYY-MM-DD) and full name.",
    ),
    spec(
        "conference list",
        "/conference list",
        Role::Volunteer,
        Scope::Any,
        "List the conferences you help organise.",
    ),
    spec(
        "conference use",
        "/conference use <slug>",
        Role::Volunteer,
        Scope::Any,
        "Choose the conference your next commands apply to.",
    ),
    spec(
        "conference policy",
        "/conference policy <0-4>",
        Role::Admin,
        Scope::Any,
        "Set who may post: 0 nobody, 1 admins, 2 volunteers with admin approval, 3 volunteers with volunteer approval, 4 admins and volunteers without approval.",
    ),
    spec(
        "conference window",
        "/conference window <from> <to> | off",
        Role::Admin,
        Scope::Any,
        "Send messages only between two local times (HH:MM) each day, or switch the window off.",
    ),
    spec(
        "conference reminders",
        "/conference reminders <sessions> <speakers> <volunteers>",
        Role::Admin,
        Scope::Any,
        "How many minutes before a start reminders go out: to followers and attendees, to speakers, to volunteers before their shifts.",
    ),
    spec(
        "conference email",
        "/conference email <address>",
        Role::Admin,
        Scope::Any,
        "Also mail every organiser notice to this address, at most one mail per kind of notice every ten minutes with the rest gathered into the next; /conference email off stops it.",
    ),
    spec(
        "conference status",
        "/conference status",
        Role::Volunteer,
        Scope::Any,
        "Show the current conference's dates, bound chats, policy and pending messages.",
    ),
    spec(
        "status",
        "/status",
        Role::Volunteer,
        Scope::Any,
        "Short for /conference status.",
    ),
    spec(
        "admins",
        "/admins",
        Role::Volunteer,
        Scope::Any,
        "List the current conference's admins and volunteers.",
    ),
    spec(
        "grant",
        "/grant <person> <role>",
        Role::Admin,
        Scope::Any,
        "Give someone a role (attendee, speaker, volunteer or admin) in the current conference.",
    ),
    spec(
        "revoke",
        "/revoke <person> <role>",
        Role::Admin,
        Scope::Any,
        "Take a role away from someone in the current conference.",
    ),
    spec(
        "invite",
        "/invite <role> [address] [name]",
        Role::Admin,
        Scope::Private,
        "Create an invitation link that grants a role, optionally noting who it is for; with an e-mail address, Herald mails it there.",
    ),
    spec(
        "bind",
        "/bind <attendees|organisers|moderation>",
        Role::Admin,
        Scope::Private,
        "Use this group as the current conference's attendee, organiser or moderation chat.",
    ),
    spec(
        "bind code",
        "/bind <code>",
        Role::Guest,
        Scope::Group,
        "In the group or channel to bind: the code /bind gave you (the bot sees commands whatever the group's privacy mode).",
    ),
    spec(
        "unbind",
        "/unbind <attendees|organisers|moderation>",
        Role::Admin,
        Scope::Any,
        "Stop using this group for that purpose.",
    ),
    spec(
        "dm",
        "/dm <person> <text>",
        Role::Admin,
        Scope::Private,
        "Send a direct message to one person through Herald.",
    ),
    spec(
        "announce",
        "/announce <text>",
        Role::Admin,
        Scope::Private,
        "Announce a message to the current conference, line breaks included.",
    ),
    spec(
        "now",
        "/now",
        Role::Attendee,
        Scope::Any,
        "Sessions running now, with their rooms.",
    ),
    spec(
        "next",
        "/next",
        Role::Attendee,
        Scope::Any,
        "The sessions starting next.",
    ),
    spec(
        "today",
        "/today",
        Role::Attendee,
        Scope::Any,
        "Today's sessions, page by page.",
    ),
    spec(
        "session",
        "/session <number>",
        Role::Attendee,
        Scope::Any,
        "One session in full: time, room, track and speakers.",
    ),
    spec(
        "room",
        "/room <name>",
        Role::Attendee,
        Scope::Any,
        "What is on in a room today.",
    ),
    spec(
        "follow",
        "/follow <number> | /follow /<pattern>/",
        Role::Attendee,
        Scope::Private,
        "Get a personal reminder before a session, or before every session whose title matches the pattern.",
    ),
    spec(
        "unfollow",
        "/unfollow <number> | /unfollow /<pattern>/",
        Role::Attendee,
        Scope::Private,
        "Stop following a session or a pattern.",
    ),
    spec(
        "following",
        "/following",
        Role::Attendee,
        Scope::Private,
        "List the sessions and patterns you follow.",
    ),
    spec(
        "slot add",
        "/slot add <start> <end> <title>",
        Role::Admin,
        Scope::Any,
        "Create a volunteer shift: local start and end as YYYY-MM-DDTHH:MM, then its title.",
    ),
    spec(
        "slot assign",
        "/slot assign <number> <person>",
        Role::Admin,
        Scope::Any,
        "Give a shift to a volunteer; they get a reminder before it starts.",
    ),
    spec(
        "slot list",
        "/slot list",
        Role::Volunteer,
        Scope::Any,
        "List the volunteer shifts and who has them.",
    ),
    spec(
        "myslots",
        "/myslots",
        Role::Volunteer,
        Scope::Any,
        "Your volunteer shifts.",
    ),
    spec(
        "calendar",
        "/calendar [session]",
        Role::Attendee,
        Scope::Private,
        "A private calendar link with the sessions you follow or speak in and your shifts; a new link each time. With a session number: a calendar invitation for it by e-mail, updated when it moves.",
    ),
    spec(
        "import",
        "/import <url>",
        Role::Admin,
        Scope::Any,
        "Import the schedule from a pretalx/frab/ICS address now, and keep it in sync every 15 minutes.",
    ),
    spec(
        "post",
        "/post [text]",
        Role::Attendee,
        Scope::Any,
        "Write a public post; the posting policy says whether it needs approval.",
    ),
    spec(
        "queue",
        "/queue",
        Role::Volunteer,
        Scope::Any,
        "Posts waiting for approval, scheduled to go out, or failed on a network (with its error).",
    ),
    spec(
        "retry",
        "/retry <number>",
        Role::Volunteer,
        Scope::Any,
        "Send a post again to the networks where it failed.",
    ),
    spec(
        "history",
        "/history <number>",
        Role::Volunteer,
        Scope::Any,
        "A post's history: who wrote, changed, approved or cancelled it, and when.",
    ),
    spec(
        "approve",
        "/approve <number>",
        Role::Volunteer,
        Scope::Any,
        "Approve a post (if the posting policy lets you, and it is not your own).",
    ),
    spec(
        "reject",
        "/reject <number> [reason]",
        Role::Volunteer,
        Scope::Any,
        "Reject a post, optionally saying why.",
    ),
    spec(
        "edit",
        "/edit <number> <text>",
        Role::Volunteer,
        Scope::Any,
        "Replace the text of a post that has not gone out yet.",
    ),
    spec(
        "split",
        "/split <number> <on|off>",
        Role::Volunteer,
        Scope::Any,
        "Whether a post too long for a network may go out as a thread (off: it is refused at approval instead).",
    ),
    spec(
        "variant",
        "/variant <number> <provider> [text]",
        Role::Volunteer,
        Scope::Any,
        "Give a post its own text for one provider (a shorter Bluesky version), or drop it without text.",
    ),
    spec(
        "image",
        "/image <number> <alt text>",
        Role::Attendee,
        Scope::Any,
        "As the caption of a picture: add it to a post waiting for approval (up to 4), described for people who cannot see it.",
    ),
    spec(
        "mentions",
        "/mentions [page]",
        Role::Volunteer,
        Scope::Any,
        "Open mentions of the conference on Mastodon and Bluesky, oldest first; answer one by replying to its message.",
    ),
    spec(
        "discard",
        "/discard <number>",
        Role::Volunteer,
        Scope::Any,
        "Close a mention without answering it.",
    ),
    spec(
        "boost",
        "/boost <number>",
        Role::Volunteer,
        Scope::Any,
        "Boost (repost) a mention from the conference's account, if the posting policy lets you approve posts.",
    ),
    spec(
        "campaign",
        "/campaign <sessions|sponsors> [filter]",
        Role::Admin,
        Scope::Private,
        "One post per session (of the tracks named) or sponsor (of the levels named), from a template sent next; options start=YYYY-MM-DDTHH:MM every=2h jitter=15m to=provider,… order=shuffled. Shows a preview before anything is made.",
    ),
    spec(
        "campaign approve",
        "/campaign approve <number>",
        Role::Volunteer,
        Scope::Any,
        "Approve every post of a campaign still waiting for approval (if the posting policy lets you); what the campaign's message in the moderation chat offers as Approve all.",
    ),
    spec(
        "campaign review",
        "/campaign review <number>",
        Role::Volunteer,
        Scope::Any,
        "Show each waiting post of a campaign in the moderation chat with its own buttons, instead of the one summary message.",
    ),
    spec(
        "news",
        "/news <title> <url>",
        Role::Admin,
        Scope::Any,
        "Post a news item now: the title, the link and the auto-add hashtags, to every broadcasting network; each link is posted once.",
    ),
    spec(
        "newsfeed",
        "/newsfeed <url> | off",
        Role::Admin,
        Scope::Any,
        "Follow the conference's RSS or Atom feed: every new item becomes a news post (what is in it already is not posted).",
    ),
    spec(
        "sponsors",
        "/sponsors",
        Role::Volunteer,
        Scope::Any,
        "The sponsors with their numbers, levels and handles, and the benefits of each level.",
    ),
    spec(
        "sponsor add",
        "/sponsor add <level> <url> <name>",
        Role::Admin,
        Scope::Any,
        "Add or update a sponsor: its level, address (- for none) and name, then network=handle words for its accounts (mastodon=@x@y).",
    ),
    spec(
        "benefit add",
        "/benefit add <level> <name>",
        Role::Admin,
        Scope::Private,
        "Add a benefit to a sponsorship level; send its post template next (checked against a sample sponsor), or /cancel for a benefit without a post.",
    ),
    spec(
        "benefit confirm",
        "/benefit confirm <sponsor> <benefit>",
        Role::Volunteer,
        Scope::Any,
        "A sponsor got a benefit (numbers from /sponsors): its post is rendered for that sponsor and queued, approved unless the posting policy says otherwise.",
    ),
    spec(
        "provider add",
        "/provider add <kind> <account> [base-url]",
        Role::Admin,
        Scope::Private,
        "Add a Mastodon or Bluesky account; send its credentials as the next message (it is deleted after reading).",
    ),
    spec(
        "provider list",
        "/provider list",
        Role::Admin,
        Scope::Any,
        "The accounts and bots of this conference's series.",
    ),
    spec(
        "provider test",
        "/provider test <account>",
        Role::Admin,
        Scope::Any,
        "Check a provider's credentials with its network.",
    ),
    spec(
        "provider on",
        "/provider on <account>",
        Role::Admin,
        Scope::Any,
        "Activate a provider.",
    ),
    spec(
        "provider off",
        "/provider off <account>",
        Role::Admin,
        Scope::Any,
        "Deactivate a provider; its queued posts stop.",
    ),
    spec(
        "provider webhook",
        "/provider webhook <account> <on|off|status>",
        Role::Admin,
        Scope::Any,
        "X: register Herald's webhook and subscribe the account (on), take them back (off), or show them (status).",
    ),
    spec(
        "switch",
        "/switch <provider> <feature> <state>",
        Role::Admin,
        Scope::Any,
        "Turn a provider's feature on or off for this conference: public, attendees, private, organisers, moderation.",
    ),
    spec(
        "hashtag add",
        "/hashtag add <tag> [auto] [order]",
        Role::Admin,
        Scope::Any,
        "Add a conference hashtag; auto appends it to news posts, the order sorts them.",
    ),
    spec(
        "hashtag remove",
        "/hashtag remove <tag>",
        Role::Admin,
        Scope::Any,
        "Remove a conference hashtag.",
    ),
    spec(
        "hashtag list",
        "/hashtag list",
        Role::Volunteer,
        Scope::Any,
        "The conference's hashtags.",
    ),
    spec(
        "web",
        "/web [logout]",
        Role::Guest,
        Scope::Private,
        "A one-time link (10 minutes) to sign in to the web pages: the config page and the moderation page; /web logout ends every web session of yours.",
    ),
    spec(
        "mobile",
        "/mobile",
        Role::Guest,
        Scope::Private,
        "A one-time link (10 minutes) to the moderation page for phones.",
    ),
    spec(
        "hook",
        "/hook",
        Role::Admin,
        Scope::Private,
        "A new secret for the notify hook other systems post to (ticketing, CfP, monitoring); the old one stops working.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_index_their_own_entries() {
        assert_eq!(Id::Start.spec().name, "start");
        assert_eq!(Id::ConferenceNew.spec().name, "conference new");
        assert_eq!(Id::Announce.spec().name, "announce");
        assert_eq!(CATALOG.len(), Id::COUNT);
    }

    #[test]
    fn groups_and_subcommands() {
        let new = find("conference new").expect("in catalog");
        assert_eq!((new.group(), new.subcommand()), ("conference", Some("new")));
        let start = find("start").expect("in catalog");
        assert_eq!((start.group(), start.subcommand()), ("start", None));
        let subcommands_of = |group: &str| -> Vec<&str> {
            CATALOG
                .iter()
                .filter(|s| s.group() == group)
                .filter_map(|s| s.subcommand())
                .collect()
        };
        assert_eq!(subcommands_of("conference"), CONFERENCE_SUBCOMMANDS);
        assert_eq!(subcommands_of("slot"), SLOT_SUBCOMMANDS);
        let words: Vec<_> = command_words().collect();
        let mut unique = words.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            words.len(),
            unique.len(),
            "subcommands of a group are adjacent"
        );
        assert!(words.contains(&"conference") && !words.contains(&"new"));
    }
}
