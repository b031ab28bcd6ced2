//! Against a real SMTP server, aiosmtpd 1.4.6 (PyPI), storing what it accepts in a Maildir and
//! refusing `gone-…@` recipients with 550 (see .ci/peer-smtp, which starts it and runs these with
//! `--ignored`). Set HERALD_SMTP_PEER to its address (`smtp://127.0.0.1:2525`) and HERALD_SMTP_MAILBOX
//! to the Maildir; without them these tests say so and pass.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald::db::outbox::{self, OutboxState};
use support::{
    ADA, BOT_USERNAME, OWNER,
    mail::{
        ada_confirms, decoded, first_of_two_reminders, header, link_in, maildir_to,
        one_click_unsubscribe, spawn_with_smtp,
    },
    schedule_json, token_of,
};

/// The peer's address and Maildir, when .ci/peer-smtp runs these.
fn peer() -> Option<(String, String)> {
    match (
        std::env::var("HERALD_SMTP_PEER"),
        std::env::var("HERALD_SMTP_MAILBOX"),
    ) {
        (Ok(url), Ok(dir)) => Some((url, dir)),
        _ => {
            eprintln!("HERALD_SMTP_PEER / HERALD_SMTP_MAILBOX not set: run .ci/peer-smtp");
            None
        }
    }
}

/// An address no other test run uses (the Maildir outlives a run); `gone-…` ones are refused.
fn fresh_address(kind: &str) -> String {
    format!("{kind}-{:08x}@example.org", rand::random::<u32>())
}

/// Sends everything, then waits (a little, in real time) for the server to have stored `n` messages.
async fn mails(dir: &str, address: &str, n: usize) -> Vec<String> {
    for _ in 0..50 {
        let found = maildir_to(dir, address);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    maildir_to(dir, address)
}

#[tokio::test]
#[ignore = "needs the real SMTP peer: .ci/peer-smtp"]
async fn a_registration_mail_reaches_a_real_server_with_both_links() {
    let Some((url, dir)) = peer() else { return };
    let app = spawn_with_smtp(&url).await;
    let address = fresh_address("ada");
    app.say(&OWNER, &format!("/invite speaker {address} Ada Lovelace"))
        .await;
    app.send_everything().await;
    let received = mails(&dir, &address, 1).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(
        header(mail, "Subject"),
        Some("Your invitation to FOSDEM 2027")
    );
    assert!(header(mail, "Message-ID").is_some(), "{mail}");
    let telegram = link_in(mail, &format!("t.me/{BOT_USERNAME}?start="));
    let token = token_of(&telegram);
    let browser = link_in(mail, "/chat/start/");
    assert!(browser.ends_with(&token), "{browser}");
    let joined = app.say(&ADA, &format!("/start {token}")).await;
    assert!(joined[0].contains("speaker"), "{joined:?}");
}

#[tokio::test]
#[ignore = "needs the real SMTP peer: .ci/peer-smtp"]
async fn a_confirmed_address_gets_a_reminder_and_one_click_stops_the_next() {
    let Some((url, dir)) = peer() else { return };
    let app = spawn_with_smtp(&url).await;
    let address = fresh_address("ada");
    // aiosmtpd stores a message before it answers 250: what was sent is there to read.
    ada_confirms(&app, &address, |a| maildir_to(&dir, a)).await;
    first_of_two_reminders(&app).await;
    let received = mails(&dir, &address, 2).await;
    let reminder = received
        .iter()
        .find(|m| m.contains("Rust in Space"))
        .expect("the reminder arrived");
    let (_, answer) = one_click_unsubscribe(&app, reminder).await;
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("no longer mails reminders")
    );
    app.advance(TimeDelta::hours(1));
    app.send_everything().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = maildir_to(&dir, &address);
    assert!(
        !after.iter().any(|m| m.contains("Zig on Mars")),
        "stopped at once"
    );
}

#[tokio::test]
#[ignore = "needs the real SMTP peer: .ci/peer-smtp"]
async fn a_550_from_a_real_server_gives_the_address_up() {
    let Some((url, _dir)) = peer() else { return };
    let app = spawn_with_smtp(&url).await;
    let address = fresh_address("gone");
    app.say(&OWNER, &format!("/invite attendee {address}"))
        .await;
    app.send_everything().await;
    let rows = outbox::list(app.db()).await.unwrap();
    let row = rows.iter().find(|r| r.platform == "email").unwrap();
    assert_eq!(row.state, OutboxState::GivenUp, "{row:?}");
    let error = row.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("550"), "{row:?}");
    // The server quoted the address; what Herald keeps and logs shows only its domain.
    assert!(!error.contains(&address), "{error}");
    assert!(error.contains("…@example.org"), "{error}");
}

#[tokio::test]
#[ignore = "needs the real SMTP peer: .ci/peer-smtp"]
async fn a_speakers_invitation_then_its_update_then_its_cancellation_reach_a_real_server() {
    let Some((url, dir)) = peer() else { return };
    let app = spawn_with_smtp(&url).await;
    let address = fresh_address("speaker");
    app.say(&OWNER, &format!("/invite speaker {address} Ada"))
        .await;
    app.send_everything().await;
    let invite = mails(&dir, &address, 1).await;
    let token = token_of(&link_in(&invite[0], "?start="));
    // Her Telegram speaks German: her invitations come in German, with German dates.
    let mut update = app.message_update(&ADA, ADA.id, &format!("/start {token}"));
    update["message"]["from"]["language_code"] = "de".into();
    app.deliver(&[update]).await;
    // A title with characters that must be escaped and folded, for the parsers in .ci/check_itip.py.
    let title = "Rust in Space: Ünïcödé, commas; and a title long enough to be folded twice over";
    let start = app.now() + TimeDelta::days(2);
    let mut session = ("t1", title, "K.1.105", start, 45, "confirmed");
    let mut methods = Vec::new();
    for (n, change) in ["invite", "move", "cancel"].into_iter().enumerate() {
        match change {
            "move" => session.3 += TimeDelta::hours(1),
            "cancel" => session.5 = "canceled",
            _ => {}
        }
        app.import(&schedule_json(&[session])).await;
        app.send_everything().await;
        let received = mails(&dir, &address, n + 2).await;
        assert_eq!(received.len(), n + 2, "{change}: {received:#?}");
        let subject = decoded(header(&received[n + 1], "Subject").unwrap());
        let german = session
            .3
            .with_timezone(&chrono_tz::Europe::Brussels)
            .format_localized("%a, %-d. %b %H:%M", chrono::Locale::de_DE)
            .to_string();
        assert!(
            subject.contains(&german),
            "{change}: {subject} lacks {german}"
        );
        let part = received[n + 1]
            .lines()
            .find(|l| l.starts_with("Content-Type: text/calendar"))
            .expect("a calendar part")
            .to_owned();
        methods.push(part);
    }
    assert_eq!(
        methods,
        [
            "Content-Type: text/calendar; charset=utf-8; method=REQUEST",
            "Content-Type: text/calendar; charset=utf-8; method=REQUEST",
            "Content-Type: text/calendar; charset=utf-8; method=CANCEL",
        ]
    );
}

#[tokio::test]
#[ignore = "needs the real SMTP peer: .ci/peer-smtp"]
async fn a_burst_of_ten_organiser_notices_reaches_a_real_server_as_two_mails() {
    let Some((url, dir)) = peer() else { return };
    let app = spawn_with_smtp(&url).await;
    let orga = fresh_address("orga");
    let replies = app.say(&OWNER, &format!("/conference email {orga}")).await;
    assert!(replies[0].contains("also goes to"), "{replies:?}");
    let templates = herald::templates::Templates::new();
    let mut tx = app.db().begin().await.unwrap();
    for i in 0..10 {
        herald::delivery::organisers::notify(
            &mut tx,
            &templates,
            app.now(),
            1,
            "notify_hook",
            &format!("hook:{i}"),
            serde_json::json!({ "conference": "FOSDEM 2027", "title": format!("Power cut {i}"),
                                "text": "Evacuate.", "level": "urgent" }),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    app.send_everything().await;
    app.advance(TimeDelta::minutes(10));
    app.send_everything().await;
    let received = mails(&dir, &orga, 2).await;
    assert_eq!(received.len(), 2, "{received:#?}");
    assert!(received[1].contains("Power cut 9"), "{}", received[1]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(maildir_to(&dir, &orga).len(), 2, "no more");
}
