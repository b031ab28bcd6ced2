//! Delivery: the layer below the domain that turns *what to tell whom* into outbox rows.
//!
//! The domain describes a [`Notice`] (a template with its context, actions, when it is due and when it
//! is too late) and a [`Recipient`] (a person, the people of a conference who want a kind of message, or a
//! bound chat slot). This layer resolves the recipient into [`Contact`]s — one per way to reach them: a
//! Telegram chat, a Mastodon account written to by the conference's account, a confirmed e-mail address —
//! each with the language its reader reads ([`Reach`]), and writes one outbox row per contact (per part,
//! where a network splits long texts) in that language, in the caller's transaction. Nothing above it
//! writes outbox rows or knows a chat id.
//!
//! ```text
//!  domain ── Notice + Recipient ──► resolve ──► Contact… ──► telegram::write_notice ──► outbox rows
//!                                                        ├─► social::write_direct   ──►
//!                                                        └─► email::write_notice    ──►
//! ```

pub mod actions;
pub mod email;
pub mod networks;
pub mod organisers;
pub mod social;
pub mod telegram;
pub mod web;

use std::collections::BTreeMap;

pub use actions::Action;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{
    db::{
        Tx, bindings,
        contacts::{self, Account, Wants},
        outbox,
        providers::Provider,
    },
    templates::Templates,
};

/// A post's picture to show: the stored picture (`post_images` id), the chat platform's own id for it
/// when it came through that platform (sent again by that id, not uploaded), and a caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub image: i64,
    pub file: Option<String>,
    pub caption: Option<String>,
}

impl Picture {
    /// A post's picture, without a caption.
    pub fn of(image: &crate::db::post_images::PostImage) -> Self {
        Self {
            image: image.id,
            file: image.telegram_file_id.clone(),
            caption: None,
        }
    }
}

/// What to say, independent of where it goes.
#[derive(Debug, Clone)]
pub struct Notice {
    /// A template name under `templates/messages/` (`<name>.html`), without the extension.
    pub template: &'static str,
    pub context: Value,
    pub actions: Vec<Vec<Action>>,
    /// Pictures shown before the text, each with its caption, where the network shows pictures by the
    /// id it gave them (Telegram file ids); elsewhere the text describes them.
    pub pictures: Vec<Picture>,
    /// The outbox kind, which also sets its urgency (the outbox lane, see `db::outbox::Lane`): `message`
    /// and `notice` first, then `reminder` and `dm`, then `announcement` fan-out.
    pub kind: &'static str,
    /// Due now when `None`.
    pub due: Option<DateTime<Utc>>,
    /// Never sent after this.
    pub deadline: Option<DateTime<Utc>>,
    /// Written so that writing it again (a recomputed reminder) updates the pending rows.
    pub recomputable: bool,
    /// The text holds a working secret (an invite link, a binding code): its stored copy is blanked once
    /// delivered.
    pub secret: bool,
    /// Replace this message of the chat (by the platform's message id) instead of sending a new one.
    pub replaces: Option<i32>,
}

impl Notice {
    pub fn new(template: &'static str, context: impl Serialize) -> Self {
        Self {
            template,
            context: serde_json::to_value(context).unwrap_or(Value::Null),
            actions: Vec::new(),
            pictures: Vec::new(),
            kind: "message",
            due: None,
            deadline: None,
            recomputable: false,
            secret: false,
            replaces: None,
        }
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// Due at `due`, never after `deadline`, and updated in place when written again.
    pub fn scheduled(mut self, due: DateTime<Utc>, deadline: Option<DateTime<Utc>>) -> Self {
        self.due = Some(due);
        self.deadline = deadline;
        self.recomputable = true;
        self
    }

    pub fn with_actions(mut self, actions: Vec<Vec<Action>>) -> Self {
        self.actions = actions;
        self
    }
}

/// A chat bound to a conference for a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Attendees,
    Organisers,
    Moderation,
}

impl Slot {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attendees => "attendees",
            Self::Organisers => "organisers",
            Self::Moderation => "moderation",
        }
    }
}

/// Whom a notice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// One person, on every channel they linked, written from `conference`'s accounts (a direct message:
    /// their settings' kinds do not apply; whether they stopped is the caller's question).
    Person { person: i64, conference: i64 },
    /// One person of a conference, if they want this kind of message.
    Subscriber {
        conference: i64,
        person: i64,
        wants: Wants,
    },
    /// Everyone of a conference who wants this kind of message.
    Audience { conference: i64, wants: Wants },
    /// The chat bound to a conference's slot.
    Slot { conference: i64, slot: Slot },
}

/// One way to reach someone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contact {
    /// A Telegram chat (a person's private chat has their user id).
    Telegram { chat: i64 },
    /// An account on a social network (`network`), written to privately by the conference's provider `via`
    /// there: on Mastodon `to` is the `acct` direct statuses name, on X the user id direct messages go to.
    Direct {
        network: &'static str,
        via: i64,
        to: String,
    },
    /// A web chat: a person's private chat (their web account id) or a room (`room-<n>`).
    Web { chat: String },
    /// A confirmed e-mail address.
    Email { address: String },
}

impl Contact {
    /// A chat Herald talks in on `platform` (a bound chat, the chat an event came from); `None` for a
    /// platform without chats.
    pub fn chat(platform: &str, chat: &str) -> Option<Self> {
        match platform {
            telegram::PLATFORM => chat.parse().ok().map(|chat| Self::Telegram { chat }),
            crate::db::web_chat::PLATFORM => Some(Self::Web {
                chat: chat.to_owned(),
            }),
            _ => None,
        }
    }
}

/// A contact and the language its reader reads (`None`: English; a bound group chat reads English).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reach {
    pub contact: Contact,
    pub language: Option<String>,
}

impl Reach {
    fn of(contact: Contact, language: Option<String>) -> Self {
        Self { contact, language }
    }
}

/// A message Herald sent that can be edited: where it went and the platform's id for it, as the outbox
/// recorded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub platform: String,
    pub chat: String,
    pub message_id: String,
}

impl From<(String, String, String)> for Sent {
    fn from((platform, chat, message_id): (String, String, String)) -> Self {
        Self {
            platform,
            chat,
            message_id,
        }
    }
}

/// Replaces the text of a sent message with `template` rendered (its buttons go), under `key`.
pub async fn edit(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    sent: &Sent,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<()> {
    let language = contacts::language_of_chat(tx, &sent.platform, &sent.chat).await?;
    let words = templates.words(language.as_deref());
    let html = words.render(
        &format!("messages/{}.html", notice.template),
        &notice.context,
    )?;
    match Contact::chat(&sent.platform, &sent.chat) {
        Some(Contact::Telegram { chat }) => {
            let Ok(message_id) = sent.message_id.parse() else {
                return Ok(());
            };
            let markup = telegram::keyboard(words, &notice.actions)?;
            telegram::edit(tx, now, chat, message_id, &html, markup, key).await?;
        }
        Some(Contact::Web { chat }) => {
            let Ok(message_id) = sent.message_id.parse() else {
                return Ok(());
            };
            let mut notice = notice.clone();
            notice.replaces = None;
            web::edit(tx, words, now, &chat, message_id, &notice, key).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Per person, the contacts a notice of one kind reaches them on — loaded once for a whole conference,
/// for code that writes many personal notices (reminders).
#[derive(Debug, Clone, Default)]
pub struct People(BTreeMap<i64, Vec<Reach>>);

impl People {
    /// The people of `conference` who want `wants` (only `only`, when given), with their contacts.
    pub async fn load(
        tx: &mut Tx,
        conference: i64,
        wants: Wants,
        only: Option<i64>,
    ) -> anyhow::Result<Self> {
        let accounts = contacts::subscribed(tx, conference, wants, only).await?;
        let mut by_person: BTreeMap<i64, Vec<Reach>> = BTreeMap::new();
        let mut via = Vias::new(conference);
        for account in &accounts {
            if let Some(contact) = via.contact(tx, account).await? {
                by_person
                    .entry(account.person_id)
                    .or_default()
                    .push(Reach::of(contact, account.language.clone()));
            }
        }
        Ok(Self(by_person))
    }

    /// How to reach `person` (nothing when they do not want this kind or cannot be reached).
    pub fn of(&self, person: i64) -> &[Reach] {
        self.0.get(&person).map_or(&[], Vec::as_slice)
    }

    /// Every contact, each once.
    pub fn all(&self) -> Vec<Reach> {
        let mut all: Vec<Reach> = self.0.values().flatten().cloned().collect();
        once_each(&mut all);
        all
    }
}

/// The provider accounts that write to people of one conference, looked up once per network.
struct Vias {
    conference: i64,
    found: BTreeMap<&'static str, Option<Provider>>,
}

impl Vias {
    fn new(conference: i64) -> Self {
        Self {
            conference,
            found: BTreeMap::new(),
        }
    }

    /// The conference's provider writing privately on `network`.
    async fn via(
        &mut self,
        tx: &mut Tx,
        network: &'static str,
    ) -> anyhow::Result<Option<&Provider>> {
        if !self.found.contains_key(network) {
            let found = contacts::private_provider(tx, self.conference, network).await?;
            self.found.insert(network, found);
        }
        Ok(self.found.get(network).and_then(Option::as_ref))
    }

    async fn contact(&mut self, tx: &mut Tx, account: &Account) -> anyhow::Result<Option<Contact>> {
        match account.platform.as_str() {
            telegram::PLATFORM => Ok(account
                .platform_user_id
                .parse()
                .ok()
                .map(|chat| Contact::Telegram { chat })),
            crate::db::web_chat::PLATFORM => Ok(Some(Contact::Web {
                chat: account.platform_user_id.clone(),
            })),
            crate::db::email::PLATFORM => Ok(Some(Contact::Email {
                address: account.platform_user_id.clone(),
            })),
            networks::MASTODON => {
                let via = self.via(tx, networks::MASTODON).await?;
                Ok(via
                    .zip(account.username.as_ref())
                    .map(|(p, acct)| Contact::Direct {
                        network: networks::MASTODON,
                        via: p.id,
                        to: full_handle(acct, &account.platform_user_id, p.base_url.as_deref()),
                    }))
            }
            networks::X => {
                let via = self.via(tx, networks::X).await?;
                Ok(via.map(|p| Contact::Direct {
                    network: networks::X,
                    via: p.id,
                    to: account.platform_user_id.clone(),
                }))
            }
            _ => Ok(None),
        }
    }
}

/// A Mastodon account as the conference's account must name it: `acct` is relative to the account's own
/// server (`alice` for someone on it), so from another server it needs that server (`alice@a.social`),
/// which the account's URI (`https://a.social/users/alice`) tells.
fn full_handle(acct: &str, uri: &str, via: Option<&str>) -> String {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    match (acct.contains('@'), host(uri)) {
        (false, Some(home)) if via.and_then(host).as_deref() != Some(home.as_str()) => {
            format!("{acct}@{home}")
        }
        _ => acct.to_owned(),
    }
}

/// Cancels the messages still queued for `person` on every channel they linked whose keys start with
/// one of `prefixes` (every message when empty: they stopped): recorded as cancelled, never sent.
/// Returns how many.
pub async fn cancel_queued(
    tx: &mut Tx,
    now: DateTime<Utc>,
    person: i64,
    prefixes: &[String],
) -> anyhow::Result<u64> {
    const REASON: &str = "cancelled: the person stopped or switched these messages off";
    let all = [String::new()];
    let prefixes = if prefixes.is_empty() {
        &all[..]
    } else {
        prefixes
    };
    let conferences: Vec<i64> = crate::db::subscriptions::subscriptions_of(tx, person)
        .await?
        .iter()
        .map(|s| s.conference_id)
        .collect();
    let mut cancelled = 0;
    for account in contacts::all_of_person(tx, person).await? {
        // The contact as each conference's accounts reach it (a Mastodon account is written to from the
        // conference's own account; a chat is the same for all).
        let mut seen = Vec::new();
        for &conference in &conferences {
            if let Some(contact) = Vias::new(conference).contact(tx, &account).await?
                && !seen.contains(&contact)
            {
                seen.push(contact);
            }
        }
        for contact in seen {
            for prefix in prefixes {
                let (telegram_chat, suffix);
                let to = match &contact {
                    Contact::Telegram { chat } => {
                        telegram_chat = chat.to_string();
                        outbox::Addressed::Chat {
                            platform: telegram::PLATFORM,
                            target: &telegram_chat,
                        }
                    }
                    Contact::Web { chat } => outbox::Addressed::Chat {
                        platform: crate::db::web_chat::PLATFORM,
                        target: chat,
                    },
                    Contact::Email { address } => outbox::Addressed::Chat {
                        platform: crate::db::email::PLATFORM,
                        target: address,
                    },
                    Contact::Direct { network, via, to } => {
                        suffix = social::direct_key_suffix(network, *via, to);
                        outbox::Addressed::KeyEnding(&suffix)
                    }
                };
                cancelled += outbox::cancel_addressed(tx, now, to, prefix, REASON).await?;
            }
        }
    }
    Ok(cancelled)
}

/// Sorts `reaches` and keeps each contact once.
fn once_each(reaches: &mut Vec<Reach>) {
    reaches.sort();
    reaches.dedup_by(|a, b| a.contact == b.contact);
}

/// The contacts of a recipient, each once, with their readers' languages.
pub async fn resolve(tx: &mut Tx, recipient: Recipient) -> anyhow::Result<Vec<Reach>> {
    let mut found = match recipient {
        Recipient::Person { person, conference } => {
            let mut via = Vias::new(conference);
            let mut found = Vec::new();
            for account in contacts::of_person(tx, person).await? {
                if let Some(contact) = via.contact(tx, &account).await? {
                    found.push(Reach::of(contact, account.language.clone()));
                }
            }
            found
        }
        Recipient::Subscriber {
            conference,
            person,
            wants,
        } => People::load(tx, conference, wants, Some(person))
            .await?
            .all(),
        Recipient::Audience { conference, wants } => {
            People::load(tx, conference, wants, None).await?.all()
        }
        Recipient::Slot { conference, slot } => {
            bindings::bindings_of_slot(tx, conference, slot.as_str())
                .await?
                .iter()
                .filter_map(|b| Contact::chat(&b.platform, &b.chat_id))
                .map(|contact| Reach::of(contact, None))
                .collect()
        }
    };
    once_each(&mut found);
    Ok(found)
}

/// The attendee channel and everyone of `conference` who wants announcements, each contact once: who
/// hears announcements and sessions starting.
pub async fn attendees(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<Reach>> {
    let slot = Recipient::Slot {
        conference,
        slot: Slot::Attendees,
    };
    let mut contacts = resolve(tx, slot).await?;
    let audience = Recipient::Audience {
        conference,
        wants: Wants::Announcements,
    };
    for reach in resolve(tx, audience).await? {
        if !contacts.iter().any(|r| r.contact == reach.contact) {
            contacts.push(reach);
        }
    }
    Ok(contacts)
}

/// Writes `notice` for every contact under `key`; returns the idempotency keys written (for
/// recomputable notices, the ones to keep).
pub async fn write(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    contacts: &[Reach],
    notice: &Notice,
    key: &str,
) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    for Reach { contact, language } in contacts {
        let words = templates.words(language.as_deref());
        let written = match contact {
            Contact::Telegram { chat } => {
                telegram::write_notice(tx, words, now, *chat, notice, key).await?
            }
            Contact::Direct { via, to, .. } => {
                social::write_direct(tx, words, now, *via, to, notice, key).await?
            }
            Contact::Web { chat } => web::write_notice(tx, words, now, chat, notice, key).await?,
            Contact::Email { address } => {
                email::write_notice(tx, words, now, address, notice, key).await?
            }
        };
        keys.extend(written);
    }
    Ok(keys)
}

/// A public post (plain text, with pictures by their Telegram file ids) to the conference's attendee
/// channels (a Telegram channel, a web room), due at `due`; `false` when none is bound.
pub async fn channel_post(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: i64,
    text: &str,
    pictures: Vec<Picture>,
    key: &str,
    due: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let slot = Recipient::Slot {
        conference,
        slot: Slot::Attendees,
    };
    let mut reached = false;
    for Reach { contact, .. } in resolve(tx, slot).await? {
        match contact {
            Contact::Telegram { chat } => {
                telegram::post(tx, now, chat, text, &pictures, key, due).await?;
                reached = true;
            }
            Contact::Web { chat } => {
                web::post(tx, now, &chat, text, key, due).await?;
                reached = true;
            }
            Contact::Direct { .. } | Contact::Email { .. } => {}
        }
    }
    Ok(reached)
}

/// Shows `pictures` (each with its caption) to `recipient`'s contacts that show pictures, due now, under
/// `key`; returns how many contacts got them.
pub async fn pictures(
    tx: &mut Tx,
    now: DateTime<Utc>,
    recipient: Recipient,
    pictures: &[Picture],
    key: &str,
) -> anyhow::Result<usize> {
    let mut reached = 0;
    for Reach { contact, .. } in resolve(tx, recipient).await? {
        if let Contact::Telegram { chat } = contact {
            telegram::pictures(tx, now, chat, pictures, key).await?;
            reached += 1;
        }
    }
    Ok(reached)
}

/// How long a post to an attendee channel may be: the network's name, its limit and how it counts.
#[derive(Debug, Clone, Copy)]
pub struct ChannelLimit {
    pub network: &'static str,
    pub limit: usize,
    pub measure: networks::Measure,
}

/// The length rules of the conference's bound attendee channels (a web room has none).
pub async fn channel_limits(tx: &mut Tx, conference: i64) -> anyhow::Result<Vec<ChannelLimit>> {
    let slot = Recipient::Slot {
        conference,
        slot: Slot::Attendees,
    };
    let mut limits = Vec::new();
    for Reach { contact, .. } in resolve(tx, slot).await? {
        let limit = match contact {
            Contact::Telegram { .. } => Some(telegram::CHANNEL_LIMIT),
            Contact::Web { .. } | Contact::Direct { .. } | Contact::Email { .. } => None,
        };
        if let Some(limit) = limit
            && !limits
                .iter()
                .any(|l: &ChannelLimit| l.network == limit.network)
        {
            limits.push(limit);
        }
    }
    Ok(limits)
}

/// Resolves `recipient` and writes `notice` to each of its contacts; returns how many were reached.
pub async fn send(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    recipient: Recipient,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<usize> {
    let contacts = resolve(tx, recipient).await?;
    write(tx, templates, now, &contacts, notice, key).await?;
    Ok(contacts.len())
}

#[cfg(test)]
mod tests {
    use super::full_handle;

    #[test]
    fn a_mastodon_account_is_named_with_its_server_when_written_to_from_another() {
        let uri = "https://a.social/users/alice";
        assert_eq!(full_handle("alice", uri, Some("https://a.social")), "alice");
        assert_eq!(
            full_handle("alice", uri, Some("https://b.social/")),
            "alice@a.social"
        );
        assert_eq!(
            full_handle("alice@c.social", uri, Some("https://b.social")),
            "alice@c.social"
        );
        assert_eq!(
            full_handle("alice", "not a uri", Some("https://b.social")),
            "alice"
        );
    }
}
