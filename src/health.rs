//! Health of the moving parts: each worker and listener reports here, `/healthz` reads it.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Starting,
    Running,
    Failing,
    Disabled,
    Stopped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ok_at: Option<DateTime<Utc>>,
    /// When the component entered `Failing`, so callers can tell a blip from an outage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
}

impl Component {
    fn new(state: State, detail: Option<String>) -> Self {
        Self {
            state,
            detail,
            last_error: None,
            last_error_at: None,
            last_ok_at: None,
            failing_since: None,
        }
    }
}

/// The registry of components.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<Mutex<BTreeMap<String, Component>>>);

impl Health {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Component>) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Registers a component that will report its own state.
    pub fn register(&self, name: &str) -> Reporter {
        self.with(|m| m.insert(name.to_owned(), Component::new(State::Starting, None)));
        Reporter {
            health: self.clone(),
            name: name.to_owned(),
        }
    }

    /// Records a component that is turned off, and why.
    pub fn disabled(&self, name: &str, why: &str) {
        self.with(|m| {
            m.insert(
                name.to_owned(),
                Component::new(State::Disabled, Some(why.to_owned())),
            )
        });
    }

    pub fn snapshot(&self) -> BTreeMap<String, Component> {
        self.with(|m| m.clone())
    }
}

/// One component's handle for reporting.
#[derive(Debug, Clone)]
pub struct Reporter {
    health: Health,
    name: String,
}

impl Reporter {
    fn update(&self, f: impl FnOnce(&mut Component)) {
        self.health.with(|m| {
            if let Some(c) = m.get_mut(&self.name) {
                f(c)
            }
        })
    }

    /// The component did its work.
    pub fn ok(&self, now: DateTime<Utc>) {
        self.update(|c| {
            c.state = State::Running;
            c.last_ok_at = Some(now);
            c.failing_since = None;
        })
    }

    /// The component failed; it stays `Failing` until the next `ok`.
    pub fn failing(&self, now: DateTime<Utc>, error: &anyhow::Error) {
        let text = format!("{error:#}");
        self.update(|c| {
            if c.state != State::Failing {
                c.failing_since = Some(now);
            }
            c.state = State::Failing;
            c.last_error = Some(text);
            c.last_error_at = Some(now);
        })
    }

    /// Records an error that did not stop the component (one message failed, the worker goes on).
    pub fn noted_error(&self, now: DateTime<Utc>, error: &str) {
        self.update(|c| {
            c.last_error = Some(error.to_owned());
            c.last_error_at = Some(now);
        })
    }

    pub fn detail(&self, detail: impl Into<String>) {
        let detail = detail.into();
        self.update(|c| c.detail = Some(detail))
    }

    pub fn stopped(&self) {
        self.update(|c| c.state = State::Stopped)
    }
}

/// Runs `fut`, turning a panic into an error that says where: one bad run of a job must not end the job.
pub async fn unpanicked<T>(
    what: &str,
    fut: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            tracing::error!(job = what, panic = %message, "a run panicked; the job goes on");
            Err(anyhow::anyhow!("{what} panicked: {message}"))
        }
    }
}

/// Runs `round` every `period` until `shutdown`, reporting each outcome to `health` (ok, or failing with the
/// error, a panic included: the next round runs anyway), then reports the component stopped.
pub async fn repeat<F, Fut, T>(
    clock: &crate::clock::SharedClock,
    health: &Reporter,
    shutdown: &tokio_util::sync::CancellationToken,
    period: std::time::Duration,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    loop {
        match unpanicked("a round", round()).await {
            Ok(_) => health.ok(clock.now()),
            Err(err) => health.failing(clock.now(), &err),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(period) => {}
        }
    }
    health.stopped();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_job_whose_run_panics_reports_it_and_runs_again() {
        let health = Health::default();
        let reporter = health.register("sync");
        let clock: crate::clock::SharedClock = Arc::new(crate::clock::SystemClock);
        let shutdown = tokio_util::sync::CancellationToken::new();
        // Each run says it began; the first panics.
        let (began, mut runs) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let count = Arc::new(AtomicUsize::new(0));
        let job = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                repeat(
                    &clock,
                    &reporter,
                    &shutdown,
                    std::time::Duration::from_millis(10),
                    || {
                        let (began, count) = (began.clone(), count.clone());
                        async move {
                            let n = count.fetch_add(1, Ordering::SeqCst);
                            assert!(n != 0, "the first run fails badly");
                            let _ = began.send(n);
                            anyhow::Ok(())
                        }
                    },
                )
                .await;
            })
        };
        // The second run ended well once the third begins.
        assert_eq!(runs.recv().await, Some(1));
        assert_eq!(runs.recv().await, Some(2));
        let sync = &health.snapshot()["sync"];
        assert_eq!(sync.state, State::Running, "the second run went well");
        assert!(
            sync.last_error
                .as_deref()
                .is_some_and(|e| e.contains("a round panicked: the first run fails badly")),
            "{:?}",
            sync.last_error
        );
        shutdown.cancel();
        job.await.unwrap();
    }
}
