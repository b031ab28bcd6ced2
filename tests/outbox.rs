//! The outbox: delivery, rate limits, retries, deadlines, leases, visible failure.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use chrono::TimeDelta;
use herald::db::outbox::{self, OutboxState, Outcome};
use herald_bots::Rate;
use support::{Fault, TestApp};

#[tokio::test]
async fn a_dm_and_a_channel_message_are_delivered_with_their_platform_ids() {
    let app = TestApp::spawn().await;
    let dm = app.enqueue(42, "Hello <b>Ada</b>", "welcome:1").await;
    let channel = app.enqueue(-100_123, "Doors open", "announce:1").await;

    let report = app.drain_outbox().await;

    assert_eq!(report.sent, 2);
    let delivered = app.telegram.delivered();
    assert!(delivered.contains(&(42, "Hello <b>Ada</b>".into())));
    assert!(delivered.contains(&(-100_123, "Doors open".into())));
    let calls = app.telegram.calls();
    assert!(calls.iter().all(|c| c.token == support::TOKEN));
    assert_eq!(calls[0].body["parse_mode"], "HTML");
    for id in [dm, channel] {
        let row = app.row(id).await;
        assert_eq!(row.state, OutboxState::Sent);
        let accepted = calls
            .iter()
            .find(|c| Some(c.chat_id().unwrap().to_string()) == Some(row.target.clone()))
            .unwrap();
        assert_eq!(
            row.platform_message_id,
            accepted.message_id.map(|m| m.to_string())
        );
        assert_eq!(row.finished_at, Some(app.now()));
        assert_eq!(row.attempts, 1);
    }
}

#[tokio::test]
async fn the_same_message_to_the_same_chat_is_written_and_sent_once() {
    let app = TestApp::spawn().await;
    let first = app.enqueue(42, "Keynote in 10 minutes", "reminder:7").await;
    let second = app.enqueue(42, "Keynote in 10 minutes", "reminder:7").await;
    let other_chat = app.enqueue(43, "Keynote in 10 minutes", "reminder:7").await;
    assert_eq!(first, second);
    assert_ne!(first, other_chat);

    app.drain_outbox().await;
    assert_eq!(app.telegram.delivered().len(), 2);
}

#[tokio::test]
async fn a_message_due_later_waits_for_its_time() {
    let app = TestApp::spawn().await;
    let due = app.now() + TimeDelta::minutes(10);
    let id = app
        .enqueue_at(42, "Your talk starts in 15 minutes", "speaker:1", due, None)
        .await;

    assert_eq!(app.drain_outbox().await.claimed, 0);
    app.advance(TimeDelta::minutes(10) - TimeDelta::milliseconds(1));
    assert_eq!(app.drain_outbox().await.claimed, 0);
    app.advance(TimeDelta::milliseconds(1));
    assert_eq!(app.drain_outbox().await.sent, 1);
    assert_eq!(app.row(id).await.state, OutboxState::Sent);
}

#[tokio::test]
async fn the_bot_sends_at_most_thirty_messages_a_second() {
    let app = TestApp::spawn().await;
    for chat in 1..=45 {
        app.enqueue(chat, "Lunch is served", &format!("lunch:{chat}"))
            .await;
    }

    let first = app.drain_outbox().await;
    assert_eq!(first.sent, 30, "the per-bot limit is 30/s");
    assert_eq!(first.deferred, 15);

    app.advance(TimeDelta::milliseconds(999));
    assert_eq!(
        app.drain_outbox().await.sent,
        0,
        "still inside the same second"
    );

    app.advance(TimeDelta::milliseconds(1));
    let second = app.drain_outbox().await;
    assert_eq!(second.sent, 15);
    assert_eq!(app.telegram.delivered().len(), 45);
}

#[tokio::test]
async fn a_private_chat_gets_one_message_a_second_in_order() {
    let app = TestApp::spawn().await;
    for n in 1..=3 {
        app.enqueue(42, &format!("message {n}"), &format!("m:{n}"))
            .await;
    }
    assert_eq!(app.drain_outbox().await.sent, 1);
    app.advance(TimeDelta::milliseconds(500));
    assert_eq!(app.drain_outbox().await.sent, 0);
    app.advance(TimeDelta::milliseconds(500));
    assert_eq!(app.drain_outbox().await.sent, 1);
    app.advance(TimeDelta::seconds(1));
    assert_eq!(app.drain_outbox().await.sent, 1);
    let texts: Vec<String> = app
        .telegram
        .delivered()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(texts, ["message 1", "message 2", "message 3"]);
}

#[tokio::test]
async fn a_group_gets_twenty_messages_a_minute() {
    let app = TestApp::spawn().await;
    for n in 1..=25 {
        app.enqueue(-1_001, &format!("update {n}"), &format!("u:{n}"))
            .await;
    }
    // Spread over the first minute, as fast as the per-bot limit allows.
    let mut sent = 0;
    for _ in 0..59 {
        sent += app.drain_outbox().await.sent;
        app.advance(TimeDelta::seconds(1));
    }
    assert_eq!(sent, 20, "no more than 20 in the first minute");
    app.advance(TimeDelta::seconds(1));
    sent += app.drain_outbox().await.sent;
    assert!(sent > 20, "the window moves on after a minute");
    let texts: Vec<String> = app
        .telegram
        .delivered()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let expected: Vec<String> = (1..=texts.len()).map(|n| format!("update {n}")).collect();
    assert_eq!(texts, expected, "in order");
}

#[tokio::test]
async fn rate_limits_come_from_the_configuration_when_set() {
    let app = TestApp::spawn_with(
        |c| {
            let limits = c.outbox.rate_limits.entry("telegram".into()).or_default();
            limits.per_provider = Some(Rate::per_second(2));
            limits.per_private_chat = Some(Rate::Unlimited);
        },
        Default::default(),
    )
    .await;
    for n in 1..=5 {
        app.enqueue(42, &format!("m{n}"), &format!("k{n}")).await;
    }
    assert_eq!(app.drain_outbox().await.sent, 2);
}

#[tokio::test]
async fn retry_after_is_honoured_exactly() {
    let app = TestApp::spawn().await;
    app.telegram.fail_next(Fault::RetryAfter(7));
    let id = app.enqueue(-1_005, "first", "a").await;
    let behind = app.enqueue(-1_005, "second", "b").await;
    let attempted_at = app.now();

    let report = app.drain_outbox().await;
    assert_eq!((report.sent, report.retried, report.deferred), (0, 0, 2));
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Pending);
    assert_eq!(row.next_attempt_at, attempted_at + TimeDelta::seconds(7));
    assert_eq!(
        row.attempts, 0,
        "being asked to wait is not a failed attempt"
    );
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("retry after")
    );
    assert_eq!(
        app.row(behind).await.state,
        OutboxState::Pending,
        "the chat's next message waits too"
    );

    app.advance(TimeDelta::seconds(7) - TimeDelta::microseconds(1));
    assert_eq!(app.drain_outbox().await.claimed, 0);
    app.advance(TimeDelta::microseconds(1));
    app.drain_outbox().await;
    assert_eq!(app.row(id).await.state, OutboxState::Sent);
    let texts: Vec<String> = app
        .telegram
        .delivered()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(texts, ["first", "second"]);
}

#[tokio::test]
async fn transient_errors_back_off_from_the_last_attempt_up_to_a_cap() {
    let app = TestApp::spawn_with(
        |c| {
            c.outbox.backoff_base_ms = 2_000;
            c.outbox.backoff_cap_secs = 5;
        },
        Default::default(),
    )
    .await;
    for _ in 0..3 {
        app.telegram.fail_next(Fault::ServerError);
    }
    let id = app.enqueue(42, "hi", "k").await;
    let t0 = app.now();

    app.drain_outbox().await;
    assert_eq!(
        app.row(id).await.next_attempt_at,
        t0 + TimeDelta::seconds(2),
        "base delay"
    );

    // The second attempt happens late (at t0+3): the next delay counts from then, not from the due time.
    app.advance(TimeDelta::seconds(3));
    app.drain_outbox().await;
    assert_eq!(
        app.row(id).await.next_attempt_at,
        t0 + TimeDelta::seconds(3 + 4),
        "doubled"
    );

    app.advance(TimeDelta::seconds(4));
    app.drain_outbox().await;
    let row = app.row(id).await;
    assert_eq!(
        row.next_attempt_at,
        t0 + TimeDelta::seconds(7 + 5),
        "capped at 5 s, not 8"
    );
    assert!(row.last_error.unwrap().contains("500"));

    app.advance(TimeDelta::seconds(5));
    app.drain_outbox().await;
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Sent);
    assert_eq!(row.attempts, 4);
}

#[tokio::test]
async fn a_proxy_error_page_and_a_timeout_are_retried() {
    let app = TestApp::spawn().await;
    app.telegram.fail_next(Fault::BadGatewayHtml);
    app.telegram
        .fail_next(Fault::Timeout(Duration::from_secs(3)));
    let id = app.enqueue(42, "hi", "k").await;

    app.drain_outbox().await;
    assert!(app.row(id).await.last_error.unwrap().contains("502"));
    app.advance(TimeDelta::minutes(1));
    app.drain_outbox().await;
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Pending);
    assert!(row.last_error.unwrap().contains("timed out"));
    app.advance(TimeDelta::minutes(1));
    app.drain_outbox().await;
    assert_eq!(app.row(id).await.state, OutboxState::Sent);
}

#[tokio::test]
async fn permanent_errors_are_given_up_at_once_with_the_error() {
    let app = TestApp::spawn().await;
    app.telegram.fail_next_to(42, Fault::blocked());
    app.telegram.fail_next_to(
        -1_009,
        Fault::Permanent {
            code: 400,
            description: "Bad Request: chat not found".into(),
        },
    );
    let blocked = app.enqueue(42, "hi", "a").await;
    let missing = app.enqueue(-1_009, "hi", "b").await;
    let fine = app.enqueue(43, "hi", "c").await;

    let report = app.drain_outbox().await;
    assert_eq!((report.sent, report.given_up), (1, 2));
    let row = app.row(blocked).await;
    assert_eq!(row.state, OutboxState::GivenUp);
    assert!(row.last_error.unwrap().contains("blocked by the user"));
    assert_eq!(row.platform_message_id, None);
    assert!(
        app.row(missing)
            .await
            .last_error
            .unwrap()
            .contains("chat not found")
    );
    assert_eq!(app.row(fine).await.state, OutboxState::Sent);

    app.advance(TimeDelta::hours(1));
    app.drain_outbox().await;
    assert_eq!(
        app.telegram.calls().len(),
        3,
        "given-up messages are not tried again"
    );
}

#[tokio::test]
async fn a_message_out_of_attempts_is_given_up_not_disguised_as_sent() {
    let app = TestApp::spawn_with(|c| c.outbox.max_attempts = 2, Default::default()).await;
    app.telegram.fail_next(Fault::ServerError);
    app.telegram.fail_next(Fault::ServerError);
    let id = app.enqueue(42, "hi", "k").await;
    app.drain_outbox().await;
    app.advance(TimeDelta::minutes(5));
    app.drain_outbox().await;
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::GivenUp);
    assert!(
        row.last_error
            .unwrap()
            .starts_with("gave up after 2 attempts")
    );
    assert_eq!(row.platform_message_id, None);
}

#[tokio::test]
async fn a_reminder_past_its_deadline_is_expired_and_never_sent_late() {
    let app = TestApp::spawn().await;
    let start = app.now() + TimeDelta::minutes(10);
    let id = app
        .enqueue_at(
            42,
            "Rust in Space starts in 10 minutes",
            "r:1",
            app.now(),
            Some(start),
        )
        .await;

    // Herald was down until after the session started.
    app.advance(TimeDelta::minutes(11));
    let report = app.drain_outbox().await;
    assert_eq!(report.expired, 1);
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Expired);
    assert!(row.last_error.unwrap().contains("deadline"));
    assert!(app.telegram.calls().is_empty());
}

#[tokio::test]
async fn a_retry_that_would_land_after_the_deadline_expires_at_once() {
    let app = TestApp::spawn().await;
    app.telegram.fail_next(Fault::RetryAfter(120));
    let deadline = app.now() + TimeDelta::seconds(60);
    let id = app
        .enqueue_at(42, "starting now", "r:2", app.now(), Some(deadline))
        .await;
    app.drain_outbox().await;
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Expired);
    assert!(row.last_error.unwrap().contains("retry after 120"));
}

#[tokio::test]
async fn a_lease_that_ran_out_is_claimed_again_with_nothing_lost_or_doubled() {
    let app = TestApp::spawn().await;
    let ids = [
        app.enqueue(41, "one", "1").await,
        app.enqueue(42, "two", "2").await,
    ];

    // A worker claims both rows and dies before sending.
    let lease_until = app.now() + TimeDelta::seconds(60);
    let claimed = outbox::claim(
        app.db(),
        app.now(),
        "dead-worker",
        lease_until,
        10,
        &herald::db::outbox::Lane::ALL,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 2);

    // While the lease holds, nobody else takes them.
    assert_eq!(app.drain_outbox().await.claimed, 0);
    app.advance(TimeDelta::seconds(59));
    assert_eq!(app.drain_outbox().await.claimed, 0);

    app.advance(TimeDelta::seconds(1));
    assert_eq!(app.drain_outbox().await.sent, 2);

    // The dead worker wakes up and tries to record its own outcome: ignored, the real one stands.
    let mut tx = app.db().begin().await.unwrap();
    let late = [(
        ids[0],
        Outcome::GivenUp {
            error: "zombie".into(),
        },
    )];
    outbox::record(&mut tx, app.now(), "dead-worker", &late)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    for id in ids {
        assert_eq!(app.row(id).await.state, OutboxState::Sent);
    }
    let mut delivered = app.telegram.delivered();
    delivered.sort();
    assert_eq!(
        delivered,
        [(41, "one".into()), (42, "two".into())],
        "each exactly once"
    );
}

#[tokio::test]
async fn a_migrated_group_is_followed_to_its_supergroup() {
    let app = TestApp::spawn().await;
    app.telegram.fail_next_to(-5, Fault::Migrated(-100_777));
    let first = app.enqueue(-5, "first", "a").await;
    let second = app.enqueue(-5, "second", "b").await;

    app.drain_outbox().await;

    assert_eq!(
        app.telegram.delivered(),
        [(-100_777, "first".into()), (-100_777, "second".into())]
    );
    for id in [first, second] {
        let row = app.row(id).await;
        assert_eq!(
            (row.state, row.target.as_str()),
            (OutboxState::Sent, "-100777")
        );
        assert_eq!(row.attempts, 1, "following a move is not a failed attempt");
    }
}

#[tokio::test]
async fn a_message_for_an_unconfigured_platform_waits_with_a_visible_error() {
    let app = TestApp::spawn_with(|c| c.telegram = Default::default(), Default::default()).await;
    let id = app.enqueue(42, "hi", "k").await;
    app.drain_outbox().await;
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Pending);
    assert!(
        row.last_error
            .unwrap()
            .contains("no driver is configured for platform \"telegram\"")
    );
}

#[tokio::test]
async fn a_committed_message_wakes_the_running_worker() {
    // Polling once a minute: only the wake-up can explain a prompt delivery.
    let app = TestApp::spawn_with(|c| c.outbox.poll_interval_ms = 60_000, Default::default()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = tokio::spawn(
        app.app
            .outbox
            .clone()
            .run(shutdown.clone(), app.app.health.register("outbox")),
    );

    app.enqueue(42, "wake up", "k").await;
    assert!(
        app.telegram
            .wait_for_delivered(1, Duration::from_secs(5))
            .await,
        "delivered without polling"
    );

    shutdown.cancel();
    worker.await.unwrap();
}

#[tokio::test]
async fn being_asked_to_wait_again_and_again_never_gives_a_message_up() {
    let app = TestApp::spawn_with(|c| c.outbox.max_attempts = 2, Default::default()).await;
    for _ in 0..5 {
        app.telegram.fail_next(Fault::RetryAfter(1));
    }
    let id = app.enqueue(42, "patience", "k").await;
    for _ in 0..6 {
        app.drain_outbox().await;
        app.advance(TimeDelta::seconds(1));
    }
    let row = app.row(id).await;
    assert_eq!(row.state, OutboxState::Sent, "{:?}", row.last_error);
    assert_eq!(row.attempts, 1);
}

#[tokio::test]
async fn a_bot_wide_429_pauses_every_chat_of_the_account() {
    let app = TestApp::spawn().await;
    app.telegram.fail_next_to(42, Fault::RetryAfter(5));
    app.enqueue(42, "first", "a").await;
    app.drain_outbox().await;
    let other = app.enqueue(43, "someone else", "b").await;
    app.drain_outbox().await;
    assert_eq!(app.row(other).await.state, OutboxState::Pending);
    app.advance(TimeDelta::seconds(5));
    app.drain_outbox().await;
    assert_eq!(app.row(other).await.state, OutboxState::Sent);
}

/// A row written as `kind` (which decides its lane) for chat `chat`.
async fn enqueue_kind(app: &TestApp, chat: i64, kind: &str, key: &str) -> i64 {
    let message = herald::delivery::telegram::message(
        chat,
        kind,
        key,
        &herald_bots::telegram::OutgoingMessage::html(key),
        app.now(),
        None,
    )
    .unwrap();
    let mut tx = app.db().begin().await.unwrap();
    let id = outbox::enqueue(&mut tx, app.now(), &message).await.unwrap();
    tx.commit().await.unwrap();
    id.id()
}

#[tokio::test]
async fn a_reply_goes_out_before_a_fan_out_written_earlier() {
    let app = TestApp::spawn_with(|c| c.outbox.batch_size = 3, Default::default()).await;
    for chat in 0..6 {
        enqueue_kind(&app, 1_000 + chat, "announcement", &format!("bulk{chat}")).await;
    }
    let reminder = enqueue_kind(&app, 2_000, "reminder", "reminder").await;
    let reply = enqueue_kind(&app, 3_000, "message", "reply").await;
    app.outbox_round().await;
    let first: Vec<i64> = app
        .telegram
        .delivered()
        .into_iter()
        .map(|(chat, _)| chat)
        .collect();
    assert_eq!(first, [3_000, 2_000, 1_000]);
    assert_eq!(app.row(reply).await.state, OutboxState::Sent);
    assert_eq!(app.row(reminder).await.state, OutboxState::Sent);
}

#[tokio::test]
async fn someone_who_blocked_the_bot_is_skipped_until_they_write_again() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.join(&support::ADA, "attendee").await;
    app.bind("organisers", -100_600).await;
    app.telegram.fail_next_to(support::ADA.id, Fault::blocked());
    let replies = app.say(&support::OWNER, "/announce Doors open").await;
    assert_eq!(
        replies,
        ["Announcement queued for 1 recipient."],
        "Ada is still counted before anyone knows"
    );
    app.send_everything().await;
    // The fan-out waits in the bulk lane, behind replies and reminders.
    let announced = outbox::list(app.db())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.idempotency_key.starts_with("announce:"))
        .unwrap();
    assert_eq!(
        (announced.kind.as_str(), announced.state),
        ("announcement", OutboxState::GivenUp)
    );
    assert_eq!(
        app.telegram.texts_to(-100_600).last().unwrap(),
        "🚫 1 attendee could not be reached: they blocked the bot or left. They are skipped from now on, \
         until they write to me again; <code>/status</code> counts them."
    );
    let status = app.say(&support::OWNER, "/status").await.join("\n");
    assert!(
        status.contains(
            "Unreachable: 1 account of attendees (blocked the bot or left); skipped until they write again."
        ),
        "{status}"
    );
    let replies = app.say(&support::OWNER, "/announce Lunch").await;
    assert_eq!(replies, ["Announcement queued for 0 recipients."]);

    app.say(&support::ADA, "/whoami").await;
    let replies = app.say(&support::OWNER, "/announce Dinner").await;
    assert_eq!(replies, ["Announcement queued for 1 recipient."]);
}

#[tokio::test]
async fn a_stalled_send_holds_only_its_own_chat() {
    let app = TestApp::spawn().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = tokio::spawn(
        app.app
            .outbox
            .clone()
            .run(shutdown.clone(), app.app.health.register("outbox")),
    );
    app.telegram
        .fail_next_to(42, Fault::Slow(Duration::from_secs(4)));
    app.enqueue(42, "slow", "a").await;
    // Once the first send hangs at the fake, what is written after it must not wait for it.
    assert!(
        app.telegram
            .wait_for_arrivals(1, Duration::from_secs(2))
            .await,
        "the first send reached the fake"
    );
    app.enqueue(43, "quick", "b").await;
    // The worker paces a provider's sends; the test clock moves past the next slot.
    app.advance(TimeDelta::seconds(1));
    assert!(
        app.telegram
            .wait_for_delivered(1, Duration::from_secs(2))
            .await,
        "the other chat is served while the first send hangs"
    );
    assert_eq!(app.telegram.delivered()[0], (43, "quick".to_owned()));
    shutdown.cancel();
    worker.await.unwrap();
}

#[tokio::test]
async fn finished_rows_are_pruned_after_their_retention_and_nothing_else() {
    let app = TestApp::spawn().await;
    let sent = app.enqueue(42, "old news", "a").await;
    app.drain_outbox().await;
    // A network's progress on a delivery (a thread's parts already out) goes with the delivery's row.
    let progress = format!("{}x:a", herald::db::system::DELIVERY_PROGRESS);
    let mut tx = app.db().begin().await.unwrap();
    herald::db::system::set_system(&mut tx, app.now(), &progress, "{}")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let later = app
        .enqueue_at(
            43,
            "still to come",
            "b",
            app.now() + TimeDelta::days(200),
            None,
        )
        .await;
    app.advance(TimeDelta::days(89));
    let pruned = herald::outbox::prune_queues(app.db(), app.now(), 90, 30)
        .await
        .unwrap();
    assert_eq!(pruned, 0, "within the retention");
    app.advance(TimeDelta::days(2));
    herald::outbox::prune_queues(app.db(), app.now(), 90, 30)
        .await
        .unwrap();
    assert!(outbox::get(app.db(), sent).await.unwrap().is_none());
    assert_eq!(app.row(later).await.state, OutboxState::Pending);
    let mut tx = app.db().begin().await.unwrap();
    let kept = herald::db::system::get_system(&mut tx, &progress)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept, None, "the progress went with its delivery");
}

#[tokio::test]
async fn edits_and_button_answers_are_not_charged_against_a_busy_group() {
    let app = TestApp::spawn().await;
    for n in 1..=20 {
        app.enqueue(-1_001, &format!("update {n}"), &format!("u:{n}"))
            .await;
    }
    app.drain_outbox().await;
    let held = app.enqueue(-1_001, "a new message waits", "u:21").await;
    let mut tx = app.db().begin().await.unwrap();
    herald::delivery::telegram::edit(&mut tx, app.now(), -1_001, 1, "edited", None, "e")
        .await
        .unwrap();
    herald::delivery::telegram::answer_button(&mut tx, app.now(), -1_001, "cb-1", None, false, "a")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.advance(TimeDelta::seconds(1));
    app.drain_outbox().await;
    assert_eq!(app.telegram.calls_of("editMessageText").len(), 1);
    assert_eq!(app.telegram.calls_of("answerCallbackQuery").len(), 1);
    assert_eq!(
        app.row(held).await.state,
        OutboxState::Pending,
        "the group's twenty a minute still hold for new messages"
    );
}

#[tokio::test]
async fn status_shows_what_waits_and_what_failed_in_the_last_day() {
    let app = TestApp::spawn().await;
    app.with_owner_and_conference().await;
    app.telegram.fail_next_to(77, Fault::blocked());
    app.enqueue(77, "to someone gone", "gone").await;
    app.drain_outbox().await;
    app.enqueue_at(78, "later", "later", app.now() + TimeDelta::hours(3), None)
        .await;
    let status = app.say(&support::OWNER, "/status").await.join("\n");
    assert!(
        status.contains("Messages waiting: telegram 1 (and 1 failed in the last day)"),
        "{status}"
    );
    app.advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    let status = app.say(&support::OWNER, "/status").await.join("\n");
    assert!(
        status.contains("Messages waiting: telegram 1") && !status.contains("failed"),
        "{status}"
    );
}
