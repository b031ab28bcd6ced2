//! The numbers an operator watches, served by `/metrics` in Prometheus' text format.
//!
//! Counters and histograms are incremented where things happen (the outbox worker's outcomes and sends,
//! 429 answers, the webhooks) and live in this process; they aggregate across processes with `sum`, and
//! the histograms carry fixed buckets so their quantiles aggregate too. The gauges about the queues are
//! read from the database when scraped, with bounded queries, so every process of a cluster reports the
//! same cluster-wide value: aggregate them with `max`, not `sum`.
//!
//! Labels name platforms, lanes, outcomes, components and status codes — never a person or a chat.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::health::{Health, State};

/// The content type of the text format `/metrics` answers with.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// How a claimed outbox row ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// The platform accepted it.
    Sent,
    /// The attempt failed and will be retried.
    Failed,
    /// Given up for good (refused, recipient gone, out of attempts).
    GivenUp,
    /// Its deadline passed before it could be sent.
    Expired,
}

impl Delivered {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::GivenUp => "given_up",
            Self::Expired => "expired",
        }
    }
}

/// What the database says about the queues when scraped.
#[derive(Debug, Clone, Default)]
pub struct Queues {
    /// Per outbox lane: its name, the rows due now (counted up to a cap), and how long the row due
    /// longest has waited, in seconds (0 when none is due).
    pub outbox: Vec<(&'static str, i64, f64)>,
    /// Inbox events due to be handled (counted up to a cap).
    pub inbox_due: i64,
    /// How long the inbox event due longest has waited, in seconds.
    pub inbox_lag_seconds: f64,
}

/// Latency buckets for one request to a platform: 5 ms to 30 s (the send timeout's order).
const SEND_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Lateness buckets for reminders: the promise is "within a second of its time".
const LATENESS_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// The registry and every family in it. Cheap to clone; clones count into the same families.
#[derive(Debug, Clone)]
pub struct Metrics(Arc<Families>);

#[derive(Debug)]
struct Families {
    registry: Registry,
    started: Instant,
    outcomes: IntCounterVec,
    rate_limited: IntCounterVec,
    send_seconds: HistogramVec,
    reminder_lateness: Histogram,
    webhook: IntCounterVec,
    uptime: Gauge,
    database_up: IntGauge,
    outbox_due: IntGaugeVec,
    outbox_oldest: GaugeVec,
    inbox_due: IntGauge,
    inbox_lag: Gauge,
    components: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers `metric` in `registry` and hands it back.
fn registered<M>(registry: &Registry, metric: prometheus::Result<M>) -> M
where
    M: prometheus::core::Collector + Clone + 'static,
{
    // The families are fixed here, with distinct valid names: an error is a bug in this file.
    let metric = metric.expect("a valid metric family");
    registry
        .register(Box::new(metric.clone()))
        .expect("a metric family registered once");
    metric
}

impl Metrics {
    pub fn new() -> Self {
        let r = Registry::new();
        let families = Families {
            outcomes: registered(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "herald_outbox_messages_total",
                        "Outbox rows that reached an outcome: sent, failed (retried later), given_up, expired.",
                    ),
                    &["platform", "lane", "outcome"],
                ),
            ),
            rate_limited: registered(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "herald_rate_limited_total",
                        "Sends a platform answered with 429 (slow down); the account paused as asked.",
                    ),
                    &["platform"],
                ),
            ),
            send_seconds: registered(
                &r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "herald_send_duration_seconds",
                        "Time one send to a platform took, whatever its answer.",
                    )
                    .buckets(SEND_BUCKETS.to_vec()),
                    &["platform"],
                ),
            ),
            reminder_lateness: registered(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "herald_reminder_lateness_seconds",
                        "How long after its due time a reminder was accepted by its platform.",
                    )
                    .buckets(LATENESS_BUCKETS.to_vec()),
                ),
            ),
            webhook: registered(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "herald_webhook_requests_total",
                        "Webhook requests by hook and the status code they were answered with.",
                    ),
                    &["hook", "code"],
                ),
            ),
            uptime: registered(
                &r,
                Gauge::new(
                    "herald_uptime_seconds",
                    "Seconds since this process started.",
                ),
            ),
            database_up: registered(
                &r,
                IntGauge::new(
                    "herald_database_up",
                    "1 when the database answered the queue queries of this scrape, 0 when not.",
                ),
            ),
            outbox_due: registered(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "herald_outbox_due",
                        "Outbox rows due to be sent now, by lane (counted up to 10000; the same in every process of a cluster).",
                    ),
                    &["lane"],
                ),
            ),
            outbox_oldest: registered(
                &r,
                GaugeVec::new(
                    Opts::new(
                        "herald_outbox_oldest_due_seconds",
                        "How long the outbox row due longest has waited, by lane (0 when none is due).",
                    ),
                    &["lane"],
                ),
            ),
            inbox_due: registered(
                &r,
                IntGauge::new(
                    "herald_inbox_due",
                    "Inbound events due to be handled (counted up to 10000).",
                ),
            ),
            inbox_lag: registered(
                &r,
                Gauge::new(
                    "herald_inbox_lag_seconds",
                    "How long the inbound event due longest has waited to be handled (0 when none is due).",
                ),
            ),
            components: registered(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "herald_component_state",
                        "1 for the state each worker and listener of this process is in, 0 for the others.",
                    ),
                    &["component", "state"],
                ),
            ),
            registry: r,
            started: Instant::now(),
        };
        Self(Arc::new(families))
    }

    /// A claimed outbox row reached `outcome`.
    pub fn delivered(&self, platform: &str, lane: &str, outcome: Delivered) {
        self.0
            .outcomes
            .with_label_values(&[platform, lane, outcome.as_str()])
            .inc();
    }

    /// `platform` answered a send with 429.
    pub fn rate_limited(&self, platform: &str) {
        self.0.rate_limited.with_label_values(&[platform]).inc();
    }

    /// One send to `platform` took `seconds`.
    pub fn send_took(&self, platform: &str, seconds: f64) {
        self.0
            .send_seconds
            .with_label_values(&[platform])
            .observe(seconds);
    }

    /// A reminder was accepted `seconds` after its due time (early counts as on time).
    pub fn reminder_late(&self, seconds: f64) {
        self.0.reminder_lateness.observe(seconds.max(0.0));
    }

    /// A request to `hook` was answered with `code`.
    pub fn webhook_answered(&self, hook: &str, code: u16) {
        self.0
            .webhook
            .with_label_values(&[hook, &code.to_string()])
            .inc();
    }

    /// Every family in the text format, with the components' states from `health` and the queues as read
    /// now (`None` when the database did not answer).
    pub fn render(&self, health: &Health, queues: Option<&Queues>) -> anyhow::Result<String> {
        let m = &self.0;
        m.uptime.set(m.started.elapsed().as_secs_f64());
        m.database_up.set(i64::from(queues.is_some()));
        m.outbox_due.reset();
        m.outbox_oldest.reset();
        if let Some(queues) = queues {
            for &(lane, due, oldest) in &queues.outbox {
                m.outbox_due.with_label_values(&[lane]).set(due);
                m.outbox_oldest.with_label_values(&[lane]).set(oldest);
            }
            m.inbox_due.set(queues.inbox_due);
            m.inbox_lag.set(queues.inbox_lag_seconds);
        }
        m.components.reset();
        for (name, component) in health.snapshot() {
            for state in STATES {
                m.components
                    .with_label_values(&[name.as_str(), state_name(state)])
                    .set(i64::from(component.state == state));
            }
        }
        let mut text = String::new();
        TextEncoder::new()
            .encode_utf8(&m.registry.gather(), &mut text)
            .context("Failed to encode the metrics")?;
        Ok(text)
    }
}

const STATES: [State; 5] = [
    State::Starting,
    State::Running,
    State::Failing,
    State::Disabled,
    State::Stopped,
];

fn state_name(state: State) -> &'static str {
    match state {
        State::Starting => "starting",
        State::Running => "running",
        State::Failing => "failing",
        State::Disabled => "disabled",
        State::Stopped => "stopped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_and_type_and_counts_what_it_was_told() {
        let metrics = Metrics::new();
        metrics.delivered("telegram", "bulk", Delivered::Sent);
        metrics.delivered("telegram", "bulk", Delivered::Sent);
        metrics.rate_limited("telegram");
        metrics.send_took("telegram", 0.02);
        metrics.reminder_late(-3.0);
        metrics.webhook_answered("telegram", 200);
        let health = Health::default();
        health.register("outbox");
        let queues = Queues {
            outbox: vec![("bulk", 3, 1.5)],
            inbox_due: 0,
            inbox_lag_seconds: 0.0,
        };
        let text = metrics.render(&health, Some(&queues)).unwrap();
        for line in [
            "herald_outbox_messages_total{lane=\"bulk\",outcome=\"sent\",platform=\"telegram\"} 2",
            "herald_rate_limited_total{platform=\"telegram\"} 1",
            "herald_send_duration_seconds_bucket{platform=\"telegram\",le=\"0.025\"} 1",
            "herald_reminder_lateness_seconds_bucket{le=\"0.1\"} 1",
            "herald_webhook_requests_total{code=\"200\",hook=\"telegram\"} 1",
            "herald_outbox_due{lane=\"bulk\"} 3",
            "herald_component_state{component=\"outbox\",state=\"starting\"} 1",
            "herald_component_state{component=\"outbox\",state=\"running\"} 0",
            "herald_database_up 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert!(families.len() >= 12, "{families:?}");
        for family in families {
            assert!(
                text.contains(&format!("# HELP {family} ")),
                "{family} has no HELP"
            );
        }
    }
}
