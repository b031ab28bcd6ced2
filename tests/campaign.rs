//! Campaigns from chat: options, the template as the next message, a preview, all-or-nothing creation of
//! posts that wait for approval and go out per network at their time; moderators see a campaign as one
//! digest message, and approve it all at once or review its posts one by one.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::{DateTime, Utc};
use herald::{clock::SharedClock, db::Pool, templates::Templates};
use serde_json::json;
use support::{ADA, BOB, OWNER, TestApp, fake_mastodon::FakeMastodon};

const MODERATION: i64 = -100_700;

/// Four sessions on 2026-12-28 in Brussels: two in Security, two in Rust (one with a speaker handle).
fn schedule() -> String {
    let event = |guid: &str, title: &str, track: &str, hour: u32, persons: serde_json::Value| {
        json!({ "guid": guid, "id": guid, "title": title, "room": "Janson", "state": "confirmed",
                "date": format!("2026-12-28T{hour:02}:00:00+01:00"), "start": format!("{hour:02}:00"),
                "duration": "00:45", "track": track, "persons": persons })
    };
    json!({ "schedule": { "conference": { "title": "FOSDEM 2027", "acronym": "fosdem", "time_zone_name": "Europe/Brussels",
        "start": "2026-12-28", "end": "2026-12-28",
        "days": [{ "index": 1, "date": "2026-12-28", "rooms": { "Janson": [
            event("s1", "Securing the supply chain", "Security", 9, json!([{ "id": 1, "public_name": "Ada" }])),
            event("s2", "Rust in Space", "Rust", 10, json!([{ "id": 2, "public_name": "Grace" }])),
            event("s3", "Fuzzing everything", "Security", 11, json!([])),
            event("s4", "Async Rust, gently", "Rust", 12, json!([{ "id": 3, "public_name": "Edsger" }])),
        ] } }] } } })
    .to_string()
}

async fn setup() -> (TestApp, FakeMastodon, support::fake_bluesky::FakeBluesky) {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.import(&schedule()).await;
    app.bind("moderation", MODERATION).await;
    app.say(&OWNER, "/conference policy 2").await;
    let (mastodon, _) = app.add_fake_mastodon("public").await;
    let bluesky = app.add_fake_bluesky("public").await;
    (app, mastodon, bluesky)
}

fn press(app: &TestApp, data: &str) -> serde_json::Value {
    let message = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(OWNER.id))
        .unwrap();
    app.button_update(&OWNER, OWNER.id, message.message_id.unwrap(), data)
}

async fn posts(app: &TestApp) -> Vec<herald::db::posts::Post> {
    let mut tx = app.db().begin().await.unwrap();
    let conference = herald::db::conferences::conference_by_slug(&mut tx, "fosdem-2027")
        .await
        .unwrap()
        .unwrap();
    let posts = herald::db::posts::posts_in(&mut tx, conference.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    posts
}

const TEMPLATE: &str = "{% if network == \"bluesky\" %}Soon: {{ session.title }}{% else %}Next in {{ session.room }}: \
{{ session.title }}{% for s in session.speakers %} with {{ s }}{% endfor %} #{{ session.title|slugify }}{% endif %}";

#[tokio::test]
async fn a_campaign_is_previewed_then_created_at_once_and_goes_out_per_network() {
    let (app, mastodon, bluesky) = setup().await;
    let replies = app
        .say(
            &OWNER,
            "/campaign sessions Security start=2026-12-28T10:00 every=2h jitter=10m to=fosstodon,sky",
        )
        .await;
    assert!(
        replies[0].contains("A campaign of 2 posts, one per session (tracks: Security), the first Mon 28 Dec 10:00, then every 120 minutes (± 10 minutes)"),
        "{replies:?}"
    );

    // A broken template is refused with its line; the draft waits for a better one.
    let replies = app.say(&OWNER, "Hello\n{{ session.title ").await;
    assert!(
        replies[0].contains("does not work for the template: line 2: syntax error"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, TEMPLATE).await;
    let preview = replies.join("\n");
    assert!(
        preview.contains("Campaign #1: 2 posts, from Mon 28 Dec"),
        "{preview}"
    );
    assert!(
        preview.contains(
            "[77/500] Next in Janson: Securing the supply chain with Ada #securing-the-supply-chain"
        ),
        "{preview}"
    );
    assert!(
        preview.contains("[31/300] Soon: Securing the supply chain"),
        "{preview}"
    );
    assert!(posts(&app).await.is_empty(), "nothing before confirmation");

    app.deliver(&[press(&app, "campaign:create:1")]).await;
    let created = posts(&app).await;
    assert_eq!(created.len(), 2);
    let slots = ["2026-12-28T09:00:00Z", "2026-12-28T11:00:00Z"];
    for (post, slot) in created.iter().zip(slots) {
        assert_eq!(post.state, "pending");
        assert_eq!(post.source, "campaign");
        let slot: DateTime<Utc> = slot.parse().unwrap();
        let off = (post.scheduled_at.unwrap() - slot).num_seconds().abs();
        assert!(off <= 600, "within the jitter of its slot: {off} s");
    }
    // After the binding's confirmation, one digest.
    let moderation = app.telegram.texts_to(MODERATION).split_off(1);
    assert_eq!(moderation.len(), 1, "one digest: {moderation:?}");
    assert!(
        moderation[0].starts_with("📣 Campaign #1 by Olga: 2 posts waiting for approval"),
        "{moderation:?}"
    );
    // Pressing again creates nothing more.
    app.deliver(&[press(&app, "campaign:create:1")]).await;
    assert_eq!(posts(&app).await.len(), 2);

    // Approved, each goes out at its time, with its network's text.
    app.say(&OWNER, &format!("/approve {}", created[0].id))
        .await;
    assert!(mastodon.statuses().is_empty(), "not before its time");
    app.advance(created[0].scheduled_at.unwrap() - app.now() + chrono::TimeDelta::seconds(1));
    app.drain_outbox().await;
    assert_eq!(
        mastodon.statuses()[0]["status"],
        "Next in Janson: Securing the supply chain with Ada #securing-the-supply-chain"
    );
    assert_eq!(
        bluesky.records()[0]["text"],
        "Soon: Securing the supply chain"
    );
}

#[tokio::test]
async fn one_failing_session_creates_nothing_and_the_window_and_fuel_are_respected() {
    let (app, _mastodon, _bluesky) = setup().await;
    app.say(&OWNER, "/conference window 12:00 18:00").await;
    app.say(&OWNER, "/campaign sessions start=2026-12-28T08:00 every=1h")
        .await;
    let replies = app
        .say(
            &OWNER,
            "{{ session.title }}{% if session.track == \"Rust\" %}{{ 1 // 0 }}{% endif %}",
        )
        .await;
    assert!(
        replies[0].contains("does not work for Rust in Space: line 1"),
        "{replies:?}"
    );
    let replies = app
        .say(
            &OWNER,
            "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
        )
        .await;
    assert!(replies[0].contains("ran too long"), "{replies:?}");
    assert!(posts(&app).await.is_empty());

    let replies = app.say(&OWNER, "{{ session.title }}").await;
    let preview = replies.join("\n");
    // 08:00, 09:00, 10:00 and 11:00 are before the window: moved to its opening.
    assert!(
        preview.contains("4 posts, from Mon 28 Dec 12:00 to Mon 28 Dec 12:00 (4 moved"),
        "{preview}"
    );
    app.deliver(&[press(&app, "campaign:cancel:1")]).await;
    assert!(
        app.telegram
            .texts_to(OWNER.id)
            .last()
            .unwrap()
            .contains("nothing was created")
    );
    assert!(posts(&app).await.is_empty());
}

#[tokio::test]
async fn a_sponsor_campaign_thanks_each_sponsor_with_its_handle_per_network() {
    let (app, _mastodon, _bluesky) = setup().await;
    let clock: SharedClock = app.clock.clone();
    let bad = "name,level,url\nElephant Hosting,,https://elephant.example\n";
    let err = herald::cli::import::import_sponsors(app.db(), &clock, "fosdem-2027", bad.as_bytes())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2: a sponsor needs a name and a level"),
        "{err}"
    );
    let csv = "name,level,url,mastodon,bluesky\n\
               Elephant Hosting,Platinum,https://elephant.example,@elephant@mastodon.social,\n\
               Crab Cloud,Gold,https://crab.example,,@crab.bsky.social\n\
               Gnu Goods,Platinum,,,\n";
    let n = herald::cli::import::import_sponsors(app.db(), &clock, "fosdem-2027", csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(n, 3);

    let replies = app
        .say(
            &OWNER,
            "/sponsor add Platinum - Gnu Goods mastodon=@gnu@goods.example",
        )
        .await;
    assert!(
        replies[0].contains(
            "Gnu Goods is a Platinum sponsor of FOSDEM 2027 (mastodon @gnu@goods.example)"
        ),
        "{replies:?}"
    );
    let replies = app
        .say(&OWNER, "/campaign sponsors Platinum every=1d")
        .await;
    assert!(
        replies[0].contains("A campaign of 2 posts, one per sponsor (levels: Platinum)"),
        "{replies:?}"
    );
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/templates/sponsor-thanks.j2"
    ))
    .unwrap();
    let preview = app.say(&OWNER, &template).await.join("\n");
    assert!(
        preview.contains(
            "Thank you Elephant Hosting (@elephant@mastodon.social) for being a Platinum sponsor!"
        ),
        "{preview}"
    );
    assert!(
        preview.contains("] Thank you Elephant Hosting for being a Platinum sponsor!"),
        "no Bluesky handle: {preview}"
    );
    assert!(
        preview.contains("Thank you Gnu Goods (@gnu@goods.example) for being a Platinum sponsor!"),
        "{preview}"
    );
    assert!(!preview.contains("Crab Cloud"), "not Platinum: {preview}");
    app.deliver(&[press(&app, "campaign:create:1")]).await;
    assert_eq!(posts(&app).await.len(), 2);
}

#[tokio::test]
async fn a_benefit_template_is_checked_when_saved_and_confirmed_for_one_sponsor() {
    let (app, mastodon, bluesky) = setup().await;
    let clock: SharedClock = app.clock.clone();
    let csv = "name,level,url,mastodon\nElephant Hosting,Platinum,https://elephant.example,@elephant@mastodon.social\nCrab Cloud,Gold,,\n";
    herald::cli::import::import_sponsors(app.db(), &clock, "fosdem-2027", csv.as_bytes())
        .await
        .unwrap();
    let replies = app
        .say(&OWNER, "/benefit add Platinum Social media thanks")
        .await;
    assert!(
        replies[0].contains("Benefit #1 of Platinum: Social media thanks"),
        "{replies:?}"
    );
    let replies = app.say(&OWNER, "Thanks {{ sponsor.displayname ").await;
    assert!(
        replies[0].contains("does not render for mastodon: line 1"),
        "{replies:?}"
    );
    let replies = app
        .say(
            &OWNER,
            "{{ level }} thanks to {{ sponsor.displayname }}{% if sponsor|social %} {{ sponsor|social }}{% endif %} for {{ benefit.name|lower }}!",
        )
        .await;
    assert!(
        replies[0].contains(
            "Platinum thanks to Sample Sponsor @sponsor@mastodon.example for social media thanks!"
        ),
        "{replies:?}"
    );
    let listed = app.say(&OWNER, "/sponsors").await.join("\n");
    assert!(
        listed.contains("#1 Elephant Hosting — Platinum · mastodon @elephant@mastodon.social"),
        "{listed}"
    );
    assert!(
        listed.contains("#1 Platinum: Social media thanks (with a post)"),
        "{listed}"
    );

    let replies = app.say(&OWNER, "/benefit confirm 2 1").await;
    assert!(
        replies[0].contains("Crab Cloud is a Gold sponsor"),
        "{replies:?}"
    );
    // Policy 2: an admin's post needs no approval.
    let replies = app.say(&OWNER, "/benefit confirm 1 1").await;
    assert!(
        replies[0].contains("Elephant Hosting got “Social media thanks”. Post #1 is on its way"),
        "{replies:?}"
    );
    assert_eq!(
        mastodon.statuses()[0]["status"],
        "Platinum thanks to Elephant Hosting @elephant@mastodon.social for social media thanks!"
    );
    assert_eq!(
        bluesky.records()[0]["text"],
        "Platinum thanks to Elephant Hosting for social media thanks!",
        "no handle there, and no conference hashtags on a benefit post"
    );
}

#[tokio::test]
async fn herald_campaign_previews_on_the_command_line_and_creates_with_create() {
    let (app, _mastodon, _bluesky) = setup().await;
    let clock: SharedClock = app.clock.clone();
    let templates = Templates::new();
    let filters = vec!["Rust".to_owned()];
    let mut args = herald::cli::campaign::CampaignArgs {
        slug: "fosdem-2027",
        kind: "sessions",
        template: "{{ session.title }} in {{ session.room }}",
        filters: &filters,
        start: Some("2026-12-28T14:00"),
        every: "30m",
        jitter: "0m",
        to: &[],
        shuffled: false,
        create: false,
    };
    let mut out = Vec::new();
    let n = herald::cli::campaign::campaign(app.db(), &clock, &templates, &args, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(n, 2);
    assert!(
        text.contains("2026-12-28 14:00\n  fosstodon 23/500: Rust in Space in Janson"),
        "{text}"
    );
    assert!(text.contains("2026-12-28 14:30\n"), "{text}");
    assert!(text.contains("nothing created (add --create)"), "{text}");
    assert!(posts(&app).await.is_empty());

    args.template = "{{ session.title";
    let err = herald::cli::campaign::campaign(app.db(), &clock, &templates, &args, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("line 1: syntax error"), "{err}");

    args.template = "{{ session.title }}";
    args.create = true;
    let mut out = Vec::new();
    herald::cli::campaign::campaign(app.db(), &clock, &templates, &args, &mut out)
        .await
        .unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("2 posts created, waiting for approval")
    );
    assert_eq!(posts(&app).await.len(), 2);
}

#[tokio::test]
async fn a_template_sent_as_a_file_is_read_and_previewed() {
    let (app, _mastodon, _bluesky) = setup().await;
    let document = |file_id: &str, size: usize| {
        let mut update = app.message_update(&OWNER, OWNER.id, "");
        let message = update["message"].as_object_mut().unwrap();
        message.remove("text");
        message.insert(
            "document".into(),
            json!({ "file_id": file_id, "file_unique_id": file_id, "file_name": "post.j2", "mime_type": "text/plain", "file_size": size }),
        );
        update
    };
    let replies = {
        let before = app.telegram.texts_to(OWNER.id).len();
        app.deliver(&[document("early", 10)]).await;
        app.telegram.texts_to(OWNER.id).split_off(before)
    };
    assert!(
        replies[0].contains("only read files when I asked"),
        "{replies:?}"
    );

    app.say(&OWNER, "/campaign sessions Rust").await;
    let template = "{{ session.title }} — from a file";
    app.telegram.add_file("tpl", template.as_bytes().to_vec());
    app.telegram
        .add_file("binary", vec![0xff, 0xfe, 0x00, 0x81]);
    let client = app.app.telegram.clone().unwrap();
    let clock: SharedClock = app.clock.clone();
    let templates = Templates::new();

    // Not text: said so, and the campaign still waits for its template.
    app.deliver(&[document("binary", 4)]).await;
    assert!(
        app.telegram
            .texts_to(OWNER.id)
            .last()
            .unwrap()
            .contains("Reading your file")
    );
    herald::telegram::documents::read_once(&client, app.db(), &clock, &templates)
        .await
        .unwrap();
    app.send_everything().await;
    assert!(
        app.telegram
            .texts_to(OWNER.id)
            .last()
            .unwrap()
            .contains("could not read that file: it is not text (UTF-8)")
    );

    app.deliver(&[document("tpl", template.len())]).await;
    let read = herald::telegram::documents::read_once(&client, app.db(), &clock, &templates)
        .await
        .unwrap();
    assert_eq!(read, 1);
    app.app.inbox.drain().await.unwrap();
    app.send_everything().await;
    let preview = app.telegram.texts_to(OWNER.id).join("\n");
    assert!(preview.contains("Campaign #1: 2 posts"), "{preview}");
    assert!(preview.contains("Rust in Space — from a file"), "{preview}");
}

/// A campaign of one post per session (all four, an hour apart from 2026-12-28 10:00), created; returns its
/// posts, waiting for approval.
async fn four_post_campaign(app: &TestApp) -> Vec<herald::db::posts::Post> {
    app.say(&OWNER, "/campaign sessions start=2026-12-28T10:00 every=1h")
        .await;
    app.say(&OWNER, "Next in {{ session.room }}: {{ session.title }}")
        .await;
    app.deliver(&[press(app, "campaign:create:1")]).await;
    let created = posts(app).await;
    assert_eq!(created.len(), 4);
    created
}

/// The digest in the moderation group: its message id and its buttons' data.
fn digest(app: &TestApp) -> (i64, Vec<String>) {
    let sent = app
        .sent_containing(MODERATION, "📣 Campaign #1")
        .expect("the digest");
    let buttons = sent.body["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| b["callback_data"].as_str().unwrap().to_owned())
        .collect();
    (sent.message_id.unwrap(), buttons)
}

/// `user` presses `data` under the digest in the moderation group; the answer to the press (its text and
/// whether it is an alert).
async fn press_on_digest(app: &TestApp, user: &support::TgUser, data: &str) -> (String, bool) {
    let (message, _) = digest(app);
    app.deliver(&[app.button_update(user, MODERATION, message, data)])
        .await;
    let answer = app.telegram.calls_of("answerCallbackQuery").pop().unwrap();
    (
        answer.body["text"].as_str().unwrap_or_default().to_owned(),
        answer.body["show_alert"].as_bool().unwrap_or(false),
    )
}

/// The last edit of the digest: its text and whether it still has buttons.
fn digest_edit(app: &TestApp) -> Option<(String, serde_json::Value)> {
    let (message, _) = digest(app);
    app.telegram
        .calls_of("editMessageText")
        .into_iter()
        .rfind(|c| c.body["message_id"].as_i64() == Some(message))
        .map(|c| {
            (
                c.body["text"].as_str().unwrap().to_owned(),
                c.body["reply_markup"].clone(),
            )
        })
}

#[tokio::test]
async fn a_campaign_reaches_the_moderation_chat_as_one_digest_not_a_message_per_post() {
    let (app, _mastodon, _bluesky) = setup().await;
    let bound = app.telegram.texts_to(MODERATION).len();
    four_post_campaign(&app).await;
    let moderation = app.telegram.texts_to(MODERATION).split_off(bound);
    assert_eq!(moderation.len(), 1, "{moderation:?}");
    let digest_text = &moderation[0];
    for part in [
        "📣 Campaign #1 by Olga: 4 posts waiting for approval, one per session.",
        "they go out from Mon 28 Dec 10:00 to Mon 28 Dec 13:00, one every 60 minutes.",
        "Next in {{ session.room }}: {{ session.title }}",
        "The first 3:\n1. Next in Janson: Securing the supply chain\n2. Next in Janson: Rust in Space\n\
         3. Next in Janson: Fuzzing everything\n",
        "✅ fosstodon: every post fits (up to 41/500).",
        "✅ sky: every post fits (up to 41/300).",
    ] {
        assert!(digest_text.contains(part), "{part:?} in {digest_text}");
    }
    assert!(
        !digest_text.contains("Async Rust, gently"),
        "three examples, not all"
    );
    assert_eq!(
        digest(&app).1,
        ["campaign:approve:1", "campaign:review:1"],
        "Approve all, Review one by one"
    );
}

#[tokio::test]
async fn approve_all_approves_every_waiting_post_the_presser_may_approve_and_the_digest_loses_its_buttons()
 {
    let (app, mastodon, bluesky) = setup().await;
    let created = four_post_campaign(&app).await;
    let in_moderation = app.telegram.texts_to(MODERATION).len();

    // Policy 2: a volunteer may not approve; refused as an alert, nothing changes.
    app.join(&ADA, "volunteer").await;
    let (answer, alert) = press_on_digest(&app, &ADA, "campaign:approve:1").await;
    assert_eq!(
        answer,
        "Under this conference's posting policy you cannot approve the posts of campaign #1."
    );
    assert!(alert);
    assert!(posts(&app).await.iter().all(|p| p.state == "pending"));
    assert!(digest_edit(&app).is_none());

    // One post was approved on its own already; one carries Bob's name as its author (a campaign's posts are
    // nobody's, but the rule holds for any post): he may approve the other two.
    app.say(&OWNER, &format!("/approve {}", created[0].id))
        .await;
    app.join(&BOB, "admin").await;
    let bob: i64 = {
        let mut tx = app.db().begin().await.unwrap();
        let person =
            herald::db::people::person_by_user_id(&mut tx, "telegram", &BOB.id.to_string())
                .await
                .unwrap()
                .unwrap()
                .id;
        tx.commit().await.unwrap();
        person
    };
    let own = created[3].id;
    let sql = "UPDATE posts SET author_id = $1 WHERE id = $2";
    let set = match app.db().pool() {
        Pool::Sqlite(db) => sqlx::query(sql)
            .bind(bob)
            .bind(own)
            .execute(db)
            .await
            .map(drop),
        Pool::Postgres(db) => sqlx::query(sql)
            .bind(bob)
            .bind(own)
            .execute(db)
            .await
            .map(drop),
    };
    set.unwrap();

    let (answer, alert) = press_on_digest(&app, &BOB, "campaign:approve:1").await;
    assert_eq!(
        answer,
        "✅ Campaign #1: 2 posts approved by Bob; each goes out at its time.\n\
         1 is your own: someone else has to approve it (/campaign approve 1)."
    );
    assert!(!alert);
    assert_eq!(
        app.telegram.texts_to(MODERATION).len(),
        in_moderation,
        "nothing new in the moderation group"
    );
    let (edited, buttons) = digest_edit(&app).expect("the digest shows the outcome");
    assert!(
        edited.starts_with("✅ Campaign #1: 2 posts approved by Bob"),
        "{edited}"
    );
    assert!(buttons.is_null(), "its buttons are gone: {buttons}");

    let states: Vec<String> = posts(&app).await.into_iter().map(|p| p.state).collect();
    assert_eq!(states, ["sending", "sending", "sending", "pending"]);
    let history = app
        .say(&OWNER, &format!("/history {}", created[1].id))
        .await
        .join("\n");
    assert!(history.contains("approved by Bob"), "{history}");
    assert!(
        history.contains("campaign #1: all approved at once"),
        "{history}"
    );

    // Pressing again approves nothing twice; what is left is Bob's own.
    let (answer, alert) = press_on_digest(&app, &BOB, "campaign:approve:1").await;
    assert!(
        answer.starts_with("Campaign #1: nothing approved."),
        "{answer}"
    );
    assert!(alert);

    // The approved posts go out at their times, to both networks.
    let last = created[2].scheduled_at.unwrap();
    app.advance(last - app.now() + chrono::TimeDelta::seconds(1));
    app.send_everything().await;
    assert_eq!(mastodon.statuses().len(), 3);
    assert_eq!(bluesky.records().len(), 3);
}

#[tokio::test]
async fn review_one_by_one_brings_each_waiting_post_with_its_buttons_and_the_command_does_the_same()
{
    let (app, _mastodon, _bluesky) = setup().await;
    let created = four_post_campaign(&app).await;
    // Rejected on its own: not shown again.
    app.say(&OWNER, &format!("/reject {}", created[1].id)).await;

    let (answer, alert) = press_on_digest(&app, &OWNER, "campaign:review:1").await;
    assert!(
        answer.starts_with("🔎 Campaign #1: Olga asked to review its 3 waiting posts one by one."),
        "{answer}"
    );
    assert!(!alert);
    let singles: Vec<_> = app
        .telegram
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(MODERATION))
        .filter(|c| {
            c.text()
                .is_some_and(|t| t.contains("by campaign #1 is waiting for approval"))
        })
        .collect();
    let numbers: Vec<String> = singles
        .iter()
        .map(|c| {
            c.text()
                .unwrap()
                .split_whitespace()
                .nth(2)
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = [0, 2, 3]
        .iter()
        .map(|i| format!("#{}", created[*i].id))
        .collect();
    assert_eq!(numbers, expected, "one message per waiting post");
    for (single, number) in singles.iter().zip(&expected) {
        assert_eq!(
            single.body["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            format!("post:approve:{}", &number[1..])
        );
    }
    let (edited, buttons) = digest_edit(&app).expect("the digest says so");
    assert!(
        edited.contains("They follow in the moderation chat"),
        "{edited}"
    );
    assert_eq!(
        buttons["inline_keyboard"][0][0]["callback_data"], "campaign:approve:1",
        "Approve all stays"
    );
    assert_eq!(buttons["inline_keyboard"][0].as_array().unwrap().len(), 1);

    // The command, from a private chat: approves the rest, and each post's own message shows it.
    let replies = app.say(&OWNER, "/campaign approve 1").await;
    assert_eq!(
        replies,
        ["✅ Campaign #1: 3 posts approved by Olga; each goes out at its time."]
    );
    let edits = app.telegram.calls_of("editMessageText");
    for single in &singles {
        assert!(
            edits.iter().any(|e| {
                e.body["message_id"].as_i64() == single.message_id
                    && e.body["text"]
                        .as_str()
                        .unwrap()
                        .contains("approved by Olga")
                    && e.body["reply_markup"].is_null()
            }),
            "{single:?}"
        );
    }
    let replies = app.say(&OWNER, "/campaign review 1").await;
    assert_eq!(
        replies,
        ["No post of campaign #1 waits for approval any more."]
    );
    let replies = app.say(&OWNER, "/campaign approve 7").await;
    assert!(replies[0].contains("no campaign #7"), "{replies:?}");
}
