//! Rate limiting for the outbox, on the application's clock.
//!
//! A sliding log per key: the times of the last `count` sends. A send is allowed when fewer than `count`
//! happened in the last `per`; otherwise the earliest allowed time is the oldest of them plus `per`. This
//! is exact ("20 per minute" never lets 21 through in any minute, which a token bucket with a burst of 20
//! would), costs `count` timestamps per key, and runs on the [`Clock`](crate::clock::Clock), so tests move
//! through rate limits without sleeping.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use herald_bots::Rate;

/// What a limit applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Provider(String),
    Chat { provider: String, target: String },
}

#[derive(Debug, Default)]
struct Log {
    sent: VecDeque<DateTime<Utc>>,
    /// Set by a platform's retry_after: nothing goes to this key before then.
    blocked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct Limiter {
    logs: HashMap<Key, Log>,
}

fn window(per: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(per).unwrap_or(TimeDelta::MAX)
}

impl Limiter {
    /// The earliest time a send to `key` is allowed, `now` if allowed now.
    pub fn earliest(&self, key: &Key, rate: Rate, now: DateTime<Utc>) -> DateTime<Utc> {
        let Some(log) = self.logs.get(key) else {
            return now;
        };
        let mut at = now;
        if let Some(until) = log.blocked_until {
            at = at.max(until);
        }
        if let Rate::Limited { count, per } = rate {
            let count = count as usize;
            let recent = log.sent.iter().filter(|t| **t > now - window(per)).count();
            if recent >= count {
                // The send that must leave the window first.
                let oldest_in_the_way = log.sent[log.sent.len() - count];
                at = at.max(oldest_in_the_way + window(per));
            }
        }
        at
    }

    /// Like [`Self::earliest`], with sends spread evenly: about `per / count` after the previous one, so
    /// a budget of 30 a second leaves as one send every 33 ms rather than a burst. The gap is 2 % short
    /// of even, so that timer slack does not leave the budget unused; the window itself still admits no
    /// more than `count` in any `per`.
    pub fn earliest_paced(&self, key: &Key, rate: Rate, now: DateTime<Utc>) -> DateTime<Utc> {
        let at = self.earliest(key, rate, now);
        match (rate, self.logs.get(key).and_then(|log| log.sent.back())) {
            (Rate::Limited { count, per }, Some(last)) if count > 0 => {
                let slots = i32::try_from(count).unwrap_or(i32::MAX).saturating_mul(50);
                at.max(*last + window(per) * 49 / slots)
            }
            _ => at,
        }
    }

    /// When the `k`-th send after the ones allowed now (0-based) could go, if nothing else is sent to
    /// `key` meanwhile. Used to spread held-back messages over the times the window will free up.
    pub fn earliest_nth(
        &self,
        key: &Key,
        rate: Rate,
        now: DateTime<Utc>,
        k: usize,
    ) -> DateTime<Utc> {
        let first = self.earliest(key, rate, now);
        let Rate::Limited { count, per } = rate else {
            return first;
        };
        let count = count as usize;
        let mut times: VecDeque<DateTime<Utc>> = self
            .logs
            .get(key)
            .map(|log| log.sent.iter().copied().collect())
            .unwrap_or_default();
        let mut at = first;
        for _ in 0..=k {
            at = if times.len() < count {
                at
            } else {
                at.max(times[times.len() - count] + window(per))
            };
            times.push_back(at);
        }
        at
    }

    /// Records a send to `key` at `at`.
    pub fn record(&mut self, key: &Key, rate: Rate, at: DateTime<Utc>) {
        let Rate::Limited { count, .. } = rate else {
            // Unlimited keys only need a log when they are blocked.
            return;
        };
        let log = self.logs.entry(key.clone()).or_default();
        log.sent.push_back(at);
        while log.sent.len() > count as usize {
            log.sent.pop_front();
        }
    }

    /// Nothing goes to `key` before `until` (the platform said so).
    pub fn block(&mut self, key: &Key, until: DateTime<Utc>) {
        let log = self.logs.entry(key.clone()).or_default();
        log.blocked_until = Some(log.blocked_until.map_or(until, |b| b.max(until)));
    }

    /// Forgets keys with nothing recent to remember, so one-off chats do not accumulate.
    pub fn prune(&mut self, now: DateTime<Utc>, longest_window: TimeDelta) {
        self.logs.retain(|_, log| {
            log.blocked_until.is_some_and(|b| b > now)
                || log.sent.back().is_some_and(|t| *t > now - longest_window)
        });
    }

    pub fn len(&self) -> usize {
        self.logs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000 + ms).expect("time")
    }

    #[test]
    fn a_window_never_admits_more_than_its_count() {
        let mut limiter = Limiter::default();
        let key = Key::Chat {
            provider: "telegram".into(),
            target: "-1".into(),
        };
        let rate = Rate::per_minute(20);
        for i in 0..20 {
            assert_eq!(limiter.earliest(&key, rate, t(i)), t(i));
            limiter.record(&key, rate, t(i));
        }
        // The 21st waits until the first leaves the window, a minute after it was sent.
        assert_eq!(limiter.earliest(&key, rate, t(20)), t(60_000));
        assert_eq!(limiter.earliest(&key, rate, t(60_000)), t(60_000));
        limiter.record(&key, rate, t(60_000));
        assert_eq!(limiter.earliest(&key, rate, t(60_000)), t(60_001));
    }

    #[test]
    fn held_back_sends_are_spread_over_the_times_the_window_frees_up() {
        let mut limiter = Limiter::default();
        let key = Key::Provider("telegram".into());
        let rate = Rate::per_second(3);
        for ms in [0, 100, 200] {
            limiter.record(&key, rate, t(ms));
        }
        let nth: Vec<_> = (0..5)
            .map(|k| limiter.earliest_nth(&key, rate, t(300), k))
            .collect();
        assert_eq!(nth, [t(1_000), t(1_100), t(1_200), t(2_000), t(2_100)]);
    }

    #[test]
    fn paced_sends_are_spread_evenly_over_the_window() {
        let mut limiter = Limiter::default();
        let key = Key::Provider("telegram".into());
        let rate = Rate::per_second(4);
        assert_eq!(limiter.earliest_paced(&key, rate, t(0)), t(0));
        limiter.record(&key, rate, t(0));
        assert_eq!(limiter.earliest_paced(&key, rate, t(10)), t(245));
        limiter.record(&key, rate, t(245));
        assert_eq!(limiter.earliest_paced(&key, rate, t(600)), t(600));
        assert_eq!(
            limiter.earliest_paced(&key, Rate::Unlimited, t(600)),
            t(600)
        );
    }

    #[test]
    fn a_block_holds_until_its_time_even_when_unlimited() {
        let mut limiter = Limiter::default();
        let key = Key::Provider("telegram".into());
        limiter.block(&key, t(5_000));
        assert_eq!(limiter.earliest(&key, Rate::Unlimited, t(0)), t(5_000));
        assert_eq!(limiter.earliest(&key, Rate::Unlimited, t(6_000)), t(6_000));
    }

    #[test]
    fn pruning_drops_quiet_keys_only() {
        let mut limiter = Limiter::default();
        let rate = Rate::per_second(1);
        limiter.record(&Key::Provider("a".into()), rate, t(0));
        limiter.record(&Key::Provider("b".into()), rate, t(1_500));
        limiter.prune(t(2_000), TimeDelta::seconds(1));
        assert_eq!(limiter.len(), 1);
    }
}
