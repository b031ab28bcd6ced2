//! Jobs that must run in one process at a time: polling Telegram (Telegram answers a second `getUpdates`
//! with 409 Conflict), the listeners, the schedule sync, the news reader, reading sent files, pruning.
//!
//! Several Herald processes may share one database. Each job has a lease row (`leases`): the process named
//! in it runs the job and renews the lease every [`RENEW`]; the others wait as standby and ask again as
//! often. A process that dies stops renewing, its lease runs out after [`TTL`], and a standby takes the job
//! over within `TTL + RENEW` (8 s). A lease is a row, not a PostgreSQL session advisory lock: it works the
//! same through a pool or a pooler and on SQLite, and it cannot stay behind on an idle pooled connection.
//! A process that cannot renew (the database is gone, or another process took the job) stops the job before
//! its lease runs out, so two processes never run it at once; on shutdown it gives its leases up at once.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use chrono::TimeDelta;
use tokio_util::sync::CancellationToken;

pub use crate::db::leases::Queue;
use crate::{clock::SharedClock, db::Db, db::leases, health::Reporter};

/// The lease whose holder reports the queues in `/metrics` for the whole cluster.
pub const QUEUE_GAUGES: &str = "queue-gauges";

/// How long a lease lasts without renewal.
pub const TTL: Duration = Duration::from_secs(6);
/// [`TTL`] as a time span for the leases' expiry times.
fn lease_ttl() -> TimeDelta {
    TimeDelta::from_std(TTL).unwrap_or(TimeDelta::seconds(6))
}

/// How often the holder renews, and a standby asks.
pub const RENEW: Duration = Duration::from_secs(2);
/// How often a queue worker counts the workers it shares the queue with.
const COUNT_EVERY: Duration = Duration::from_millis(500);
/// Counts per renewal of a worker's heartbeat.
const COUNTS_PER_RENEW: u64 = 4;

/// Keeps a queue worker's heartbeat while the returned handle lives: a lease named after `owner`, renewed
/// every [`RENEW`]. At each beat what workers without a heartbeat hold in `queue` — a process that died —
/// is made due again, so it is handled within seconds instead of after its whole lease, and `peers` is set
/// to how many workers of `queue` beat (this one included): the outbox shares each account's rate limit
/// among them.
pub fn heartbeat(
    db: Db,
    clock: SharedClock,
    owner: String,
    queue: Queue,
    peers: Arc<AtomicU32>,
) -> tokio_util::task::AbortOnDropHandle<()> {
    tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        let ttl = lease_ttl();
        for beat in 0_u64.. {
            let now = clock.now();
            if beat % COUNTS_PER_RENEW == 0 {
                if let Err(err) = leases::acquire(&db, now, &owner, &owner, now + ttl).await {
                    tracing::warn!(error = %format!("{err:#}"), "could not renew the heartbeat");
                }
                match leases::reclaim_orphans(&db, now, &owner, queue).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(rows = n, "took back rows held by a process that stopped")
                    }
                    Err(err) => {
                        tracing::warn!(error = %format!("{err:#}"), "could not take back rows")
                    }
                }
                if let Err(err) = leases::forget_expired(&db, now - TimeDelta::hours(1)).await {
                    tracing::warn!(error = %format!("{err:#}"), "could not forget old leases");
                }
            }
            // Counted more often than renewed: a worker that starts is counted by the others within
            // half a second, so they do not overrun the account's limit together for long.
            match leases::live_workers(&db, now, queue).await {
                Ok(n) => {
                    let n = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
                    if peers.swap(n, Ordering::Relaxed) != n {
                        tracing::info!(
                            workers = n,
                            queue = queue.prefix(),
                            "workers sharing the queue"
                        );
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "could not count the workers")
                }
            }
            tokio::time::sleep(COUNT_EVERY).await;
        }
    }))
}

/// A job as the application starts it: given its health reporter and the token that stops it, as often as
/// this process takes the job (back) over.
pub type Job =
    Box<dyn FnMut(Reporter, CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// This process's name in the leases: its host, its process id and a random part (a restarted process
/// with a recycled id is still another holder).
pub fn process_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// This process's side of the leases.
#[derive(Debug, Clone)]
pub struct Singletons {
    db: Db,
    clock: SharedClock,
    holder: Arc<str>,
}

impl Singletons {
    /// `holder` names this process in the leases it holds (host, process id and a random part).
    pub fn new(db: Db, clock: SharedClock, holder: &str) -> Self {
        Self {
            db,
            clock,
            holder: holder.into(),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    async fn acquire(&self, name: &str) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let ttl = lease_ttl();
        leases::acquire(&self.db, now, name, &self.holder, now + ttl).await
    }

    /// Runs `job` here whenever this process holds the lease `name`, until `shutdown`. `job` is given a
    /// token that is cancelled when it must stop (shutdown, or the lease could not be kept) and is started
    /// again when this process gets the lease back. While another process runs it, `health` says so.
    pub async fn run<F, Fut>(
        &self,
        name: &str,
        health: &Reporter,
        shutdown: &CancellationToken,
        mut job: F,
    ) where
        F: FnMut(CancellationToken) -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            match self.acquire(name).await {
                Ok(true) => {
                    tracing::info!(job = name, "this process runs the job");
                    let stop = shutdown.child_token();
                    let work = job(stop.clone());
                    tokio::pin!(work);
                    tokio::select! {
                        () = &mut work => {}
                        () = self.keep(name) => {
                            stop.cancel();
                            work.await;
                        }
                    }
                    if let Err(err) = leases::release(&self.db, name, &self.holder).await {
                        tracing::warn!(job = name, error = %format!("{err:#}"), "could not give the lease up");
                    }
                }
                Ok(false) => {
                    health.ok(self.clock.now());
                    health.detail("standby: another Herald process runs this");
                }
                Err(err) => health.failing(self.clock.now(), &err),
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(RENEW) => {}
            }
        }
        health.stopped();
    }

    /// Renews the lease `name` every [`RENEW`]; returns when it was lost to another process, or could not
    /// be renewed for long enough that it may run out before the next try.
    async fn keep(&self, name: &str) {
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(RENEW).await;
            match self.acquire(name).await {
                Ok(true) => renewed = tokio::time::Instant::now(),
                Ok(false) => {
                    tracing::warn!(
                        job = name,
                        "another process took the job over; stopping it here"
                    );
                    return;
                }
                Err(err) => {
                    tracing::warn!(job = name, error = %format!("{err:#}"), "could not renew the lease");
                    if renewed.elapsed() + RENEW >= TTL {
                        tracing::warn!(job = name, "the lease may run out; stopping the job here");
                        return;
                    }
                }
            }
        }
    }
}
