//! The web chat: Herald without Telegram. The owner link opens a chat in the browser that runs every
//! command through the same chat core; rooms are bound like Telegram groups; buttons work; invitations
//! open the web chat too; and what Herald says arrives through the outbox.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald::{clock::SharedClock, schedule::sync::sync_once, templates::Templates};
use reqwest::StatusCode;
use support::{TestApp, browser::Browser, fake_mastodon::FakeMastodon, schedule_json, serve_text};

/// The owner link `herald run` logs when Telegram is off.
async fn owner_link(app: &TestApp) -> String {
    let token = herald::links::owner_token_if_needed(app.db(), app.now())
        .await
        .unwrap()
        .expect("no owner yet");
    herald::links::web_start_link(&app.app.web_base, &token)
}

/// The link in a text (an invitation).
fn link_in(text: &str) -> String {
    let start = text.find("http://").expect("a link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

#[tokio::test]
async fn the_owner_link_opens_the_web_chat_once_and_commands_are_answered_there() {
    let app = TestApp::spawn_without_telegram().await;
    let link = owner_link(&app).await;
    assert!(
        link.starts_with(&format!("{}/chat/start/", app.base_url)),
        "{link}"
    );
    let mut owner = Browser::new(&app);
    assert_eq!(owner.open_chat(&link, "Olga").await, StatusCode::SEE_OTHER);
    let me = owner.my_chat().await;
    app.until("a round", |_| true).await;
    let shown = owner.messages(&me).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(
        shown[0].text,
        "Welcome, Olga — you are now the owner of this Herald.\n\
         Next: create a conference with\n\
         /conference new <slug> <time zone> <first day> <last day> <name>\n\
         for example /conference new fosdem-2027 Europe/Brussels 2027-02-06 2027-02-07 FOSDEM 2027."
    );

    let replies = owner.say(&me, "/whoami").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].contains("owner"), "{replies:?}");

    // The link worked once.
    let mut other = Browser::new(&app);
    assert_eq!(other.open_chat(&link, "Mallory").await, StatusCode::GONE);
    assert!(other.cookie.is_none());
    // Without a session, the chat asks to sign in.
    let (status, _) = other.get("/chat").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_telegram_an_owner_runs_a_conference_from_the_web_chat_and_approves_a_post_with_its_button()
 {
    let app = TestApp::spawn_without_telegram().await;
    let mut owner = Browser::new(&app);
    owner.open_chat(&owner_link(&app).await, "Olga").await;
    let me = owner.my_chat().await;

    let replies = owner
        .say(
            &me,
            "/conference new fosdem-2027 Europe/Brussels 2027-02-06 2027-02-07 FOSDEM 2027",
        )
        .await;
    assert_eq!(
        replies,
        [
            "Created FOSDEM 2027 (fosdem-2027), 2027-02-06 to 2027-02-07, time zone Europe/Brussels. \
             It is now the current conference in this chat.\n\
             Next: invite people with /invite <role> [name] and bind chats with /bind \
             attendees|organisers|moderation."
        ]
    );

    // The schedule, from an address, as /import keeps it in sync.
    let start = app.now() + TimeDelta::hours(2);
    let url = serve_text(
        "schedule.json",
        schedule_json(&[("a", "Rust in Space", "K.1.105", start, 45, "confirmed")]),
    )
    .await;
    owner.say(&me, &format!("/import {url}")).await;
    let clock: SharedClock = app.clock.clone();
    assert_eq!(
        sync_once(app.db(), &clock, &Templates::new())
            .await
            .unwrap(),
        1
    );
    let replies = owner.say(&me, "/next").await;
    assert!(replies[0].contains("Rust in Space"), "{replies:?}");

    // A room, bound as the moderation chat with the code from the private chat.
    let csrf = owner.csrf("/chat").await;
    let (status, location) = owner
        .post("/chat/rooms", &[("csrf", &csrf), ("title", "Moderation")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let room = location.trim_start_matches("/chat?c=").to_owned();
    assert!(room.starts_with("room-"), "{room}");
    let replies = owner.say(&me, "/bind moderation").await;
    let code = support::code_in(&replies[0]);
    let replies = owner.say(&room, &code).await;
    assert!(replies[0].contains("moderation"), "{replies:?}");
    assert!(
        owner
            .messages(&room)
            .await
            .iter()
            .all(|m| !m.text.contains(&code)),
        "the code leaves the room"
    );

    // And a room for attendees: approved posts go there too.
    let (_, location) = owner
        .post("/chat/rooms", &[("csrf", &csrf), ("title", "Attendees")])
        .await;
    let attendees = location.trim_start_matches("/chat?c=").to_owned();
    let replies = owner.say(&me, "/bind attendees").await;
    let code = support::code_in(&replies[0]);
    owner.say(&attendees, &code).await;

    // A Mastodon account for public posts; volunteers post, admins approve.
    let mastodon = FakeMastodon::start().await;
    owner
        .say(
            &me,
            &format!("/provider add mastodon fosstodon {}", mastodon.url),
        )
        .await;
    owner.say(&me, FakeMastodon::TOKEN).await;
    owner.say(&me, "/provider on fosstodon").await;
    owner.say(&me, "/switch fosstodon public on").await;
    owner.say(&me, "/conference policy 2").await;

    // The invitation opens the web chat too.
    let replies = owner.say(&me, "/invite volunteer Ada").await;
    let invitation = link_in(&replies.join("\n"));
    assert!(
        invitation.starts_with(&format!("{}/chat/start/", app.base_url)),
        "{invitation}"
    );
    let mut ada = Browser::new(&app);
    ada.open_chat(&invitation, "Ada").await;
    let ada_chat = ada.my_chat().await;
    let replies = ada.say(&ada_chat, "/post Doors open at 9!").await;
    assert!(replies[0].contains("#1"), "{replies:?}");

    // The moderation room shows the post with its buttons; the owner approves with one.
    let shown = owner.messages(&room).await;
    let moderation = shown
        .iter()
        .find(|m| m.text.contains("Doors open at 9!"))
        .expect("the post in the moderation room");
    assert_eq!(
        moderation.buttons,
        [
            ("✅ Approve".to_owned(), "post:approve:1".to_owned()),
            ("🚫 Reject".to_owned(), "post:reject:1".to_owned()),
            ("✏️ Edit".to_owned(), "post:edit:1".to_owned())
        ]
    );
    owner.press(&room, moderation.id, "post:approve:1").await;
    app.until("the post on Mastodon", |_| {
        mastodon
            .statuses()
            .iter()
            .any(|s| s["status"] == "Doors open at 9!")
    })
    .await;
    app.send_everything().await;
    let in_room = owner.messages(&attendees).await;
    assert!(
        in_room
            .iter()
            .any(|m| m.author.is_none() && m.text == "Doors open at 9!"),
        "{in_room:?}"
    );
    // The moderation message now says what happened, without buttons.
    let after = owner.messages(&room).await;
    let edited = after.iter().find(|m| m.id == moderation.id).unwrap();
    assert!(edited.buttons.is_empty(), "{edited:?}");
    assert!(edited.text.contains("approved"), "{edited:?}");
}

async fn people_count(app: &TestApp) -> i64 {
    let mut tx = app.db().begin().await.unwrap();
    let mut n = 0;
    for p in 1..=20 {
        if herald::db::people::person_name(&mut tx, p)
            .await
            .unwrap()
            .is_some()
        {
            n += 1;
        }
    }
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn a_refused_link_leaves_nobody_behind_and_an_invitation_opened_while_signed_in_joins_that_person()
 {
    let app = TestApp::spawn_without_telegram().await;
    let link = owner_link(&app).await;
    let mut owner = Browser::new(&app);
    owner.open_chat(&link, "Olga").await;
    let me = owner.my_chat().await;
    owner
        .say(
            &me,
            "/conference new fosdem-2027 Europe/Brussels 2027-02-06 2027-02-07 FOSDEM 2027",
        )
        .await;
    assert_eq!(people_count(&app).await, 1);

    // The spent owner link, opened again: refused, and nobody new is kept.
    let mut mallory = Browser::new(&app);
    assert_eq!(mallory.open_chat(&link, "Mallory").await, StatusCode::GONE);
    assert_eq!(people_count(&app).await, 1);

    // Ada joins as an attendee, then opens a volunteer invitation in the same browser: the same person.
    let replies = owner.say(&me, "/invite attendee Ada").await;
    let mut ada = Browser::new(&app);
    ada.open_chat(&link_in(&replies.join("\n")), "Ada").await;
    assert_eq!(people_count(&app).await, 2);
    let replies = owner.say(&me, "/invite volunteer Ada").await;
    let invitation = link_in(&replies.join("\n"));
    let (status, page) = ada.get(support::browser::path_of(&invitation)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You are signed in as <b>Ada</b>"), "{page}");
    let (status, location) = ada.post(support::browser::path_of(&invitation), &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/chat")
    );
    assert_eq!(people_count(&app).await, 2, "no second Ada");
    let ada_chat = ada.my_chat().await;
    let replies = ada.say(&ada_chat, "/whoami").await;
    assert!(replies[0].contains("volunteer"), "{replies:?}");

    // A form posted from another site is refused.
    let response = ada
        .http
        .post(ada.url(support::browser::path_of(&invitation)))
        .header("Origin", "https://evil.example")
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("name=Eve")
        .header(reqwest::header::COOKIE, ada.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
