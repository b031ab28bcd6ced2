//! Keeping URL schedules current: every conference with a schedule URL is fetched and re-imported on its
//! interval. A failed fetch or a broken file changes nothing, is recorded on the conference, and tells
//! the organisers once per distinct error.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    db::{Db, conferences, schedule as store},
    delivery::organisers,
    health::Reporter,
    templates::Templates,
};

/// Syncs every source that is due; returns how many were attempted.
pub async fn sync_once(
    db: &Db,
    clock: &SharedClock,
    templates: &Templates,
) -> anyhow::Result<usize> {
    let due = {
        let mut tx = db.begin().await?;
        let due = store::due_sync_sources(&mut tx, clock.now()).await?;
        tx.commit().await?;
        due
    };
    for source in &due {
        // A panic while reading one source is that source's error, told like any other.
        let result = crate::health::unpanicked("reading the schedule", async {
            let text = crate::schedule::source::read_source(&source.url).await?;
            crate::schedule::source::import_schedule(
                db,
                clock,
                templates,
                &source.slug,
                &text,
                None,
            )
            .await
        })
        .await;
        let mut tx = db.begin().await?;
        match result {
            Ok(_) => store::record_sync(&mut tx, source.conference_id, clock.now(), None).await?,
            Err(err) => {
                let text = format!("{err:#}");
                tracing::warn!(conference = %source.slug, error = %text, "schedule sync failed");
                let before = conferences::conference_by_id(&mut tx, source.conference_id).await?;
                let previous = sync_error(&mut tx, source.conference_id).await?;
                store::record_sync(&mut tx, source.conference_id, clock.now(), Some(&text)).await?;
                if previous.as_deref() != Some(text.as_str()) {
                    organisers::notify(
                        &mut tx,
                        templates,
                        clock.now(),
                        source.conference_id,
                        "notify_sync_failed",
                        &format!("sync-failed:{}:{}", source.conference_id, clock.now().timestamp_micros()),
                        serde_json::json!({ "conference": before.map(|c| c.name), "url": crate::token::redact_url(&source.url), "error": text }),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(due.len())
}

async fn sync_error(tx: &mut crate::db::Tx, conference: i64) -> anyhow::Result<Option<String>> {
    crate::db::schedule::sync_error(tx, conference).await
}

/// Runs syncs until shutdown, checking every 30 seconds.
pub async fn run(
    db: Db,
    clock: SharedClock,
    templates: std::sync::Arc<Templates>,
    health: Reporter,
    shutdown: CancellationToken,
) {
    crate::health::repeat(&clock, &health, &shutdown, Duration::from_secs(30), || {
        sync_once(&db, &clock, &templates)
    })
    .await;
}
