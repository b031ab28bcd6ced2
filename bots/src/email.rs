//! E-mail: SMTP through `lettre` (pooled, TLS or STARTTLS, authenticated), or a folder of `.eml` files
//! when no server is configured, so nothing is lost and a newcomer can read what would have been sent.
//!
//! The driver builds the message from a typed [`Mail`] (plain text and HTML alternatives, Herald's own
//! `Message-ID`, `Auto-Submitted`, RFC 8058 one-click unsubscribe headers) and classifies what the
//! server answered: 4xx and connection failures may pass, a 5xx refusing the recipient (550 "no such
//! user") means the address is gone, a refused login means the credentials are.

use std::{path::PathBuf, time::Duration};

use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        MultiPart, SinglePart,
        header::{ContentType, HeaderName, HeaderValue},
    },
    transport::smtp::PoolConfig,
};

use crate::{Disposition, Rate, RateLimits};

/// A parsed e-mail address (as `lettre` checks it: `user@domain`).
pub type EmailAddress = Address;

/// Parses an address as a person typed it; `None` when it is not one.
pub fn parse_address(text: &str) -> Option<EmailAddress> {
    text.trim().parse().ok()
}

/// Whether `text` is a sender as a `From` header takes it: `Name <user@domain>` or `user@domain`.
pub fn is_mailbox(text: &str) -> bool {
    text.parse::<lettre::message::Mailbox>().is_ok()
}

/// The part of an address after `@`: all that logs may show of a recipient.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("?", |(_, domain)| domain)
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    /// `Herald <herald@example.org>`.
    pub from: &'a str,
    /// The name to show before `from`'s address instead of its own (`FOSDEM 2027 · Herald`).
    pub from_name: Option<&'a str>,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// Without angle brackets: `<id>@<domain>`, stable across retries of one message.
    pub message_id: String,
    /// Where a POST stops this kind of mail at once (RFC 8058); also the `List-Unsubscribe` target.
    pub unsubscribe: Option<&'a str>,
    /// Sent by Herald on its own (a reminder, a notice), not as a person's reply (RFC 3834).
    pub automatic: bool,
    /// A calendar invitation, update or cancellation carried as a third alternative (iMIP, RFC 6047).
    pub calendar: Option<Calendar<'a>>,
}

/// An iCalendar object sent as `text/calendar; method=<METHOD>`: the `method` parameter must equal the
/// object's own `METHOD` property (RFC 6047 §2.4), so both come from the same writer.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    /// `REQUEST` or `CANCEL`.
    pub method: &'a str,
    pub ics: &'a str,
}

/// A failed send, classified.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct EmailError {
    pub disposition: Disposition,
    pub message: String,
}

impl EmailError {
    fn new(disposition: Disposition, message: impl Into<String>) -> Self {
        Self {
            disposition,
            message: message.into(),
        }
    }
}

/// Where mail goes.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The folder is made when the first message is written, so a Herald that sends no mail leaves none.
    Folder(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// An SMTP server or a folder, ready to send.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    /// What the log may say about where mail goes: the server's host or the folder (never a password).
    describe: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("to", &self.describe)
            .finish()
    }
}

/// How many connections the SMTP pool keeps at most.
const POOL_SIZE: u32 = 4;

impl Mailer {
    /// An SMTP server from a URL: `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtp://host:2525` (plain, for a local relay). Connections are pooled.
    pub fn smtp(url: &str, timeout: Duration) -> Result<Self, EmailError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| EmailError::new(Disposition::Permanent, format!("bad SMTP URL: {e}")))?;
        let describe = format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or("?"),
            parsed.port_or_known_default().unwrap_or(25)
        );
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| {
                EmailError::new(
                    Disposition::Permanent,
                    format!("bad SMTP URL {describe}: {e}"),
                )
            })?
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(POOL_SIZE))
            .build();
        Ok(Self {
            transport: Transport::Smtp(transport),
            describe,
        })
    }

    /// A folder that receives each message as an `.eml` file (created with the first one).
    pub fn folder(path: PathBuf) -> Self {
        Self {
            describe: path.display().to_string(),
            transport: Transport::Folder(AsyncFileTransport::new(&path), path),
        }
    }

    /// Where mail goes, for the log.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// A mail server takes a steady stream, not bursts: a conservative default the configuration may
    /// raise (`[outbox.rate_limits.email]`); one address gets at most a few messages a minute.
    pub fn limits(&self) -> RateLimits {
        match self.transport {
            Transport::Smtp(_) => RateLimits {
                per_provider: Rate::per_second(10),
                per_private_chat: Rate::per_minute(6),
                per_group_chat: Rate::per_minute(6),
            },
            Transport::Folder(..) => RateLimits::UNLIMITED,
        }
    }

    /// Sends one message; returns its `Message-ID`.
    #[tracing::instrument(skip_all, fields(domain = domain_of(mail.to)))]
    pub async fn send(&self, mail: &Mail<'_>) -> Result<String, EmailError> {
        let message = build(mail)?;
        let result = match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(classify),
            Transport::Folder(folder, path) => {
                let written = match tokio::fs::create_dir_all(path).await {
                    Ok(()) => folder
                        .send(message)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                written.map_err(|e| {
                    EmailError::new(
                        Disposition::Transient,
                        format!("could not write the mail file: {e}"),
                    )
                })
            }
        };
        // Servers quote the recipient in their answers; logs may show only its domain.
        result
            .map(|()| mail.message_id.clone())
            .map_err(|e| EmailError {
                message: e
                    .message
                    .replace(mail.to, &format!("…@{}", domain_of(mail.to))),
                ..e
            })
    }
}

/// The message as it goes out.
fn build(mail: &Mail<'_>) -> Result<Message, EmailError> {
    let bad = |what: &'static str| {
        move |e: lettre::address::AddressError| {
            EmailError::new(Disposition::Permanent, format!("bad {what} address: {e}"))
        }
    };
    let mut from = mail
        .from
        .parse::<lettre::message::Mailbox>()
        .map_err(bad("sender"))?;
    if let Some(name) = mail.from_name {
        from.name = Some(name.to_owned());
    }
    let to = mail
        .to
        .parse::<lettre::message::Mailbox>()
        .map_err(bad("recipient"))?;
    let mut message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .message_id(Some(format!("<{}>", mail.message_id)))
        .multipart(body(mail)?)
        .map_err(|e| EmailError::new(Disposition::Permanent, format!("unbuildable mail: {e}")))?;
    let headers = message.headers_mut();
    if mail.automatic {
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    }
    if let Some(url) = mail.unsubscribe {
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{url}>"),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
    }
    Ok(message)
}

/// Plain text and HTML as alternatives, and the calendar object as the last (richest) one: mail
/// programs that understand it show the invitation with its buttons, others the words.
fn body(mail: &Mail<'_>) -> Result<MultiPart, EmailError> {
    let words = MultiPart::alternative_plain_html(mail.text.to_owned(), mail.html.to_owned());
    let Some(calendar) = mail.calendar else {
        return Ok(words);
    };
    let kind = ContentType::parse(&format!(
        "text/calendar; charset=utf-8; method={}",
        calendar.method
    ))
    .map_err(|e| EmailError::new(Disposition::Permanent, format!("bad calendar method: {e}")))?;
    Ok(words.singlepart(
        SinglePart::builder()
            .header(kind)
            .body(calendar.ics.to_owned()),
    ))
}

/// What an SMTP failure means for the message.
fn classify(err: lettre::transport::smtp::Error) -> EmailError {
    let code = err.status().map(|c| c.to_string());
    let message = match &code {
        Some(code) => format!("the mail server answered {code}: {err}"),
        None => format!("the mail server could not be reached: {err}"),
    };
    EmailError::new(disposition_of(code.as_deref()), message)
}

/// The disposition of an SMTP reply code (RFC 5321 §4.2); `None` when no reply came (connection, TLS,
/// timeout), which may pass.
fn disposition_of(code: Option<&str>) -> Disposition {
    match code {
        // The mailbox does not exist, is not local, or its name is not allowed: writing again is useless.
        Some("550" | "551" | "553") => Disposition::Gone,
        // Authentication required or refused: the server's account, not the message.
        Some("530" | "534" | "535") => Disposition::Refused,
        Some(code) if code.starts_with('5') => Disposition::Permanent,
        _ => Disposition::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_answers_decide_between_retrying_giving_up_and_dropping_the_address() {
        for (code, expected) in [
            (Some("550"), Disposition::Gone),
            (Some("551"), Disposition::Gone),
            (Some("553"), Disposition::Gone),
            (Some("535"), Disposition::Refused),
            (Some("530"), Disposition::Refused),
            (Some("552"), Disposition::Permanent),
            (Some("554"), Disposition::Permanent),
            (Some("421"), Disposition::Transient),
            (Some("451"), Disposition::Transient),
            (None, Disposition::Transient),
        ] {
            assert_eq!(disposition_of(code), expected, "{code:?}");
        }
    }

    #[test]
    fn only_the_domain_of_an_address_is_shown() {
        assert_eq!(domain_of("ada@example.org"), "example.org");
        assert_eq!(domain_of("nonsense"), "?");
    }

    #[test]
    fn addresses_are_parsed_as_typed() {
        assert!(parse_address(" ada@example.org ").is_some());
        assert!(parse_address("ada@").is_none());
        assert!(parse_address("ada").is_none());
    }

    #[test]
    fn a_message_carries_its_id_and_the_one_click_headers() {
        let mail = Mail {
            from: "Herald <herald@example.org>",
            from_name: None,
            to: "ada@example.org",
            subject: "Reminder",
            text: "Soon",
            html: "<p>Soon</p>",
            message_id: "abc@example.org".into(),
            unsubscribe: Some("https://h.example/mail/unsubscribe/t/reminders"),
            automatic: true,
            calendar: None,
        };
        let raw = String::from_utf8(build(&mail).expect("built").formatted()).expect("utf-8");
        assert!(raw.contains("Message-ID: <abc@example.org>"), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        assert!(
            raw.contains("List-Unsubscribe: <https://h.example/mail/unsubscribe/t/reminders>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
        let personal = Mail {
            unsubscribe: None,
            automatic: false,
            ..mail
        };
        let raw = String::from_utf8(build(&personal).expect("built").formatted()).expect("utf-8");
        assert!(!raw.contains("Auto-Submitted"), "{raw}");
        assert!(!raw.contains("List-Unsubscribe"), "{raw}");
        assert!(!raw.contains("text/calendar"), "{raw}");
    }

    #[test]
    fn an_invitation_carries_its_calendar_with_the_same_method() {
        let mail = Mail {
            from: "Herald <herald@example.org>",
            from_name: None,
            to: "ada@example.org",
            subject: "Invitation",
            text: "Your talk",
            html: "<p>Your talk</p>",
            message_id: "abc@example.org".into(),
            unsubscribe: None,
            automatic: true,
            calendar: Some(Calendar {
                method: "CANCEL",
                ics: "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n",
            }),
        };
        let raw = String::from_utf8(build(&mail).expect("built").formatted()).expect("utf-8");
        assert!(
            raw.contains("Content-Type: text/calendar; charset=utf-8; method=CANCEL"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }
}
