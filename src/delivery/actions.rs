//! The actions a notice offers, typed. Each surface renders them its own way: an inline keyboard on
//! Telegram, form buttons in the web chat, and where a network has no buttons (Mastodon direct statuses)
//! a line naming the command that does the same ("/approve 12"). A pressed button comes back as its
//! [`Action::data`], which [`Action::parse`] reads; buttons sent long ago keep working since the payloads
//! do not change.

use herald_commands::Setting;
use serde_json::json;

use crate::templates::Words;

/// A post's, mention's or draft campaign's number.
pub type Number = i64;

/// Something a person can do from a message with one press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Answer to "stop everything?": yes or no.
    Stop {
        confirm: bool,
    },
    /// Switch a kind of message on or off (every channel).
    Setting {
        setting: Setting,
        on: bool,
    },
    /// Choose a second, earlier reminder of followed sessions, this many minutes before; `None` for none.
    EarlyReminder {
        minutes: Option<i64>,
    },
    ApprovePost(Number),
    RejectPost(Number),
    /// Explain how to change a post's text (`/edit`).
    EditPost(Number),
    /// Explain how to answer a mention (reply to its message).
    AnswerMention(Number),
    DiscardMention(Number),
    BoostMention(Number),
    CreateCampaign(Number),
    CancelCampaign(Number),
    /// Approve every post of a created campaign still waiting for approval.
    ApproveCampaign(Number),
    /// Show a created campaign's waiting posts one by one, each with its own buttons.
    ReviewCampaign(Number),
    /// A page of `/today` (counted from 0), the one after the shown one or the one before.
    TodayPage {
        page: usize,
        next: bool,
    },
}

impl Action {
    /// The label's template, `templates/buttons/<label>.txt`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Stop { confirm: true } => "stop_yes",
            Self::Stop { confirm: false } => "stop_no",
            Self::Setting { setting, on } => match (setting, on) {
                (Setting::Announcements, true) => "announcements_on",
                (Setting::Announcements, false) => "announcements_off",
                (Setting::Reminders, true) => "reminders_on",
                (Setting::Reminders, false) => "reminders_off",
                (Setting::Direct, true) => "direct_on",
                (Setting::Direct, false) => "direct_off",
            },
            Self::EarlyReminder { minutes: Some(_) } => "early_on",
            Self::EarlyReminder { minutes: None } => "early_off",
            Self::ApprovePost(_) => "post_approve",
            Self::RejectPost(_) => "post_reject",
            Self::EditPost(_) => "post_edit",
            Self::AnswerMention(_) => "mention_reply",
            Self::DiscardMention(_) => "mention_discard",
            Self::BoostMention(_) => "mention_boost",
            Self::CreateCampaign(_) => "campaign_create",
            Self::CancelCampaign(_) => "campaign_cancel",
            Self::ApproveCampaign(_) => "campaign_approve_all",
            Self::ReviewCampaign(_) => "campaign_review",
            Self::TodayPage { next: true, .. } => "page_next",
            Self::TodayPage { next: false, .. } => "page_previous",
        }
    }

    /// What a pressed button sends back: `<family>:<verb>[:<number>]`.
    pub fn data(self) -> String {
        let switch = |on: bool| if on { "on" } else { "off" };
        match self {
            Self::Stop { confirm } => format!("stop:{}", if confirm { "yes" } else { "no" }),
            Self::Setting { setting, on } => {
                format!("settings:{}:{}", setting.as_str(), switch(on))
            }
            Self::EarlyReminder { minutes } => format!("settings:early:{}", early_word(minutes)),
            Self::ApprovePost(n) => format!("post:approve:{n}"),
            Self::RejectPost(n) => format!("post:reject:{n}"),
            Self::EditPost(n) => format!("post:edit:{n}"),
            Self::AnswerMention(n) => format!("mention:reply:{n}"),
            Self::DiscardMention(n) => format!("mention:discard:{n}"),
            Self::BoostMention(n) => format!("mention:boost:{n}"),
            Self::CreateCampaign(n) => format!("campaign:create:{n}"),
            Self::CancelCampaign(n) => format!("campaign:cancel:{n}"),
            Self::ApproveCampaign(n) => format!("campaign:approve:{n}"),
            Self::ReviewCampaign(n) => format!("campaign:review:{n}"),
            Self::TodayPage { page, next } => {
                format!("today:{page}:{}", if next { "next" } else { "previous" })
            }
        }
    }

    /// Reads a pressed button's data; `None` for data no button of Herald's sends.
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.split(':');
        let (family, verb, third) = (parts.next()?, parts.next()?, parts.next());
        if parts.next().is_some() {
            return None;
        }
        let number = || third.and_then(|n| n.parse::<Number>().ok());
        Some(match (family, verb) {
            ("stop", "yes") if third.is_none() => Self::Stop { confirm: true },
            ("stop", "no") if third.is_none() => Self::Stop { confirm: false },
            ("settings", "early") => Self::EarlyReminder {
                minutes: herald_commands::args::early_minutes(third?).ok()?,
            },
            ("settings", name) => Self::Setting {
                setting: Setting::ALL.into_iter().find(|s| s.as_str() == name)?,
                on: match third? {
                    "on" => true,
                    "off" => false,
                    _ => return None,
                },
            },
            ("post", "approve") => Self::ApprovePost(number()?),
            ("post", "reject") => Self::RejectPost(number()?),
            ("post", "edit") => Self::EditPost(number()?),
            ("mention", "reply") => Self::AnswerMention(number()?),
            ("mention", "discard") => Self::DiscardMention(number()?),
            ("mention", "boost") => Self::BoostMention(number()?),
            ("campaign", "create") => Self::CreateCampaign(number()?),
            ("campaign", "cancel") => Self::CancelCampaign(number()?),
            ("campaign", "approve") => Self::ApproveCampaign(number()?),
            ("campaign", "review") => Self::ReviewCampaign(number()?),
            ("today", page) => Self::TodayPage {
                page: page.parse().ok()?,
                // Buttons sent before the direction was written were the ones to go on.
                next: match third {
                    None | Some("next") => true,
                    Some("previous") => false,
                    Some(_) => return None,
                },
            },
            _ => return None,
        })
    }

    /// The command a person types to do the same where there are no buttons; `None` when only the
    /// button does it.
    pub fn command(self) -> Option<String> {
        let switch = |on: bool| if on { "on" } else { "off" };
        match self {
            Self::Setting { setting, on } => {
                Some(format!("/settings {} {}", setting.as_str(), switch(on)))
            }
            Self::EarlyReminder { minutes } => {
                Some(format!("/settings early {}", early_word(minutes)))
            }
            Self::ApprovePost(n) => Some(format!("/approve {n}")),
            Self::RejectPost(n) => Some(format!("/reject {n}")),
            Self::EditPost(n) => Some(format!("/edit {n} <new text>")),
            Self::DiscardMention(n) => Some(format!("/discard {n}")),
            Self::BoostMention(n) => Some(format!("/boost {n}")),
            Self::ApproveCampaign(n) => Some(format!("/campaign approve {n}")),
            Self::ReviewCampaign(n) => Some(format!("/campaign review {n}")),
            Self::Stop { .. }
            | Self::AnswerMention(_)
            | Self::CreateCampaign(_)
            | Self::CancelCampaign(_)
            | Self::TodayPage { .. } => None,
        }
    }

    /// The button's label as shown; a label may name the action's minutes.
    pub fn render_label(self, words: Words<'_>) -> anyhow::Result<String> {
        let context = match self {
            Self::EarlyReminder { minutes } => json!({ "minutes": minutes }),
            _ => json!({}),
        };
        words.render(&format!("buttons/{}.txt", self.label()), context)
    }
}

/// The minutes of an earlier reminder as `/settings early` takes them: a number, or `off`.
fn early_word(minutes: Option<i64>) -> String {
    minutes.map_or_else(|| "off".to_owned(), |m| m.to_string())
}

/// The typed equivalents of a notice's buttons, as a text to add where buttons cannot be shown (rendered
/// from `templates/messages/action_hints.html`); `None` when none of them has one.
pub fn hints(words: Words<'_>, rows: &[Vec<Action>]) -> anyhow::Result<Option<String>> {
    let mut hints = Vec::new();
    for action in rows.iter().flatten() {
        if let Some(command) = action.command() {
            hints.push(json!({ "label": action.render_label(words)?, "command": command }));
        }
    }
    if hints.is_empty() {
        return Ok(None);
    }
    words
        .render("messages/action_hints.html", json!({ "hints": hints }))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_data_and_nothing_else_does() {
        let all = [
            Action::Stop { confirm: true },
            Action::Stop { confirm: false },
            Action::Setting {
                setting: Setting::Direct,
                on: false,
            },
            Action::Setting {
                setting: Setting::Announcements,
                on: true,
            },
            Action::EarlyReminder { minutes: Some(60) },
            Action::EarlyReminder { minutes: None },
            Action::ApprovePost(12),
            Action::RejectPost(12),
            Action::EditPost(12),
            Action::AnswerMention(7),
            Action::DiscardMention(7),
            Action::BoostMention(7),
            Action::CreateCampaign(3),
            Action::CancelCampaign(3),
            Action::ApproveCampaign(3),
            Action::ReviewCampaign(3),
            Action::TodayPage {
                page: 2,
                next: false,
            },
        ];
        for action in all {
            assert_eq!(Action::parse(&action.data()), Some(action), "{action:?}");
        }
        assert_eq!(Action::ApprovePost(12).data(), "post:approve:12");
        assert_eq!(
            Action::ApprovePost(12).command().as_deref(),
            Some("/approve 12")
        );
        // Buttons sent before the digest existed keep their payloads.
        assert_eq!(Action::CreateCampaign(3).data(), "campaign:create:3");
        assert_eq!(Action::ApproveCampaign(3).data(), "campaign:approve:3");
        assert_eq!(
            Action::ReviewCampaign(3).command().as_deref(),
            Some("/campaign review 3")
        );
        for bad in [
            "",
            "post",
            "post:approve",
            "post:approve:x",
            "post:approve:1:2",
            "settings:volume:on",
            "settings:reminders:maybe",
            "settings:early",
            "settings:early:0",
            "settings:early:soon",
            "stop:yes:1",
            "today:-1",
            "today:1:sideways",
            "nope:x:1",
        ] {
            assert_eq!(Action::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Action::EarlyReminder { minutes: Some(60) }
                .command()
                .as_deref(),
            Some("/settings early 60")
        );
        assert_eq!(
            Action::parse("today:1"),
            Some(Action::TodayPage {
                page: 1,
                next: true
            })
        );
    }
}
