//! The e-mail writer: a notice as a mail (subject, plain text and HTML from `templates/mail/`, the chat
//! message's words as its body), written to the outbox for a confirmed address; the confirmation that
//! links an address (double opt-in) and the invitation mailed with a registration link. The sender (in
//! `crate::email`) hands the rows to the mail server. Keys `<key>/email:<address>`.
//!
//! Every mail to a linked address carries a one-click unsubscribe link (RFC 8058) for its kind of
//! message: announcements, reminders, or direct messages (everything else a person is told).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Notice, social};
use crate::{
    db::{
        Tx, conferences,
        contacts::Kind,
        email::{self as store, PLATFORM},
        outbox::{self, NewMessage},
    },
    templates::{Templates, Words},
    token::{hash, new_token},
};

/// How long a confirmation link works.
pub const CONFIRM_TTL: TimeDelta = TimeDelta::days(7);
/// Where a confirmation link leads, and where the unsubscribe links do.
pub const CONFIRM_PATH: &str = "mail/confirm";
pub const UNSUBSCRIBE_PATH: &str = "mail/unsubscribe";

/// The body of an e-mail row in the outbox: the mail's own words as rendered; the sender frames them
/// (`mail/layout.*`) with the footer and its unsubscribe link, which name the server's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBody {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// For mail to a linked address: its unsubscribe token and the kind of mail this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<Unsubscribe>,
    /// Sent by Herald on its own (`Auto-Submitted: auto-generated`), not at the reader's request.
    pub automatic: bool,
    /// A calendar invitation, update or cancellation: the sender writes it as `text/calendar` with the
    /// conference's sender as ORGANIZER (`crate::schedule::calendar::itip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarEvent>,
    /// The sender's name as this kind of mail shows it (`mail/<name>.from.txt`), before the configured
    /// address; the configured name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// The reader's language, for the layout around the words (English when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl MailBody {
    /// A mail of the kind `name`: `mail/<name>.subject.txt`, `.text.txt`, `.html` and `.from.txt` rendered
    /// in the reader's language with `context`; a personal mail (no unsubscribe link, not automatic)
    /// until the caller says otherwise.
    fn render(words: Words<'_>, name: &str, context: &serde_json::Value) -> anyhow::Result<Self> {
        Ok(Self {
            subject: words.render(&format!("mail/{name}.subject.txt"), context)?,
            text: words.render(&format!("mail/{name}.text.txt"), context)?,
            html: words.render(&format!("mail/{name}.html"), context)?,
            unsubscribe: None,
            automatic: false,
            calendar: None,
            from_name: Some(words.render(&format!("mail/{name}.from.txt"), context)?)
                .filter(|name| !name.is_empty()),
            language: Some(words.lang().to_owned()),
        })
    }
}

/// What an iTIP message (RFC 5546) says about one event: everything but the ORGANIZER, which is the
/// sender's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    pub method: Method,
    /// Stable per (session or shift, person): every update and the cancellation name the same event.
    pub uid: String,
    /// Rises with every update and the cancellation, so calendars apply them in order.
    pub sequence: i64,
    /// When this revision was written (DTSTAMP): the same on a retry of the same mail.
    pub stamp: DateTime<Utc>,
    pub title: String,
    pub location: Option<String>,
    pub description: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The invited person's address and name (ATTENDEE).
    pub attendee: String,
    pub attendee_name: String,
    /// How long before the start the calendar reminds (VALARM).
    pub alarm_minutes: i64,
    /// The token of the mail's Accept / Decline links (a request's; see [`answer_link`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_token: Option<String>,
}

/// Where the Accept / Decline links of an invitation lead.
pub const ANSWER_PATH: &str = "mail/answer";

/// The answers an invitation's links give, as stored and as their links say.
pub const ANSWERS: [&str; 2] = ["accepted", "declined"];

/// The address that records `answer` (one of [`ANSWERS`]) to the invitation whose mail holds `token`.
pub fn answer_link(web: &url::Url, token: &str, answer: &str) -> String {
    let path = format!("{ANSWER_PATH}/{token}/{answer}");
    web.join(&path)
        .map_or_else(|_| format!("/{path}"), String::from)
}

/// The iTIP method of an invitation mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// A new or updated event.
    Request,
    /// The event is off.
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// What a mail's one-click unsubscribe link stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsubscribe {
    pub token: String,
    pub kind: String,
}

/// What a kind of outbox row is, for the reader's switches: announcements, reminders, or direct.
pub fn kind_of(row_kind: &str) -> Kind {
    match row_kind {
        "announcement" => Kind::Announcements,
        "reminder" => Kind::Reminders,
        _ => Kind::Direct,
    }
}

/// The outbox row kinds a reader's switch covers: what stopping that kind of mail cancels.
pub fn row_kinds(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Announcements => &["announcement"],
        Kind::Reminders => &["reminder"],
        Kind::Direct => &["dm", "notice", "message"],
    }
}

/// A kind's word in unsubscribe links.
pub fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Announcements => "announcements",
        Kind::Reminders => "reminders",
        Kind::Direct => "direct",
    }
}

/// The kind an unsubscribe link names.
pub fn parse_kind(word: &str) -> Option<Kind> {
    [Kind::Announcements, Kind::Reminders, Kind::Direct]
        .into_iter()
        .find(|k| kind_word(*k) == word)
}

/// The one-click unsubscribe address of `token` for `kind`.
pub fn unsubscribe_link(web: &url::Url, token: &str, kind: Kind) -> String {
    let path = format!("{UNSUBSCRIBE_PATH}/{token}/{}", kind_word(kind));
    web.join(&path)
        .map_or_else(|_| format!("/{path}"), String::from)
}

/// Writes `notice` as a mail to the linked address `address` under `key`; returns the keys written.
/// Edits of a sent message have no meaning in a mailbox: they are not sent.
pub async fn write_notice(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    address: &str,
    notice: &Notice,
    key: &str,
) -> anyhow::Result<Vec<String>> {
    if notice.replaces.is_some() {
        return Ok(Vec::new());
    }
    let kind = kind_word(kind_of(notice.kind));
    let unsubscribe = store::unsubscribe_token(tx, address)
        .await?
        .map(|token| Unsubscribe {
            token,
            kind: kind.into(),
        });
    let html = social::direct_html(words, notice)?;
    let context = json!({ "kind": kind });
    let body = MailBody {
        subject: words.render("mail/notice.subject.txt", &context)?,
        text: herald_bots::html::to_text(&html),
        html,
        unsubscribe,
        automatic: true,
        calendar: None,
        from_name: Some(words.render("mail/notice.from.txt", &context)?).filter(|n| !n.is_empty()),
        language: Some(words.lang().to_owned()),
    };
    let row_kind = if notice.secret {
        outbox::SECRET_KIND
    } else {
        notice.kind
    };
    let message = new_message(address, row_kind, key, &body, notice.due.unwrap_or(now))?;
    let message = NewMessage {
        expires_at: notice.deadline,
        ..message
    };
    if notice.recomputable {
        outbox::upsert_scheduled(tx, now, &message).await?;
    } else {
        outbox::enqueue(tx, now, &message).await?;
    }
    Ok(vec![message.idempotency_key])
}

/// The outbox row of a mail to `address`, due at `due`.
fn new_message(
    address: &str,
    kind: &str,
    key: &str,
    body: &MailBody,
    due: DateTime<Utc>,
) -> anyhow::Result<NewMessage> {
    Ok(NewMessage {
        provider: PLATFORM.into(),
        platform: PLATFORM.into(),
        target: address.to_owned(),
        kind: kind.into(),
        idempotency_key: format!("{key}/{PLATFORM}:{address}"),
        body: serde_json::to_string(body)?,
        due_at: due,
        expires_at: None,
    })
}

/// Mails `address` a one-time link that links it to `person` once opened (double opt-in: nothing else
/// goes there before). The link holds a secret, so the row's copy is blanked once sent.
pub async fn confirm(
    tx: &mut Tx,
    words: Words<'_>,
    web: &url::Url,
    now: DateTime<Utc>,
    person: i64,
    name: &str,
    address: &str,
) -> anyhow::Result<()> {
    let token = new_token();
    let id = store::create_confirmation(tx, now, person, address, &hash(&token), now + CONFIRM_TTL)
        .await?;
    let link = web
        .join(&format!("{CONFIRM_PATH}/{token}"))
        .map_or_else(|_| format!("/{CONFIRM_PATH}/{token}"), String::from);
    let context = json!({ "name": name, "link": link, "days": CONFIRM_TTL.num_days() });
    let mail = MailBody::render(words, "confirm", &context)?;
    enqueue_personal(tx, now, address, &format!("{CONFIRM_KEY}{id}"), mail).await?;
    Ok(())
}

/// Queues a mail written for one person (a confirmation, an invitation): it holds a working link, so
/// its stored copy is blanked once sent, and it has no unsubscribe link (there is no list to leave).
async fn enqueue_personal(
    tx: &mut Tx,
    now: DateTime<Utc>,
    address: &str,
    key: &str,
    body: MailBody,
) -> anyhow::Result<i64> {
    let message = new_message(address, outbox::SECRET_KIND, key, &body, now)?;
    Ok(outbox::enqueue(tx, now, &message).await?.id())
}

/// An invitation to mail: who it is for and the links that redeem it.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation<'a> {
    pub name: &'a str,
    pub conference: &'a str,
    pub role: &'a str,
    /// Opens the Telegram bot with the invitation (`None` without Telegram).
    pub telegram: Option<String>,
    /// Opens the web chat with the invitation.
    pub browser: String,
    /// The last day the links work.
    pub expires: String,
}

/// Mails an invitation (its link token `link_id`) to `address`; the row holds the secret links, so its
/// copy is blanked once sent. Returns the outbox row's id.
pub async fn invite(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    link_id: i64,
    address: &str,
    invitation: &Invitation<'_>,
) -> anyhow::Result<i64> {
    let mail = MailBody::render(words, "invite", &json!(invitation))?;
    enqueue_personal(tx, now, address, &format!("{INVITE_KEY}{link_id}"), mail).await
}

/// Mails `event` (an invitation, an update or a cancellation of one session or shift) to the linked
/// address `address` under `key` (one per invitation and SEQUENCE, so a revision goes once); the words
/// are `mail/calendar_request.*` or `mail/calendar_cancel.*` with `context`. It is direct mail to the
/// person: the one-click link stops that kind.
pub async fn calendar(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    address: &str,
    key: &str,
    context: &serde_json::Value,
    event: CalendarEvent,
) -> anyhow::Result<()> {
    let name = match event.method {
        Method::Request => "calendar_request",
        Method::Cancel => "calendar_cancel",
    };
    let unsubscribe = store::unsubscribe_token(tx, address)
        .await?
        .map(|token| Unsubscribe {
            token,
            kind: kind_word(Kind::Direct).into(),
        });
    let body = MailBody {
        unsubscribe,
        automatic: true,
        calendar: Some(event),
        ..MailBody::render(words, name, context)?
    };
    let message = new_message(address, "notice", key, &body, now)?;
    outbox::enqueue(tx, now, &message).await?;
    Ok(())
}

/// How often the organisers' mirror mails one kind of notice at most; what comes in between is gathered
/// into the next mail.
pub const MIRROR_EVERY: TimeDelta = TimeDelta::minutes(10);

/// Mirrors an organiser notice to the conference's notification address, when one is set: the first of
/// its kind goes at once; those that follow within [`MIRROR_EVERY`] of the last mail are gathered into
/// the next, due that long after it, so a burst of failures makes two mails, not a flood.
pub async fn mirror(
    tx: &mut Tx,
    words: Words<'_>,
    now: DateTime<Utc>,
    conference: i64,
    notice: &Notice,
) -> anyhow::Result<()> {
    let Some(address) = conferences::notify_email(tx, conference).await? else {
        return Ok(());
    };
    let name = conferences::conference_by_id(tx, conference)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let html = social::direct_html(words, notice)?;
    let kind = notice.template;
    let (id, due, items) = match conferences::latest_batch(tx, conference, kind).await? {
        Some(batch) if batch.due_at > now => {
            let mut items: Vec<String> = serde_json::from_str(&batch.items)?;
            items.push(html);
            conferences::set_batch_items(tx, batch.id, &serde_json::to_string(&items)?).await?;
            (batch.id, batch.due_at, items)
        }
        latest => {
            let due = latest.map_or(now, |b| (b.due_at + MIRROR_EVERY).max(now));
            let items = vec![html];
            let id = conferences::create_batch(
                tx,
                now,
                conference,
                kind,
                due,
                &serde_json::to_string(&items)?,
            )
            .await?;
            (id, due, items)
        }
    };
    let texts: Vec<String> = items
        .iter()
        .map(|h| herald_bots::html::to_text(h))
        .collect();
    let context =
        json!({ "conference": name, "count": items.len(), "items": items, "texts": texts });
    let body = MailBody {
        automatic: true,
        ..MailBody::render(words, "mirror", &context)?
    };
    let message = new_message(
        &address,
        "notice",
        &format!("mirror:{conference}:{id}"),
        &body,
        due,
    )?;
    outbox::upsert_scheduled(tx, now, &message).await?;
    Ok(())
}

/// How the keys of the mails written for one person start: `invite-mail:<link id>/email:<address>`,
/// `email-confirm:<confirmation id>/email:<address>`.
const INVITE_KEY: &str = "invite-mail:";
const CONFIRM_KEY: &str = "email-confirm:";

/// The id and address in the key of a mail written for one person, when it starts with `prefix`.
fn personal_of_key<'k>(key: &'k str, prefix: &str) -> Option<(i64, &'k str)> {
    let (id, address) = key
        .strip_prefix(prefix)?
        .split_once(&format!("/{PLATFORM}:"))?;
    Some((id.parse().ok()?, address))
}

/// Tells the owner of an address the mail server refused (550) on their other channels that Herald no
/// longer writes there; tells whoever gave an address that its confirmation, or whoever sent an
/// invitation that it, could not be delivered.
#[derive(Debug)]
pub struct Undeliverable {
    pub templates: std::sync::Arc<Templates>,
}

#[async_trait::async_trait]
impl crate::outbox::Observer for Undeliverable {
    /// Mail written for one person (its rows hold a secret link): whoever sent an invitation, or gave the
    /// address a confirmation went to, is told when it could not be delivered, to check the address.
    fn kinds(&self) -> &'static [&'static str] {
        &[outbox::SECRET_KIND]
    }

    async fn finished(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        rows: &[(&str, &outbox::Outcome)],
    ) -> anyhow::Result<()> {
        for (key, outcome) in rows {
            let error = match outcome {
                outbox::Outcome::GivenUp { error } | outbox::Outcome::Gone { error } => error,
                outbox::Outcome::Expired { reason } => reason,
                _ => continue,
            };
            if let Some((id, address)) = personal_of_key(key, CONFIRM_KEY) {
                self.confirmation_failed(tx, now, id, address, outcome, error)
                    .await?;
                continue;
            }
            let Some((link, address)) = personal_of_key(key, INVITE_KEY) else {
                continue;
            };
            let Some((Some(inviter), Some(conference))) = store::inviter_of(tx, link).await? else {
                continue;
            };
            let notice = Notice::new(
                "invite_undeliverable",
                json!({ "address": address, "error": error }),
            )
            .kind("notice");
            let recipient = super::Recipient::Person {
                person: inviter,
                conference,
            };
            super::send(
                tx,
                &self.templates,
                now,
                recipient,
                &notice,
                &format!("{key}:failed"),
            )
            .await?;
        }
        Ok(())
    }

    async fn gone(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        platform: &str,
        target: &str,
        error: &str,
    ) -> anyhow::Result<()> {
        if platform != PLATFORM {
            return Ok(());
        }
        let Some(person) = store::owner_of(tx, target).await? else {
            return Ok(());
        };
        self.tell(tx, now, person, target, error).await
    }
}

impl Undeliverable {
    /// A confirmation mail that could not go: the person who gave the address hears it (unless the
    /// address was theirs already and [`Self::gone`] told them).
    async fn confirmation_failed(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        id: i64,
        address: &str,
        outcome: &outbox::Outcome,
        error: &str,
    ) -> anyhow::Result<()> {
        let Some(person) = store::confirmation_person(tx, id).await? else {
            return Ok(());
        };
        let told = matches!(outcome, outbox::Outcome::Gone { .. })
            && store::owner_of(tx, address).await? == Some(person);
        if told {
            return Ok(());
        }
        self.tell(tx, now, person, address, error).await
    }

    /// Tells `person` on their other channels that mail to `address` cannot be delivered.
    async fn tell(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        person: i64,
        address: &str,
        error: &str,
    ) -> anyhow::Result<()> {
        // Written from one of their conferences' accounts (a Mastodon direct status needs one).
        let conference = crate::db::subscriptions::subscriptions_of(tx, person)
            .await?
            .first()
            .map_or(0, |s| s.conference_id);
        let notice = Notice::new(
            "email_undeliverable",
            json!({ "address": address, "error": error }),
        )
        .kind("notice");
        let recipient = super::Recipient::Person { person, conference };
        let key = format!("email-undeliverable:{address}:{}", now.timestamp());
        super::send(tx, &self.templates, now, recipient, &notice, &key).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_mail_has_its_own_unsubscribe_word() {
        for kind in [Kind::Announcements, Kind::Reminders, Kind::Direct] {
            assert_eq!(parse_kind(kind_word(kind)), Some(kind));
        }
        assert_eq!(kind_of("reminder"), Kind::Reminders);
        assert_eq!(kind_of("announcement"), Kind::Announcements);
        assert_eq!(kind_of("dm"), Kind::Direct);
        assert_eq!(parse_kind("everything"), None);
        assert_eq!(
            personal_of_key("invite-mail:12/email:ada@example.org", INVITE_KEY),
            Some((12, "ada@example.org"))
        );
        assert_eq!(
            personal_of_key("email-confirm:12/email:ada@example.org", INVITE_KEY),
            None
        );
        assert_eq!(
            personal_of_key("email-confirm:7/email:ada@example.org", CONFIRM_KEY),
            Some((7, "ada@example.org"))
        );
        let web = url::Url::parse("https://h.example/").expect("url");
        assert_eq!(
            unsubscribe_link(&web, "tok", Kind::Reminders),
            "https://h.example/mail/unsubscribe/tok/reminders"
        );
    }
}
