//! Failover of the jobs that run once: two `herald run` processes on one PostgreSQL database; the one
//! polling Telegram is killed with SIGKILL, and the time until the other holds the job is measured; the
//! killed one is started again (it stands by) and the next kill goes to whichever polls then. Ten kills.
//!
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench failover      # FAILOVER_KILLS=10 by default
//!
//! Reported: each takeover time and their median and maximum (the leases last 6 s and a standby asks every
//! 2 s, so at most 8 s).

#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

mod support;

use std::time::{Duration, Instant};

use herald::db::{Db, leases};

const TOKEN: &str = "1:FAILOVER";

/// The process id in the name of the live holder of the lease `name`, if any holds it.
async fn holder_pid(db: &Db, name: &str) -> Option<u32> {
    leases::holder(db, chrono::Utc::now(), name)
        .await
        .expect("leases")?
        .rsplit('-')
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("BENCH_DATABASE_URL") else {
        println!("failover: skipped (several processes need PostgreSQL: set BENCH_DATABASE_URL)");
        return;
    };
    let kills: usize = std::env::var("FAILOVER_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let url = support::postgres_schema(&base).await;
    let db = Db::connect(&url).await.expect("database");
    db.migrate().await.expect("migrate");
    let fake = fake_telegram::FakeTelegram::start().await;
    let mut children = [
        fake.herald_process(&url, TOKEN),
        fake.herald_process(&url, TOKEN),
    ];
    let mut took = Vec::new();
    for kill in 1..=kills {
        let poller = loop {
            if let Some(pid) = holder_pid(&db, "telegram").await {
                break pid;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let Some(dead) = children.iter().position(|c| c.id() == Some(poller)) else {
            panic!("the poller {poller} is none of the two processes");
        };
        let survivor = children[1 - dead].id().expect("running");
        children[dead].kill().await.expect("kill -9");
        let killed = Instant::now();
        while holder_pid(&db, "telegram").await != Some(survivor) {
            assert!(killed.elapsed() < Duration::from_secs(60), "no takeover");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = killed.elapsed().as_secs_f64();
        println!("kill {kill}: the other process polls Telegram {secs:.2} s later");
        took.push(secs);
        children[dead] = fake.herald_process(&url, TOKEN);
    }
    took.sort_by(f64::total_cmp);
    println!(
        "failover over {kills} kills: median {:.2} s, max {:.2} s",
        took[took.len() / 2],
        took.last().copied().unwrap_or(f64::NAN)
    );
    for mut child in children {
        child.kill().await.expect("stop");
    }
}
