//! News from /news and from a conference's feed: one post per item, with the auto-add hashtags, once ever.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use herald::clock::SharedClock;
use support::{OWNER, TestApp};

/// A feed server whose document the test changes.
async fn feed_server(body: Arc<Mutex<String>>) -> String {
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body.lock().unwrap().clone() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

fn rss(items: &[(&str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, date)| {
            format!(
                "<item><title>{title}</title><link>https://fosdem.org/news/{guid}</link><guid>{guid}</guid><pubDate>{date}</pubDate></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>FOSDEM news</title>{items}</channel></rss>"
    )
}

#[tokio::test]
async fn news_items_are_posted_once_with_the_hashtags_from_chat_and_from_the_feed() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    let (mastodon, _) = app.add_fake_mastodon("public").await;
    app.say(&OWNER, "/hashtag add fosdem auto").await;

    let replies = app
        .say(
            &OWNER,
            "/news Keynote video is online https://fosdem.org/v/1",
        )
        .await;
    assert!(replies[0].contains("News post #1"), "{replies:?}");
    assert_eq!(
        mastodon.statuses()[0]["status"],
        "Keynote video is online\nhttps://fosdem.org/v/1\n\n#fosdem"
    );
    let replies = app
        .say(&OWNER, "/news Keynote video, again https://fosdem.org/v/1")
        .await;
    assert!(replies[0].contains("posted as news before"), "{replies:?}");
    assert_eq!(mastodon.statuses().len(), 1);

    let body = Arc::new(Mutex::new(rss(&[(
        "old",
        "Call for volunteers",
        "Mon, 01 Feb 2027 10:00:00 GMT",
    )])));
    let url = feed_server(body.clone()).await;
    let replies = app.say(&OWNER, &format!("/newsfeed {url}")).await;
    assert!(replies[0].contains("Following"), "{replies:?}");
    let clock: SharedClock = app.clock.clone();
    let http = reqwest::Client::new();
    // The first read only learns what is there.
    assert_eq!(
        herald::news::poll_once(app.db(), &clock, &http)
            .await
            .unwrap(),
        0
    );
    *body.lock().unwrap() = rss(&[
        ("new", "Schedule published", "Tue, 02 Feb 2027 10:00:00 GMT"),
        (
            "old",
            "Call for volunteers",
            "Mon, 01 Feb 2027 10:00:00 GMT",
        ),
    ]);
    assert_eq!(
        herald::news::poll_once(app.db(), &clock, &http)
            .await
            .unwrap(),
        0,
        "not read again before five minutes"
    );
    app.advance(chrono::TimeDelta::minutes(6));
    assert_eq!(
        herald::news::poll_once(app.db(), &clock, &http)
            .await
            .unwrap(),
        1
    );
    app.send_everything().await;
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 2);
    assert_eq!(
        statuses[1]["status"],
        "Schedule published\nhttps://fosdem.org/news/new\n\n#fosdem"
    );

    // A broken feed is recorded and changes nothing.
    *body.lock().unwrap() = "<html>maintenance</html>".into();
    app.advance(chrono::TimeDelta::minutes(6));
    assert_eq!(
        herald::news::poll_once(app.db(), &clock, &http)
            .await
            .unwrap(),
        0
    );
    app.send_everything().await;
    assert_eq!(mastodon.statuses().len(), 2);
}
