//! Public posts: the posting policy, moderation, and fan-out to the networks through the outbox.
//!
//! The same rules apply on every surface (chat command, button, web page): [`policy`] says who may post,
//! whose posts skip approval and who may approve; nobody approves their own post. An approved post
//! becomes one outbox row per broadcasting provider (and the attendee channel); each row carries the
//! post's text already split into a thread for that network's limit, so nothing is discovered at send
//! time.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use herald_bots::text::split_thread;
use herald_commands::Role;
use serde::Serialize;
use serde_json::json;

use crate::{
    db::{
        Tx,
        conferences::{self, Conference},
        hashtags, people, post_images,
        posts::{self as store, Post},
        providers,
    },
    delivery::{
        self, Action, Notice, Picture, Recipient, Slot,
        networks::measure as measure_for,
        social::{PlatformRef, ThreadBody},
    },
    templates::Templates,
};

/// What the posting policy allows.
pub mod policy {
    use herald_commands::Role;

    /// `None`: may not post. `Some(true)`: may post, needs approval. `Some(false)`: posts directly.
    pub fn may_post(policy: i64, role: Role) -> Option<bool> {
        match (policy, role) {
            (0, _) => None,
            (1, r) if r >= Role::Admin => Some(false),
            (2 | 3, r) if r >= Role::Admin => Some(false),
            (2 | 3, Role::Volunteer) => Some(true),
            // Attendees and speakers never post publicly on their own.
            (4, r) if r >= Role::Volunteer => Some(false),
            _ => None,
        }
    }

    /// Whether `role` may approve or reject someone else's post.
    pub fn may_approve(policy: i64, role: Role) -> bool {
        match policy {
            3 => role >= Role::Volunteer,
            1..=4 => role >= Role::Admin,
            _ => false,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_policy_matrix() {
            use Role::*;
            let table = [
                (0, Admin, None, false),
                (1, Admin, Some(false), true),
                (1, Volunteer, None, false),
                (2, Volunteer, Some(true), false),
                (2, Admin, Some(false), true),
                (3, Volunteer, Some(true), true),
                (3, Attendee, None, false),
                (4, Volunteer, Some(false), false),
                (4, Attendee, None, false),
                (4, Speaker, None, false),
                (4, Guest, None, false),
            ];
            for (policy, role, post, approve) in table {
                assert_eq!(
                    may_post(policy, role),
                    post,
                    "policy {policy} {role:?} posting"
                );
                assert_eq!(
                    may_approve(policy, role),
                    approve,
                    "policy {policy} {role:?} approving"
                );
            }
        }
    }
}

/// Where a post goes: the active providers broadcasting for its conference; or, for an answer to a mention,
/// only the mention's provider (if active), and what it answers.
pub async fn targets(
    tx: &mut Tx,
    conference: i64,
    reply_to: Option<i64>,
    only: Option<&str>,
) -> anyhow::Result<(Vec<providers::Provider>, Option<PlatformRef>)> {
    let Some(mention) = reply_to else {
        let mut providers = providers::broadcasting_providers(tx, conference).await?;
        // A campaign chose its providers: those of them still broadcasting.
        if let Some(ids) = only.and_then(|o| serde_json::from_str::<Vec<i64>>(o).ok()) {
            providers.retain(|p| ids.contains(&p.id));
        }
        return Ok((providers, None));
    };
    let Some(mention) = crate::db::mentions::mention(tx, mention).await? else {
        return Ok((Vec::new(), None));
    };
    let provider = providers::provider_by_id(tx, mention.provider_id)
        .await?
        .filter(|p| p.active);
    Ok((
        provider.into_iter().collect(),
        Some(PlatformRef::of_mention(&mention)),
    ))
}

/// The most images a post may carry: Bluesky takes 4 (`app.bsky.embed.images`), Mastodon 4 by default.
pub const MAX_IMAGES: usize = 4;

/// Splits the alt texts off a picture's caption: lines starting with `alt:` describe the picture(s), in
/// order; the other lines are the post.
pub fn split_alt_lines(caption: &str) -> (String, Vec<String>) {
    let mut text = Vec::new();
    let mut alts = Vec::new();
    for line in caption.lines() {
        let trimmed = line.trim_start();
        match trimmed.get(..4) {
            Some(head) if head.eq_ignore_ascii_case("alt:") => {
                let alt = trimmed[4..].trim();
                if !alt.is_empty() {
                    alts.push(alt.to_owned());
                }
            }
            _ => text.push(line),
        }
    }
    (text.join("\n").trim().to_owned(), alts)
}

/// Whether `now` is inside the conference's posting window (always, without one).
pub fn in_window(conference: &Conference, now: DateTime<Utc>) -> bool {
    let (Some(from), Some(to)) = (
        conference.posting_window_start,
        conference.posting_window_end,
    ) else {
        return true;
    };
    let tz: Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let t: NaiveTime = now.with_timezone(&tz).time();
    if from <= to {
        from <= t && t < to
    } else {
        t >= from || t < to
    }
}

/// The first instant at or after `at` inside the conference's posting window: `at` itself when it is
/// inside (or there is no window), otherwise the window's next opening in the conference's local time.
/// An opening that falls into a daylight-saving gap is taken at the first valid local time after it.
pub fn next_opening(conference: &Conference, at: DateTime<Utc>) -> DateTime<Utc> {
    let Some(from) = conference.posting_window_start else {
        return at;
    };
    if in_window(conference, at) {
        return at;
    }
    let tz: Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = at.with_timezone(&tz).date_naive();
    for day in 0..3 {
        let date = local + chrono::Days::new(day);
        // Walk forward minute by minute over a DST gap (at most a couple of hours).
        for shift in 0..=180 {
            let naive = date.and_time(from) + chrono::Duration::minutes(shift);
            if let Some(candidate) = tz.from_local_datetime(&naive).earliest() {
                let candidate = candidate.with_timezone(&Utc);
                if candidate > at {
                    return candidate;
                }
                break;
            }
        }
    }
    at
}

/// How a post's text measures on one network it would go to.
#[derive(Debug, Clone, Serialize)]
pub struct Length {
    /// The provider's name, or `telegram` for the attendee channel.
    pub network: String,
    pub length: usize,
    pub limit: usize,
    /// Posts in the thread it becomes (1 when it fits).
    pub parts: usize,
    /// Whether the post has its own text for this provider.
    pub own_text: bool,
}

/// The post's text (or its variant) measured on every network the conference broadcasts to, with each
/// network's own limit and way of counting, and the attendee channel: shown to the author and to
/// moderators when the post is written, so nothing is discovered at send time.
/// `text` stands for the post's main text (the post's own, or an edit of it).
pub async fn lengths(tx: &mut Tx, post: &Post, text: &str) -> anyhow::Result<Vec<Length>> {
    let variants = store::variants(tx, post.id).await?;
    lengths_with(tx, post, text, &variants).await
}

/// [`lengths`] with the post's variants already read.
async fn lengths_with(
    tx: &mut Tx,
    post: &Post,
    text: &str,
    variants: &std::collections::HashMap<i64, String>,
) -> anyhow::Result<Vec<Length>> {
    let reply_to = post.reply_to_mention_id;
    let (providers, _) = targets(
        tx,
        post.conference_id,
        reply_to,
        post.provider_ids.as_deref(),
    )
    .await?;
    let mut shown = Vec::new();
    for provider in providers {
        let Some((limit, measure)) = measure_for(&provider) else {
            continue;
        };
        let own = variants.get(&provider.id);
        let text = own.map_or(text, String::as_str);
        let parts = split_thread(text, limit, measure).map_or(1, |p| p.len());
        shown.push(Length {
            network: provider.internal_name,
            length: measure(text),
            limit,
            parts,
            own_text: own.is_some(),
        });
    }
    if reply_to.is_none() {
        for channel in delivery::channel_limits(tx, post.conference_id).await? {
            let length = (channel.measure)(text);
            shown.push(Length {
                network: channel.network.into(),
                length,
                limit: channel.limit,
                parts: length.div_ceil(channel.limit).max(1),
                own_text: false,
            });
        }
    }
    Ok(shown)
}

/// Queues the post for the moderation chats, with Approve/Reject buttons and its pictures (each captioned
/// with its alt text, so moderators judge both); `false` when no moderation chat is bound.
pub async fn send_to_moderation(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    post: &Post,
    author: &str,
) -> anyhow::Result<bool> {
    let images = post_images::images(tx, post.id).await?;
    let mut notice = moderation_message(tx, post, author, &images).await?;
    for image in &images {
        let caption = templates.render(
            "messages/moderate_image.txt",
            json!({ "number": post.id, "position": image.position, "count": images.len(), "alt": image.alt_text }),
        )?;
        notice.pictures.push(Picture {
            caption: Some(caption),
            ..Picture::of(image)
        });
    }
    let moderation = Recipient::Slot {
        conference: post.conference_id,
        slot: Slot::Moderation,
    };
    let key = format!("moderate:{}", post.id);
    Ok(delivery::send(tx, templates, now, moderation, &notice, &key).await? > 0)
}

/// The moderation message for a post: its text, lengths, pictures and per-network variants, with the
/// Approve/Reject buttons.
async fn moderation_message(
    tx: &mut Tx,
    post: &Post,
    author: &str,
    images: &[post_images::PostImage],
) -> anyhow::Result<Notice> {
    // Read once: the lengths and the per-network texts both show them.
    let own_texts = store::variants(tx, post.id).await?;
    let variants = variant_texts(tx, post, &own_texts).await?;
    let mut answers = None;
    if let Some(id) = post.reply_to_mention_id
        && let Some(mention) = crate::db::mentions::mention(tx, id).await?
        && let Some(provider) = providers::provider_by_id(tx, mention.provider_id).await?
    {
        answers = Some(crate::mentions::mention_json(&mention, &provider));
    }
    let context = json!({
        "number": post.id, "text": post.text, "author": author, "lengths": lengths_with(tx, post, &post.text, &own_texts).await?,
        "images": images, "variants": variants, "when": when(tx, post).await?, "answers": answers,
        "tz": conferences::conference_by_id(tx, post.conference_id).await?.map(|c| c.time_zone),
    });
    Ok(
        Notice::new("moderate_post", context).with_actions(vec![vec![
            Action::ApprovePost(post.id),
            Action::RejectPost(post.id),
            Action::EditPost(post.id),
        ]]),
    )
}

/// When an approved post goes out, in the conference's local time: `None` for "at once". Automatic posts
/// wait for the posting window.
async fn when(tx: &mut Tx, post: &Post) -> anyhow::Result<Option<String>> {
    let Some(conference) = conferences::conference_by_id(tx, post.conference_id).await? else {
        return Ok(None);
    };
    let mut at = post.scheduled_at;
    if !post.is_manual() {
        let from = at.unwrap_or(post.created_at);
        let opening = next_opening(&conference, from);
        at = (opening > from).then_some(opening).or(at);
    }
    let tz: Tz = conference.time_zone.parse().unwrap_or(chrono_tz::UTC);
    Ok(at
        .filter(|at| *at > post.created_at)
        .map(|at| at.with_timezone(&tz).to_rfc3339()))
}

/// Edits a pending post's moderation message after its text, a variant or its pictures changed, so
/// moderators approve what will go out. Nothing happens before the message was sent.
pub async fn refresh_moderation(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    post: &Post,
) -> anyhow::Result<()> {
    let sent = store::moderation_message(tx, post.id).await?;
    if sent.is_empty() {
        return Ok(());
    }
    let author = match post.author_id {
        Some(id) => people::person_name(tx, id).await?.unwrap_or_default(),
        None => String::new(),
    };
    let images = post_images::images(tx, post.id).await?;
    let notice = moderation_message(tx, post, &author, &images).await?;
    // One per change: each edit shows the post as it is now.
    let key = format!("moderation-refresh:{}:{}", post.id, now.timestamp_micros());
    for sent in sent {
        delivery::edit(tx, templates, now, &sent.into(), &notice, &key).await?;
    }
    Ok(())
}

/// The post's own texts per provider, by provider name, measured against the provider's network.
async fn variant_texts(
    tx: &mut Tx,
    post: &Post,
    variants: &std::collections::HashMap<i64, String>,
) -> anyhow::Result<Vec<serde_json::Value>> {
    if variants.is_empty() {
        return Ok(Vec::new());
    }
    let mut shown = Vec::new();
    for provider in providers::broadcasting_providers(tx, post.conference_id).await? {
        let Some(text) = variants.get(&provider.id) else {
            continue;
        };
        let measured = measure_for(&provider)
            .map(|(limit, measure)| json!({ "length": measure(text), "limit": limit }));
        shown.push(
            json!({ "provider": provider.internal_name, "text": text, "measured": measured }),
        );
    }
    Ok(shown)
}

/// A text measure: how a network counts a text.
/// A network the post is too long for.
#[derive(Debug, Clone, Serialize)]
pub struct TooLong {
    pub provider: String,
    pub length: usize,
    pub limit: usize,
}

/// Fans an approved post out: one outbox row per broadcasting provider (with its variant text, if
/// any), and the attendee channel. Returns the number of destinations — or, for a post that asks not to
/// be split, the networks it is too long for, with nothing queued.
pub async fn deliver(
    tx: &mut Tx,
    now: DateTime<Utc>,
    conference: &Conference,
    post: &Post,
) -> anyhow::Result<Result<usize, Vec<TooLong>>> {
    let mut due = post.scheduled_at.unwrap_or(now).max(now);
    if !post.is_manual() {
        // Automatic posts wait for the window rather than being refused.
        due = next_opening(conference, due);
    }
    let mut variants = store::variants(tx, post.id).await?;
    let images = post_images::images(tx, post.id).await?;
    let mut threads = Vec::new();
    let mut too_long = Vec::new();
    let (providers, reply_to) = targets(
        tx,
        post.conference_id,
        post.reply_to_mention_id,
        post.provider_ids.as_deref(),
    )
    .await?;
    for provider in providers {
        let Some((limit, measure)) = measure_for(&provider) else {
            continue;
        };
        let text = variants
            .remove(&provider.id)
            .unwrap_or_else(|| post.text.clone());
        let parts = split_thread(&text, limit, measure)
            .map_err(|e| anyhow::anyhow!("post #{}: {e}", post.id))?;
        if !post.allow_split && parts.len() > 1 {
            too_long.push(TooLong {
                provider: provider.internal_name.clone(),
                length: measure(&text),
                limit,
            });
        }
        threads.push((provider, parts));
    }
    if !too_long.is_empty() {
        return Ok(Err(too_long));
    }
    let mut count = 0;
    for (provider, parts) in threads {
        let body = ThreadBody {
            parts,
            images: images.iter().map(|i| i.id).collect(),
            reply_to: reply_to.clone(),
            boost: None,
            direct: false,
            to: None,
        };
        let key = format!("post:{}:{}:{}", post.id, provider.kind, provider.id);
        delivery::social::write_thread(tx, now, &provider, "post", &key, &body, due).await?;
        count += 1;
    }
    // An answer to a mention stays on the mention's network.
    if reply_to.is_none() {
        let pictures: Vec<Picture> = images.iter().map(Picture::of).collect();
        let key = format!("post:{}", post.id);
        if delivery::channel_post(tx, now, post.conference_id, &post.text, pictures, &key, due)
            .await?
        {
            count += 1;
        }
    }
    store::set_state(
        tx,
        now,
        post.id,
        if count > 0 { "sending" } else { "approved" },
    )
    .await?;
    Ok(Ok(count))
}

/// Sums up a post's deliveries into its state once none is pending: sent, partial or failed.
pub async fn rollup(
    tx: &mut Tx,
    templates: &Templates,
    now: DateTime<Utc>,
    post: i64,
) -> anyhow::Result<()> {
    let states = store::delivery_states(tx, post).await?;
    if states.is_empty() || states.iter().any(|s| s == "pending" || s == "sending") {
        return Ok(());
    }
    let sent = states.iter().filter(|s| *s == "sent").count();
    let state = match sent {
        n if n == states.len() => "sent",
        0 => "failed",
        _ => "partial",
    };
    store::set_state(tx, now, post, state).await?;
    if state != "sent"
        && let Some(post) = store::post(tx, post).await?
    {
        // The organisers hear of it once per failure (a retry that fails again is news again).
        let deliveries = store::deliveries(tx, post.id).await?;
        // Where the post may be out already (its answer was lost): the organisers look before a retry.
        let uncertain: Vec<&str> = deliveries
            .iter()
            .filter(|d| {
                d.state != "sent"
                    && d.last_error
                        .as_deref()
                        .is_some_and(|e| e.starts_with(delivery::networks::MAYBE_SENT))
            })
            .map(|d| d.platform.as_str())
            .collect();
        delivery::organisers::notify(
            tx,
            templates,
            now,
            post.conference_id,
            "notify_post_failed",
            &format!("post-failed:{}:{}", post.id, now.timestamp_micros()),
            json!({ "number": post.id, "state": state, "text": post.text.chars().take(80).collect::<String>(),
                    "deliveries": deliveries, "uncertain": uncertain }),
        )
        .await?;
    }
    Ok(())
}

/// The role-and-policy check shared by every surface that approves or rejects.
pub fn check_moderator(
    conference: &Conference,
    post: &Post,
    actor: Option<i64>,
    role: Role,
) -> Result<(), &'static str> {
    if post.state != "pending" {
        return Err("post_not_pending");
    }
    if actor.is_some() && actor == post.author_id {
        return Err("post_own");
    }
    if !policy::may_approve(conference.posting_policy, role) {
        return Err("post_may_not_approve");
    }
    Ok(())
}

/// Rolls a post's state up when one of its deliveries finishes.
#[derive(Debug)]
pub struct PostObserver {
    pub templates: std::sync::Arc<Templates>,
}

#[async_trait::async_trait]
impl crate::outbox::Observer for PostObserver {
    fn kinds(&self) -> &'static [&'static str] {
        &["post"]
    }

    async fn finished(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        rows: &[(&str, &crate::db::outbox::Outcome)],
    ) -> anyhow::Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for (key, _) in rows {
            // Keys are `post:<id>:<network>…`.
            if let Some(id) = key
                .strip_prefix("post:")
                .and_then(|k| k.split(':').next())
                .and_then(|id| id.parse::<i64>().ok())
                && seen.insert(id)
            {
                rollup(tx, &self.templates, now, id).await?;
            }
        }
        Ok(())
    }
}

/// A news post's text with the conference's auto-add hashtags appended after a blank line, in sort-key
/// order; tags already in the text are not repeated.
pub fn with_hashtags(text: &str, tags: &[hashtags::Hashtag]) -> String {
    let lower = text.to_lowercase();
    let extra: Vec<String> = tags
        .iter()
        .filter(|t| t.auto_add)
        .map(|t| format!("#{}", t.tag))
        .filter(|t| {
            !lower
                .split_whitespace()
                .any(|w| w.trim_end_matches(['.', ',', '!', '?']) == t.to_lowercase())
        })
        .collect();
    if extra.is_empty() {
        text.to_owned()
    } else {
        format!("{}\n\n{}", text.trim_end(), extra.join(" "))
    }
}

#[cfg(test)]
mod hashtag_tests {
    use super::*;

    fn tag(tag: &str, auto_add: bool, sort_key: i64) -> hashtags::Hashtag {
        hashtags::Hashtag {
            tag: tag.into(),
            auto_add,
            sort_key,
        }
    }

    #[test]
    fn auto_add_tags_follow_a_blank_line_in_order_without_repeats() {
        let tags = [
            tag("fosdem", true, 1),
            tag("rust", false, 2),
            tag("fosdem2027", true, 3),
        ];
        assert_eq!(
            with_hashtags("Doors open!", &tags),
            "Doors open!\n\n#fosdem #fosdem2027"
        );
        assert_eq!(
            with_hashtags("Doors open at #FOSDEM.", &tags),
            "Doors open at #FOSDEM.\n\n#fosdem2027"
        );
        assert_eq!(
            with_hashtags("No tags", &[tag("rust", false, 1)]),
            "No tags"
        );
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use chrono::NaiveTime;

    fn conference(zone: &str, window: Option<(&str, &str)>) -> Conference {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        Conference {
            id: 1,
            series_id: 1,
            slug: "c".into(),
            name: "C".into(),
            time_zone: zone.into(),
            starts_on: None,
            ends_on: None,
            posting_window_start: window.map(|w| t(w.0)),
            posting_window_end: window.map(|w| t(w.1)),
            posting_policy: 1,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn without_a_window_or_inside_it_nothing_moves() {
        let at = utc("2026-12-27T03:00:00Z");
        assert_eq!(next_opening(&conference("Europe/Berlin", None), at), at);
        let inside = utc("2026-12-27T10:00:00Z");
        let c = conference("Europe/Berlin", Some(("08:00", "20:00")));
        assert_eq!(next_opening(&c, inside), inside);
    }

    #[test]
    fn before_the_window_waits_for_todays_opening_after_it_for_tomorrows() {
        let c = conference("Europe/Berlin", Some(("08:00", "20:00")));
        // 06:30 Berlin (UTC+1 in winter) → 08:00 Berlin the same day.
        assert_eq!(
            next_opening(&c, utc("2026-12-27T05:30:00Z")),
            utc("2026-12-27T07:00:00Z")
        );
        // 21:00 Berlin → 08:00 Berlin the next day.
        assert_eq!(
            next_opening(&c, utc("2026-12-27T20:00:00Z")),
            utc("2026-12-28T07:00:00Z")
        );
    }

    #[test]
    fn a_window_across_midnight() {
        let c = conference("UTC", Some(("22:00", "02:00")));
        assert_eq!(
            next_opening(&c, utc("2026-12-27T01:00:00Z")),
            utc("2026-12-27T01:00:00Z")
        );
        assert_eq!(
            next_opening(&c, utc("2026-12-27T12:00:00Z")),
            utc("2026-12-27T22:00:00Z")
        );
    }

    #[test]
    fn an_opening_inside_a_daylight_saving_gap_is_the_first_valid_minute() {
        // Berlin skipped 02:00–03:00 on 2026-03-29; a window opening at 02:30 opens at 03:00 CEST.
        let c = conference("Europe/Berlin", Some(("02:30", "04:00")));
        assert_eq!(
            next_opening(&c, utc("2026-03-28T23:00:00Z")),
            utc("2026-03-29T01:00:00Z")
        );
    }
}
