//! Herald's chat command grammar and catalog.
//!
//! Pure: no I/O, no async. It turns the text of a chat message, such as Telegram's `/grant@HeraldBot @alice
//! speaker` or a Mastodon or Bluesky direct message `/grant @alice speaker`, into a typed [`Command`], or a
//! structured [`ParseError`] that the application renders through its templates.
//!
//! Modules:
//! - [`raw`]: recognising a command and splitting off its name, addressee and argument text.
//! - [`command`]: the grammar, from argument text to [`Command`] values.
//! - [`args`]: the argument value types (slugs, time zones, people, …), each parsed once at the edge.
//! - [`role`]: the ordered ladder of [`Role`]s.
//! - [`catalog`]: one [`CommandSpec`] per command (usage, help, minimum role, scope), and the README table.
//! - [`error`]: [`ParseError`] and "did you mean" suggestions.
//!
//! ```
//! use herald_commands::{Command, ParseError, PersonRef, Role, parse};
//!
//! let command = parse("/grant@HeraldBot @alice speaker", Some("HeraldBot"));
//! let expected = Command::Grant { person: PersonRef::Username("alice".into()), role: Role::Speaker };
//! assert_eq!(command, Ok(Some(expected)));
//! assert_eq!(parse("/grant@OtherBot @alice speaker", Some("HeraldBot")), Ok(None));
//! assert!(matches!(
//!     parse("/strat", None),
//!     Err(ParseError::UnknownCommand { suggestion: Some("start"), .. })
//! ));
//! ```

pub mod args;
pub mod catalog;
pub mod command;
pub mod error;
pub mod raw;
pub mod role;

pub use args::{
    BIND_CODE_PREFIX, InvalidValue, LocalDate, LocalDateTime, LocalTime, PersonRef, PostingPolicy,
    Slot, Slug, StartToken, TimeZoneName,
};
pub use catalog::{CommandSpec, Scope, catalog, catalog_markdown};
pub use command::{
    BenefitCommand, CampaignKind, CampaignRequest, Command, ConferenceCommand, Feature,
    FollowTarget, HashtagCommand, HelpTopic, ProviderCommand, Setting, SettingChange, SlotCommand,
    WebhookAction, WindowSetting, parse,
};
pub use error::ParseError;
pub use raw::{RawCommand, split};
pub use role::{ParseRoleError, Role};
