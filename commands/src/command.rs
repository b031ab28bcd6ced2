//! The grammar: turns the text of a chat message into a typed [`Command`].
//!
//! This module owns which commands exist, what arguments each takes in which order, and how a message
//! addressed to another bot is ignored. It knows nothing about who is asking; the application compares
//! [`Command::min_role`] with the sender's roles and [`CommandSpec::scope`] with the chat.

use crate::args::{
    InvalidValue, LocalDate, LocalTime, PersonRef, PostingPolicy, Slot, Slug, StartToken,
    TimeZoneName, expected,
};
use crate::catalog::{self, CONFERENCE_SUBCOMMANDS, CONFERENCE_USAGE, CommandSpec, Id};
use crate::{ParseError, Role, raw};

/// A command with its arguments parsed. One variant per catalog entry; see [`Command::spec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start [token]`: link the chat, optionally redeeming a deep-link token.
    Start { token: Option<StartToken> },
    /// `/help [command]`.
    Help { topic: Option<HelpTopic> },
    /// `/whoami`.
    Whoami,
    /// `/stop`: unlink the chat; the application asks for confirmation.
    Stop,
    /// `/settings` shows the settings (`change` is `None`); `/settings reminders off` changes one.
    Settings { change: Option<SettingChange> },
    /// `/settings early <minutes>`: a second, earlier reminder of followed sessions; `off` (`None`) for
    /// none.
    EarlyReminder { minutes: Option<i64> },
    /// `/settings email <address>`: link an e-mail address (Herald mails a confirmation link first).
    LinkEmail { address: String },
    /// `/settings language [code]`: the languages Herald speaks (`None`), or read Herald in one.
    Language { code: Option<String> },
    /// `/cancel`: drop the pending confirmation.
    Cancel,
    /// `/conference <subcommand> …`.
    Conference(ConferenceCommand),
    /// `/status`, short for `/conference status`.
    Status,
    /// `/admins`.
    Admins,
    /// `/grant <person> <role>`; `role` is a conference role.
    Grant { person: PersonRef, role: Role },
    /// `/revoke <person> <role>`; `role` is a conference role.
    Revoke { person: PersonRef, role: Role },
    /// `/invite <role> [address] [name]`; `role` is a conference role, `name` a single line; with an
    /// e-mail address the invitation is mailed there.
    Invite {
        role: Role,
        email: Option<String>,
        name: Option<String>,
    },
    /// `/bind <slot>`.
    Bind { slot: Slot },
    /// `/bind <code>` in the group or channel to bind: the code `/bind <slot>` gave.
    BindCode { code: String },
    /// `/unbind <slot>`.
    Unbind { slot: Slot },
    /// `/dm <person> <text>`; `text` is kept verbatim, line breaks included.
    Dm { person: PersonRef, text: String },
    /// `/announce <text>`; `text` is kept verbatim, line breaks included.
    Announce { text: String },
    /// `/now`: sessions running now.
    Now,
    /// `/next`: the sessions starting next.
    Next,
    /// `/today`: today's sessions.
    Today,
    /// `/session <number>`: one session in full.
    Session { number: i64 },
    /// `/room <name>`: what is on in a room today; the name is the rest of the line.
    Room { name: String },
    /// `/follow <number>` or `/follow /pattern/`: personal reminders.
    Follow { target: FollowTarget },
    /// `/unfollow <number>` or `/unfollow /pattern/`.
    Unfollow { target: FollowTarget },
    /// `/following`: what the sender follows.
    Following,
    /// `/slot <add|assign|list> …`: volunteer shifts.
    VolunteerSlot(SlotCommand),
    /// `/myslots`: the sender's shifts.
    MySlots,
    /// `/calendar`: a link to a personal calendar feed; `/calendar <session>`: a calendar invitation for
    /// one session, mailed to the person's confirmed address and kept up to date.
    Calendar { session: Option<i64> },
    /// `/import <url>`: fetch the schedule from a URL now and keep it in sync.
    Import { url: String },
    /// `/post <text>`: a public post, moderated by the conference's posting policy.
    Post { text: String },
    /// `/queue`: posts waiting for approval or scheduled.
    Queue,
    /// `/retry <number>`: send a post again where it failed.
    RetryPost { number: i64 },
    /// `/history <number>`: a post's audit trail.
    History { number: i64 },
    /// `/approve <number>`.
    Approve { number: i64 },
    /// `/reject <number> [reason]`.
    Reject { number: i64, reason: Option<String> },
    /// `/edit <number> <text>`.
    EditPost { number: i64, text: String },
    /// `/split <number> <on|off>`: whether a post may go out as a thread.
    SplitPost { number: i64, allow: bool },
    /// `/variant <number> <provider> [text]`: the post's own text for one provider; none drops it.
    Variant {
        number: i64,
        provider: String,
        text: Option<String>,
    },
    /// `/image <number> <alt text>`: the picture this caption belongs to joins the post.
    Image { number: i64, alt: String },
    /// `/mentions [page]`: open mentions.
    Mentions { page: i64 },
    /// `/discard <number>`: close a mention unanswered.
    Discard { number: i64 },
    /// `/boost <number>`: boost a mention.
    Boost { number: i64 },
    /// `/news <title> <url>`: a news post.
    News { title: String, url: String },
    /// `/newsfeed <url> | off`.
    NewsFeed { url: Option<String> },
    /// `/sponsors`.
    Sponsors,
    /// `/sponsor add <level> <url|-> <name…> [network=handle…]`.
    SponsorAdd {
        level: String,
        url: Option<String>,
        name: String,
        handles: Vec<(String, String)>,
    },
    /// `/benefit add <level> <name>` / `/benefit confirm <sponsor> <benefit>`.
    Benefit(BenefitCommand),
    /// `/campaign sessions [track…] [option=value…]`.
    Campaign(CampaignRequest),
    /// `/campaign approve <number>`: approve every post of a campaign still waiting for approval.
    CampaignApprove { number: i64 },
    /// `/campaign review <number>`: one moderation message per waiting post of a campaign.
    CampaignReview { number: i64 },
    /// `/cancel <number>`: withdraw a post (`/cancel` alone cancels a pending confirmation).
    CancelPost { number: i64 },
    /// `/provider <add|list|test|on|off> …`.
    Provider(ProviderCommand),
    /// `/switch <provider> <feature> <on|off>`: what a provider does for the current conference.
    Switch {
        provider: String,
        feature: Feature,
        on: bool,
    },
    /// `/hashtag <add|remove|list> …`.
    Hashtag(HashtagCommand),
    /// `/web [logout]`: a sign-in link for the web pages, or end every web session of the sender.
    Web { logout: bool },
    /// `/mobile`: a sign-in link that opens the moderation page for phones.
    Mobile,
    /// `/hook`: a new secret for the conference's notify hook.
    Hook,
}

/// The subcommands of `/hashtag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashtagCommand {
    /// `/hashtag add <tag> [auto] [order]`: `auto` appends it to news posts; `order` sorts (default 0).
    Add {
        tag: String,
        auto_add: bool,
        order: i64,
    },
    Remove {
        tag: String,
    },
    List,
}

/// The subcommands of `/provider`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderCommand {
    /// `/provider add <kind> <name> [base-url]`; the credentials follow in the next message. The kind is a
    /// network's name, lowercase (which networks exist is the application's to say).
    Add {
        kind: String,
        name: String,
        base_url: Option<String>,
    },
    List,
    Test {
        name: String,
    },
    /// `/provider on <name>` / `/provider off <name>`.
    Active {
        name: String,
        on: bool,
    },
    /// `/provider webhook <name> <on|off|status>`: the network's webhook for the account (X).
    Webhook {
        name: String,
        action: WebhookAction,
    },
}

/// What `/provider webhook` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    /// Register Herald's webhook (or check it again) and subscribe the account to it.
    On,
    /// Unsubscribe the account and take the webhook back.
    Off,
    /// Show the webhook and the subscription.
    Status,
}

impl WebhookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Off => "off",
            Self::Status => "status",
        }
    }
}

/// What a provider may do for a conference (see the messaging switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    PublicBroadcast,
    AttendeeBroadcast,
    PrivateNotifications,
    OrganiserNotifications,
    SocialManagement,
}

impl Feature {
    pub const ALL: [Self; 5] = [
        Self::PublicBroadcast,
        Self::AttendeeBroadcast,
        Self::PrivateNotifications,
        Self::OrganiserNotifications,
        Self::SocialManagement,
    ];

    /// The word typed in `/switch`, and the column it maps to.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PublicBroadcast => "public",
            Self::AttendeeBroadcast => "attendees",
            Self::PrivateNotifications => "private",
            Self::OrganiserNotifications => "organisers",
            Self::SocialManagement => "moderation",
        }
    }
}

/// The subcommands of `/slot` (volunteer shifts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotCommand {
    /// `/slot add <start> <end> <title>`, local date-times, the title the rest of the line.
    Add {
        start: crate::args::LocalDateTime,
        end: crate::args::LocalDateTime,
        title: String,
    },
    /// `/slot assign <number> <person>`.
    Assign { number: i64, person: PersonRef },
    /// `/slot list`.
    List,
}

/// What `/follow` follows: one session, or every session whose title matches a pattern (now and after
/// later imports). The pattern is a regular expression, checked by the application.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FollowTarget {
    Session(i64),
    Pattern(String),
}

/// The subcommands of `/conference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConferenceCommand {
    /// `/conference new <slug> <tz> <start-date> <end-date> <name>`; `ends_on` is not before `starts_on` and
    /// `name` is the rest of the line.
    New {
        slug: Slug,
        time_zone: TimeZoneName,
        starts_on: LocalDate,
        ends_on: LocalDate,
        name: String,
    },
    /// `/conference list`.
    List,
    /// `/conference use <slug>`.
    Use { slug: Slug },
    /// `/conference policy <0-4>`.
    Policy { policy: PostingPolicy },
    /// `/conference window <from> <to>` or `/conference window off`.
    Window(WindowSetting),
    /// `/conference status`.
    Status,
    /// `/conference reminders <sessions> <speakers> <volunteers>`: minutes before a start.
    Reminders {
        sessions: i64,
        speakers: i64,
        volunteers: i64,
    },
    /// `/conference email <address|off>`: where organiser notices are mirrored by mail (`None`: nowhere).
    Email { address: Option<String> },
}

/// The daily window in which Herald may send messages for a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowSetting {
    /// No window: send at any time.
    Off,
    /// Send only from `from` until `to`, local time; `to` before `from` spans midnight. Never equal.
    Daily { from: LocalTime, to: LocalTime },
}

/// `/settings <setting> [<channel>] <on|off>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SettingChange {
    pub setting: Setting,
    /// One of the person's channels, as `/settings` lists them, lowercase; `None` for all of them.
    pub channel: Option<String>,
    pub enabled: bool,
}

/// A per-person switch changed with `/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    Announcements,
    Reminders,
    /// Direct messages from organisers (`/dm`).
    Direct,
}

impl Setting {
    pub const ALL: [Self; 3] = [Self::Announcements, Self::Reminders, Self::Direct];

    /// The stable lowercase name, as typed.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Announcements => "announcements",
            Self::Reminders => "reminders",
            Self::Direct => "direct",
        }
    }
}

/// What `/help` was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelpTopic {
    /// One command, such as `/help grant` or `/help conference new`.
    Command(&'static CommandSpec),
    /// All subcommands of a command word, such as `/help conference`.
    Group(&'static str),
}

impl HelpTopic {
    /// The catalog entries the topic covers, in catalog order.
    pub fn specs(self) -> impl Iterator<Item = &'static CommandSpec> {
        catalog::catalog().iter().filter(move |spec| match self {
            Self::Command(wanted) => std::ptr::eq(*spec, wanted),
            Self::Group(group) => spec.group() == group,
        })
    }
}

/// Parses a chat message; see [`Command::parse`].
pub fn parse(text: &str, bot_username: Option<&str>) -> Result<Option<Command>, ParseError> {
    Command::parse(text, bot_username)
}

impl Command {
    /// Parses a chat message such as `/grant@HeraldBot @alice speaker` or, from a network without bot
    /// addressing, `/grant @alice speaker`.
    ///
    /// Returns `Ok(None)` when the text is not a command, or is addressed to another bot: `/cmd@OtherBot`
    /// when `bot_username` (with or without its `@`) differs, ignoring case. Without a `bot_username` any
    /// address is accepted. Command names, subcommands and keywords (roles, slots, `on`/`off`) are
    /// case-insensitive; slugs, tokens and free text are taken as typed.
    pub fn parse(text: &str, bot_username: Option<&str>) -> Result<Option<Self>, ParseError> {
        let Some(raw) = raw::split(text) else {
            return Ok(None);
        };
        if !addressed_to_us(raw.addressed_to, bot_username) {
            return Ok(None);
        }
        Self::parse_named(&raw.name, raw.args).map(Some)
    }

    /// The catalog entry for this command.
    pub fn spec(&self) -> &'static CommandSpec {
        self.id().spec()
    }

    /// The lowest role that may use this command.
    pub fn min_role(&self) -> Role {
        self.spec().min_role
    }

    fn id(&self) -> Id {
        match self {
            Self::Start { .. } => Id::Start,
            Self::Help { .. } => Id::Help,
            Self::Whoami => Id::Whoami,
            Self::Stop => Id::Stop,
            Self::Settings { .. } => Id::Settings,
            Self::EarlyReminder { .. } => Id::SettingsEarly,
            Self::LinkEmail { .. } => Id::SettingsEmail,
            Self::Language { .. } => Id::SettingsLanguage,
            Self::Cancel => Id::Cancel,
            Self::Conference(sub) => match sub {
                ConferenceCommand::New { .. } => Id::ConferenceNew,
                ConferenceCommand::List => Id::ConferenceList,
                ConferenceCommand::Use { .. } => Id::ConferenceUse,
                ConferenceCommand::Policy { .. } => Id::ConferencePolicy,
                ConferenceCommand::Window(_) => Id::ConferenceWindow,
                ConferenceCommand::Reminders { .. } => Id::ConferenceReminders,
                ConferenceCommand::Email { .. } => Id::ConferenceEmail,
                ConferenceCommand::Status => Id::ConferenceStatus,
            },
            Self::Status => Id::Status,
            Self::Admins => Id::Admins,
            Self::Grant { .. } => Id::Grant,
            Self::Revoke { .. } => Id::Revoke,
            Self::Invite { .. } => Id::Invite,
            Self::Bind { .. } => Id::Bind,
            Self::BindCode { .. } => Id::BindCode,
            Self::Unbind { .. } => Id::Unbind,
            Self::Dm { .. } => Id::Dm,
            Self::Announce { .. } => Id::Announce,
            Self::Now => Id::Now,
            Self::Next => Id::Next,
            Self::Today => Id::Today,
            Self::Session { .. } => Id::Session,
            Self::Room { .. } => Id::Room,
            Self::Follow { .. } => Id::Follow,
            Self::Unfollow { .. } => Id::Unfollow,
            Self::Following => Id::Following,
            Self::VolunteerSlot(sub) => match sub {
                SlotCommand::Add { .. } => Id::SlotAdd,
                SlotCommand::Assign { .. } => Id::SlotAssign,
                SlotCommand::List => Id::SlotList,
            },
            Self::MySlots => Id::MySlots,
            Self::Calendar { .. } => Id::Calendar,
            Self::Import { .. } => Id::Import,
            Self::Post { .. } => Id::Post,
            Self::Queue => Id::Queue,
            Self::RetryPost { .. } => Id::RetryPost,
            Self::History { .. } => Id::History,
            Self::Approve { .. } => Id::Approve,
            Self::Reject { .. } => Id::Reject,
            Self::EditPost { .. } => Id::EditPost,
            Self::SplitPost { .. } => Id::SplitPost,
            Self::Variant { .. } => Id::Variant,
            Self::Image { .. } => Id::Image,
            Self::Mentions { .. } => Id::Mentions,
            Self::Discard { .. } => Id::Discard,
            Self::Boost { .. } => Id::Boost,
            Self::Campaign(_) => Id::Campaign,
            Self::CampaignApprove { .. } => Id::CampaignApprove,
            Self::CampaignReview { .. } => Id::CampaignReview,
            Self::News { .. } => Id::News,
            Self::NewsFeed { .. } => Id::NewsFeed,
            Self::Sponsors => Id::Sponsors,
            Self::SponsorAdd { .. } => Id::SponsorAdd,
            Self::Benefit(BenefitCommand::Add { .. }) => Id::BenefitAdd,
            Self::Benefit(BenefitCommand::Confirm { .. }) => Id::BenefitConfirm,
            Self::CancelPost { .. } => Id::CancelPost,
            Self::Provider(sub) => match sub {
                ProviderCommand::Add { .. } => Id::ProviderAdd,
                ProviderCommand::List => Id::ProviderList,
                ProviderCommand::Test { .. } => Id::ProviderTest,
                ProviderCommand::Active { on: true, .. } => Id::ProviderOn,
                ProviderCommand::Active { on: false, .. } => Id::ProviderOff,
                ProviderCommand::Webhook { .. } => Id::ProviderWebhook,
            },
            Self::Switch { .. } => Id::Switch,
            Self::Hashtag(sub) => match sub {
                HashtagCommand::Add { .. } => Id::HashtagAdd,
                HashtagCommand::Remove { .. } => Id::HashtagRemove,
                HashtagCommand::List => Id::HashtagList,
            },
            Self::Web { .. } => Id::Web,
            Self::Mobile => Id::Mobile,
            Self::Hook => Id::Hook,
        }
    }

    fn parse_named(name: &str, args: &str) -> Result<Self, ParseError> {
        match name {
            "start" => {
                let mut args = Args::new(Id::Start, args);
                let token = args.optional("token", StartToken::parse)?;
                args.finish(Self::Start { token })
            }
            "help" => parse_help(args),
            "whoami" => Args::new(Id::Whoami, args).finish(Self::Whoami),
            "stop" => Args::new(Id::Stop, args).finish(Self::Stop),
            "settings" => match next_word(args) {
                Some((sub, rest)) if sub.eq_ignore_ascii_case("early") => {
                    let mut args = Args::new(Id::SettingsEarly, rest);
                    let minutes = args.required("minutes", crate::args::early_minutes)?;
                    args.finish(Self::EarlyReminder { minutes })
                }
                Some((sub, rest)) if sub.eq_ignore_ascii_case("email") => {
                    let mut args = Args::new(Id::SettingsEmail, rest);
                    let address = args.required("address", crate::args::email_address)?;
                    args.finish(Self::LinkEmail { address })
                }
                Some((sub, rest)) if sub.eq_ignore_ascii_case("language") => {
                    let mut args = Args::new(Id::SettingsLanguage, rest);
                    let code = args.optional("lang", crate::args::language_code)?;
                    args.finish(Self::Language { code })
                }
                _ => parse_settings(Args::new(Id::Settings, args)),
            },
            "cancel" if args.trim().is_empty() => Args::new(Id::Cancel, args).finish(Self::Cancel),
            "cancel" => {
                let mut args = Args::new(Id::CancelPost, args);
                let number = args.required("number", crate::args::post_number)?;
                args.finish(Self::CancelPost { number })
            }
            // `/post` alone asks for the conference's hashtags to start from.
            "post" => Ok(Self::Post {
                text: args.trim().to_owned(),
            }),
            "hashtag" => parse_hashtag(args).map(Self::Hashtag),
            "web" => {
                let mut args = Args::new(Id::Web, args);
                let logout = args.optional("logout", logout)?.is_some();
                args.finish(Self::Web { logout })
            }
            "mobile" => Args::new(Id::Mobile, args).finish(Self::Mobile),
            "hook" => Args::new(Id::Hook, args).finish(Self::Hook),
            "queue" => Args::new(Id::Queue, args).finish(Self::Queue),
            "retry" => {
                let mut args = Args::new(Id::RetryPost, args);
                let number = args.required("number", crate::args::post_number)?;
                args.finish(Self::RetryPost { number })
            }
            "history" => {
                let mut args = Args::new(Id::History, args);
                let number = args.required("number", crate::args::post_number)?;
                args.finish(Self::History { number })
            }
            "approve" => {
                let mut args = Args::new(Id::Approve, args);
                let number = args.required("number", crate::args::post_number)?;
                args.finish(Self::Approve { number })
            }
            "reject" => {
                let mut args = Args::new(Id::Reject, args);
                let number = args.required("number", crate::args::post_number)?;
                let reason = args
                    .rest()
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty());
                Ok(Self::Reject { number, reason })
            }
            "edit" => {
                let mut args = Args::new(Id::EditPost, args);
                let number = args.required("number", crate::args::post_number)?;
                let text = args.required_rest("text")?.to_owned();
                Ok(Self::EditPost { number, text })
            }
            "variant" => {
                let mut args = Args::new(Id::Variant, args);
                let number = args.required("number", crate::args::post_number)?;
                let provider = args.required("provider", crate::args::provider_name)?;
                let text = args.rest().map(|t| t.trim().to_owned());
                Ok(Self::Variant {
                    number,
                    provider,
                    text,
                })
            }
            "mentions" => {
                let mut args = Args::new(Id::Mentions, args);
                let page = args.optional("page", crate::args::page_number)?;
                args.finish(Self::Mentions {
                    page: page.unwrap_or(1),
                })
            }
            "discard" => {
                let mut args = Args::new(Id::Discard, args);
                let number = args.required("number", crate::args::mention_number)?;
                args.finish(Self::Discard { number })
            }
            "boost" => {
                let mut args = Args::new(Id::Boost, args);
                let number = args.required("number", crate::args::mention_number)?;
                args.finish(Self::Boost { number })
            }
            "campaign" => match next_word(args) {
                Some((sub, rest)) if sub.eq_ignore_ascii_case("approve") => {
                    let mut args = Args::new(Id::CampaignApprove, rest);
                    let number = args.required("number", crate::args::post_number)?;
                    args.finish(Self::CampaignApprove { number })
                }
                Some((sub, rest)) if sub.eq_ignore_ascii_case("review") => {
                    let mut args = Args::new(Id::CampaignReview, rest);
                    let number = args.required("number", crate::args::post_number)?;
                    args.finish(Self::CampaignReview { number })
                }
                _ => parse_campaign(args).map(Self::Campaign),
            },
            "sponsors" => Args::new(Id::Sponsors, args).finish(Self::Sponsors),
            "sponsor" => {
                let rest = match next_word(args) {
                    Some((sub, rest)) if sub.eq_ignore_ascii_case("add") => rest,
                    Some((sub, _)) => {
                        return Err(ParseError::UnknownSubcommand {
                            command: "sponsor",
                            given: sub.to_owned(),
                            valid: &["add"],
                        });
                    }
                    None => {
                        return Err(ParseError::MissingArgument {
                            command: "sponsor",
                            argument: "subcommand",
                            usage: "/sponsor add <level> <url> <name>",
                        });
                    }
                };
                let mut args = Args::new(Id::SponsorAdd, rest);
                let level = args.required("level", |w| Ok::<_, InvalidValue>(w.to_owned()))?;
                let url = args.required("url", |w| {
                    if w == "-" {
                        Ok(None)
                    } else {
                        crate::args::http_url(w).map(Some)
                    }
                })?;
                let mut name = Vec::new();
                let mut handles = Vec::new();
                while let Some(word) = args.next() {
                    match word.split_once('=') {
                        Some((network, handle)) if !network.is_empty() && !handle.is_empty() => {
                            handles.push((network.to_ascii_lowercase(), handle.to_owned()));
                        }
                        _ => name.push(word),
                    }
                }
                if name.is_empty() {
                    return Err(args.missing("name"));
                }
                let name = args.name("name", &name.join(" "))?;
                Ok(Self::SponsorAdd {
                    level,
                    url,
                    name,
                    handles,
                })
            }
            "benefit" => parse_benefit(args).map(Self::Benefit),
            "news" => {
                let mut args = Args::new(Id::News, args);
                let text = args.required_rest("title")?.trim().to_owned();
                // The link is the last word; the title everything before it.
                let (title, url) = text.rsplit_once(char::is_whitespace).unwrap_or(("", &text));
                if title.trim().is_empty() {
                    return Err(args.missing("title"));
                }
                let url = args.value("url", url, crate::args::http_url)?;
                Ok(Self::News {
                    title: title.trim().to_owned(),
                    url,
                })
            }
            "newsfeed" => {
                let mut args = Args::new(Id::NewsFeed, args);
                let url = args.required("url", |w| {
                    if w.eq_ignore_ascii_case("off") {
                        Ok(None)
                    } else {
                        crate::args::http_url(w).map(Some)
                    }
                })?;
                args.finish(Self::NewsFeed { url })
            }
            "image" => {
                let mut args = Args::new(Id::Image, args);
                let number = args.required("number", crate::args::post_number)?;
                let alt = args.required_rest("alt text")?.trim().to_owned();
                Ok(Self::Image { number, alt })
            }
            "split" => {
                let mut args = Args::new(Id::SplitPost, args);
                let number = args.required("number", crate::args::post_number)?;
                let allow = args.required("on|off", on_off)?;
                args.finish(Self::SplitPost { number, allow })
            }
            "provider" => parse_provider(args).map(Self::Provider),
            "switch" => {
                let mut args = Args::new(Id::Switch, args);
                let provider = args.required("provider", crate::args::provider_name)?;
                let feature = args.required("feature", feature)?;
                let on = args.required("state", on_off)?;
                args.finish(Self::Switch {
                    provider,
                    feature,
                    on,
                })
            }
            "conference" => parse_conference(args).map(Self::Conference),
            "status" => Args::new(Id::Status, args).finish(Self::Status),
            "admins" => Args::new(Id::Admins, args).finish(Self::Admins),
            "grant" => {
                let mut args = Args::new(Id::Grant, args);
                let person = args.required("person", PersonRef::parse)?;
                let role = args.required("role", conference_role)?;
                args.finish(Self::Grant { person, role })
            }
            "revoke" => {
                let mut args = Args::new(Id::Revoke, args);
                let person = args.required("person", PersonRef::parse)?;
                let role = args.required("role", conference_role)?;
                args.finish(Self::Revoke { person, role })
            }
            "invite" => {
                let mut args = Args::new(Id::Invite, args);
                let role = args.required("role", conference_role)?;
                // A word with `@` that is not a Telegram @username is an address to mail.
                let email = match next_word(args.remaining) {
                    Some((word, rest)) if word.contains('@') && !word.starts_with('@') => {
                        args.remaining = rest;
                        Some(args.value("address", word, crate::args::email_address)?)
                    }
                    _ => None,
                };
                let name = args
                    .rest()
                    .map(|name| args.name("name", name))
                    .transpose()?;
                Ok(Self::Invite { role, email, name })
            }
            "bind" if args.trim_start().starts_with(crate::args::BIND_CODE_PREFIX) => {
                let mut args = Args::new(Id::BindCode, args);
                let code = args.required("code", crate::args::bind_code)?;
                args.finish(Self::BindCode { code })
            }
            "bind" => {
                let mut args = Args::new(Id::Bind, args);
                let slot = args.required("slot", Slot::parse)?;
                args.finish(Self::Bind { slot })
            }
            "unbind" => {
                let mut args = Args::new(Id::Unbind, args);
                let slot = args.required("slot", Slot::parse)?;
                args.finish(Self::Unbind { slot })
            }
            "dm" => {
                let mut args = Args::new(Id::Dm, args);
                let person = args.required("person", PersonRef::parse)?;
                let text = args.required_rest("text")?.to_owned();
                Ok(Self::Dm { person, text })
            }
            "announce" => {
                let mut args = Args::new(Id::Announce, args);
                let text = args.required_rest("text")?.to_owned();
                Ok(Self::Announce { text })
            }
            "now" => Args::new(Id::Now, args).finish(Self::Now),
            "next" => Args::new(Id::Next, args).finish(Self::Next),
            "today" => Args::new(Id::Today, args).finish(Self::Today),
            "session" => {
                let mut args = Args::new(Id::Session, args);
                let number = args.required("number", crate::args::session_number)?;
                args.finish(Self::Session { number })
            }
            "room" => {
                let mut args = Args::new(Id::Room, args);
                let name = args.required_rest("name")?.trim().to_owned();
                Ok(Self::Room { name })
            }
            "follow" => Ok(Self::Follow {
                target: follow_target(Id::Follow, args)?,
            }),
            "unfollow" => Ok(Self::Unfollow {
                target: follow_target(Id::Unfollow, args)?,
            }),
            "following" => Args::new(Id::Following, args).finish(Self::Following),
            "slot" => parse_slot(args).map(Self::VolunteerSlot),
            "myslots" => Args::new(Id::MySlots, args).finish(Self::MySlots),
            "calendar" => {
                let mut args = Args::new(Id::Calendar, args);
                let session = args.optional("session", crate::args::session_number)?;
                args.finish(Self::Calendar { session })
            }
            "import" => {
                let mut args = Args::new(Id::Import, args);
                let url = args.required("url", crate::args::http_url)?;
                args.finish(Self::Import { url })
            }
            _ => Err(ParseError::unknown_command(name)),
        }
    }
}

fn feature(s: &str) -> Result<Feature, InvalidValue> {
    Feature::ALL
        .into_iter()
        .find(|f| f.as_str().eq_ignore_ascii_case(s))
        .ok_or(InvalidValue {
            expected: expected::FEATURE,
        })
}

fn provider_kind(s: &str) -> Result<String, InvalidValue> {
    let valid = !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then(|| s.to_ascii_lowercase()).ok_or(InvalidValue {
        expected: expected::PROVIDER_KIND,
    })
}

/// The subcommands of `/benefit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenefitCommand {
    /// `/benefit add <level> <name…>`.
    Add { level: String, name: String },
    /// `/benefit confirm <sponsor number> <benefit number>`.
    Confirm { sponsor: i64, benefit: i64 },
}

fn parse_benefit(text: &str) -> Result<BenefitCommand, ParseError> {
    let Some((sub, rest)) = next_word(text) else {
        return Err(ParseError::MissingArgument {
            command: "benefit",
            argument: "subcommand",
            usage: catalog::BENEFIT_USAGE,
        });
    };
    match sub.to_ascii_lowercase().as_str() {
        "add" => {
            let mut args = Args::new(Id::BenefitAdd, rest);
            let level = args.required("level", |w| Ok::<_, InvalidValue>(w.to_owned()))?;
            let name = args.required_rest("name")?.trim().to_owned();
            let name = args.name("name", &name)?;
            Ok(BenefitCommand::Add { level, name })
        }
        "confirm" => {
            let mut args = Args::new(Id::BenefitConfirm, rest);
            let sponsor = args.required("sponsor", crate::args::post_number)?;
            let benefit = args.required("benefit", crate::args::post_number)?;
            args.finish(BenefitCommand::Confirm { sponsor, benefit })
        }
        _ => Err(ParseError::UnknownSubcommand {
            command: "benefit",
            given: sub.to_owned(),
            valid: catalog::BENEFIT_SUBCOMMANDS,
        }),
    }
}

/// What a campaign is about: one post per session, or per sponsor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CampaignKind {
    #[default]
    Sessions,
    Sponsors,
}

impl CampaignKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sessions => "sessions",
            Self::Sponsors => "sponsors",
        }
    }
}

/// What a campaign covers and how it is spread.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CampaignRequest {
    pub kind: CampaignKind,
    /// Tracks (of sessions) or levels (of sponsors): words not of the form `key=value`; empty: all.
    pub tracks: Vec<String>,
    pub start: Option<crate::args::LocalDateTime>,
    pub every_secs: Option<i64>,
    pub jitter_secs: Option<i64>,
    /// Provider names; empty: every provider broadcasting.
    pub to: Vec<String>,
    pub shuffled: bool,
}

fn parse_campaign(text: &str) -> Result<CampaignRequest, ParseError> {
    let mut args = Args::new(Id::Campaign, text);
    let kind = args.required("sessions|sponsors", |w| {
        match w.to_ascii_lowercase().as_str() {
            "sessions" => Ok(CampaignKind::Sessions),
            "sponsors" => Ok(CampaignKind::Sponsors),
            _ => Err(InvalidValue {
                expected: "sessions or sponsors (or approve or review and a campaign's number)",
            }),
        }
    })?;
    let mut request = CampaignRequest {
        kind,
        ..CampaignRequest::default()
    };
    while let Some(word) = args.next() {
        let Some((key, value)) = word.split_once('=') else {
            request.tracks.push(word.to_owned());
            continue;
        };
        match key.to_ascii_lowercase().as_str() {
            "start" => {
                request.start =
                    Some(args.value("start", value, crate::args::LocalDateTime::parse)?);
            }
            "every" => {
                let secs = args.value("every", value, crate::args::duration_secs)?;
                if secs <= 0 {
                    return Err(args.invalid("every", value, expected::DURATION));
                }
                request.every_secs = Some(secs);
            }
            "jitter" => {
                request.jitter_secs =
                    Some(args.value("jitter", value, crate::args::duration_secs)?)
            }
            "to" => {
                request.to = value
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(|n| args.value("to", n, crate::args::provider_name))
                    .collect::<Result<_, _>>()?;
            }
            "order" => match value.to_ascii_lowercase().as_str() {
                "schedule" => request.shuffled = false,
                "shuffled" | "shuffle" | "random" => request.shuffled = true,
                _ => return Err(args.invalid("order", value, "schedule or shuffled")),
            },
            _ => return Err(args.invalid("option", word, expected::CAMPAIGN_OPTION)),
        }
    }
    Ok(request)
}

fn parse_provider(text: &str) -> Result<ProviderCommand, ParseError> {
    let Some((sub, rest)) = next_word(text) else {
        return Err(ParseError::MissingArgument {
            command: "provider",
            argument: "subcommand",
            usage: catalog::PROVIDER_USAGE,
        });
    };
    match sub.to_ascii_lowercase().as_str() {
        "add" => {
            let mut args = Args::new(Id::ProviderAdd, rest);
            let kind = args.required("kind", provider_kind)?;
            let name = args.required("name", crate::args::provider_name)?;
            let base_url = args.optional("base-url", crate::args::http_url)?;
            args.finish(ProviderCommand::Add {
                kind,
                name,
                base_url,
            })
        }
        "list" => Args::new(Id::ProviderList, rest).finish(ProviderCommand::List),
        "test" => {
            let mut args = Args::new(Id::ProviderTest, rest);
            let name = args.required("name", crate::args::provider_name)?;
            args.finish(ProviderCommand::Test { name })
        }
        word @ ("on" | "off") => {
            let id = if word == "on" {
                Id::ProviderOn
            } else {
                Id::ProviderOff
            };
            let mut args = Args::new(id, rest);
            let name = args.required("name", crate::args::provider_name)?;
            args.finish(ProviderCommand::Active {
                name,
                on: word == "on",
            })
        }
        "webhook" => {
            let mut args = Args::new(Id::ProviderWebhook, rest);
            let name = args.required("name", crate::args::provider_name)?;
            let action = args.required("action", webhook_action)?;
            args.finish(ProviderCommand::Webhook { name, action })
        }
        _ => Err(ParseError::UnknownSubcommand {
            command: "provider",
            given: sub.to_owned(),
            valid: catalog::PROVIDER_SUBCOMMANDS,
        }),
    }
}

fn hashtag(s: &str) -> Result<String, InvalidValue> {
    let tag = s.strip_prefix('#').unwrap_or(s);
    let ok = (1..=64).contains(&tag.chars().count())
        && tag.chars().all(|c| c.is_alphanumeric() || c == '_');
    if ok {
        Ok(tag.to_owned())
    } else {
        Err(InvalidValue {
            expected: expected::HASHTAG,
        })
    }
}

fn order(s: &str) -> Result<i64, InvalidValue> {
    s.parse::<i64>().map_err(|_| InvalidValue {
        expected: expected::ORDER,
    })
}

fn parse_hashtag(text: &str) -> Result<HashtagCommand, ParseError> {
    let Some((sub, rest)) = next_word(text) else {
        return Err(ParseError::MissingArgument {
            command: "hashtag",
            argument: "subcommand",
            usage: catalog::HASHTAG_USAGE,
        });
    };
    match sub.to_ascii_lowercase().as_str() {
        "add" => {
            let mut args = Args::new(Id::HashtagAdd, rest);
            let tag = args.required("tag", hashtag)?;
            let mut auto_add = false;
            let mut position = 0;
            while let Some(word) = args.next() {
                match word.to_ascii_lowercase().as_str() {
                    "auto" => auto_add = true,
                    "manual" => auto_add = false,
                    _ => position = args.value("order", word, order)?,
                }
            }
            Ok(HashtagCommand::Add {
                tag,
                auto_add,
                order: position,
            })
        }
        "remove" => {
            let mut args = Args::new(Id::HashtagRemove, rest);
            let tag = args.required("tag", hashtag)?;
            args.finish(HashtagCommand::Remove { tag })
        }
        "list" => Args::new(Id::HashtagList, rest).finish(HashtagCommand::List),
        _ => Err(ParseError::UnknownSubcommand {
            command: "hashtag",
            given: sub.to_owned(),
            valid: catalog::HASHTAG_SUBCOMMANDS,
        }),
    }
}

fn parse_slot(text: &str) -> Result<SlotCommand, ParseError> {
    let Some((sub, rest)) = next_word(text) else {
        return Err(ParseError::MissingArgument {
            command: "slot",
            argument: "subcommand",
            usage: catalog::SLOT_USAGE,
        });
    };
    match sub.to_ascii_lowercase().as_str() {
        "add" => {
            let mut args = Args::new(Id::SlotAdd, rest);
            let start = args.required("start", crate::args::LocalDateTime::parse)?;
            let end_text = args.word("end")?;
            let end = args.value("end", end_text, crate::args::LocalDateTime::parse)?;
            if end <= start {
                return Err(args.invalid("end", end_text, expected::SLOT_END));
            }
            let title = args.required_rest("title")?;
            let title = args.name("title", title)?;
            Ok(SlotCommand::Add { start, end, title })
        }
        "assign" => {
            let mut args = Args::new(Id::SlotAssign, rest);
            let number = args.required("number", crate::args::session_number)?;
            let person = args.required("person", PersonRef::parse)?;
            args.finish(SlotCommand::Assign { number, person })
        }
        "list" => Args::new(Id::SlotList, rest).finish(SlotCommand::List),
        _ => Err(ParseError::UnknownSubcommand {
            command: "slot",
            given: sub.to_owned(),
            valid: catalog::SLOT_SUBCOMMANDS,
        }),
    }
}

/// `<number>` or `/pattern/` (the pattern may contain spaces).
fn follow_target(id: Id, args: &str) -> Result<FollowTarget, ParseError> {
    let text = args.trim();
    if let Some(inner) = text.strip_prefix('/').and_then(|t| t.strip_suffix('/')) {
        if inner.trim().is_empty() {
            return Err(ParseError::InvalidArgument {
                command: id.spec().name,
                argument: "pattern",
                value: text.to_owned(),
                expected: crate::args::expected::FOLLOW,
            });
        }
        return Ok(FollowTarget::Pattern(inner.to_owned()));
    }
    let mut args = Args::new(id, args);
    let number = args.required("session", crate::args::session_number)?;
    args.finish(FollowTarget::Session(number))
}

fn addressed_to_us(addressed_to: Option<&str>, bot_username: Option<&str>) -> bool {
    match (addressed_to, bot_username) {
        (None, _) => true,
        // `/cmd@` names no bot at all; treat it as text rather than guess.
        (Some(""), _) => false,
        (Some(_), None) => true,
        (Some(to), Some(me)) => to.eq_ignore_ascii_case(me.strip_prefix('@').unwrap_or(me)),
    }
}

fn conference_role(s: &str) -> Result<Role, InvalidValue> {
    let invalid = InvalidValue {
        expected: expected::CONFERENCE_ROLE,
    };
    match s.parse::<Role>() {
        Ok(role) if role.is_conference_role() => Ok(role),
        _ => Err(invalid),
    }
}

fn logout(s: &str) -> Result<(), InvalidValue> {
    if s.eq_ignore_ascii_case("logout") {
        Ok(())
    } else {
        Err(InvalidValue {
            expected: expected::LOGOUT,
        })
    }
}

fn webhook_action(s: &str) -> Result<WebhookAction, InvalidValue> {
    match s.to_ascii_lowercase().as_str() {
        "on" => Ok(WebhookAction::On),
        "off" => Ok(WebhookAction::Off),
        "status" => Ok(WebhookAction::Status),
        _ => Err(InvalidValue {
            expected: expected::WEBHOOK_ACTION,
        }),
    }
}

fn on_off(s: &str) -> Result<bool, InvalidValue> {
    match s.to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(InvalidValue {
            expected: expected::ON_OFF,
        }),
    }
}

fn setting(s: &str) -> Result<Setting, InvalidValue> {
    Setting::ALL
        .into_iter()
        .find(|setting| setting.as_str().eq_ignore_ascii_case(s))
        .ok_or(InvalidValue {
            expected: expected::SETTING,
        })
}

fn parse_settings(mut args: Args<'_>) -> Result<Command, ParseError> {
    let Some(setting) = args.optional("setting", setting)? else {
        return args.finish(Command::Settings { change: None });
    };
    let word = args.word("state")?;
    // `<setting> <on|off>` for every channel, or `<setting> <channel> <on|off>` for one.
    let (channel, enabled) = match on_off(word) {
        Ok(enabled) => (None, enabled),
        Err(_) if args.remaining.trim().is_empty() => {
            return Err(args.invalid("state", word, expected::ON_OFF));
        }
        Err(_) => (
            Some(args.value("channel", word, channel)?),
            args.required("state", on_off)?,
        ),
    };
    args.finish(Command::Settings {
        change: Some(SettingChange {
            setting,
            channel,
            enabled,
        }),
    })
}

/// A channel's name: a short lowercase word (which channels exist is the application's to say).
fn channel(s: &str) -> Result<String, InvalidValue> {
    let valid = !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then(|| s.to_ascii_lowercase()).ok_or(InvalidValue {
        expected: expected::CHANNEL,
    })
}

/// `/help`, `/help grant`, `/help /grant`, `/help conference`, `/help conference new`.
fn parse_help(text: &str) -> Result<Command, ParseError> {
    let mut args = Args::new(Id::Help, text);
    let Some(word) = args.next() else {
        return Ok(Command::Help { topic: None });
    };
    let word = word.strip_prefix('/').unwrap_or(word).to_ascii_lowercase();
    let Some(group) = catalog::command_words().find(|candidate| *candidate == word) else {
        return Err(ParseError::unknown_command(&word));
    };
    let Some(sub) = args.next() else {
        let topic = match catalog::find(group) {
            Some(spec) => HelpTopic::Command(spec),
            None => HelpTopic::Group(group),
        };
        return Ok(Command::Help { topic: Some(topic) });
    };
    let sub = sub.to_ascii_lowercase();
    let spec = catalog::catalog()
        .iter()
        .find(|spec| spec.group() == group && spec.subcommand() == Some(sub.as_str()));
    let topic = match spec {
        Some(spec) => HelpTopic::Command(spec),
        None if group == "conference" => {
            return Err(ParseError::UnknownSubcommand {
                command: "conference",
                given: sub,
                valid: CONFERENCE_SUBCOMMANDS,
            });
        }
        None => return Err(args.too_many()),
    };
    args.finish(Command::Help { topic: Some(topic) })
}

fn parse_conference(text: &str) -> Result<ConferenceCommand, ParseError> {
    let Some((sub, rest)) = next_word(text) else {
        return Err(ParseError::MissingArgument {
            command: "conference",
            argument: "subcommand",
            usage: CONFERENCE_USAGE,
        });
    };
    match sub.to_ascii_lowercase().as_str() {
        "new" => parse_conference_new(Args::new(Id::ConferenceNew, rest)),
        "list" => Args::new(Id::ConferenceList, rest).finish(ConferenceCommand::List),
        "use" => {
            let mut args = Args::new(Id::ConferenceUse, rest);
            let slug = args.required("slug", Slug::parse)?;
            args.finish(ConferenceCommand::Use { slug })
        }
        "policy" => {
            let mut args = Args::new(Id::ConferencePolicy, rest);
            let policy = args.required("policy", PostingPolicy::parse)?;
            args.finish(ConferenceCommand::Policy { policy })
        }
        "window" => parse_conference_window(Args::new(Id::ConferenceWindow, rest)),
        "status" => Args::new(Id::ConferenceStatus, rest).finish(ConferenceCommand::Status),
        "reminders" => {
            let mut args = Args::new(Id::ConferenceReminders, rest);
            let sessions = args.required("sessions", crate::args::lead_minutes)?;
            let speakers = args.required("speakers", crate::args::lead_minutes)?;
            let volunteers = args.required("volunteers", crate::args::lead_minutes)?;
            args.finish(ConferenceCommand::Reminders {
                sessions,
                speakers,
                volunteers,
            })
        }
        "email" => {
            let mut args = Args::new(Id::ConferenceEmail, rest);
            let address = args.required("address", |s| {
                if s.eq_ignore_ascii_case("off") {
                    Ok(None)
                } else {
                    crate::args::email_address(s).map(Some)
                }
            })?;
            args.finish(ConferenceCommand::Email { address })
        }
        _ => Err(ParseError::UnknownSubcommand {
            command: "conference",
            given: sub.to_owned(),
            valid: CONFERENCE_SUBCOMMANDS,
        }),
    }
}

fn parse_conference_new(mut args: Args<'_>) -> Result<ConferenceCommand, ParseError> {
    let slug = args.required("slug", Slug::parse)?;
    let time_zone = args.required("tz", TimeZoneName::parse)?;
    let starts_on = args.required("start-date", LocalDate::parse)?;
    let end_text = args.word("end-date")?;
    let ends_on = args.value("end-date", end_text, LocalDate::parse)?;
    if ends_on < starts_on {
        return Err(args.invalid("end-date", end_text, expected::END_DATE));
    }
    let name = args.required_rest("name")?;
    let name = args.name("name", name)?;
    Ok(ConferenceCommand::New {
        slug,
        time_zone,
        starts_on,
        ends_on,
        name,
    })
}

fn parse_conference_window(mut args: Args<'_>) -> Result<ConferenceCommand, ParseError> {
    let from_text = args.word("from")?;
    if from_text.eq_ignore_ascii_case("off") {
        return args.finish(ConferenceCommand::Window(WindowSetting::Off));
    }
    let from = args.value("from", from_text, LocalTime::parse)?;
    let to_text = args.word("to")?;
    let to = args.value("to", to_text, LocalTime::parse)?;
    if from == to {
        return Err(args.invalid("to", to_text, expected::WINDOW_END));
    }
    args.finish(ConferenceCommand::Window(WindowSetting::Daily { from, to }))
}

/// Splits off the first whitespace-separated word: `Some((word, rest))`, or `None` when only whitespace is
/// left. `rest` starts at the whitespace after the word.
fn next_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some(text.split_at(end)).filter(|(word, _)| !word.is_empty())
}

/// A cursor over a command's argument text that reports errors against its catalog entry.
#[derive(Debug)]
struct Args<'a> {
    spec: &'static CommandSpec,
    remaining: &'a str,
}

impl<'a> Args<'a> {
    const MAX_NAME_CHARS: usize = 128;

    fn new(id: Id, text: &'a str) -> Self {
        Self {
            spec: id.spec(),
            remaining: text,
        }
    }

    /// Consumes the next whitespace-separated word, if any.
    fn next(&mut self) -> Option<&'a str> {
        let (word, rest) = next_word(self.remaining)?;
        self.remaining = rest;
        Some(word)
    }

    /// Consumes the next word, which must be there.
    fn word(&mut self, argument: &'static str) -> Result<&'a str, ParseError> {
        self.next().ok_or_else(|| self.missing(argument))
    }

    /// Consumes and parses the next word, which must be there.
    fn required<T>(
        &mut self,
        argument: &'static str,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Result<T, ParseError> {
        let word = self.word(argument)?;
        self.value(argument, word, parse)
    }

    /// Consumes and parses the next word, if any.
    fn optional<T>(
        &mut self,
        argument: &'static str,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Result<Option<T>, ParseError> {
        self.next()
            .map(|word| self.value(argument, word, parse))
            .transpose()
    }

    fn value<T>(
        &self,
        argument: &'static str,
        word: &str,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Result<T, ParseError> {
        parse(word).map_err(|InvalidValue { expected }| self.invalid(argument, word, expected))
    }

    /// Consumes everything left, verbatim apart from leading whitespace; `None` when nothing is left.
    fn rest(&mut self) -> Option<&'a str> {
        let rest = std::mem::take(&mut self.remaining).trim_start();
        Some(rest).filter(|rest| !rest.is_empty())
    }

    fn required_rest(&mut self, argument: &'static str) -> Result<&'a str, ParseError> {
        self.rest().ok_or_else(|| self.missing(argument))
    }

    /// A display name: one line without control characters, at most [`Self::MAX_NAME_CHARS`] characters.
    fn name(&self, argument: &'static str, name: &str) -> Result<String, ParseError> {
        let valid =
            !name.chars().any(char::is_control) && name.chars().count() <= Self::MAX_NAME_CHARS;
        valid
            .then(|| name.to_owned())
            .ok_or_else(|| self.invalid(argument, name, expected::NAME))
    }

    /// Succeeds with `command` when no arguments are left.
    fn finish<T>(self, command: T) -> Result<T, ParseError> {
        if !self.remaining.trim().is_empty() {
            return Err(self.too_many());
        }
        Ok(command)
    }

    fn missing(&self, argument: &'static str) -> ParseError {
        ParseError::MissingArgument {
            command: self.spec.name,
            argument,
            usage: self.spec.usage,
        }
    }

    fn invalid(&self, argument: &'static str, value: &str, expected: &'static str) -> ParseError {
        ParseError::InvalidArgument {
            command: self.spec.name,
            argument,
            value: value.to_owned(),
            expected,
        }
    }

    fn too_many(&self) -> ParseError {
        ParseError::TooManyArguments {
            command: self.spec.name,
            usage: self.spec.usage,
        }
    }
}
