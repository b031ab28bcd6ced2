//! E-mail, as the application uses it: the outbox's sender for the configured mail server (or the `.eml`
//! folder). It frames each mail's words with `templates/mail/layout.*` (the footer and its unsubscribe
//! link name this server's address), gives it Herald's own `Message-ID`, writes a calendar invitation's
//! iTIP object with this server's sender as ORGANIZER, and hands it to the driver.
//! (Writing mail is the delivery layer's: [`crate::delivery::email`].)
//!
//! A mail server's answer decides what follows: 4xx and connection failures are retried by the outbox,
//! 550 ("no such user") gives the address up — the outbox marks it unreachable and
//! [`crate::delivery::email::Undeliverable`] tells its owner on their other channels.

use std::sync::Arc;

use async_trait::async_trait;
use herald_bots::{
    RateLimits,
    email::{Calendar, Mail, Mailer, domain_of},
};
use serde_json::json;

use crate::{
    delivery::email::{ANSWERS, MailBody, answer_link, parse_kind, unsubscribe_link},
    outbox::{ChatClass, Delivery, SendError, Sender},
    schedule::calendar::itip,
    templates::Templates,
    token::hash,
};

#[derive(Debug)]
pub struct EmailSender {
    mailer: Mailer,
    /// `Name <address>`.
    from: String,
    /// The domain of Herald's Message-IDs: the sender's.
    domain: String,
    /// Where the unsubscribe links point.
    web: url::Url,
    templates: Arc<Templates>,
}

impl EmailSender {
    pub fn new(
        mailer: Mailer,
        from: String,
        web: url::Url,
        templates: Arc<Templates>,
    ) -> Arc<Self> {
        let address = from
            .rsplit_once('<')
            .map_or(from.as_str(), |(_, a)| a.trim_end_matches('>'));
        let domain = domain_of(address).to_owned();
        Arc::new(Self {
            mailer,
            from,
            domain,
            web,
            templates,
        })
    }

    /// Where mail goes, for the log.
    pub fn describe(&self) -> &str {
        self.mailer.describe()
    }

    /// The mail's words framed by the layout, with its unsubscribe link: (text, html, link).
    fn frame(&self, body: &MailBody) -> anyhow::Result<(String, String, Option<String>)> {
        let unsubscribe = body.unsubscribe.as_ref().and_then(|u| {
            parse_kind(&u.kind).map(|kind| (unsubscribe_link(&self.web, &u.token, kind), &u.kind))
        });
        let (link, kind) = match &unsubscribe {
            Some((link, kind)) => (Some(link.as_str()), kind.as_str()),
            None => (None, ""),
        };
        // An invitation's Accept / Decline links, which name this server's address like the others.
        let answers = body
            .calendar
            .as_ref()
            .and_then(|c| c.answer_token.as_deref())
            .map(|token| ANSWERS.map(|answer| answer_link(&self.web, token, answer)));
        let context = json!({
            "subject": body.subject, "text": body.text, "body": body.html,
            "unsubscribe": link, "kind": kind, "answers": answers,
        });
        let words = self.templates.words(body.language.as_deref());
        let text = words.render("mail/layout.text.txt", &context)?;
        let html = words.render("mail/layout.html", &context)?;
        Ok((text, html, link.map(str::to_owned)))
    }
}

#[async_trait]
impl Sender for EmailSender {
    fn limits(&self) -> RateLimits {
        self.mailer.limits()
    }

    /// Each address is one reader.
    fn chat_class(&self, _target: &str) -> ChatClass {
        ChatClass::Private
    }

    async fn send(&self, delivery: Delivery<'_>) -> Result<String, SendError> {
        let body: MailBody = serde_json::from_str(delivery.body)
            .map_err(|e| SendError::permanent(format!("unreadable mail: {e}")))?;
        let (text, html, unsubscribe) = self
            .frame(&body)
            .map_err(|e| SendError::permanent(format!("{e:#}")))?;
        // Derived from the row's key, so a retry of the same message carries the same id and a
        // receiving server that saw it already can tell.
        let message_id = format!("{}@{}", &hash(delivery.idempotency_key)[..32], self.domain);
        let ics = body
            .calendar
            .as_ref()
            .map(|event| (event.method.as_str(), itip(&self.from, event)));
        let mail = Mail {
            from: &self.from,
            from_name: body.from_name.as_deref(),
            to: delivery.target,
            subject: &body.subject,
            text: &text,
            html: &html,
            message_id,
            unsubscribe: unsubscribe.as_deref(),
            automatic: body.automatic,
            calendar: ics.as_ref().map(|(method, ics)| Calendar { method, ics }),
        };
        self.mailer.send(&mail).await.map_err(|e| SendError {
            disposition: e.disposition,
            message: e.message,
            moved_to: None,
        })
    }
}
