//! A campaign over the real 39C3 schedule (215 sessions) to two networks: the preview (every post rendered
//! per network and timed) and the creation (all 215 posts, variants and the moderation digest in one
//! transaction). The issue asks for both under a second.
//!
//! cargo bench --bench campaign                       # SQLite
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench campaign   # and PostgreSQL

mod support;

use std::{sync::Arc, time::Instant};
use support::postgres_schema;

use herald::{
    campaign,
    clock::{SharedClock, SystemClock},
    db::{Db, bindings, providers, schedule},
    templates::Templates,
};

const TEMPLATE: &str = r#"{%macro speaker(s)%}{{s}}{%if s|social%} ({{s|social}}){%endif%}{%endmacro%}
Come see {{session.speaker.all()|map("applymacro", "speaker")|join(" and ")}} talk about "{{session.title|truncate(120)}}"{% if network == "bluesky" %}!{% else %} in {{ session.room }}!{% endif %}
https://events.ccc.de/congress/2025/hub/event/{{session.id}}-{{session.title|slugify}}/"#;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock: SharedClock = Arc::new(SystemClock);
    let templates = Templates::new();
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/schedules/39c3-schedule-20251206.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let mut urls = vec![(
        "SQLite",
        format!("sqlite://{}", dir.path().join("campaign.db").display()),
    )];
    if let Ok(base) = std::env::var("BENCH_DATABASE_URL") {
        urls.push(("PostgreSQL", postgres_schema(&base).await));
    }
    for (backend, url) in urls {
        let db = Db::connect(&url).await.expect("db");
        db.migrate().await.expect("migrate");
        let (conference, _) =
            herald::schedule::source::import_schedule(&db, &clock, &templates, "39c3", &text, None)
                .await
                .expect("import");
        let now = chrono::Utc::now();
        let mut tx = db.begin().await.expect("begin");
        for (kind, name) in [("mastodon", "chaos"), ("bluesky", "sky")] {
            let id = providers::add_provider(&mut tx, now, conference.series_id, kind, name, None)
                .await
                .expect("provider")
                .expect("new");
            providers::set_active(&mut tx, now, id, true)
                .await
                .expect("active");
            providers::set_switch(&mut tx, conference.id, id, "public_broadcast", true)
                .await
                .expect("switch");
        }
        bindings::bind(
            &mut tx,
            now,
            conference.id,
            "moderation",
            "telegram",
            "-100700",
            None,
            None,
        )
        .await
        .expect("bind");
        tx.commit().await.expect("commit");

        let options = campaign::Options {
            start: now,
            every_secs: 3600,
            jitter_secs: 600,
            providers: Vec::new(),
            shuffled: false,
        };
        let runs = 5;
        let mut preview_ms = 0.0;
        let mut create_ms = 0.0;
        let mut made = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let mut tx = db.begin().await.expect("begin");
            let providers = providers::broadcasting_providers(&mut tx, conference.id)
                .await
                .expect("providers");
            let sessions = campaign::choose_sessions(
                schedule::sessions(&mut tx, conference.id)
                    .await
                    .expect("sessions"),
                &[],
                false,
                7,
            );
            let contexts: Vec<_> = sessions
                .iter()
                .map(|s| (s.title.clone(), campaign::session_context(&conference, s)))
                .collect();
            let planned = campaign::plan(&conference, TEMPLATE, &contexts, &providers, &options, 7)
                .expect("renders");
            tx.commit().await.expect("commit");
            preview_ms += started.elapsed().as_secs_f64() * 1000.0;

            let started = Instant::now();
            let mut tx = db.begin().await.expect("begin");
            let draft = herald::db::campaigns::create(
                &mut tx,
                chrono::Utc::now(),
                &herald::db::campaigns::NewCampaign {
                    conference: conference.id,
                    kind: "sessions",
                    filters: "[]",
                    options: "{}",
                    seed: 7,
                    by: None,
                },
            )
            .await
            .expect("draft");
            let ids = campaign::create(
                &mut tx,
                chrono::Utc::now(),
                &conference,
                draft,
                None,
                &planned,
            )
            .await
            .expect("create");
            let created = herald::db::campaigns::campaign(&mut tx, draft)
                .await
                .expect("campaign")
                .expect("exists");
            campaign::digest::send(&mut tx, &templates, chrono::Utc::now(), &created)
                .await
                .expect("digest");
            tx.commit().await.expect("commit");
            create_ms += started.elapsed().as_secs_f64() * 1000.0;
            made = ids.len();
        }
        println!(
            "{backend:10} 39C3 campaign, {made} posts to 2 networks: preview {:.1} ms, create with the moderation digest {:.1} ms (mean of {runs})",
            preview_ms / f64::from(runs),
            create_ms / f64::from(runs)
        );
    }
}
