//! Content from conference data: post templates (`template`) and campaigns — one post per session, rendered
//! per network from one template, spaced over days, every one waiting for approval.
//!
//! A campaign is planned (rendered and timed) for the preview, and planned again, identically, when the
//! organiser confirms: the draft keeps the template, the options and the seed of the jitter. Creating is
//! all or nothing: one template error, named by session and line, and no post is made. Moderators then see
//! the campaign as one message (`digest`) until they ask for its posts one by one.

pub mod digest;
pub mod template;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    db::{
        Tx, conferences::Conference, posts as store, providers::Provider, schedule::StoredSession,
    },
    delivery::networks::measure as measure_for,
    posts::next_opening,
};

/// What the organiser chose for a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// The first post's time.
    pub start: DateTime<Utc>,
    /// Between two posts.
    pub every_secs: i64,
    /// Each post moves at most this far from its slot, either way (not accumulating).
    pub jitter_secs: i64,
    /// Provider names; empty: every provider broadcasting for the conference.
    pub providers: Vec<String>,
    /// Shuffled instead of schedule order.
    pub shuffled: bool,
}

/// One post of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub subject: String,
    pub due: DateTime<Utc>,
    /// Moved to the posting window's opening.
    pub moved: bool,
    /// The text per provider, in provider order.
    pub texts: Vec<Rendered>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    pub provider_id: i64,
    pub provider: String,
    pub network: String,
    pub text: String,
    pub length: usize,
    pub limit: usize,
}

impl Rendered {
    pub fn fits(&self) -> bool {
        self.length <= self.limit
    }
}

/// A template error, with what it was rendering.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{subject}: {error}")]
pub struct CampaignError {
    pub subject: String,
    pub error: template::TemplateError,
}

/// A small deterministic generator (splitmix64), so the preview's jitter is the posts' jitter.
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `-bound..=bound`.
    fn offset(&mut self, bound: i64) -> i64 {
        if bound <= 0 {
            return 0;
        }
        let span = u64::try_from(bound).unwrap_or(0) * 2 + 1;
        i64::try_from(self.next() % span).unwrap_or(0) - bound
    }
}

/// A session as templates see it: times local to the conference, speakers with their handles per network.
pub fn session_context(conference: &Conference, session: &StoredSession) -> serde_json::Value {
    let tz: chrono_tz::Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let speakers: Vec<serde_json::Value> =
        serde_json::from_str::<Vec<serde_json::Value>>(&session.speakers)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                json!({
                    "name": s.get("name").cloned().unwrap_or_default(),
                    "company": s.get("company").cloned().unwrap_or(serde_json::Value::Null),
                    "social": s.get("handles").cloned().unwrap_or_else(|| json!({})),
                })
            })
            .collect();
    json!({
        "conference": {
            "name": conference.name, "urlname": conference.slug, "slug": conference.slug,
            "time_zone": conference.time_zone,
            "starts_on": conference.starts_on.map(|d| d.to_string()),
            "ends_on": conference.ends_on.map(|d| d.to_string()),
        },
        "session": {
            "id": session.source_id, "title": session.title, "track": session.track, "room": session.room,
            "start": session.starts_at.with_timezone(&tz).to_rfc3339(),
            "end": session.ends_at.with_timezone(&tz).to_rfc3339(),
            "url": session.url, "speakers": speakers,
        },
    })
}

/// A sponsor as templates see it: `displayname`, `url`, `level`, `social` (its handles per network).
pub fn sponsor_context(
    conference: &Conference,
    sponsor: &crate::db::sponsors::Sponsor,
) -> serde_json::Value {
    let social: serde_json::Value =
        serde_json::from_str(&sponsor.handles).unwrap_or_else(|_| json!({}));
    json!({
        "conference": { "name": conference.name, "urlname": conference.slug, "slug": conference.slug },
        "sponsor": { "displayname": sponsor.name, "name": sponsor.name, "url": sponsor.url,
                     "level": sponsor.level, "social": social },
    })
}

/// The sponsors a campaign covers: of the chosen levels (all without a choice), by level and name, or
/// shuffled with the seed.
pub fn choose_sponsors(
    sponsors: Vec<crate::db::sponsors::Sponsor>,
    levels: &[String],
    shuffled: bool,
    seed: u64,
) -> Vec<crate::db::sponsors::Sponsor> {
    let mut chosen: Vec<_> = sponsors
        .into_iter()
        .filter(|s| levels.is_empty() || levels.iter().any(|l| l.eq_ignore_ascii_case(&s.level)))
        .collect();
    shuffle(&mut chosen, shuffled, seed);
    chosen
}

fn shuffle<T>(items: &mut [T], shuffled: bool, seed: u64) {
    if shuffled {
        // Fisher–Yates with the campaign's generator.
        let mut rng = Jitter(seed ^ 0x5EED);
        for i in (1..items.len()).rev() {
            let j = usize::try_from(rng.next() % (i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

/// The sessions a campaign covers: scheduled ones of the chosen tracks (all without a choice), in schedule
/// order, or shuffled with the seed.
pub fn choose_sessions(
    sessions: Vec<StoredSession>,
    tracks: &[String],
    shuffled: bool,
    seed: u64,
) -> Vec<StoredSession> {
    let mut chosen: Vec<StoredSession> = sessions
        .into_iter()
        .filter(|s| s.status != "cancelled")
        .filter(|s| {
            tracks.is_empty()
                || s.track
                    .as_deref()
                    .is_some_and(|t| tracks.iter().any(|w| w.eq_ignore_ascii_case(t)))
        })
        .collect();
    shuffle(&mut chosen, shuffled, seed);
    chosen
}

/// Renders and times one post per context. `contexts` pairs what the post is about with its template
/// context; each is rendered once per provider's network (identical networks render once).
pub fn plan(
    conference: &Conference,
    template_source: &str,
    contexts: &[(String, serde_json::Value)],
    providers: &[Provider],
    options: &Options,
    seed: u64,
) -> Result<Vec<Planned>, CampaignError> {
    let env = template::environment();
    let compiled = env
        .template_from_str(template_source)
        .map_err(|e| CampaignError {
            subject: "the template".into(),
            error: e.into(),
        })?;
    let mut networks: Vec<&str> = providers.iter().map(|p| p.kind.as_str()).collect();
    networks.sort_unstable();
    networks.dedup();
    let mut rng = Jitter(seed);
    let mut planned = Vec::with_capacity(contexts.len());
    for (i, (subject, context)) in contexts.iter().enumerate() {
        let mut by_network = std::collections::HashMap::new();
        for network in &networks {
            let ctx =
                minijinja::context! { network => *network, ..template::context_value(context) };
            let text = compiled.render(ctx).map_err(|e| CampaignError {
                subject: subject.clone(),
                error: e.into(),
            })?;
            by_network.insert(*network, text);
        }
        let texts = providers
            .iter()
            .filter_map(|p| {
                let (limit, measure) = measure_for(p)?;
                let text = by_network.get(p.kind.as_str())?.clone();
                Some(Rendered {
                    provider_id: p.id,
                    provider: p.internal_name.clone(),
                    network: p.kind.clone(),
                    length: measure(&text),
                    limit,
                    text,
                })
            })
            .collect();
        let slot =
            options.start + TimeDelta::seconds(options.every_secs * i64::try_from(i).unwrap_or(0));
        let jittered = slot + TimeDelta::seconds(rng.offset(options.jitter_secs));
        let due = next_opening(conference, jittered);
        planned.push(Planned {
            subject: subject.clone(),
            due,
            moved: due != jittered,
            texts,
        });
    }
    Ok(planned)
}

/// Creates the planned posts, pending approval, in the caller's transaction: the most common text as the
/// post, the others as per-provider variants, only to the campaign's providers. The posts are the
/// campaign's, not a person's (so whoever made it may approve them too); the audit names who made it.
/// Returns the post ids.
pub async fn create(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: &Conference,
    campaign: i64,
    author: Option<i64>,
    planned: &[Planned],
) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(planned.len());
    for post in planned {
        let Some(main) = most_common(&post.texts) else {
            continue;
        };
        let id =
            store::create_post(tx, now, conference.id, None, "campaign", "pending", &main).await?;
        let providers: Vec<i64> = post.texts.iter().map(|t| t.provider_id).collect();
        store::set_campaign_fields(tx, id, post.due, &providers, campaign).await?;
        for rendered in post.texts.iter().filter(|t| t.text != main) {
            store::set_variant(tx, id, rendered.provider_id, Some(&rendered.text)).await?;
        }
        store::audit(
            tx,
            now,
            id,
            author,
            "created",
            "campaign",
            Some(&format!("campaign #{campaign}: {}", post.subject)),
        )
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

fn most_common(texts: &[Rendered]) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for t in texts {
        match counts.iter_mut().find(|(text, _)| *text == t.text) {
            Some((_, n)) => *n += 1,
            None => counts.push((&t.text, 1)),
        }
    }
    // The first text wins ties, so the result does not depend on hashing.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(t, _)| (*t).to_owned())
}

#[cfg(test)]
mod tests {
    use super::Jitter;

    #[test]
    fn jitter_stays_within_its_bound_and_repeats_with_its_seed() {
        let mut a = Jitter(42);
        let mut b = Jitter(42);
        let offsets: Vec<i64> = (0..1000).map(|_| a.offset(900)).collect();
        assert!(offsets.iter().all(|o| (-900..=900).contains(o)));
        assert!(offsets.iter().any(|o| *o < -600) && offsets.iter().any(|o| *o > 600));
        assert_eq!(
            offsets,
            (0..1000).map(|_| b.offset(900)).collect::<Vec<_>>()
        );
        assert_eq!(Jitter(1).offset(0), 0);
    }
}
