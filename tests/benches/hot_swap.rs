//! Benchmark of hot swap under load: calls per second to a connector
//! instance through the API while an administrator activates and rolls
//! back its version, against the same calls without swaps (the baseline
//! of the same run); the failed calls (must be 0); and how long after an
//! activation starts the new version serves a call.
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench hot_swap`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! On SQLite, through the test harness (`App::start` on a fresh database),
//! with the hostile test connector's two versions installed (so both are in
//! the precompiled cache, as an installed version is) and its `version`
//! behaviour: `check` answers the version that ran it.
//! 1. baseline: `SWAP_CALLERS` tasks call `POST …/echange/check` for
//!    `SWAP_SECONDS`;
//! 2. the same, while the administrator's task alternates
//!    `POST …/activate` (0.2.0) and `POST …/rollback` every 50 ms, and
//!    after each swap starts, calls `check` until the version it asked for
//!    answers: that time is "new version serves after".
//!
//! Environment: `SWAP_CALLERS` (default 4), `SWAP_SECONDS` (default 5).

// A benchmark panics to report a broken set-up.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use guichet_tests::app::{Backend, Client, TestApp};
use guichet_tests::hostile::echange;
use serde_json::json;

const CHECK: &str = "/api/connectors/instances/echange/check";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(guichet_tests::app::run(Backend::Sqlite, measure));
}

/// Calls made and failed by the callers.
#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    failures: AtomicU64,
}

async fn load(admin: &Client, callers: u64, seconds: u64, counts: &Arc<Counts>) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (admin, stop, counts) = (admin.clone(), stop.clone(), counts.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let reply = admin.post(CHECK, json!({})).await;
                    counts.calls.fetch_add(1, Ordering::Relaxed);
                    if reply.status != 200 {
                        counts.failures.fetch_add(1, Ordering::Relaxed);
                        eprintln!("failed call: {} {}", reply.status, reply.body);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    counts.calls.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn measure(app: TestApp) {
    let callers = setting("SWAP_CALLERS", 4);
    let seconds = setting("SWAP_SECONDS", 5);
    let admin = echange(&app, "version").await;

    let baseline = Arc::new(Counts::default());
    let rate_baseline = load(&admin, callers, seconds, &baseline).await;

    let swapped = Arc::new(Counts::default());
    let swapping = Arc::new(AtomicBool::new(true));
    let swapper = {
        let (admin, swapping) = (admin.clone(), swapping.clone());
        tokio::spawn(async move {
            let mut serves_after = Vec::new();
            let mut next = "0.2.0";
            while swapping.load(Ordering::Relaxed) {
                let started = Instant::now();
                let reply = if next == "0.2.0" {
                    admin
                        .post(
                            "/api/connectors/instances/echange/activate",
                            json!({ "version": "0.2.0" }),
                        )
                        .await
                } else {
                    admin
                        .post("/api/connectors/instances/echange/rollback", json!({}))
                        .await
                };
                assert_eq!(reply.status, 200, "{}", reply.body);
                while admin.post(CHECK, json!({})).await.body["message"] != next {}
                serves_after.push(started.elapsed());
                next = if next == "0.2.0" { "0.1.0" } else { "0.2.0" };
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            serves_after
        })
    };
    let rate_swapping = load(&admin, callers, seconds, &swapped).await;
    swapping.store(false, Ordering::Relaxed);
    let mut serves_after = swapper.await.unwrap();
    serves_after.sort_unstable();
    let at = |q: f64| {
        serves_after[((serves_after.len() as f64 * q) as usize).min(serves_after.len() - 1)]
    };

    println!("callers: {callers}, seconds per phase: {seconds}");
    println!(
        "baseline: {rate_baseline:.0} calls/s, failures {}",
        baseline.failures.load(Ordering::Relaxed)
    );
    println!(
        "with swaps: {rate_swapping:.0} calls/s ({:.2}× baseline), failures {}",
        rate_swapping / rate_baseline,
        swapped.failures.load(Ordering::Relaxed)
    );
    println!(
        "swaps: {}, new version serves after p50 {:?}, p90 {:?}, max {:?}",
        serves_after.len(),
        at(0.5),
        at(0.9),
        serves_after.last().unwrap()
    );
}
