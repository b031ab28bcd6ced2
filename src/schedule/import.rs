//! Importing a schedule into a conference, and the reminders computed from it.
//!
//! Sessions are matched on their source id and the summary says what was added, moved, changed,
//! cancelled and removed. The file is read whole before anything is written, so a broken file changes
//! nothing; the changes are written in short transactions, and the reminders are recomputed after them
//! in one transaction, so a moved session's reminder moves with it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::json;

use super::{Schedule, Session, Status};
use crate::{
    db::{
        Db, Tx,
        conferences::Conference,
        contacts::{Kind, Wants},
        outbox,
        schedule::{self as store, SessionFields, StoredSession},
        subscriptions,
    },
    delivery::{self, Notice, People, organisers},
    templates::Templates,
};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub added: usize,
    pub moved: usize,
    pub changed: usize,
    pub cancelled: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Notices queued for people who were to be reminded of moved or cancelled sessions.
    pub notices: usize,
    pub reminders: usize,
    pub notes: Vec<String>,
}

/// A session that moved (to a new start and room) or went away (`None`), for notices.
type Change = (StoredSession, Option<(DateTime<Utc>, Option<String>)>);

fn status_str(status: Status) -> &'static str {
    match status {
        Status::Confirmed => "confirmed",
        Status::Cancelled => "cancelled",
    }
}

/// Gives sessions that share a source id (a UID reused for many events) distinct ids, so they are not
/// merged: the first keeps the id, the others get `#<start>` appended.
fn distinct_ids(sessions: &[Session]) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    // Per `<id>#<start>`, the next number to try: numbering stays linear however many share one.
    let mut next: HashMap<String, usize> = HashMap::new();
    sessions
        .iter()
        .map(|s| {
            let mut id = s.source_id.clone();
            if seen.contains(&id) {
                let base = format!("{}#{}", s.source_id, s.start.timestamp());
                id.clone_from(&base);
                // Same id and same start (a UID reused for parallel events): number them in file order.
                let n = next.entry(base.clone()).or_insert(2);
                while seen.contains(&id) {
                    id = format!("{base}#{n}");
                    *n += 1;
                }
            }
            seen.insert(id.clone());
            id
        })
        .collect()
}

/// Rows written per transaction while an import applies its changes: each transaction holds the SQLite
/// write lock for milliseconds, so webhooks and workers go on between them.
const WRITE_BATCH: usize = 500;

/// One import at a time in this process: an import reads what is stored before it writes, so two of
/// them must not interleave.
static IMPORTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What an import will write, worked out from the file and what is stored, before anything is written.
struct Plan<'a> {
    summary: Summary,
    added: Vec<SessionFields<'a>>,
    updated: Vec<(i64, SessionFields<'a>)>,
    removed: Vec<i64>,
    notices: Vec<Change>,
}

fn plan<'a>(
    schedule: &'a Schedule,
    ids: &'a [String],
    speakers: &'a [String],
    stored: Vec<StoredSession>,
) -> Plan<'a> {
    let existing: HashMap<&str, &StoredSession> =
        stored.iter().map(|s| (s.source_id.as_str(), s)).collect();
    let mut plan = Plan {
        summary: Summary {
            notes: schedule.notes.clone(),
            ..Summary::default()
        },
        added: Vec::new(),
        updated: Vec::new(),
        removed: Vec::new(),
        notices: Vec::new(),
    };
    let mut seen = HashSet::new();
    for ((session, id), speakers) in schedule.sessions.iter().zip(ids).zip(speakers) {
        seen.insert(id.as_str());
        let fields = SessionFields {
            source_id: id,
            title: &session.title,
            track: session.track.as_deref(),
            room: session.room.as_deref(),
            starts_at: session.start,
            ends_at: session.end,
            status: status_str(session.status),
            url: session.url.as_deref(),
            speakers,
        };
        let Some(old) = existing.get(id.as_str()) else {
            plan.added.push(fields);
            continue;
        };
        let moved = old.starts_at != session.start
            || old.ends_at != session.end
            || old.room != session.room;
        let changed = old.title != session.title
            || old.track != session.track
            || old.speakers != *speakers
            || old.url != session.url;
        let cancelled = old.status != "cancelled" && session.status == Status::Cancelled;
        let revived = old.status != "confirmed" && session.status == Status::Confirmed;
        if cancelled {
            plan.summary.cancelled += 1;
            plan.notices.push(((*old).clone(), None));
        } else if moved && session.status == Status::Confirmed {
            plan.summary.moved += 1;
            plan.notices
                .push(((*old).clone(), Some((session.start, session.room.clone()))));
        } else if changed || revived || moved {
            plan.summary.changed += 1;
        } else {
            plan.summary.unchanged += 1;
            continue;
        }
        plan.updated.push((old.id, fields));
    }
    plan.summary.added = plan.added.len();
    for old in stored
        .iter()
        .filter(|s| !seen.contains(s.source_id.as_str()) && s.status != "removed")
    {
        plan.removed.push(old.id);
        plan.summary.removed += 1;
        if old.status == "confirmed" {
            plan.notices.push((old.clone(), None));
        }
    }
    plan
}

/// Imports a parsed schedule into `conference`. What is stored is read and compared with the file
/// outside any write transaction; the changes are then written in short transactions of a few hundred
/// rows, so even a file of 100,000 sessions never holds the database for long; last, one transaction
/// queues the notices for moved and cancelled sessions, recomputes the reminders and tells the
/// organisers what changed. A file that fails to parse never gets here, so it changes nothing; an
/// import stopped halfway (the process killed) is completed by the next one, which matches on source ids.
pub async fn import(
    db: &Db,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    schedule: &Schedule,
) -> anyhow::Result<Summary> {
    let _one_at_a_time = IMPORTING.lock().await;
    let ids = distinct_ids(&schedule.sessions);
    let speakers: Vec<String> = schedule
        .sessions
        .iter()
        .map(|s| serde_json::to_string(&s.speakers))
        .collect::<Result<_, _>>()?;
    let stored = store::read_sessions(db, conference.id).await?;
    let Plan {
        mut summary,
        added,
        updated,
        removed,
        notices,
    } = plan(schedule, &ids, &speakers, stored);

    for chunk in added.chunks(WRITE_BATCH) {
        let mut tx = db.begin().await?;
        store::insert_sessions(&mut tx, now, conference.id, chunk).await?;
        tx.commit().await?;
    }
    for chunk in updated.chunks(WRITE_BATCH) {
        let mut tx = db.begin().await?;
        for (id, fields) in chunk {
            store::update_session(&mut tx, now, *id, fields).await?;
        }
        tx.commit().await?;
    }
    for chunk in removed.chunks(WRITE_BATCH) {
        let mut tx = db.begin().await?;
        for id in chunk {
            store::set_status(&mut tx, now, *id, "removed").await?;
        }
        tx.commit().await?;
    }

    let sessions = upcoming(store::read_sessions(db, conference.id).await?, now);
    let mut tx = db.begin().await?;
    summary.notices = notify_changes(&mut tx, templates, now, conference, &notices).await?;
    summary.reminders = reminders_from(&mut tx, templates, now, conference, &sessions).await?
        + personal_from(&mut tx, templates, now, conference, None, &sessions).await?;
    let news =
        summary.added + summary.moved + summary.changed + summary.cancelled + summary.removed > 0;
    // A periodic re-sync that changed nothing is not news.
    if news || !summary.notes.is_empty() {
        organisers::notify(
            &mut tx,
            templates,
            now,
            conference.id,
            "notify_import",
            &format!("import:{}:{}", conference.id, now.timestamp_micros()),
            json!({ "conference": conference.name, "summary": summary }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(summary)
}

fn zone_of(conference: &Conference) -> Tz {
    conference.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

/// A moved or cancelled session whose reminder was still to come today tells those who were to be
/// reminded.
async fn notify_changes(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    changes: &[Change],
) -> anyhow::Result<usize> {
    let zone = zone_of(conference);
    let relevant: Vec<_> = changes
        .iter()
        .filter(|(old, _)| old.starts_at > now && old.starts_at - now <= TimeDelta::hours(24))
        .collect();
    if relevant.is_empty() {
        return Ok(0);
    }
    let general = delivery::attendees(tx, conference.id).await?;
    let people = People::load(tx, conference.id, Wants::Reminders, None).await?;
    let mut queued = 0;
    for (old, new) in relevant {
        // Everyone who was to be reminded: the general audience, the session's followers and speakers.
        let mut audience = general.clone();
        let (followed, speaking) =
            personal_sessions(tx, conference, std::slice::from_ref(old), None).await?;
        for person in followed.keys().chain(speaking.keys()) {
            for contact in people.of(*person) {
                if !audience.iter().any(|r| r.contact == contact.contact) {
                    audience.push(contact.clone());
                }
            }
        }
        let context = json!({
            "title": old.title,
            "old_time": old.starts_at.with_timezone(&zone).to_rfc3339(),
            "old_room": old.room,
            "new_time": new.as_ref().map(|(t, _)| t.with_timezone(&zone).to_rfc3339()),
            "new_day": new.as_ref().map(|(t, _)| t.with_timezone(&zone).to_rfc3339()),
            "new_room": new.as_ref().and_then(|(_, r)| r.clone()),
        });
        let (template, stamp) = match new {
            Some((t, _)) => ("session_moved", t.timestamp()),
            None => ("session_cancelled", 0),
        };
        let notice = Notice::new(template, &context)
            .kind("notice")
            .scheduled(now, Some(old.starts_at));
        let key = format!("notice:{}:{}:{stamp}", conference.id, old.id);
        delivery::write(tx, templates, now, &audience, &notice, &key).await?;
        queued += audience.len();
    }
    Ok(queued)
}

/// Recomputes the "starting soon" reminders of a conference: one message per chat for all sessions
/// starting in the same minute, due N minutes before, never sent after the start.
pub async fn recompute_reminders(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
) -> anyhow::Result<usize> {
    let sessions = upcoming(store::sessions(tx, conference.id).await?, now);
    reminders_from(tx, templates, now, conference, &sessions).await
}

/// The sessions reminders are written for: confirmed and still to start.
fn upcoming(sessions: Vec<StoredSession>, now: DateTime<Utc>) -> Vec<StoredSession> {
    sessions
        .into_iter()
        .filter(|s| s.status == "confirmed" && s.starts_at > now)
        .collect()
}

/// [`recompute_reminders`] from the [`upcoming`] sessions.
async fn reminders_from(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    sessions: &[StoredSession],
) -> anyhow::Result<usize> {
    let audience = delivery::attendees(tx, conference.id).await?;
    let prefix = format!("reminder:{}:", conference.id);
    let (count, keep) =
        write_reminders(tx, templates, now, conference, &audience, sessions).await?;
    outbox::cancel_pending_except(tx, now, &prefix, &keep).await?;
    Ok(count)
}

/// The reminders a person who just joined (or came back, or switched them on) is due from now on: the
/// "starting soon" reminders on their channels and their personal ones. Nobody else's change.
pub async fn catch_up(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    person: i64,
) -> anyhow::Result<usize> {
    let audience = People::load(tx, conference.id, Wants::Announcements, Some(person))
        .await?
        .all();
    let sessions = upcoming(store::sessions(tx, conference.id).await?, now);
    let (count, _) = write_reminders(tx, templates, now, conference, &audience, &sessions).await?;
    Ok(count + personal_from(tx, templates, now, conference, Some(person), &sessions).await?)
}

/// The key prefixes of what `person` has queued of `kind` from `conference`: the "starting soon"
/// reminders come with announcements; the personal (usual and earlier) and speaker reminders are
/// reminders.
pub fn queued_prefixes(conference: i64, person: i64, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Announcements => vec![format!("reminder:{conference}:")],
        Kind::Reminders => vec![
            format!("personal:{conference}:{person}:"),
            format!("early:{conference}:{person}:"),
            format!("speaker:{conference}:{person}:"),
        ],
        Kind::Direct => Vec::new(),
    }
}

/// Writes the "starting soon" reminders for `audience`; returns how many and their keys.
async fn write_reminders(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    audience: &[delivery::Reach],
    sessions: &[StoredSession],
) -> anyhow::Result<(usize, HashSet<String>)> {
    if audience.is_empty() {
        return Ok((0, HashSet::new()));
    }
    let (minutes, _) = store::reminder_minutes(tx, conference.id).await?;
    let zone = zone_of(conference);
    let mut slots: std::collections::BTreeMap<DateTime<Utc>, Vec<&StoredSession>> =
        Default::default();
    for s in sessions {
        let minute = s
            .starts_at
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or(s.starts_at);
        slots.entry(minute).or_default().push(s);
    }
    let prefix = format!("reminder:{}:", conference.id);
    let mut keep = HashSet::new();
    let mut count = 0;
    for (minute, group) in &slots {
        let start = group.iter().map(|s| s.starts_at).min().unwrap_or(*minute);
        let due = (start - TimeDelta::minutes(minutes)).max(now);
        let context = json!({
            "minutes": (start - due).num_minutes().max(0),
            "time": start.with_timezone(&zone).to_rfc3339(),
            "sessions": group.iter().map(|s| json!({ "title": s.title, "room": s.room, "track": s.track })).collect::<Vec<_>>(),
        });
        let notice = Notice::new("reminder_sessions", &context)
            .kind("reminder")
            .scheduled(due, Some(start));
        let key = format!("{prefix}{}", minute.timestamp());
        keep.extend(delivery::write(tx, templates, now, audience, &notice, &key).await?);
        count += audience.len();
    }
    Ok((count, keep))
}

/// How long before a start one kind of personal reminder goes out.
#[derive(Debug, Clone, Copy)]
enum Lead<'a> {
    /// The same for everyone: the conference's lead time.
    Everyone(i64),
    /// Each person's own, for those who chose one.
    Chosen(&'a HashMap<i64, i64>),
}

impl Lead<'_> {
    fn of(self, person: i64) -> Option<i64> {
        match self {
            Self::Everyone(minutes) => Some(minutes),
            Self::Chosen(chosen) => chosen.get(&person).copied(),
        }
    }
}

/// Personal reminders for `person` (or everyone): before each followed session, again earlier for those
/// who asked for an earlier one (`/settings early`), and before each session a linked speaker speaks in.
/// One message per person per start minute and kind, each kind under its own key so one never stands in
/// for another; due N (followers), their own E (earlier) or M (speakers) minutes before, never after the
/// start.
pub async fn recompute_personal(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    person: Option<i64>,
) -> anyhow::Result<usize> {
    let sessions = upcoming(store::sessions(tx, conference.id).await?, now);
    personal_from(tx, templates, now, conference, person, &sessions).await
}

/// [`recompute_personal`] from the [`upcoming`] sessions.
async fn personal_from(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    person: Option<i64>,
    sessions: &[StoredSession],
) -> anyhow::Result<usize> {
    let (session_minutes, speaker_minutes) = store::reminder_minutes(tx, conference.id).await?;
    let zone = zone_of(conference);
    let people = People::load(tx, conference.id, Wants::Reminders, person).await?;

    let (followed, speaking) = personal_sessions(tx, conference, sessions, person).await?;
    // An earlier reminder only where it comes before the usual one: a conference that now reminds
    // earlier than someone's choice has made theirs unnecessary.
    let mut early = subscriptions::early_reminders(tx, conference.id, person).await?;
    early.retain(|_, minutes| *minutes > session_minutes);

    let mut count = 0;
    for (kind, by_person, lead, template) in [
        (
            "personal",
            &followed,
            Lead::Everyone(session_minutes),
            "reminder_personal",
        ),
        (
            "early",
            &followed,
            Lead::Chosen(&early),
            "reminder_personal",
        ),
        (
            "speaker",
            &speaking,
            Lead::Everyone(speaker_minutes),
            "reminder_speaker",
        ),
    ] {
        let prefix = match person {
            Some(p) => format!("{kind}:{}:{p}:", conference.id),
            None => format!("{kind}:{}:", conference.id),
        };
        let mut keep = HashSet::new();
        for (who, list) in by_person {
            let contacts = people.of(*who);
            let Some(minutes) = lead.of(*who).filter(|_| !contacts.is_empty()) else {
                continue;
            };
            let mut slots: std::collections::BTreeMap<DateTime<Utc>, Vec<&StoredSession>> =
                Default::default();
            for s in list {
                let minute = s
                    .starts_at
                    .duration_trunc(TimeDelta::minutes(1))
                    .unwrap_or(s.starts_at);
                slots.entry(minute).or_default().push(s);
            }
            for (minute, group) in slots {
                let start = group.iter().map(|s| s.starts_at).min().unwrap_or(minute);
                // The earlier reminder is written while the usual one is still to come: once that is
                // due, an "earlier" one would only say the same thing twice.
                if kind == "early" && start - TimeDelta::minutes(session_minutes) <= now {
                    continue;
                }
                let due = (start - TimeDelta::minutes(minutes)).max(now);
                let context = json!({
                    "minutes": (start - due).num_minutes().max(0),
                    "time": start.with_timezone(&zone).to_rfc3339(),
                    "sessions": group.iter().map(|s| json!({ "title": s.title, "room": s.room, "number": s.id })).collect::<Vec<_>>(),
                });
                let notice = Notice::new(template, &context)
                    .kind("reminder")
                    .scheduled(due, Some(start));
                let key = format!("{kind}:{}:{who}:{}", conference.id, minute.timestamp());
                keep.extend(delivery::write(tx, templates, now, contacts, &notice, &key).await?);
                count += 1;
            }
        }
        outbox::cancel_pending_except(tx, now, &prefix, &keep).await?;
    }
    count += recompute_volunteers(tx, templates, now, conference, person, &people).await?;
    super::invitations::reconcile(tx, templates, now, conference, person, sessions, &speaking)
        .await?;
    Ok(count)
}

/// Per person: the sessions they follow, and the sessions they speak in (through their speaker link).
pub async fn personal_sessions<'a>(
    tx: &mut Tx,
    conference: &Conference,
    sessions: &'a [StoredSession],
    person: Option<i64>,
) -> anyhow::Result<(
    HashMap<i64, Vec<&'a StoredSession>>,
    HashMap<i64, Vec<&'a StoredSession>>,
)> {
    // person → sessions they follow.
    let mut followed: HashMap<i64, Vec<&StoredSession>> = HashMap::new();
    for follow in store::follows(tx, conference.id, person).await? {
        let matches: Vec<&StoredSession> = match (&follow.session_id, &follow.pattern) {
            (Some(id), _) => sessions.iter().filter(|s| s.id == *id).collect(),
            (None, Some(pattern)) => match pattern_regex(pattern) {
                Ok(re) => sessions.iter().filter(|s| re.is_match(&s.title)).collect(),
                Err(_) => Vec::new(),
            },
            (None, None) => Vec::new(),
        };
        let entry = followed.entry(follow.person_id).or_default();
        for s in matches {
            if !entry.iter().any(|e| e.id == s.id) {
                entry.push(s);
            }
        }
    }
    // person → sessions they speak in.
    let links: HashMap<String, i64> = store::speaker_links(tx, conference.id)
        .await?
        .into_iter()
        .collect();
    let mut speaking: HashMap<i64, Vec<&StoredSession>> = HashMap::new();
    for s in sessions.iter().filter(|_| !links.is_empty()) {
        let speakers: Vec<super::Speaker> = serde_json::from_str(&s.speakers).unwrap_or_default();
        for speaker in speakers {
            let keys = [
                speaker.source_id.map(|k| k.to_lowercase()),
                Some(speaker.name.to_lowercase()),
            ];
            if let Some(p) = keys.iter().flatten().find_map(|k| links.get(k)) {
                speaking.entry(*p).or_default().push(s);
            }
        }
    }
    if let Some(only) = person {
        speaking.retain(|p, _| *p == only);
    }
    Ok((followed, speaking))
}

/// Volunteers' reminders: one before each shift they were given, never after it starts.
async fn recompute_volunteers(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    person: Option<i64>,
    people: &People,
) -> anyhow::Result<usize> {
    let minutes = store::volunteer_minutes(tx, conference.id).await?;
    let zone = zone_of(conference);
    let slots: HashMap<i64, store::VolunteerSlot> = store::slots(tx, conference.id)
        .await?
        .into_iter()
        .filter(|s| s.starts_at > now)
        .map(|s| (s.id, s))
        .collect();
    let prefix = match person {
        Some(p) => format!("volunteer:{}:{p}:", conference.id),
        None => format!("volunteer:{}:", conference.id),
    };
    let mut keep = HashSet::new();
    let mut count = 0;
    for (slot_id, who, _) in store::assignments(tx, conference.id).await? {
        let contacts = people.of(who);
        let Some(slot) = slots.get(&slot_id).filter(|_| !contacts.is_empty()) else {
            continue;
        };
        if person.is_some_and(|only| only != who) {
            continue;
        }
        let due = (slot.starts_at - TimeDelta::minutes(minutes)).max(now);
        let notice = Notice::new(
            "reminder_volunteer",
            json!({ "title": slot.title, "minutes": (slot.starts_at - due).num_minutes().max(0),
                     "time": slot.starts_at.with_timezone(&zone).to_rfc3339(),
                     "end": slot.ends_at.with_timezone(&zone).to_rfc3339() }),
        )
        .kind("reminder")
        .scheduled(due, Some(slot.starts_at));
        let key = format!("volunteer:{}:{who}:{slot_id}", conference.id);
        keep.extend(delivery::write(tx, templates, now, contacts, &notice, &key).await?);
        count += 1;
    }
    outbox::cancel_pending_except(tx, now, &prefix, &keep).await?;
    Ok(count)
}

/// A follow pattern as a case-insensitive regular expression, with a size limit so a pathological
/// pattern cannot make every import slow.
pub fn pattern_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 16)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sharing_a_uid_and_a_start_are_numbered_in_file_order() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let session = |id: &str| Session {
            source_id: id.into(),
            title: "t".into(),
            track: None,
            room: None,
            start: at,
            end: at,
            speakers: Vec::new(),
            status: Status::Confirmed,
            url: None,
        };
        let mut sessions: Vec<Session> = (0..5).map(|_| session("u")).collect();
        sessions.push(session("u#1800000000#3"));
        let ids = distinct_ids(&sessions);
        assert_eq!(
            ids,
            [
                "u",
                "u#1800000000",
                "u#1800000000#2",
                "u#1800000000#3",
                "u#1800000000#4",
                "u#1800000000#3#1800000000",
            ]
        );
        let many: Vec<Session> = (0..20_000).map(|_| session("u")).collect();
        let ids: HashSet<String> = distinct_ids(&many).into_iter().collect();
        assert_eq!(ids.len(), 20_000);
    }
}
