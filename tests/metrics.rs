//! `/metrics`: what a known workload leaves in the counters, the histograms and the queue gauges, read
//! back over HTTP; and the token that closes it.
//!
//! With `METRICS_SCRAPE_TO=<file>` set, the scrape after the workload is also written there, for
//! `.ci/promtool` to check with `promtool check metrics`.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use chrono::TimeDelta;
use herald::{db::outbox, delivery::telegram};
use herald_bots::telegram::OutgoingMessage;
use support::{Fault, TestApp};

/// The samples of a scrape: name and sorted labels → value.
fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut found = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("a label");
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        let value: f64 = value.parse().expect("a number");
        found.insert((name.to_owned(), labels), value);
    }
    found
}

/// The value of `name` with exactly `labels`, 0 when the series is absent (a counter never touched).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples(text)
        .get(&(name.to_owned(), labels))
        .copied()
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.expect("body")
}

async fn enqueue_reminder(app: &TestApp, chat: i64, due: chrono::DateTime<chrono::Utc>) {
    let message = telegram::message(
        chat,
        "reminder",
        "reminder:test",
        &OutgoingMessage::html("your talk starts soon"),
        due,
        None,
    )
    .unwrap();
    let mut tx = app.db().begin().await.unwrap();
    outbox::enqueue(&mut tx, app.now(), &message).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn metrics_count_a_known_workload_exactly() {
    let app = TestApp::spawn().await;
    let t0 = app.now();
    for chat in 101..=105 {
        app.enqueue(chat, "hello", &format!("m{chat}")).await;
    }
    app.enqueue_at(
        107,
        "too late",
        "late",
        t0 - TimeDelta::seconds(10),
        Some(t0 + TimeDelta::seconds(1)),
    )
    .await;
    enqueue_reminder(&app, 106, t0 + TimeDelta::seconds(2)).await;
    app.advance(TimeDelta::seconds(4));

    // Before any send: six interactive rows due, the oldest for 14 s; one reminder due for 2 s.
    let before = scrape(&app).await;
    let lane = |name| [("lane", name)];
    assert_eq!(
        value(&before, "herald_outbox_due", &lane("interactive")),
        6.0
    );
    assert_eq!(
        value(
            &before,
            "herald_outbox_oldest_due_seconds",
            &lane("interactive")
        ),
        14.0
    );
    assert_eq!(value(&before, "herald_outbox_due", &lane("timely")), 1.0);
    assert_eq!(
        value(&before, "herald_outbox_oldest_due_seconds", &lane("timely")),
        2.0
    );
    assert_eq!(value(&before, "herald_outbox_due", &lane("bulk")), 0.0);
    assert_eq!(value(&before, "herald_database_up", &[]), 1.0);

    // One 429, one refusal, one server error; the rest go through.
    app.telegram.fail_next_to(102, Fault::RetryAfter(3));
    app.telegram.fail_next_to(
        103,
        Fault::Permanent {
            code: 400,
            description: "Bad Request: message is too long".into(),
        },
    );
    app.telegram.fail_next_to(104, Fault::ServerError);
    app.drain_outbox().await;
    app.advance(TimeDelta::minutes(10));
    app.drain_outbox().await;
    assert_eq!(app.telegram.delivered().len(), 5);

    // A webhook request, whatever it is answered.
    let hook = app
        .http
        .post(format!("{}/hooks/notify/nowhere", app.base_url))
        .body("{}")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();

    let after = scrape(&app).await;
    let outcome = |lane, outcome| {
        value(
            &after,
            "herald_outbox_messages_total",
            &[
                ("platform", "telegram"),
                ("lane", lane),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(outcome("interactive", "sent"), 4.0);
    assert_eq!(outcome("interactive", "failed"), 1.0);
    assert_eq!(outcome("interactive", "given_up"), 1.0);
    assert_eq!(outcome("interactive", "expired"), 1.0);
    assert_eq!(outcome("timely", "sent"), 1.0);
    assert_eq!(outcome("timely", "failed"), 0.0);
    let telegram = [("platform", "telegram")];
    assert_eq!(value(&after, "herald_rate_limited_total", &telegram), 1.0);
    // Six sends in the first round (the expired row is never sent), two again after the 429 and the 5xx.
    assert_eq!(
        value(&after, "herald_send_duration_seconds_count", &telegram),
        8.0
    );
    let sends_within = |le| {
        value(
            &after,
            "herald_send_duration_seconds_bucket",
            &[("platform", "telegram"), ("le", le)],
        )
    };
    assert_eq!(sends_within("+Inf"), 8.0);
    assert!(sends_within("0.005") <= sends_within("30"));
    // The reminder left 2 s after its time (the test clock stands still while it is sent).
    let lateness = |le| {
        value(
            &after,
            "herald_reminder_lateness_seconds_bucket",
            &[("le", le)],
        )
    };
    assert_eq!(
        (lateness("1"), lateness("2"), lateness("+Inf")),
        (0.0, 1.0, 1.0)
    );
    assert_eq!(
        value(&after, "herald_reminder_lateness_seconds_sum", &[]),
        2.0
    );
    assert_eq!(
        value(
            &after,
            "herald_webhook_requests_total",
            &[("hook", "notify"), ("code", &hook.to_string())]
        ),
        1.0
    );
    // Nothing is left to send.
    for name in ["interactive", "timely", "bulk"] {
        assert_eq!(value(&after, "herald_outbox_due", &lane(name)), 0.0);
        assert_eq!(
            value(&after, "herald_outbox_oldest_due_seconds", &lane(name)),
            0.0
        );
    }
    assert!(value(&after, "herald_uptime_seconds", &[]) > 0.0);
    // No chat or person appears in any label.
    for chat in 101..=107 {
        assert!(
            !after.contains(&format!("\"{chat}\"")),
            "chat {chat} in\n{after}"
        );
    }

    if let Ok(path) = std::env::var("METRICS_SCRAPE_TO") {
        std::fs::write(&path, &after).expect("write the scrape");
    }
}

#[tokio::test]
async fn metrics_with_a_token_answer_only_requests_bearing_it() {
    let app = TestApp::spawn_with(
        |c| c.metrics_token = Some(herald::config::Secret::new("s3cret-metrics")),
        Default::default(),
    )
    .await;
    let url = format!("{}/metrics", app.base_url);
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };
    assert_eq!(status(app.http.get(&url)).await, 401);
    assert_eq!(status(app.http.get(&url).bearer_auth("wrong")).await, 401);
    assert_eq!(
        status(app.http.get(&url).bearer_auth("s3cret-metrics")).await,
        200
    );
}

#[tokio::test]
async fn metrics_show_each_component_in_one_state() {
    let app = TestApp::spawn().await;
    let reporter = app.app.health.register("listener:mastodon-main");
    reporter.failing(app.now(), &anyhow::anyhow!("stream closed"));
    let text = scrape(&app).await;
    let state = |s| {
        value(
            &text,
            "herald_component_state",
            &[("component", "listener:mastodon-main"), ("state", s)],
        )
    };
    assert_eq!(
        [
            state("starting"),
            state("running"),
            state("failing"),
            state("disabled"),
            state("stopped")
        ],
        [0.0, 0.0, 1.0, 0.0, 0.0]
    );
}
