//! Calendar invitations that update themselves: a speaker's invitation on import, an update with the
//! same UID and a higher SEQUENCE when a re-import moves the session, a METHOD:CANCEL when one drops it,
//! nothing on an unchanged re-import, and an invitation asked for with `/calendar <session>` — against
//! the in-process SMTP server.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use support::{
    ADA, BOB, OWNER, TestApp, TestSession,
    fake_smtp::FakeSmtp,
    mail::{ada_confirms, decoded, header, link_in, one_click_unsubscribe, spawn_with_smtp},
    schedule_json, token_of,
};

const ADDRESS: &str = "ada@example.org";

/// The calendar object in a message as sent (its part quoted-printable, as `lettre` writes it),
/// decoded and unfolded, with each property on its own line.
fn calendar_of(data: &str) -> String {
    let start = data.find("BEGIN:VCALENDAR").expect("a calendar");
    let end = data.find("END:VCALENDAR").expect("its end") + "END:VCALENDAR".len();
    let encoded = data[start..end].replace("=\r\n", "");
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail.get(..2).map(std::str::from_utf8)) {
            (b'=', Some(Ok(hex))) if u8::from_str_radix(hex, 16).is_ok() => {
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                rest = &tail[2..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).unwrap().replace("\r\n ", "")
}

/// The messages to [`ADDRESS`] as sent (not made readable: that would undo the calendar's folding
/// differently), oldest first.
fn raw(smtp: &FakeSmtp) -> Vec<String> {
    smtp.received()
        .into_iter()
        .filter(|r| r.to.iter().any(|t| t == ADDRESS))
        .map(|r| r.data)
        .collect()
}

/// The value of property `name` (with its parameters) in a calendar.
fn property<'a>(calendar: &'a str, name: &str) -> Option<&'a str> {
    calendar.split("\r\n").find_map(|line| {
        let rest = line.strip_prefix(name)?;
        rest.strip_prefix(':')
            .or_else(|| rest.starts_with(';').then_some(rest))
    })
}

/// Ada is invited as a speaker by mail at [`ADDRESS`] and opens the link, which confirms the address
/// and links her to the sessions that name "Ada" as their speaker (every session of `schedule_json`).
async fn ada_speaks(app: &TestApp, smtp: &FakeSmtp) {
    ada_speaks_in(app, smtp, None).await;
}

/// [`ada_speaks`], from a Telegram app in `language` (its `language_code`).
async fn ada_speaks_in(app: &TestApp, smtp: &FakeSmtp, language: Option<&str>) {
    let replies = app
        .say(&OWNER, &format!("/invite speaker {ADDRESS} Ada"))
        .await;
    assert!(replies[0].contains("mailed to"), "{replies:?}");
    app.send_everything().await;
    let invite = smtp.to(ADDRESS).pop().unwrap();
    let token = token_of(&link_in(&invite, "?start="));
    let mut update = app.message_update(&ADA, ADA.id, &format!("/start {token}"));
    if let Some(language) = language {
        update["message"]["from"]["language_code"] = language.into();
    }
    let before = app.telegram.texts_to(ADA.id).len();
    app.deliver(&[update]).await;
    let joined = app.telegram.texts_to(ADA.id).split_off(before);
    assert!(joined[0].contains("speaker"), "{joined:?}");
}

fn talk(app: &TestApp, hours: i64, state: &'static str) -> TestSession<'static> {
    (
        "t1",
        "Rust in Space",
        "K.1.105",
        app.now() + TimeDelta::hours(hours),
        45,
        state,
    )
}

#[tokio::test]
async fn a_speakers_invitation_updates_itself_when_the_session_moves_and_is_cancelled_when_dropped()
{
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    ada_speaks(&app, &smtp).await;
    let before = smtp.to(ADDRESS).len();

    let session = talk(&app, 48, "confirmed");
    app.import(&schedule_json(&[session])).await;
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), before + 1, "one invitation");
    let invitation = &mails[before];
    assert!(
        header(invitation, "Subject").is_some_and(|s| s.starts_with("Your talk: Rust in Space")),
        "{invitation}"
    );
    assert!(
        invitation.contains("Content-Type: text/calendar; charset=utf-8; method=REQUEST"),
        "{invitation}"
    );
    let first = calendar_of(&raw(&smtp)[before]);
    assert_eq!(property(&first, "METHOD"), Some("REQUEST"), "{first}");
    assert_eq!(property(&first, "SEQUENCE"), Some("0"));
    let start = session.3.format("%Y%m%dT%H%M%SZ").to_string();
    assert_eq!(property(&first, "DTSTART"), Some(start.as_str()));
    assert_eq!(property(&first, "LOCATION"), Some("K.1.105"));
    assert!(
        property(&first, "ORGANIZER").is_some_and(|o| o.ends_with(":mailto:herald@localhost")),
        "{first}"
    );
    assert!(
        property(&first, "ATTENDEE")
            .is_some_and(|a| a.contains("RSVP=TRUE") && a.ends_with(&format!("mailto:{ADDRESS}"))),
        "{first}"
    );
    assert!(first.contains("BEGIN:VALARM"), "{first}");
    let uid = property(&first, "UID").unwrap().to_owned();

    // Unchanged: nothing goes again.
    app.import(&schedule_json(&[session])).await;
    app.send_everything().await;
    assert_eq!(smtp.to(ADDRESS).len(), before + 1, "nothing twice");

    // Moved by an hour and to another room: an update of the same event.
    let mut moved = session;
    moved.2 = "H.2215";
    moved.3 += TimeDelta::hours(1);
    let summary = app.import(&schedule_json(&[moved])).await;
    assert_eq!(summary.moved, 1);
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), before + 2, "one update");
    let update = calendar_of(&raw(&smtp)[before + 1]);
    assert!(
        header(&mails[before + 1], "Subject").is_some_and(|s| s.starts_with("Updated: ")),
        "{}",
        mails[before + 1]
    );
    assert_eq!(property(&update, "METHOD"), Some("REQUEST"));
    assert_eq!(property(&update, "UID"), Some(uid.as_str()));
    assert_eq!(property(&update, "SEQUENCE"), Some("1"));
    let start = moved.3.format("%Y%m%dT%H%M%SZ").to_string();
    assert_eq!(property(&update, "DTSTART"), Some(start.as_str()));
    assert_eq!(property(&update, "LOCATION"), Some("H.2215"));

    // Dropped from the schedule: a cancellation of the same event.
    let other = ("t2", "Zig on Mars", "H.2215", moved.3, 45, "confirmed");
    let summary = app.import(&schedule_json(&[other])).await;
    assert_eq!(summary.removed, 1);
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    // Ada speaks in the new session too ("Ada" is every session's speaker): its invitation comes as well.
    assert_eq!(mails.len(), before + 4, "{mails:#?}");
    let cancel = raw(&smtp)[before + 2..]
        .iter()
        .map(|m| calendar_of(m))
        .find(|c| property(c, "METHOD") == Some("CANCEL"))
        .expect("a cancellation");
    assert_eq!(property(&cancel, "UID"), Some(uid.as_str()));
    assert_eq!(property(&cancel, "SEQUENCE"), Some("2"));
    assert_eq!(property(&cancel, "STATUS"), Some("CANCELLED"));
    assert!(!cancel.contains("VALARM"), "{cancel}");
    assert!(
        mails[before + 2..]
            .iter()
            .any(|m| m.contains("Content-Type: text/calendar; charset=utf-8; method=CANCEL")),
        "the part's method is the calendar's"
    );

    // Dropped again: nothing more.
    app.import(&schedule_json(&[other])).await;
    app.send_everything().await;
    assert_eq!(smtp.to(ADDRESS).len(), before + 4);
}

#[tokio::test]
async fn a_cancelled_session_is_cancelled_in_the_calendar_and_a_revived_one_invited_again() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    ada_speaks(&app, &smtp).await;
    let before = smtp.to(ADDRESS).len();
    let session = talk(&app, 48, "confirmed");
    app.import(&schedule_json(&[session])).await;
    app.import(&schedule_json(&[talk(&app, 48, "canceled")]))
        .await;
    app.import(&schedule_json(&[session])).await;
    app.send_everything().await;
    let methods: Vec<(String, String)> = raw(&smtp)[before..]
        .iter()
        .map(|m| {
            let c = calendar_of(m);
            (
                property(&c, "METHOD").unwrap().to_owned(),
                property(&c, "SEQUENCE").unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [("REQUEST", "0"), ("CANCEL", "1"), ("REQUEST", "2")]
        .map(|(m, s)| (m.to_owned(), s.to_owned()));
    assert_eq!(methods, expected);
}

#[tokio::test]
async fn a_speaker_without_a_confirmed_address_gets_no_invitation() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    let replies = app.say(&OWNER, "/invite speaker Ada").await;
    let token = token_of(replies.last().unwrap());
    app.say(&BOB, &format!("/start {token}")).await;
    app.import(&schedule_json(&[talk(&app, 48, "confirmed")]))
        .await;
    app.send_everything().await;
    assert!(smtp.received().is_empty(), "no address, no mail");
}

#[tokio::test]
async fn anyone_may_ask_for_an_invitation_to_a_session_and_it_follows_the_session() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    let session = talk(&app, 48, "confirmed");
    app.import(&schedule_json(&[session])).await;
    let number = herald::db::schedule::read_sessions(app.db(), 1)
        .await
        .unwrap()[0]
        .id;

    // Without an address: told how to give one.
    app.join(&BOB, "attendee").await;
    let replies = app.say(&BOB, &format!("/calendar {number}")).await;
    assert!(replies[0].contains("/settings email"), "{replies:?}");

    ada_confirms(&app, ADDRESS, |a| smtp.to(a)).await;
    let before = smtp.to(ADDRESS).len();
    let replies = app.say(&ADA, "/calendar 999").await;
    assert!(
        replies[0].contains("no session #999 still to come"),
        "{replies:?}"
    );
    let replies = app.say(&ADA, &format!("/calendar {number}")).await;
    assert!(
        replies[0].contains(&format!(
            "Mailed a calendar invitation for <b>Rust in Space</b> to {ADDRESS}"
        )),
        "{replies:?}"
    );
    let again = app.say(&ADA, &format!("/calendar {number}")).await;
    assert!(again[0].contains("already"), "{again:?}");
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), before + 1, "one invitation: {mails:#?}");
    assert!(
        header(&mails[before], "Subject").is_some_and(|s| s.starts_with("Invitation: Rust")),
        "{}",
        mails[before]
    );
    let first = calendar_of(&raw(&smtp)[before]);
    assert_eq!(property(&first, "SEQUENCE"), Some("0"));

    // It moves with the session like a speaker's.
    let mut moved = session;
    moved.3 += TimeDelta::minutes(30);
    app.import(&schedule_json(&[moved])).await;
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), before + 2);
    let update = calendar_of(&raw(&smtp)[before + 1]);
    assert_eq!(property(&update, "UID"), property(&first, "UID"));
    assert_eq!(property(&update, "SEQUENCE"), Some("1"));
}

#[tokio::test]
async fn a_volunteer_with_a_confirmed_address_is_invited_to_the_shift_given_to_them() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    ada_confirms(&app, ADDRESS, |a| smtp.to(a)).await;
    let granted = app.say(&OWNER, "/grant @ada volunteer").await;
    assert!(granted[0].contains("volunteer"), "{granted:?}");
    let before = smtp.to(ADDRESS).len();
    // The clock reads 10:00 in Brussels on 2026-12-27.
    let replies = app
        .say(
            &OWNER,
            "/slot add 2026-12-27T12:00 2026-12-27T14:00 Info desk",
        )
        .await;
    let number = replies[0]
        .split("Shift #")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let replies = app
        .say(&OWNER, &format!("/slot assign {number} @ada"))
        .await;
    assert!(replies[0].contains("Ada has the shift"), "{replies:?}");
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), before + 1, "{mails:#?}");
    assert!(
        header(&mails[before], "Subject").is_some_and(|s| s.starts_with("Your shift: Info desk")),
        "{}",
        mails[before]
    );
    let shift = calendar_of(&raw(&smtp)[before]);
    assert_eq!(property(&shift, "DTSTART"), Some("20261227T110000Z"));
    assert_eq!(property(&shift, "DTEND"), Some("20261227T130000Z"));
    assert_eq!(property(&shift, "METHOD"), Some("REQUEST"));
}

#[tokio::test]
async fn a_speaker_accepts_with_the_link_in_the_mail_and_organisers_see_it_with_the_session() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    ada_speaks(&app, &smtp).await;
    let session = talk(&app, 48, "confirmed");
    app.import(&schedule_json(&[session])).await;
    app.send_everything().await;
    let invitation = smtp.to(ADDRESS).pop().unwrap();
    let accept = link_in(&invitation, "/mail/answer/");
    assert!(accept.ends_with("/accepted"), "{accept}");
    assert!(
        invitation.contains(&format!("Accept: {accept}")),
        "the text part links it: {invitation}"
    );
    let number = herald::db::schedule::read_sessions(app.db(), 1)
        .await
        .unwrap()[0]
        .id;
    let listing = app.say(&OWNER, &format!("/session {number}")).await;
    assert!(
        listing[0].contains("Ada (speaker) — no answer yet"),
        "{listing:?}"
    );

    // Opening the link asks (mail scanners open links); the button answers.
    let page = app.http.get(&accept).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Accept Rust in Space?"));
    let listing = app.say(&OWNER, &format!("/session {number}")).await;
    assert!(listing[0].contains("no answer yet"), "{listing:?}");
    let done = app.http.post(&accept).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let listing = app.say(&OWNER, &format!("/session {number}")).await;
    assert!(
        listing[0].contains("Ada (speaker) — accepted"),
        "{listing:?}"
    );
    // Attendees do not see who was invited.
    app.join(&BOB, "attendee").await;
    let theirs = app.say(&BOB, &format!("/session {number}")).await;
    assert!(!theirs[0].contains("Calendar invitations"), "{theirs:?}");

    // A move asks again, with new links; the old ones no longer answer.
    let mut moved = session;
    moved.3 += TimeDelta::hours(1);
    app.import(&schedule_json(&[moved])).await;
    app.send_everything().await;
    let listing = app.say(&OWNER, &format!("/session {number}")).await;
    assert!(listing[0].contains("no answer yet"), "{listing:?}");
    let stale = app.http.post(&accept).send().await.unwrap();
    assert_eq!(stale.status(), 404);
    let update = smtp.to(ADDRESS).pop().unwrap();
    let decline = link_in(&update, "/declined");
    assert!(decline.contains("/mail/answer/"), "{decline}");
    assert_eq!(app.http.post(&decline).send().await.unwrap().status(), 200);
    let listing = app.say(&OWNER, &format!("/session {number}")).await;
    assert!(
        listing[0].contains("Ada (speaker) — declined"),
        "{listing:?}"
    );
    let unknown = app
        .http
        .post(decline.replace("/declined", "/maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404, "only accepted or declined");
}

#[tokio::test]
async fn a_speaker_who_confirms_an_address_later_is_invited_then_and_one_click_stops_the_updates() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    let replies = app.say(&OWNER, "/invite speaker Ada").await;
    let token = token_of(replies.last().unwrap());
    app.say(&ADA, &format!("/start {token}")).await;
    let session = talk(&app, 48, "confirmed");
    app.import(&schedule_json(&[session])).await;
    app.say(&ADA, &format!("/settings email {ADDRESS}")).await;
    app.send_everything().await;
    let confirmation = smtp.to(ADDRESS).pop().unwrap();
    let confirm = link_in(&confirmation, "/mail/confirm/");
    assert_eq!(app.http.post(&confirm).send().await.unwrap().status(), 200);
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), 2, "the confirmation, then the invitation");
    assert!(
        header(&mails[1], "Subject").is_some_and(|s| s.starts_with("Your talk: Rust in Space")),
        "{}",
        mails[1]
    );

    let (unsubscribe, _) = one_click_unsubscribe(&app, &mails[1]).await;
    assert!(unsubscribe.ends_with("/direct"), "{unsubscribe}");
    let mut moved = session;
    moved.3 += TimeDelta::hours(1);
    app.import(&schedule_json(&[moved])).await;
    app.send_everything().await;
    assert_eq!(smtp.to(ADDRESS).len(), 2, "stopped: no update goes");
}

#[tokio::test]
async fn a_german_speaker_gets_her_invitation_in_german_with_a_german_date() {
    let smtp = FakeSmtp::start().await;
    let app = spawn_with_smtp(&smtp.url).await;
    // Her Telegram speaks German: so does Herald, from her first message on, on every channel.
    ada_speaks_in(&app, &smtp, Some("de")).await;

    let before = smtp.to(ADDRESS).len();
    let session = talk(&app, 48, "confirmed");
    app.import(&schedule_json(&[session])).await;
    app.send_everything().await;
    let mails = smtp.to(ADDRESS);
    assert_eq!(mails.len(), before + 1, "one invitation");
    let invitation = &mails[before];
    let subject = decoded(header(invitation, "Subject").unwrap());
    let local = session.3.with_timezone(&chrono_tz::Europe::Brussels);
    let german = local
        .format_localized("%a, %-d. %b %H:%M", chrono::Locale::de_DE)
        .to_string();
    assert!(subject.contains(&german), "{subject} lacks {german}");
    assert!(!subject.starts_with("Your talk"), "{subject}");
    assert!(invitation.contains(r#"<html lang="de">"#), "{invitation}");
}
