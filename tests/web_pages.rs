//! The web pages: sign-in links and sessions, CSRF, role filtering, write-only credentials, the switch
//! matrix, and the moderation page's forms, all through the running web server.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use reqwest::{StatusCode, header};
use support::{ADA, OWNER, TestApp, browser::Browser, fake_mastodon::FakeMastodon};

const SLUG: &str = "fosdem-2027";

async fn spawn() -> TestApp {
    let app = TestApp::spawn_with(
        |c| c.public_url = Some("http://herald.test/".parse().unwrap()),
        Default::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    app
}

/// The sign-in link in the bot's answer to `/web` (or `/mobile`).
async fn web_link(app: &TestApp, user: &support::TgUser, command: &str) -> String {
    let replies = app.say(user, command).await;
    let text = replies.join("\n");
    let start = text.find("http://herald.test/login/").expect("a link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '<' && *c != '"')
        .collect()
}

async fn policy(app: &TestApp) -> i64 {
    let mut tx = app.db().begin().await.unwrap();
    let c = herald::db::conferences::conference_by_slug(&mut tx, SLUG)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    c.posting_policy
}

#[tokio::test]
async fn a_sign_in_link_works_once_for_ten_minutes_and_logout_ends_every_session() {
    let app = spawn().await;
    let link = web_link(&app, &OWNER, "/web").await;

    // Opening the page spends nothing (link previews); pressing the button does.
    let mut browser = Browser::new(&app);
    let response = browser.sign_in(&link).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/config");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let (status, page) = browser.get("/config").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Signed in as <b>Olga</b>"), "{page}");
    assert!(page.contains("FOSDEM 2027"));

    // Used once: a second browser gets nothing.
    let other = Browser::new(&app);
    let path = link.trim_start_matches("http://herald.test");
    let (status, page) = other.get(path).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("used already"), "{page}");
    let response = other.http.post(other.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response.headers().get(header::SET_COOKIE).is_none());

    // Expired after ten minutes.
    let late = web_link(&app, &OWNER, "/web").await;
    app.advance(TimeDelta::minutes(11));
    let (status, page) = other
        .get(late.trim_start_matches("http://herald.test"))
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expired"), "{page}");

    // A second session, then /web logout ends both.
    let mut second = Browser::new(&app);
    second.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    assert_eq!(second.get("/config").await.0, StatusCode::OK);
    let replies = app.say(&OWNER, "/web logout").await;
    assert!(replies[0].contains("2 sessions ended"), "{replies:?}");
    assert_eq!(browser.get("/config").await.0, StatusCode::UNAUTHORIZED);
    let (status, page) = second.get("/m").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("/web"), "says how to sign in: {page}");

    // Sessions expire on their own too.
    let mut third = Browser::new(&app);
    third.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    assert_eq!(third.get("/config").await.0, StatusCode::OK);
    app.advance(TimeDelta::hours(13));
    assert_eq!(third.get("/config").await.0, StatusCode::UNAUTHORIZED);

    // Signing out on the page ends that session.
    let mut fourth = Browser::new(&app);
    fourth
        .sign_in(&web_link(&app, &OWNER, "/mobile").await)
        .await;
    let csrf = fourth.csrf("/m").await;
    let (status, _) = fourth.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fourth.get("/m").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let app = TestApp::spawn_with(
        |c| c.public_url = Some("https://herald.example/".parse().unwrap()),
        Default::default(),
    )
    .await;
    app.with_owner_and_conference().await;
    let replies = app.say(&OWNER, "/web").await.join("\n");
    let start = replies.find("/login/").unwrap();
    let path: String = replies[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{path}", app.base_url))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let app = spawn().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    let before = policy(&app).await;
    assert_ne!(before, 3);

    let path = format!("/config/{SLUG}/policy");
    let (status, page) = browser
        .post(&path, &[("csrf", "forged"), ("policy", "3")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Nothing was changed"), "{page}");
    let (status, _) = browser.post(&path, &[("policy", "3")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another session's token is no better.
    let mut other = Browser::new(&app);
    other.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    let theirs = other.csrf("/config").await;
    let mine = browser.csrf("/config").await;
    assert_ne!(theirs, mine);
    let (status, _) = browser
        .post(&path, &[("csrf", &theirs), ("policy", "3")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(policy(&app).await, before);

    // With it, the change is made, as in chat, and /status shows it.
    let (status, location) = browser
        .post(&path, &[("csrf", &mine), ("policy", "3")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/config?c={SLUG}#policy"));
    assert_eq!(policy(&app).await, 3);
    let (_, page) = browser.get(&location).await;
    assert!(page.contains("Posting policy of"), "the outcome: {page}");
    let status = app.say(&OWNER, "/status").await.join("\n");
    assert!(status.contains("Posting policy: 3"), "{status}");

    // A bad value is refused next to its field, in words, and changes nothing.
    let (_, location) = browser
        .post(&path, &[("csrf", &mine), ("policy", "9")])
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(page.contains("class=\"field-error\""), "{page}");
    assert_eq!(policy(&app).await, 3);
}

#[tokio::test]
async fn what_a_person_sees_and_may_change_follows_their_roles() {
    let app = spawn().await;
    app.join(&ADA, "volunteer").await;

    let mut ada = Browser::new(&app);
    ada.sign_in(&web_link(&app, &ADA, "/web").await).await;
    let (status, page) = ada.get("/config").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("you are volunteer"), "{page}");
    assert!(
        !page.contains("id=\"providers\""),
        "no providers for volunteers"
    );
    assert!(!page.contains("action=\"/config/fosdem-2027/policy\""));
    assert!(
        page.contains("id=\"hashtags\""),
        "volunteers may list hashtags"
    );
    assert!(!page.contains("Add hashtag"));

    // Posting the form anyway is refused by the chat core's own rule.
    let csrf = ada.csrf("/config").await;
    let before = policy(&app).await;
    let (_, location) = ada
        .post(
            &format!("/config/{SLUG}/policy"),
            &[("csrf", &csrf), ("policy", "4")],
        )
        .await;
    assert_eq!(policy(&app).await, before);
    let (_, page) = ada.get(&location).await;
    assert!(page.contains("admin"), "says which role it needs: {page}");

    // A conference they hold no role in is not theirs to see.
    let (status, _) = ada.get("/config?c=other-2027").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Someone without any account gets the sign-in explanation, not a page.
    let (status, _) = Browser::new(&app).get("/config").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn credentials_are_write_only_and_the_switch_matrix_refuses_what_a_network_cannot_do() {
    let app = spawn().await;
    let mastodon = FakeMastodon::start().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    let csrf = browser.csrf("/config").await;

    let (status, _) = browser
        .post(
            &format!("/config/{SLUG}/providers"),
            &[
                ("csrf", &csrf),
                ("kind", "mastodon"),
                ("name", "fosstodon"),
                ("base_url", &mastodon.url),
                ("token", FakeMastodon::TOKEN),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get("/config").await;
    assert!(page.contains("saved"), "{page}");
    assert!(!page.contains(FakeMastodon::TOKEN), "never shown back");
    assert!(page.contains("set on 20"), "when it was set: {page}");

    // Test and activate from the page, as /provider test and /provider on.
    browser
        .post(
            &format!("/config/{SLUG}/providers/fosstodon/test"),
            &[("csrf", &csrf)],
        )
        .await;
    let (_, page) = browser.get("/config").await;
    assert!(page.contains("signed in as @fosdem"), "{page}");
    browser
        .post(
            &format!("/config/{SLUG}/providers/fosstodon/active"),
            &[("csrf", &csrf), ("on", "on")],
        )
        .await;

    // New credentials replace the old ones, and are not shown either.
    browser
        .post(
            &format!("/config/{SLUG}/providers/fosstodon"),
            &[("csrf", &csrf), ("token", "a-newer-token")],
        )
        .await;
    let (_, page) = browser.get("/config").await;
    assert!(!page.contains("a-newer-token"));
    let mut tx = app.db().begin().await.unwrap();
    let provider = herald::db::providers::provider_by_name(&mut tx, 1, "fosstodon")
        .await
        .unwrap()
        .unwrap();
    let stored = herald::db::providers::credentials(&mut tx, provider.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored["token"], "a-newer-token");
    assert!(provider.active);

    // The matrix: a Mastodon account has no attendee channel; the cell is disabled with the reason.
    assert!(
        page.contains("title=\"Mastodon accounts cannot do this: the attendee channel is a Telegram channel.\""),
        "{page}"
    );
    let switch = format!("/config/{SLUG}/switch");
    let (_, location) = browser
        .post(
            &switch,
            &[
                ("csrf", &csrf),
                ("provider", "fosstodon"),
                ("feature", "attendees"),
                ("on", "on"),
            ],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(page.contains("cannot do"), "{page}");
    browser
        .post(
            &switch,
            &[
                ("csrf", &csrf),
                ("provider", "fosstodon"),
                ("feature", "public"),
                ("on", "on"),
            ],
        )
        .await;
    let (_, page) = browser.get("/config").await;
    assert!(
        page.contains("aria-pressed=\"true\" aria-label=\"Public posts for fosstodon\""),
        "{page}"
    );
    let chat = app.say(&OWNER, "/provider list").await.join("\n");
    assert!(chat.contains("fosstodon"), "{chat}");
}

#[tokio::test]
async fn hashtags_bindings_and_conference_fields_from_the_config_page() {
    let app = spawn().await;
    app.bind("moderation", -100_700).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    let csrf = browser.csrf("/config").await;

    browser
        .post(
            &format!("/config/{SLUG}/hashtags"),
            &[
                ("csrf", &csrf),
                ("tag", "fosdem"),
                ("auto", "1"),
                ("order", "2"),
            ],
        )
        .await;
    let replies = app.say(&OWNER, "/hashtag list").await.join("\n");
    assert!(replies.contains("fosdem"), "{replies}");
    let (_, location) = browser
        .post(
            &format!("/config/{SLUG}/hashtags"),
            &[("csrf", &csrf), ("tag", "two words")],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(page.contains("One word only"), "{page}");

    let (_, page) = browser.get("/config").await;
    assert!(page.contains("Unbind"), "{page}");
    browser
        .post(
            &format!("/config/{SLUG}/unbind"),
            &[("csrf", &csrf), ("slot", "moderation")],
        )
        .await;
    let (_, page) = browser.get("/config").await;
    assert!(
        page.contains("send <code>/bind moderation</code>"),
        "{page}"
    );

    let fields = format!("/config/{SLUG}/conference");
    let (_, location) = browser
        .post(
            &fields,
            &[
                ("csrf", &csrf),
                ("name", "FOSDEM 2027"),
                ("time_zone", "Europe/Atlantis"),
                ("starts_on", "2027-02-06"),
                ("ends_on", "2027-02-07"),
            ],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(page.contains("is not a time zone"), "{page}");
    let (_, location) = browser
        .post(
            &fields,
            &[
                ("csrf", &csrf),
                ("name", "FOSDEM 2027 (Brussels)"),
                ("time_zone", "Europe/Brussels"),
                ("starts_on", "2027-02-07"),
                ("ends_on", "2027-02-06"),
            ],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(page.contains("on or after the first day"), "{page}");
    browser
        .post(
            &fields,
            &[
                ("csrf", &csrf),
                ("name", "FOSDEM 2027 (Brussels)"),
                ("time_zone", "Europe/Brussels"),
                ("starts_on", "2027-02-06"),
                ("ends_on", "2027-02-08"),
            ],
        )
        .await;
    let (_, page) = browser.get("/config").await;
    assert!(page.contains("FOSDEM 2027 (Brussels)"), "{page}");
}

/// A multipart body with `fields` and one PNG picture named `image1`.
fn multipart(fields: &[(&str, &str)], picture: Option<&[u8]>) -> (String, Vec<u8>) {
    let boundary = "herald-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(bytes) = picture {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image1\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_moderation_page_approves_under_the_posting_policy_and_takes_posts_with_pictures() {
    let app = spawn().await;
    app.bind("moderation", -100_700).await;
    app.say(&OWNER, "/conference policy 2").await;
    app.join(&ADA, "volunteer").await;
    let replies = app.say(&ADA, "/post Doors open at nine").await;
    assert!(replies[0].contains("waiting for approval"), "{replies:?}");

    // Ada sees her own post waiting, without Approve.
    let mut ada = Browser::new(&app);
    let response = ada.sign_in(&web_link(&app, &ADA, "/mobile").await).await;
    assert_eq!(response.headers()[header::LOCATION], "/m");
    let (_, page) = ada.get("/m").await;
    assert!(page.contains("Doors open at nine"), "{page}");
    assert!(!page.contains("Approve #1"), "{page}");
    assert!(page.len() < 100 * 1024);
    let csrf = ada.csrf("/m").await;
    let (_, location) = ada
        .post(&format!("/m/{SLUG}/posts/1/approve"), &[("csrf", &csrf)])
        .await;
    let (_, page) = ada.get(&location).await;
    assert!(page.contains("your own"), "the chat core's refusal: {page}");

    let mut olga = Browser::new(&app);
    olga.sign_in(&web_link(&app, &OWNER, "/mobile").await).await;
    let (_, page) = olga.get("/m").await;
    assert!(page.contains("Approve #1"), "{page}");
    let (status, body) = olga.get(&format!("/m/poll?c={SLUG}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["posts"],
        serde_json::json!([1])
    );
    let csrf = olga.csrf("/m").await;
    let (status, _) = olga
        .post(&format!("/m/{SLUG}/posts/1/approve"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut tx = app.db().begin().await.unwrap();
    let post = herald::db::posts::post(&mut tx, 1).await.unwrap().unwrap();
    let trail = herald::db::posts::trail(&mut tx, 1).await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(post.state, "pending");
    assert!(
        format!("{trail:?}").contains("\"web\""),
        "the audit says where: {trail:?}"
    );
    app.send_everything().await;
    assert!(
        app.telegram
            .calls_of("editMessageText")
            .iter()
            .any(|c| c.chat_id() == Some(-100_700)
                && c.body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("approved by Olga"))),
        "the moderation message shows the outcome"
    );

    // Writing a post with a picture: refused without alt text, keeping the text.
    let png: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0];
    let send = |fields: Vec<(&'static str, String)>, picture: Option<&'static [u8]>| {
        let olga = &olga;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (content_type, body) = multipart(&fields, picture);
            olga.http
                .post(olga.url(&format!("/m/{SLUG}/post")))
                .header(header::COOKIE, olga.cookie.clone().unwrap())
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let png_static: &'static [u8] = Box::leak(png.to_vec().into_boxed_slice());
    let response = send(
        vec![("csrf", csrf.clone()), ("text", "Keynote in Janson".into())],
        Some(png_static),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = olga.get("/m").await;
    assert!(page.contains("needs its alt text"), "{page}");
    assert!(
        page.contains(">Keynote in Janson</textarea>"),
        "kept: {page}"
    );

    let response = send(
        vec![
            ("csrf", csrf.clone()),
            ("text", "Keynote in Janson".into()),
            ("alt1", "The Janson hall, full".into()),
        ],
        Some(png_static),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut tx = app.db().begin().await.unwrap();
    let posts = herald::db::posts::posts_in(&mut tx, 1).await.unwrap();
    let written = posts
        .iter()
        .find(|p| p.text == "Keynote in Janson")
        .expect("the post");
    assert_eq!(written.source, "web");
    let images = herald::db::post_images::images(&mut tx, written.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].alt_text, "The Janson hall, full");

    // A forged form is refused here too.
    let response = send(
        vec![("csrf", "forged".into()), ("text", "Nope".into())],
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn reminder_lead_times_are_set_from_the_config_page() {
    let app = spawn().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    let (_, page) = browser.get("/config").await;
    assert!(
        page.contains("Minutes before a start: 10 before a session (followers and attendees), 15 before a talk"),
        "the defaults: {page}"
    );
    let csrf = browser.csrf("/config").await;
    let (_, location) = browser
        .post(
            &format!("/config/{SLUG}/reminders"),
            &[
                ("csrf", &csrf),
                ("sessions", "25"),
                ("speakers", "20"),
                ("volunteers", "40"),
            ],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(
        page.contains("Minutes before a start: 25 before a session (followers and attendees), 20 before a talk (its speakers), 40 before a shift"),
        "{page}"
    );
    let (_, location) = browser
        .post(
            &format!("/config/{SLUG}/reminders"),
            &[
                ("csrf", &csrf),
                ("sessions", "0"),
                ("speakers", "20"),
                ("volunteers", "40"),
            ],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(
        page.contains("a number of minutes from 1 to 1440"),
        "{page}"
    );
}

/// Posts the config page's notification address form; returns the page it leads back to.
async fn set_notify_email(browser: &mut Browser<'_>, csrf: &str, address: &str) -> String {
    let form = [("csrf", csrf), ("address", address)];
    let (_, location) = browser.post(&format!("/config/{SLUG}/email"), &form).await;
    browser.get(&location).await.1
}

#[tokio::test]
async fn the_organisers_notification_address_is_set_and_cleared_from_the_config_page() {
    let app = spawn().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&web_link(&app, &OWNER, "/web").await).await;
    let (_, page) = browser.get("/config").await;
    assert!(
        page.contains("Organiser notices go only to the organisers chat."),
        "{page}"
    );
    let csrf = browser.csrf("/config").await;
    let page = set_notify_email(&mut browser, &csrf, "orga@example.org").await;
    assert!(
        page.contains("Every organiser notice also goes to <b>orga@example.org</b>"),
        "{page}"
    );
    let page = set_notify_email(&mut browser, &csrf, "not an address").await;
    assert!(page.contains("orga@example.org</b>"), "unchanged: {page}");
    let page = set_notify_email(&mut browser, &csrf, "").await;
    assert!(
        page.contains("Organiser notices go only to the organisers chat."),
        "{page}"
    );
}

#[tokio::test]
async fn the_phone_page_starts_a_post_with_the_auto_hashtags_and_offers_the_others() {
    let app = spawn().await;
    app.say(&OWNER, "/conference policy 1").await;
    app.say(&OWNER, "/hashtag add fosdem auto").await;
    app.say(&OWNER, "/hashtag add rust").await;
    let mut browser = Browser::new(&app);
    browser
        .sign_in(&web_link(&app, &OWNER, "/mobile").await)
        .await;
    let (_, page) = browser.get("/m").await;
    assert!(
        page.contains("id=\"compose-text\">\n\n#fosdem</textarea>"),
        "{page}"
    );
    assert!(
        page.contains("data-tag=\"#fosdem\">#fosdem</button>"),
        "{page}"
    );
    assert!(page.contains("data-tag=\"#rust\">#rust</button>"), "{page}");
}

#[tokio::test]
async fn the_phone_page_lists_failed_posts_with_each_networks_outcome_to_retry_or_cancel() {
    let app = spawn().await;
    let mastodon = FakeMastodon::start().await;
    app.say(
        &OWNER,
        &format!("/provider add mastodon fosstodon {}", mastodon.url),
    )
    .await;
    app.deliver(&[app.message_update(&OWNER, OWNER.id, FakeMastodon::TOKEN)])
        .await;
    app.say(&OWNER, "/provider on fosstodon").await;
    app.say(&OWNER, "/switch fosstodon public on").await;
    app.say(&OWNER, "/conference policy 2").await;
    // Mastodon refuses both posts for good.
    mastodon.fail_next(422);
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    app.send_everything().await;
    mastodon.fail_next(422);
    app.say(&OWNER, "/post Lunch is served").await;
    app.send_everything().await;

    let mut olga = Browser::new(&app);
    olga.sign_in(&web_link(&app, &OWNER, "/mobile").await).await;
    let (_, page) = olga.get("/m").await;
    assert!(page.contains("Did not go out (2)"), "{page}");
    assert!(page.contains("Keynote in Janson at 10:00"), "{page}");
    assert!(
        page.contains("<li class=\"given_up\">mastodon: given up — refused (422)"),
        "each network's outcome and error: {page}"
    );
    assert!(
        page.contains("Retry #1") && page.contains("Cancel #2"),
        "{page}"
    );

    let csrf = olga.csrf("/m").await;
    let (status, location) = olga
        .post(&format!("/m/{SLUG}/posts/1/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = olga.get(&location).await;
    assert!(
        page.contains("Post #1 goes out again to 1 network"),
        "{page}"
    );
    olga.post(&format!("/m/{SLUG}/posts/2/cancel"), &[("csrf", &csrf)])
        .await;
    app.send_everything().await;
    assert_eq!(
        mastodon.statuses().last().unwrap()["status"],
        "Keynote in Janson at 10:00"
    );
    let (_, page) = olga.get("/m").await;
    assert!(!page.contains("Did not go out"), "both handled: {page}");
    let mut tx = app.db().begin().await.unwrap();
    let cancelled = herald::db::posts::post(&mut tx, 2).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(cancelled.state, "cancelled");

    // A volunteer, who may not retry, does not see the list.
    app.join(&ADA, "volunteer").await;
    mastodon.fail_next(422);
    app.say(&OWNER, "/post Closing talk moved").await;
    app.send_everything().await;
    let mut ada = Browser::new(&app);
    ada.sign_in(&web_link(&app, &ADA, "/mobile").await).await;
    let (_, page) = ada.get("/m").await;
    assert!(!page.contains("Did not go out"), "{page}");
}

/// A PNG photo of noise, which compresses badly: about 2 MB for 900×600.
fn large_png() -> Vec<u8> {
    let mut seed = 0x9e37_79b9_u32;
    let picture = image::RgbImage::from_fn(900, 600, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [r, g, b, _] = seed.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn pictures_from_the_phone_page_reach_telegram_and_are_scaled_down_for_bluesky() {
    let app = spawn().await;
    app.bind("moderation", -100_700).await;
    app.bind("attendees", -100_800).await;
    app.say(&OWNER, "/conference policy 2").await;
    let bluesky = app.add_fake_bluesky("public").await;
    app.join(&ADA, "volunteer").await;
    let png = large_png();
    assert!(png.len() > 1_500_000, "{}", png.len());

    let mut ada = Browser::new(&app);
    ada.sign_in(&web_link(&app, &ADA, "/mobile").await).await;
    let csrf = ada.csrf("/m").await;
    let (content_type, body) = multipart(
        &[
            ("csrf", &csrf),
            ("text", "The hallway track"),
            ("alt1", "People talking in the hallway"),
        ],
        Some(&png),
    );
    let response = ada
        .http
        .post(ada.url(&format!("/m/{SLUG}/post")))
        .header(header::COOKIE, ada.cookie.clone().unwrap())
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.send_everything().await;

    // The moderators see the picture itself, uploaded, captioned with its alt text.
    let shown = app
        .telegram
        .calls_of("sendPhoto")
        .into_iter()
        .find(|c| c.chat_id() == Some(-100_700))
        .expect("the picture in the moderation chat");
    assert_eq!(
        shown.body["photo"]["upload"].as_u64(),
        Some(png.len() as u64),
        "{:?}",
        shown.body
    );
    assert!(
        shown.body["caption"]
            .as_str()
            .is_some_and(|c| c.contains("People talking in the hallway")),
        "{:?}",
        shown.body
    );

    app.say(&OWNER, "/approve 1").await;
    app.send_everything().await;
    // The attendee channel gets it too; Bluesky gets it under its 1,000,000 bytes.
    let posted = app
        .telegram
        .calls_of("sendPhoto")
        .into_iter()
        .find(|c| c.chat_id() == Some(-100_800))
        .expect("the picture in the attendee channel");
    assert_eq!(posted.body["caption"], "The hallway track");
    assert!(posted.body["photo"]["upload"].as_u64().is_some());
    let blobs = bluesky.blobs();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert!(blobs[0] <= 1_000_000 && blobs[0] > 50_000, "{blobs:?}");
    let record = bluesky.records().pop().expect("the post");
    assert_eq!(record["text"], "The hallway track");
    assert_eq!(
        record["embed"]["images"][0]["alt"],
        "People talking in the hallway"
    );
}
