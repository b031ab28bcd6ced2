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
    db::outbox::{self, OutboxState},
    templates::Templates,
};
use support::{
    ADA, BOT_USERNAME, OWNER, TestApp,
    fake_smtp::FakeSmtp,
    mail::{
        ada_confirms, first_of_two_reminders, header, link_in, one_click_unsubscribe,
        spawn_with_smtp,
    },
    token_of,
};

const ADDRESS: &str = "ada@example.org";

/// What `herald invite --send` works with, for a test's Herald (its links open Telegram when `telegram`).
struct Sending {
    clock: SharedClock,
    bot: BotInfo,
    templates: Templates,
}

impl Sending {
    fn of(app: &TestApp, telegram: bool) -> Self {
        let username = telegram.then(|| BOT_USERNAME.to_owned());
        Self {
            clock: app.clock.clone(),
            bot: BotInfo::new(username, None, app.app.web_base.clone()),
            templates: Templates::new(),
        }
    }

    fn mailing<'a>(&'a self, app: &'a TestApp) -> Mailing<'a> {
        Mailing {
            db: app.db(),
            clock: &self.clock,
            bot: &self.bot,
            templates: &self.templates,
        }
    }
}

#[tokio::test]
async fn without_smtp_a_registration_mail_lands_as_a_readable_eml_file_with_both_links() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let folder = &app.app.config.email.folder;
    assert!(!folder.exists(), "made with the first mail, not before");
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
    let app = spawn_with_smtp(&smtp.url).await;
    ada_confirms(&app, ADDRESS, |a| smtp.to(a)).await;
    let dm = app.say(&OWNER, "/dm @ada After confirming").await;
    assert!(dm[0].contains("Queued a message"), "{dm:?}");
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].contains("After confirming"), "{}", mails[1]);
    assert!(header(&mails[1], "List-Unsubscribe").is_some_and(|u| u.ends_with("/direct>")));

    first_of_two_reminders(&app).await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), 3, "{mails:?}");
    let reminder = &mails[2];
    assert!(reminder.contains("Rust in Space"), "{reminder}");
    assert_eq!(
        header(reminder, "Subject"),
        Some("Reminder from your conference")
    );
    // Honoured at once: the reminder already queued for the next session is cancelled.
    let (unsubscribe, answer) = one_click_unsubscribe(&app, reminder).await;
    assert!(unsubscribe.ends_with("/reminders"), "{unsubscribe}");
    assert!(
        reminder.contains(&format!("Stop reminders by e-mail: {unsubscribe}")),
        "the text footer links it: {reminder}"
    );
    assert!(
        reminder.contains(&format!("<a href=\"{unsubscribe}\"")),
        "the HTML footer links it: {reminder}"
    );
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
    let app = spawn_with_smtp(&smtp.url).await;
    ada_confirms(&app, ADDRESS, |a| smtp.to(a)).await;
    smtp.unknown_user(ADDRESS);
    let before = app.telegram.texts_to(ADA.id).len();
    app.say(&OWNER, "/dm @ada Are you there?").await;
    app.send_everything().await;
    let rows = outbox::list(app.db()).await.unwrap();
    let refused = rows
        .iter()
        .rfind(|r| r.platform == "email" && r.kind == "dm")
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
async fn settings_switch_what_the_address_receives_like_any_channel() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    ada_confirms(&app, ADDRESS, |a| smtp.to(a)).await;
    let settings = app.say(&ADA, "/settings").await.join("\n");
    assert!(settings.contains(ADDRESS), "{settings}");
    let off = app.say(&ADA, "/settings direct email off").await;
    assert!(!off.is_empty(), "{off:?}");
    let before = app.telegram.texts_to(ADA.id).len();
    app.say(&OWNER, "/dm @ada Only on Telegram").await;
    assert_eq!(smtp.to(ADDRESS).len(), 1, "only the confirmation");
    let telegram = app.telegram.texts_to(ADA.id);
    assert!(
        telegram[before..]
            .iter()
            .any(|t| t.contains("Only on Telegram")),
        "{telegram:?}"
    );
    app.say(&ADA, "/settings direct email on").await;
    app.say(&OWNER, "/dm @ada Both again").await;
    assert!(smtp.to(ADDRESS).iter().any(|m| m.contains("Both again")));
}

#[tokio::test]
async fn an_invitation_the_server_refuses_is_told_to_whoever_sent_it() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    smtp.unknown_user("ada@exmaple.org");
    let replies = app.say(&OWNER, "/invite speaker ada@exmaple.org Ada").await;
    assert!(replies[0].contains("mailed to"), "{replies:?}");
    let told = app.telegram.texts_to(OWNER.id);
    assert!(
        told.iter()
            .any(|t| t.contains("could not be delivered") && t.contains("ada@exmaple.org")),
        "{told:?}"
    );
}

#[tokio::test]
async fn a_mistyped_address_whose_confirmation_bounces_is_told_in_chat() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    app.join(&ADA, "attendee").await;
    smtp.unknown_user("ada@exmaple.org");
    app.say(&ADA, "/settings email ada@exmaple.org").await;
    app.send_everything().await;
    let told = app.telegram.texts_to(ADA.id);
    assert!(
        told.iter()
            .any(|t| t.contains("refused mail to") && t.contains("ada@exmaple.org")),
        "{told:?}"
    );
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn a_451_is_retried_and_delivered() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    ada_confirms(&app, ADDRESS, |a| smtp.to(a)).await;
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
async fn the_mail_servers_rate_is_configurable_and_holds_mail_back() {
    let app = TestApp::spawn_with(
        |c| {
            let per_minute = herald::config::RateLimitOverrides {
                per_provider: Some(herald_bots::Rate::per_minute(1)),
                ..Default::default()
            };
            c.outbox.rate_limits.insert("email".into(), per_minute);
        },
        herald::inbox::Handlers::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    let sending = Sending::of(&app, false);
    let mailing = sending.mailing(&app);
    let invitees = read_invitees("Ada,ada@example.org\nBob,bob@example.org\n".as_bytes()).unwrap();
    mailing
        .send("fosdem-2027", "attendee", &invitees, &mut Vec::new())
        .await
        .unwrap();
    let round = app.outbox_round().await;
    assert_eq!((round.sent, round.deferred), (1, 1), "{round:?}");
    assert_eq!(app.mail_files().len(), 1);
    app.advance(TimeDelta::seconds(61));
    app.drain_outbox().await;
    let files = app.mail_files();
    assert_eq!(files.len(), 2);
    // Without Telegram, the invitation opens the web chat only.
    assert!(files.iter().all(|m| !m.contains("t.me/")), "{files:?}");
    assert!(files.iter().all(|m| m.contains("Open in the browser")));
}

#[tokio::test]
async fn invite_send_mails_each_address_once_and_a_rerun_sends_nothing_twice() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let sending = Sending::of(&app, true);
    let mailing = sending.mailing(&app);
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

#[tokio::test]
async fn a_burst_of_ten_organiser_notices_reaches_the_notification_address_as_two_mails() {
    const ORGA: &str = "orga@example.org";
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    let replies = app.say(&OWNER, "/conference email orga").await;
    assert!(replies[0].contains("e-mail address"), "{replies:?}");
    let replies = app.say(&OWNER, &format!("/conference email {ORGA}")).await;
    assert!(
        replies[0].contains(&format!("also goes to {ORGA}")),
        "{replies:?}"
    );

    let templates = Templates::new();
    let burst = |n: usize| {
        let (db, templates, now) = (app.db(), &templates, app.now());
        async move {
            let mut tx = db.begin().await.unwrap();
            for i in 0..n {
                herald::delivery::organisers::notify(
                    &mut tx,
                    templates,
                    now,
                    1,
                    "notify_hook",
                    &format!("hook:{}:{i}", now.timestamp()),
                    serde_json::json!({ "conference": "FOSDEM 2027", "title": format!("Power cut {i}"),
                                        "text": "Evacuate.", "level": "urgent" }),
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
    };
    burst(10).await;
    app.send_everything().await;
    let mails = smtp.to(ORGA);
    assert_eq!(mails.len(), 1, "the first at once: {mails:#?}");
    assert_eq!(
        header(&mails[0], "Subject"),
        Some("[FOSDEM 2027] Organiser notice")
    );
    assert!(mails[0].contains("Power cut 0"), "{}", mails[0]);

    // The other nine are gathered into one mail ten minutes later.
    app.advance(TimeDelta::minutes(9));
    app.send_everything().await;
    assert_eq!(smtp.to(ORGA).len(), 1, "not before ten minutes");
    app.advance(TimeDelta::minutes(1));
    app.send_everything().await;
    let mails = smtp.to(ORGA);
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert_eq!(
        header(&mails[1], "Subject"),
        Some("[FOSDEM 2027] 9 organiser notices")
    );
    for i in 1..10 {
        assert!(
            mails[1].contains(&format!("Power cut {i}")),
            "{i}: {}",
            mails[1]
        );
    }

    // Switched off: nothing more.
    let replies = app.say(&OWNER, "/conference email off").await;
    assert!(replies[0].contains("no longer mailed"), "{replies:?}");
    app.advance(TimeDelta::minutes(30));
    burst(3).await;
    app.send_everything().await;
    assert_eq!(smtp.to(ORGA).len(), 2);
}
