//! Posts approved in Telegram reaching X (a thread, pictures with alt text) and a LinkedIn page (one post
//! with its picture), against in-process fakes: X's lost answers looked up rather than posted twice, and
//! the errors a person must act on told to the organisers.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use herald_bots::linkedin::{Version, VersionStatus};
use serde_json::json;
use support::{
    ADA, OWNER, TestApp,
    fake_linkedin::{self, FakeLinkedIn},
    fake_x::{self, FakeX},
};

const ORGANISERS: i64 = -100_600;

/// Owner, conference with policy 2, moderation and organiser chats bound, an X account and a LinkedIn
/// page added, tested and broadcasting, and Ada as volunteer.
async fn setup() -> (TestApp, FakeX, FakeLinkedIn) {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.bind("moderation", -100_700).await;
    app.bind("organisers", ORGANISERS).await;
    app.say(&OWNER, "/conference policy 2").await;

    let x = FakeX::start().await;
    let replies = app
        .say(&OWNER, &format!("/provider add x xconf {}", x.url))
        .await;
    assert!(replies[0].contains("consumer key"), "{replies:?}");
    let replies = app.say(&OWNER, "not four values").await;
    assert!(replies[0].contains("four values"), "{replies:?}");
    app.deliver(&[app.message_update(&OWNER, OWNER.id, fake_x::CREDENTIALS)])
        .await;
    let replies = app.say(&OWNER, "/provider test xconf").await;
    assert_eq!(
        replies,
        ["✅ <code>xconf</code> works: signed in as @fosdem."]
    );
    app.say(&OWNER, "/provider on xconf").await;
    let replies = app.say(&OWNER, "/switch xconf public on").await;
    assert!(replies[0].contains("public is on"), "{replies:?}");
    let replies = app.say(&OWNER, "/switch xconf organisers on").await;
    assert!(
        replies[0].contains("cannot do"),
        "organiser notices go to Telegram: {replies:?}"
    );

    let linkedin = FakeLinkedIn::start().await;
    let replies = app
        .say(
            &OWNER,
            &format!("/provider add linkedin page {}", linkedin.url),
        )
        .await;
    assert!(replies[0].contains("organisation id"), "{replies:?}");
    app.deliver(&[app.message_update(&OWNER, OWNER.id, fake_linkedin::CREDENTIALS)])
        .await;
    let replies = app.say(&OWNER, "/provider test page").await;
    assert!(
        replies[0].starts_with(
            "✅ <code>page</code> works: signed in as FOSDEM (urn:li:organization:2414183)."
        ),
        "{replies:?}"
    );
    // The configured version is checked against today (the real one: LinkedIn's calendar).
    let version = Version::parse(herald::config::DEFAULT_LINKEDIN_VERSION).unwrap();
    let today = chrono::Utc::now().date_naive();
    let warned = replies[0].contains(&format!(
        "LinkedIn version {}",
        herald::config::DEFAULT_LINKEDIN_VERSION
    ));
    assert_eq!(
        warned,
        !matches!(version.status(today), VersionStatus::Supported { .. }),
        "{replies:?}"
    );
    app.say(&OWNER, "/provider on page").await;
    let replies = app.say(&OWNER, "/switch page public on").await;
    assert!(replies[0].contains("public is on"), "{replies:?}");
    let replies = app.say(&OWNER, "/switch page moderation on").await;
    assert!(replies[0].contains("cannot do"), "{replies:?}");

    app.join(&ADA, "volunteer").await;
    (app, x, linkedin)
}

/// A text of about 600 characters: three parts on X, one post on LinkedIn.
fn long_text() -> String {
    let sentence = "Doors open at nine in Janson (building J) and the keynote starts at ten sharp, so come early for coffee.";
    [sentence; 6].join(" ")
}

#[tokio::test]
async fn a_post_with_two_pictures_reaches_x_as_a_thread_and_linkedin_as_one_post() {
    let (app, x, linkedin) = setup().await;
    app.telegram.add_file("desk", vec![7; 150_000]);
    app.telegram.add_file("hall", vec![8; 90_000]);
    let text = long_text();
    app.deliver(&[app.photo_update(
        &ADA,
        "desk",
        &format!("/post {text}\nalt: The registration desk with a queue"),
    )])
    .await;
    app.deliver(&[app.photo_update(&ADA, "hall", "/image 1 Janson, the big hall, filling up")])
        .await;
    app.say(&OWNER, "/approve 1").await;

    // X: three parts, each replying to the one before; the pictures on the first, with their alt text.
    let posts = x.posts();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    assert!(
        posts[0]["text"].as_str().unwrap().ends_with("(1/3)"),
        "{posts:#?}"
    );
    assert!(posts[0].get("reply").is_none());
    assert_eq!(posts[1]["reply"]["in_reply_to_tweet_id"], posts[0]["id"]);
    assert_eq!(posts[2]["reply"]["in_reply_to_tweet_id"], posts[1]["id"]);
    for post in &posts {
        assert!(
            herald_bots::x::text::weighted_len(post["text"].as_str().unwrap()) <= 280,
            "{post}"
        );
    }
    let media = x.media();
    assert_eq!(media.len(), 2);
    assert!(media[0].1 >= 150_000 && media[1].1 >= 90_000, "{media:?}");
    assert_eq!(
        posts[0]["media"]["media_ids"],
        json!([media[0].0, media[1].0])
    );
    assert!(posts[1].get("media").is_none());
    assert_eq!(
        x.alt_texts(),
        [
            (
                media[0].0.clone(),
                "The registration desk with a queue".to_owned()
            ),
            (
                media[1].0.clone(),
                "Janson, the big hall, filling up".to_owned()
            ),
        ]
    );

    // LinkedIn: one post as the page, the first picture with its alt text, the text escaped.
    let posts = linkedin.posts();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let post = &posts[0];
    assert_eq!(post["author"], fake_linkedin::ORGANIZATION);
    assert_eq!(post["visibility"], "PUBLIC");
    assert_eq!(post["lifecycleState"], "PUBLISHED");
    let commentary = post["commentary"].as_str().unwrap();
    assert!(
        commentary.starts_with("Doors open at nine in Janson \\(building J\\)"),
        "{commentary}"
    );
    let images = linkedin.images();
    assert_eq!(images.len(), 1, "one picture per LinkedIn post");
    assert_eq!(images[0].1, fake_linkedin::ORGANIZATION);
    assert_eq!(images[0].2, 150_000);
    assert_eq!(post["content"]["media"]["id"], json!(images[0].0));
    assert_eq!(
        post["content"]["media"]["altText"],
        "The registration desk with a queue"
    );
    assert_eq!(
        linkedin.post_headers(),
        [(
            "Bearer li-access-token".to_owned(),
            herald::config::DEFAULT_LINKEDIN_VERSION.to_owned(),
            "2.0.0".to_owned()
        )]
    );

    let history = app.say(&OWNER, "/history 1").await.join("\n");
    assert!(history.starts_with("<b>Post #1</b> (sent)\n"), "{history}");
}

#[tokio::test]
async fn a_lost_answer_on_x_is_looked_up_and_the_thread_goes_on_without_a_duplicate() {
    let (app, x, _linkedin) = setup().await;
    // The second part is made, but its answer is lost.
    x.lose_create(2);
    app.say(&OWNER, &format!("/post {}", long_text())).await;
    assert_eq!(x.posts().len(), 2);
    assert_eq!(x.timeline_reads(), 0, "nothing looked up at once");
    let queue = app.say(&OWNER, "/queue").await.join("\n");
    assert!(queue.contains("#1 [sending]"), "{queue}");

    // A minute later Herald looks for the part on the account, finds it, and goes on from it.
    app.advance(TimeDelta::seconds(61));
    app.send_everything().await;
    assert_eq!(x.timeline_reads(), 1);
    let posts = x.posts();
    assert_eq!(posts.len(), 3, "no part twice: {posts:#?}");
    assert_eq!(posts[2]["reply"]["in_reply_to_tweet_id"], posts[1]["id"]);
    let history = app.say(&OWNER, "/history 1").await.join("\n");
    assert!(history.starts_with("<b>Post #1</b> (sent)\n"), "{history}");
    assert!(
        app.telegram
            .texts_to(ORGANISERS)
            .iter()
            .all(|t| !t.contains("Post #1"))
    );
}

#[tokio::test]
async fn when_x_cannot_tell_whether_a_post_went_out_the_organisers_check_before_a_retry() {
    let (app, x, _linkedin) = setup().await;
    x.lose_create(1);
    x.timeline_down(true);
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    app.advance(TimeDelta::seconds(61));
    app.send_everything().await;
    assert_eq!(x.timeline_reads(), 1);
    assert_eq!(x.posts().len(), 1, "not sent blindly again");
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(told.contains("⚠️ Post #1 went out only in part"), "{told}");
    assert!(
        told.contains("• x: given up — may already be on X"),
        "{told}"
    );
    assert!(
        told.contains(
            "❓ #1 may already be on X — check, then <code>/retry 1</code> or <code>/cancel 1</code>."
        ),
        "{told}"
    );

    // X reads again; the retry finds the post rather than making a second one.
    x.timeline_down(false);
    let replies = app.say(&OWNER, "/retry 1").await;
    assert_eq!(replies, ["🔁 Post #1 goes out again to 1 network."]);
    app.send_everything().await;
    assert_eq!(x.posts().len(), 1, "{:#?}", x.posts());
    let history = app.say(&OWNER, "/history 1").await.join("\n");
    assert!(history.starts_with("<b>Post #1</b> (sent)\n"), "{history}");
}

#[tokio::test]
async fn a_moderator_who_checked_decides_even_when_x_still_cannot_be_read() {
    let (app, x, _linkedin) = setup().await;
    x.lose_create(1);
    x.timeline_down(true);
    // The post did not go out after all: the answer was a real failure.
    x.fail_next(503, json!({ "title": "Service Unavailable" }));
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    app.advance(TimeDelta::seconds(61));
    app.send_everything().await;
    assert!(x.posts().is_empty());
    assert!(
        app.telegram
            .texts_to(ORGANISERS)
            .join("\n")
            .contains("#1 may already be on X")
    );
    // They looked: it is not there. Their retry posts it, though the timeline is still unreadable.
    app.say(&OWNER, "/retry 1").await;
    app.send_everything().await;
    assert_eq!(x.posts().len(), 1);
    assert_eq!(x.posts()[0]["text"], "Keynote in Janson at 10:00");
}

#[tokio::test]
async fn x_account_problems_and_duplicates_are_given_up_with_a_notice() {
    let (app, x, _linkedin) = setup().await;
    x.fail_next(
        402,
        json!({ "title": "CreditsDepleted", "detail": "Your enrolled account does not have any credits to fulfill this request.",
                "type": "https://api.twitter.com/2/problems/credits" }),
    );
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(
        told.contains("• x: given up — the X app's API credits are exhausted"),
        "{told}"
    );
    assert!(!told.contains("may already be on X"), "{told}");

    x.fail_next(
        403,
        json!({ "detail": "You are not allowed to create a Tweet with duplicate content.", "title": "Forbidden", "status": 403 }),
    );
    app.say(&OWNER, "/post Lunch is served").await;
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(told.contains("X refused a duplicate post"), "{told}");
}

#[tokio::test]
async fn a_sunset_linkedin_version_and_a_revoked_token_are_told_to_the_organisers() {
    let (app, _x, linkedin) = setup().await;
    linkedin.fail_next(
        426,
        json!({ "status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20241101 is not active" }),
    );
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    let version = herald::config::DEFAULT_LINKEDIN_VERSION;
    assert!(
        told.contains(&format!(
            "• linkedin: given up — LinkedIn version {version} is sunset"
        )),
        "{told}"
    );
    assert!(told.contains("HERALD_LINKEDIN_VERSION"), "{told}");

    linkedin.fail_next(
        401,
        json!({ "status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                "message": "The token used in the request has been revoked by the user" }),
    );
    app.say(&OWNER, "/post Lunch is served").await;
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(told.contains("connect the LinkedIn page again"), "{told}");
}

#[tokio::test]
async fn a_spent_linkedin_quota_waits_for_midnight_utc() {
    let (app, _x, linkedin) = setup().await;
    linkedin.fail_next(429, json!({ "status": 429, "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached." }));
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    assert!(linkedin.posts().is_empty());
    let queue = app.say(&OWNER, "/queue").await.join("\n");
    assert!(queue.contains("#1 [sending]"), "waits, not failed: {queue}");
    // Midnight UTC comes (at most a day away).
    app.advance(TimeDelta::hours(24));
    app.send_everything().await;
    assert_eq!(linkedin.posts().len(), 1);
}

/// Changes the stored LinkedIn credentials of provider `page`.
async fn change_page_credentials(
    app: &support::TestApp,
    change: impl FnOnce(&mut serde_json::Value),
) {
    let mut tx = app.db().begin().await.unwrap();
    let conference = herald::db::conferences::conference_by_slug(&mut tx, "fosdem-2027")
        .await
        .unwrap()
        .unwrap();
    let page = herald::db::providers::provider_by_name(&mut tx, conference.series_id, "page")
        .await
        .unwrap()
        .unwrap();
    let mut stored = herald::db::providers::credentials(&mut tx, page.id)
        .await
        .unwrap();
    change(&mut stored);
    herald::db::providers::set_credentials(&mut tx, app.now(), page.id, &stored)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The stored LinkedIn credentials of provider `page` with these ends.
async fn linkedin_ends(
    app: &support::TestApp,
    token: chrono::DateTime<chrono::Utc>,
    refresh: Option<chrono::DateTime<chrono::Utc>>,
) {
    change_page_credentials(app, |stored| {
        stored["expires_at"] = json!(token);
        stored["refresh_token"] = json!("AQR-refresh");
        stored["refresh_expires_at"] = json!(refresh);
    })
    .await;
}

/// One round of the token watch, with LinkedIn version `version` configured.
async fn watch(app: &support::TestApp, version: &str) -> usize {
    // No LinkedIn app configured: nothing renews the token.
    let settings = herald::social::Settings {
        linkedin_version: version.into(),
        ..Default::default()
    };
    let told = herald::social::tokens::check(app.db(), &app.app.templates, &settings, app.now())
        .await
        .unwrap();
    app.send_everything().await;
    told
}

#[tokio::test]
async fn organisers_are_told_14_and_3_days_before_a_linkedin_token_runs_out_and_once_each() {
    let (app, _x, _linkedin) = setup().await;
    // A version supported for most of a year from the test's day.
    let today = app.now().date_naive();
    let current = herald_bots::linkedin::current_version(today).to_string();
    let end = app.now() + TimeDelta::days(20);
    linkedin_ends(&app, end, Some(app.now() + TimeDelta::days(300))).await;
    assert_eq!(watch(&app, &current).await, 0, "20 days left: nothing yet");

    app.advance(TimeDelta::days(7));
    assert_eq!(watch(&app, &current).await, 1);
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(
        told.contains("🔑 The access token of <b>page</b> on LinkedIn runs out on")
            && told.contains("in 13 days"),
        "{told}"
    );
    app.advance(TimeDelta::hours(1));
    assert_eq!(watch(&app, &current).await, 0, "told once");

    app.advance(TimeDelta::days(10));
    assert_eq!(watch(&app, &current).await, 1);
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(told.contains("in 2 days"), "{told}");

    app.advance(TimeDelta::days(3));
    assert_eq!(watch(&app, &current).await, 1);
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(told.contains("ran out on"), "{told}");

    // Connected again: a new token with a refresh token ending soon.
    linkedin_ends(
        &app,
        app.now() + TimeDelta::days(60),
        Some(app.now() + TimeDelta::days(3)),
    )
    .await;
    assert_eq!(watch(&app, &current).await, 1);
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(told.contains("The refresh token of <b>page</b>"), "{told}");
}

#[tokio::test]
async fn a_linkedin_version_with_a_month_left_is_told_to_the_organisers_once() {
    let (app, _x, _linkedin) = setup().await;
    let today = app.now().date_naive();
    let version = (0..24)
        .map(|back| {
            let day = today.checked_sub_months(chrono::Months::new(back)).unwrap();
            herald_bots::linkedin::current_version(day)
        })
        .find(|v| matches!(v.status(today), VersionStatus::EndingSoon { .. }))
        .expect("a version in its last month")
        .to_string();
    assert_eq!(watch(&app, &version).await, 1);
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(
        told.contains(&format!(
            "LinkedIn version {version}, which <b>page</b> posts with, ends on"
        )),
        "{told}"
    );
    assert_eq!(watch(&app, &version).await, 0);
}

#[tokio::test]
async fn a_lost_answer_on_linkedin_is_looked_up_and_the_post_not_made_twice() {
    let (app, _x, linkedin) = setup().await;
    linkedin.lose_next();
    app.say(&OWNER, "/post Keynote in Janson at 10:00").await;
    assert_eq!(linkedin.posts().len(), 1);
    assert_eq!(linkedin.post_reads(), 0, "nothing looked up at once");

    // A minute later Herald finds the post on the page and takes it as sent.
    app.advance(TimeDelta::seconds(61));
    app.send_everything().await;
    assert_eq!(linkedin.post_reads(), 1);
    assert_eq!(linkedin.posts().len(), 1, "not twice");
    let history = app.say(&OWNER, "/history 1").await.join("\n");
    assert!(history.starts_with("<b>Post #1</b> (sent)\n"), "{history}");

    // When the page's posts cannot be read, the moderators are asked to look.
    linkedin.lose_next();
    linkedin.posts_down(true);
    app.say(&OWNER, "/post Lunch is served in K").await;
    app.advance(TimeDelta::seconds(61));
    app.send_everything().await;
    assert_eq!(linkedin.posts().len(), 2, "not sent blindly again");
    let told = app.telegram.texts_to(ORGANISERS).join("\n");
    assert!(
        told.contains("• linkedin: given up — may already be on LinkedIn"),
        "{told}"
    );
    assert!(told.contains("#2 may already be on"), "{told}");
}

#[tokio::test]
async fn a_revoked_linkedin_token_is_told_within_the_hour_without_a_post() {
    let (app, _x, _linkedin) = setup().await;
    let today = app.now().date_naive();
    let current = herald_bots::linkedin::current_version(today).to_string();
    watch(&app, &current).await;
    let refused = |app: &support::TestApp| {
        app.telegram
            .texts_to(ORGANISERS)
            .iter()
            .filter(|t| t.contains("refuses the credentials of <b>page</b>"))
            .count()
    };
    assert_eq!(refused(&app), 0, "the token works");

    // The member revokes the app's access on LinkedIn: the next round of the watch finds out.
    change_page_credentials(&app, |stored| {
        stored["access_token"] = json!("a-revoked-token");
    })
    .await;
    watch(&app, &current).await;
    assert_eq!(refused(&app), 1, "{:?}", app.telegram.texts_to(ORGANISERS));
    app.advance(TimeDelta::hours(1));
    watch(&app, &current).await;
    assert_eq!(refused(&app), 1, "told once");
}
