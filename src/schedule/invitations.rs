//! Calendar invitations that update themselves (iTIP over e-mail, RFC 5546 / RFC 6047).
//!
//! A speaker gets an invitation for each session they speak in, a volunteer for each shift they hold,
//! and anyone may ask for one for a session (`/calendar <session>`) — mailed to their confirmed address.
//! Each (session or shift, person) has one row with a UID that never changes and a SEQUENCE that rises
//! with every revision mailed. Whenever reminders are recomputed (an import, a new speaker link, a
//! shift given) [`reconcile`] compares what each row last mailed with the schedule as it is now:
//!
//! ```text
//!   wanted, no row            → METHOD:REQUEST, SEQUENCE 0
//!   wanted, event changed     → METHOD:REQUEST, SEQUENCE + 1   (moved, renamed, new room)
//!   wanted, row cancelled     → METHOD:REQUEST, SEQUENCE + 1   (revived)
//!   not wanted, not started   → METHOD:CANCEL,  SEQUENCE + 1   (cancelled, removed, speaker unlinked)
//!   unchanged, or over        → nothing
//! ```
//!
//! Each revision goes through the outbox under `calendar:<row>:<sequence>`, so one revision is mailed
//! once however often reconciling runs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::{
    db::{
        Tx,
        conferences::Conference,
        invitations::{self as store, Event, Invitation, NewInvitation},
        people,
        schedule::{self as sessions_store, StoredSession},
    },
    delivery::email::{self as mail, CalendarEvent, Method},
    templates::Templates,
    token::{hash, new_token},
};

/// A session (a talk, or one asked for) or a volunteer shift.
const SESSION: &str = "session";
const SHIFT: &str = "shift";

/// Why a person has an invitation: it stays while they speak, hold the shift, or (asked) while the
/// session is on.
const SPEAKER: &str = "speaker";
const VOLUNTEER: &str = "volunteer";
const ASKED: &str = "asked";

/// What one person's calendar should hold for one session or shift.
#[derive(Debug, Clone)]
struct Wanted {
    origin: &'static str,
    event: Event,
    description: Option<String>,
    alarm_minutes: i64,
}

/// What reconciling mailed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mailed {
    pub invitations: usize,
    pub updates: usize,
    pub cancellations: usize,
}

/// Brings the invitations of `conference` (only `person`'s when given) in line with `sessions` (the
/// confirmed ones still to start) and `speaking` (who speaks in which of them) and the shifts.
pub async fn reconcile(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    person: Option<i64>,
    sessions: &[StoredSession],
    speaking: &HashMap<i64, Vec<&StoredSession>>,
) -> anyhow::Result<Mailed> {
    let addresses = store::addresses(tx, person).await?;
    let existing = store::of_conference(tx, conference.id, person).await?;
    if addresses.is_empty() && existing.is_empty() {
        return Ok(Mailed::default());
    }
    let (session_minutes, speaker_minutes) =
        sessions_store::reminder_minutes(tx, conference.id).await?;
    let volunteer_minutes = sessions_store::volunteer_minutes(tx, conference.id).await?;

    let mut wanted: HashMap<(&str, i64, i64), Wanted> = HashMap::new();
    for (who, list) in speaking.iter().filter(|(p, _)| addresses.contains_key(p)) {
        for s in list {
            wanted.insert(
                (SESSION, s.id, *who),
                session_wanted(s, SPEAKER, speaker_minutes),
            );
        }
    }
    let upcoming: HashMap<i64, &StoredSession> = sessions.iter().map(|s| (s.id, s)).collect();
    for row in existing.iter().filter(|r| {
        r.origin == ASKED && r.subject == SESSION && addresses.contains_key(&r.person_id)
    }) {
        if let Some(s) = upcoming.get(&row.subject_id) {
            wanted
                .entry((SESSION, s.id, row.person_id))
                .or_insert_with(|| session_wanted(s, ASKED, session_minutes));
        }
    }
    let slots: HashMap<i64, sessions_store::VolunteerSlot> =
        sessions_store::slots(tx, conference.id)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    for (slot_id, who, _) in sessions_store::assignments(tx, conference.id).await? {
        let Some(slot) = slots.get(&slot_id).filter(|s| s.starts_at > now) else {
            continue;
        };
        if person.is_some_and(|only| only != who) || !addresses.contains_key(&who) {
            continue;
        }
        let event = Event {
            title: slot.title.clone(),
            location: None,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
        };
        wanted.insert(
            (SHIFT, slot_id, who),
            Wanted {
                origin: VOLUNTEER,
                event,
                description: None,
                alarm_minutes: volunteer_minutes,
            },
        );
    }

    let mut mailed = Mailed::default();
    let mut post = Post::new(templates, now, conference);
    // Only read when an invitation may have to be cancelled: whether its session has started.
    let mut all_sessions: Option<HashMap<i64, StoredSession>> = None;
    for row in &existing {
        let key = (row.subject.as_str(), row.subject_id, row.person_id);
        match (wanted.remove(&key), row.state.as_str()) {
            (Some(want), "active") if want.event == row.event() => {}
            (Some(want), _) => {
                post.revise(tx, row, &want, Method::Request).await?;
                mailed.updates += 1;
            }
            (None, "active") => {
                let started = match row.subject.as_str() {
                    SHIFT => slots.get(&row.subject_id).map(|s| s.starts_at),
                    _ => {
                        if all_sessions.is_none() {
                            let all = sessions_store::sessions(tx, conference.id).await?;
                            all_sessions = Some(all.into_iter().map(|s| (s.id, s)).collect());
                        }
                        all_sessions
                            .as_ref()
                            .and_then(|all| all.get(&row.subject_id))
                            .map(|s| s.starts_at)
                    }
                }
                .unwrap_or(row.starts_at)
                .min(row.starts_at)
                    <= now;
                // Over (or under way): the calendar keeps it as it was.
                if started || !addresses.contains_key(&row.person_id) {
                    continue;
                }
                let keep = Wanted {
                    origin: static_origin(&row.origin),
                    event: row.event(),
                    description: None,
                    alarm_minutes: 0,
                };
                post.revise(tx, row, &keep, Method::Cancel).await?;
                mailed.cancellations += 1;
            }
            (None, _) => {}
        }
    }
    let mut fresh: Vec<_> = wanted.into_iter().collect();
    fresh.sort_by_key(|((subject, id, who), _)| (*who, *subject, *id));
    for ((subject, subject_id, who), want) in fresh {
        let Some(address) = addresses.get(&who) else {
            continue;
        };
        post.invite(tx, who, address, (subject, subject_id), &want)
            .await?;
        mailed.invitations += 1;
    }
    Ok(mailed)
}

/// What asking for an invitation to a session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// Mailed to this address.
    Mailed { title: String, address: String },
    /// The person has one for it already (mailed to this address).
    Already { title: String, address: String },
    /// No confirmed e-mail address to mail it to.
    NoAddress,
    /// No such session in this conference, or it is not on (cancelled, removed, over).
    NotUpcoming,
}

/// Mails `person` an invitation to session `session` of `conference`, kept up to date from then on.
pub async fn ask(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    conference: &Conference,
    person: i64,
    session: i64,
) -> anyhow::Result<Asked> {
    let Some(s) = sessions_store::sessions(tx, conference.id)
        .await?
        .into_iter()
        .find(|s| s.id == session && s.status == "confirmed" && s.starts_at > now)
    else {
        return Ok(Asked::NotUpcoming);
    };
    let Some(address) = store::addresses(tx, Some(person)).await?.remove(&person) else {
        return Ok(Asked::NoAddress);
    };
    let (session_minutes, _) = sessions_store::reminder_minutes(tx, conference.id).await?;
    let want = session_wanted(&s, ASKED, session_minutes);
    let mut post = Post::new(templates, now, conference);
    match store::find(tx, SESSION, session, person).await? {
        Some(row) if row.state == "active" => Ok(Asked::Already {
            title: s.title,
            address: row.address,
        }),
        Some(row) => {
            post.revise(tx, &row, &want, Method::Request).await?;
            Ok(Asked::Mailed {
                title: s.title,
                address: row.address,
            })
        }
        None => {
            post.invite(tx, person, &address, (SESSION, session), &want)
                .await?;
            Ok(Asked::Mailed {
                title: s.title,
                address,
            })
        }
    }
}

fn session_wanted(s: &StoredSession, origin: &'static str, alarm_minutes: i64) -> Wanted {
    Wanted {
        origin,
        event: Event {
            title: s.title.clone(),
            location: s.room.clone(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        },
        description: s.url.clone(),
        alarm_minutes,
    }
}

fn static_origin(origin: &str) -> &'static str {
    match origin {
        SPEAKER => SPEAKER,
        VOLUNTEER => VOLUNTEER,
        _ => ASKED,
    }
}

/// Writes invitation mails for one conference at one moment, knowing each person's name once.
struct Post<'a> {
    templates: &'a Templates,
    now: DateTime<Utc>,
    conference: &'a Conference,
    names: HashMap<i64, String>,
}

impl<'a> Post<'a> {
    fn new(templates: &'a Templates, now: DateTime<Utc>, conference: &'a Conference) -> Self {
        Self {
            templates,
            now,
            conference,
            names: HashMap::new(),
        }
    }

    /// Records and mails a first invitation (SEQUENCE 0) to `subject` (a session or a shift and its id).
    async fn invite(
        &mut self,
        tx: &mut Tx,
        person: i64,
        address: &str,
        (subject, subject_id): (&str, i64),
        want: &Wanted,
    ) -> anyhow::Result<()> {
        // Stable per (session or shift, person); the conference's slug keeps it apart from the same
        // numbers in another conference.
        let uid = format!(
            "{subject}-{subject_id}-person-{person}.{}@herald",
            self.conference.slug
        );
        let new = NewInvitation {
            conference: self.conference.id,
            person,
            subject,
            subject_id,
            origin: want.origin,
            address,
            uid: &uid,
        };
        let id = store::create(tx, self.now, &new, &want.event).await?;
        let row = Invitation {
            id,
            person_id: person,
            subject: subject.to_owned(),
            subject_id,
            origin: want.origin.to_owned(),
            address: address.to_owned(),
            uid,
            sequence: 0,
            state: "active".into(),
            title: want.event.title.clone(),
            location: want.event.location.clone(),
            starts_at: want.event.starts_at,
            ends_at: want.event.ends_at,
        };
        self.send(tx, &row, want, Method::Request).await
    }

    /// Records and mails the next revision of `row`: an update (REQUEST) or a cancellation (CANCEL).
    async fn revise(
        &mut self,
        tx: &mut Tx,
        row: &Invitation,
        want: &Wanted,
        method: Method,
    ) -> anyhow::Result<()> {
        let sequence = row.sequence + 1;
        let state = match method {
            Method::Request => "active",
            Method::Cancel => "cancelled",
        };
        store::revise(
            tx,
            self.now,
            row.id,
            sequence,
            state,
            want.origin,
            &want.event,
        )
        .await?;
        let next = Invitation {
            sequence,
            ..row.clone()
        };
        self.send(tx, &next, want, method).await
    }

    /// Mails revision `row.sequence` of `row` with the event `want`.
    async fn send(
        &mut self,
        tx: &mut Tx,
        row: &Invitation,
        want: &Wanted,
        method: Method,
    ) -> anyhow::Result<()> {
        let name = match self.names.get(&row.person_id) {
            Some(name) => name.clone(),
            None => {
                let name = people::person_name(tx, row.person_id)
                    .await?
                    .unwrap_or_default();
                self.names.insert(row.person_id, name.clone());
                name
            }
        };
        let event = &want.event;
        let context = json!({
            "conference": self.conference.name,
            "name": name,
            "title": event.title,
            "room": event.location,
            "when": self.conference.local(event.starts_at),
            "until": self.conference.local(event.ends_at),
            "shift": row.subject == SHIFT,
            "speaker": want.origin == SPEAKER,
            "update": row.sequence > 0,
        });
        let calendar = CalendarEvent {
            method,
            uid: row.uid.clone(),
            sequence: row.sequence,
            stamp: self.now,
            title: event.title.clone(),
            location: event.location.clone(),
            description: want.description.clone(),
            start: event.starts_at,
            end: event.ends_at,
            attendee: row.address.clone(),
            attendee_name: name,
            alarm_minutes: want.alarm_minutes,
            answer_token: None,
        };
        // A request's mail carries Accept / Decline links with a token of its own; the links of an earlier
        // mail stop working, and a changed event asks again.
        let calendar = match method {
            Method::Request => {
                let token = new_token();
                store::set_answer_token(tx, row.id, &hash(&token), row.sequence > 0).await?;
                CalendarEvent {
                    answer_token: Some(token),
                    ..calendar
                }
            }
            Method::Cancel => calendar,
        };
        let key = format!("calendar:{}:{}", row.id, row.sequence);
        let language = people::language(tx, row.person_id).await?;
        mail::calendar(
            tx,
            self.templates.words(language.as_deref()),
            self.now,
            &row.address,
            &key,
            &context,
            calendar,
        )
        .await
    }
}
