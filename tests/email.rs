//! E-mail as a channel: the `.eml` folder default, registration links by mail (in chat and with
//! `herald invite --send`), double opt-in, one-click unsubscribe, and what the mail server's answers do
//! (a 550 gives the address up, a 451 is retried) — against an in-process SMTP server.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald::{
    chat::BotInfo,
    cli::links::{Mailing, read_invitees},
    clock::SharedClock,
    config::SecretUrl,
    db::outbox::{self, OutboxState},
    inbox::Handlers,
    templates::Templates,
};
use support::{ADA, BOT_USERNAME, OWNER, TestApp, fake_smtp::FakeSmtp, schedule_json, token_of};

const ADDRESS: &str = "ada@example.org";

/// Herald with its mail going to `smtp`, an owner and a conference.
async fn with_smtp(smtp: &FakeSmtp) -> TestApp {
    let url = smtp.url.clone();
    let app = TestApp::spawn_with(
        move |c| c.email.smtp_url = Some(SecretUrl::new(url)),
        Handlers::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    app
}

/// The first link in `text` whose address contains `part`.
fn link_in(text: &str, part: &str) -> String {
    let at = text
        .find(part)
        .unwrap_or_else(|| panic!("no {part} in {text}"));
    let start = text[..at].rfind("http").unwrap();
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>'))
        .collect()
}

/// The value of header `name` in a raw message.
fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// Ada joins, asks for mail at [`ADDRESS`] and confirms it through the link mailed to her.
async fn ada_confirms(app: &TestApp, smtp: &FakeSmtp) {
    app.join(&ADA, "attendee").await;
    let replies = app.say(&ADA, &format!("/settings email {ADDRESS}")).await;
    assert!(
        replies[0].contains("mailed a confirmation link"),
        "{replies:?}"
    );
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), 1, "only the confirmation: {mails:?}");
    assert_eq!(
        header(&mails[0], "Subject"),
        Some("Confirm your e-mail address for Herald")
    );
    let confirm = link_in(&mails[0], "/mail/confirm/");
    // Opening the link changes nothing (mail scanners open links); the button does.
    let page = app.http.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Confirm this address"));
    let dm = app.say(&OWNER, "/dm @ada Before confirming").await;
    assert!(dm[0].contains("Queued a message"), "{dm:?}");
    app.send_everything().await;
    assert_eq!(smtp.to(ADDRESS).len(), 1, "nothing before confirmation");
    let done = app.http.post(&confirm).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Address confirmed"));
    let again = app.http.post(&confirm).send().await.unwrap();
    assert_eq!(again.status(), 410, "a confirmation link works once");
}

#[tokio::test]
async fn without_smtp_a_registration_mail_lands_as_a_readable_eml_file_with_both_links() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let replies = app
        .say(&OWNER, &format!("/invite speaker {ADDRESS} Ada Lovelace"))
        .await;
    assert!(
        replies[0].contains(&format!("mailed to {ADDRESS}")),
        "{replies:?}"
    );
    assert!(!replies[0].contains("start="), "the link went by mail only");
    app.send_everything().await;
    let files = app.mail_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = &files[0];
    assert_eq!(header(mail, "To"), Some(ADDRESS));
    assert_eq!(
        header(mail, "Subject"),
        Some("Your invitation to FOSDEM 2027")
    );
    assert!(
        header(mail, "Message-ID").is_some_and(|id| id.ends_with("@localhost>")),
        "{mail}"
    );
    assert!(mail.contains("Hello Ada Lovelace"), "{mail}");
    let telegram = link_in(mail, &format!("t.me/{BOT_USERNAME}?start="));
    let browser = link_in(mail, "/chat/start/");
    let token = token_of(&telegram);
    assert!(
        browser.ends_with(&format!("/chat/start/{token}")),
        "{browser}"
    );
    // The mail's stored copy held a working link: blanked once sent.
    let rows = outbox::list(app.db()).await.unwrap();
    let row = rows.iter().find(|r| r.platform == "email").unwrap();
    assert_eq!(row.state, OutboxState::Sent);
    assert!(!row.body.contains(&token), "{}", row.body);
    // Opening the invitation confirms the address: it is one of Ada's channels at once.
    let joined = app.say(&ADA, &format!("/start {token}")).await;
    assert!(joined[0].contains("speaker"), "{joined:?}");
    let settings = app.say(&ADA, "/settings").await.join("\n");
    assert!(settings.contains("email"), "{settings}");
}

#[tokio::test]
async fn a_confirmed_address_gets_reminders_until_one_click_stops_them_at_once() {
    let smtp = FakeSmtp::start().await;
    let app = with_smtp(&smtp).await;
    ada_confirms(&app, &smtp).await;
    let dm = app.say(&OWNER, "/dm @ada After confirming").await;
    assert!(dm[0].contains("Queued a message"), "{dm:?}");
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].contains("After confirming"), "{}", mails[1]);
    assert!(header(&mails[1], "List-Unsubscribe").is_some_and(|u| u.ends_with("/direct>")));

    let t0 = app.now();
    let sessions = [
        (
            "a",
            "Rust in Space",
            "K.1.105",
            t0 + TimeDelta::hours(1),
            45,
            "confirmed",
        ),
        (
            "b",
            "Zig on Mars",
            "H.2215",
            t0 + TimeDelta::hours(2),
            45,
            "confirmed",
        ),
    ];
    app.import(&schedule_json(&sessions)).await;
    app.advance(TimeDelta::minutes(50));
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), 3, "{mails:?}");
    let reminder = &mails[2];
    assert!(reminder.contains("Rust in Space"), "{reminder}");
    assert_eq!(
        header(reminder, "Subject"),
        Some("Reminder from your conference")
    );
    assert_eq!(header(reminder, "Auto-Submitted"), Some("auto-generated"));
    assert_eq!(
        header(reminder, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = header(reminder, "List-Unsubscribe")
        .unwrap()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert!(unsubscribe.ends_with("/reminders"), "{unsubscribe}");
    assert!(reminder.contains(&unsubscribe), "the footer links it too");

    // What a mail client sends for a one-click unsubscribe (RFC 8058): honoured at once, and the
    // reminder already queued for the next session is cancelled.
    let answer = app
        .http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("no longer mails reminders")
    );
    let before = app.telegram.texts_to(ADA.id).len();
    app.advance(TimeDelta::hours(1));
    app.send_everything().await;
    assert_eq!(smtp.to(ADDRESS).len(), 3, "no more reminders by mail");
    let telegram = app.telegram.texts_to(ADA.id);
    assert!(
        telegram[before..].iter().any(|t| t.contains("Zig on Mars")),
        "Telegram still reminds: {telegram:?}"
    );
    // Direct messages were not switched off.
    app.say(&OWNER, "/dm @ada Still here").await;
    app.send_everything().await;
    assert_eq!(smtp.to(ADDRESS).len(), 4);
    // A link Herald did not make changes nothing.
    let bogus = unsubscribe.replace("/reminders", "/everything");
    let answer = app.http.post(&bogus).send().await.unwrap();
    assert_eq!(answer.status(), 404);
}

#[tokio::test]
async fn a_550_gives_the_address_up_and_its_owner_hears_it_on_telegram() {
    let smtp = FakeSmtp::start().await;
    let app = with_smtp(&smtp).await;
    ada_confirms(&app, &smtp).await;
    smtp.unknown_user(ADDRESS);
    let before = app.telegram.texts_to(ADA.id).len();
    app.say(&OWNER, "/dm @ada Are you there?").await;
    app.send_everything().await;
    let rows = outbox::list(app.db()).await.unwrap();
    let refused = rows
        .iter()
        .filter(|r| r.platform == "email" && r.kind == "dm")
        .next_back()
        .unwrap();
    assert_eq!(refused.state, OutboxState::GivenUp);
    assert!(
        refused
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{refused:?}"
    );
    let told = app.telegram.texts_to(ADA.id);
    assert!(
        told[before..]
            .iter()
            .any(|t| t.contains("refused mail to") && t.contains(ADDRESS)),
        "{told:?}"
    );
    // Herald no longer writes there.
    let rows_before = outbox::list(app.db()).await.unwrap().len();
    app.say(&OWNER, "/dm @ada Second try").await;
    app.send_everything().await;
    let rows = outbox::list(app.db()).await.unwrap();
    assert!(
        rows[rows_before..].iter().all(|r| r.platform != "email"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_451_is_retried_and_delivered() {
    let smtp = FakeSmtp::start().await;
    let app = with_smtp(&smtp).await;
    ada_confirms(&app, &smtp).await;
    smtp.busy_once(ADDRESS);
    // Sending everything lets the clock run through the retry's backoff.
    app.say(&OWNER, "/dm @ada Patience").await;
    let rows = outbox::list(app.db()).await.unwrap();
    let row = rows.iter().rfind(|r| r.platform == "email").unwrap();
    assert_eq!(row.state, OutboxState::Sent);
    assert_eq!(row.attempts, 2, "{row:?}");
    assert!(smtp.to(ADDRESS).iter().any(|m| m.contains("Patience")));
}

#[tokio::test]
async fn invite_send_mails_each_address_once_and_a_rerun_sends_nothing_twice() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let clock: SharedClock = app.clock.clone();
    let bot = BotInfo::new(Some(BOT_USERNAME.into()), None, app.app.web_base.clone());
    let templates = Templates::new();
    let mailing = Mailing {
        db: app.db(),
        clock: &clock,
        bot: &bot,
        templates: &templates,
    };
    let invitees = read_invitees(
        "name,email\nAda,ada@example.org\nBob,bob@example.org\nNo One,\nEve,not-an-address\n"
            .as_bytes(),
    )
    .unwrap();
    let mut progress = Vec::new();
    let first = mailing
        .send("fosdem-2027", "speaker", &invitees, &mut progress)
        .await
        .unwrap();
    assert_eq!(first.queued.len(), 2);
    assert_eq!(first.refused, 1);
    assert_eq!(first.without_address.len(), 1);
    let progress = String::from_utf8(progress).unwrap();
    assert!(
        progress.contains("row 4: \"not-an-address\" is not an e-mail address"),
        "{progress}"
    );
    let again = mailing
        .send("fosdem-2027", "speaker", &invitees, &mut Vec::new())
        .await
        .unwrap();
    assert!(again.queued.is_empty());
    assert_eq!(again.already, 2);
    // Another role is another invitation.
    let volunteers = mailing
        .send("fosdem-2027", "volunteer", &invitees[..1], &mut Vec::new())
        .await
        .unwrap();
    assert_eq!(volunteers.queued.len(), 1);
    app.send_everything().await;
    let files = app.mail_files();
    assert_eq!(files.len(), 3, "{files:?}");
    let err = mailing
        .send("nope", "speaker", &invitees, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no conference nope"), "{err}");
}
