//! Building a person's calendar feed from the store.

use chrono::{DateTime, Utc};

use crate::{
    db::{Db, conferences, schedule as store},
    schedule::{
        calendar::{self, Entry},
        import::personal_sessions,
    },
};

/// The feed behind `token`, or `None` for an unknown (or replaced) token.
pub async fn render(db: &Db, now: DateTime<Utc>, token: &str) -> anyhow::Result<Option<String>> {
    let mut tx = db.begin().await?;
    let Some((person, conference_id)) =
        store::feed_owner(&mut tx, &crate::token::hash(token)).await?
    else {
        return Ok(None);
    };
    let Some(conference) = conferences::conference_by_id(&mut tx, conference_id).await? else {
        return Ok(None);
    };
    let tz: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let sessions = store::sessions(&mut tx, conference.id).await?;
    let (followed, speaking) =
        personal_sessions(&mut tx, &conference, &sessions, Some(person)).await?;
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (list, role) in [
        (speaking.get(&person), "speaking"),
        (followed.get(&person), "following"),
    ] {
        for s in list.into_iter().flatten() {
            if !seen.insert(s.id) {
                continue;
            }
            entries.push(Entry {
                uid: format!("session-{}-{}@herald", conference.slug, s.source_id),
                title: if role == "speaking" {
                    format!("🎤 {}", s.title)
                } else {
                    s.title.clone()
                },
                location: s.room.clone(),
                description: s.url.clone(),
                start: s.starts_at,
                end: s.ends_at,
                cancelled: s.status != "confirmed",
            });
        }
    }
    let assigned = store::assignments(&mut tx, conference.id).await?;
    for slot in store::slots(&mut tx, conference.id).await? {
        if assigned
            .iter()
            .any(|(id, p, _)| *id == slot.id && *p == person)
        {
            entries.push(Entry {
                uid: format!("shift-{}-{}@herald", conference.slug, slot.id),
                title: format!("🙋 {}", slot.title),
                location: None,
                description: None,
                start: slot.starts_at,
                end: slot.ends_at,
                cancelled: false,
            });
        }
    }
    tx.commit().await?;
    entries.sort_by_key(|e| e.start);
    Ok(Some(calendar::feed(&conference.name, tz, &entries, now)))
}
