//! Benchmark of the scheduler: its cost follows due work, not stored work.
//! Firing `SCHED_DUE` due timers with `SCHED_STORED` demandes stored is
//! compared with firing the same timers with only those demandes stored
//! (the baseline of the same run), on SQLite and on PostgreSQL. The aim
//! (issue "Throughput"): at most 1.5× the baseline's time.
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench scheduler`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! Per backend and per scale, on a fresh database and application
//! (`guichet_tests::app::run`, the test clock of 2 March 2026):
//! 1. `SCHED_DUE` real demandes of the load démarche (20 fields, the
//!    standard simple workflow) are filed through HTTP by 8 usagers at
//!    once, each taken at once by the service's gestionnaire: entering *en
//!    cours d'analyse* gives it its timers (the reminders at 15 and 21
//!    days, the deadline at 27).
//! 2. At the large scale, the other demandes are inserted by `INSERT …
//!    SELECT` (not through the API: 500 bytes of unreadable data, status
//!    *transmise*), each with two timers due in more than a year — as
//!    stored demandes hold their reminders.
//! 3. The clock moves 16 days: the 15-day reminders of the real demandes
//!    are due. Timed: one scheduler round (`scheduler::round`: the due
//!    timers fired, each in its transaction, then the end-of-life sweep),
//!    and then an idle round with nothing due.
//!
//! Environment: `SCHED_DUE` (10000), `SCHED_STORED` (1000000),
//! `SCHED_BACKENDS` (`sqlite,postgres`), `GUICHET_TEST_POSTGRES`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::TimeZone;
use futures::future::join_all;
use guichet_host::scheduler::{Retention, round};
use guichet_tests::app::{Backend, Client, TestApp, run};
use guichet_tests::filing::{open_draft, save_page, step, submit};
use guichet_tests::load;
use sqlx::{Connection, Executor};

/// The service of the load démarche, whose gestionnaire takes each demande.
const SERVICE: &str = "Gest_SVL_DVA_VieAssociative";

/// Usagers filing at once while the real demandes are made.
const FILERS: usize = 8;

/// Rows per `INSERT … SELECT`.
const CHUNK: i64 = 100_000;

/// What one scale measured.
#[derive(Debug, Clone)]
struct Measure {
    backend: &'static str,
    stored: i64,
    fired: usize,
    round: Duration,
    idle: Duration,
}

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<()> {
    sqlx::any::install_default_drivers();
    let due = env("SCHED_DUE", 10_000);
    let stored = env("SCHED_STORED", 1_000_000);
    if stored < due {
        bail!("SCHED_STORED must be at least SCHED_DUE");
    }
    let backends = std::env::var("SCHED_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let measures: Arc<Mutex<Vec<Measure>>> = Arc::default();
    for name in backends.split(',') {
        let backend = match name.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => bail!("unknown backend {other}"),
        };
        for scale in [due, stored] {
            let measures = measures.clone();
            runtime.block_on(run(backend, move |app| async move {
                let measure = measure(app, backend, due, scale).await;
                println!("{measure:?}");
                measures.lock().expect("not poisoned").push(measure);
            }));
        }
    }
    println!("\n| backend | stored | timers fired | round | ratio | idle round | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let measures = measures.lock().expect("not poisoned").clone();
    for pair in measures.chunks(2) {
        let base = &pair[0];
        for m in pair {
            println!(
                "| {} | {} | {} | {:.2} s | {:.2}× | {:.1} ms | {:.2}× |",
                m.backend,
                m.stored,
                m.fired,
                m.round.as_secs_f64(),
                m.round.as_secs_f64() / base.round.as_secs_f64(),
                m.idle.as_secs_f64() * 1000.0,
                m.idle.as_secs_f64() / base.idle.as_secs_f64(),
            );
        }
    }
    Ok(())
}

/// Files `count` demandes of the load démarche as `usager`, each taken
/// at once by `agent` (entering *en cours d'analyse* starts the reminders'
/// and the deadline's timers).
async fn file(usager: Client, agent: Client, count: i64) {
    let answers = load::answers();
    for _ in 0..count {
        let draft = open_draft(&usager, load::SLUG).await;
        for page in load::PAGES {
            save_page(&usager, &draft, page, answers[page].clone()).await;
        }
        let id = submit(&usager, &draft).await;
        step(&agent, &id, "prendre_en_compte").await;
    }
}

async fn measure(app: TestApp, backend: Backend, due: i64, stored: i64) -> Measure {
    let name = if backend == Backend::Postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    app.import_yaml(load::DEFINITION.to_owned()).await;
    app.grant(SERVICE, Some(load::SLUG)).await;
    let agent = app.agent("gestion@ville.test", &[SERVICE]).await;
    let started = Instant::now();
    let mut filers = Vec::new();
    for i in 0..FILERS {
        let usager = app
            .usager("Camille", "Martin", &format!("usager{i}@exemple.test"))
            .await;
        let share = due / FILERS as i64 + i64::from((i as i64) < due % FILERS as i64);
        filers.push(file(usager, agent.clone(), share));
    }
    join_all(filers).await;
    eprintln!("{name}: {due} demandes filed in {:?}", started.elapsed());
    if stored > due {
        let started = Instant::now();
        fill(&app, backend, stored - due)
            .await
            .expect("filler rows");
        eprintln!(
            "{name}: {} more demandes with their timers in {:?}",
            stored - due,
            started.elapsed()
        );
    }
    app.clock.advance(chrono::Duration::days(16));
    let now = app.clock_now();
    let retention = Retention::default();
    let started = Instant::now();
    let (fired, _) = round(&app.store, "bench", now, &retention)
        .await
        .expect("a round");
    let round_time = started.elapsed();
    let started = Instant::now();
    let (idle, _) = round(&app.store, "bench", now, &retention)
        .await
        .expect("an idle round");
    let idle_time = started.elapsed();
    assert_eq!(idle.applied, 0, "nothing left due");
    Measure {
        backend: name,
        stored,
        fired: fired.applied,
        round: round_time,
        idle: idle_time,
    }
}

/// Inserts `count` demandes and two timers each, due in more than a year.
async fn fill(app: &TestApp, backend: Backend, count: i64) -> Result<()> {
    let postgres = backend == Backend::Postgres;
    let mut conn = sqlx::AnyConnection::connect(&app.url).await?;
    let now = app.clock_now().timestamp_millis();
    let day = 86_400_000_i64;
    let later = chrono::Utc
        .with_ymd_and_hms(2027, 6, 1, 0, 0, 0)
        .single()
        .map_or(0, |at| at.timestamp_millis());
    let mut first = 1;
    while first <= count {
        let last = (first + CHUNK - 1).min(count);
        let (sequence, pad, data) = if postgres {
            (
                format!("generate_series({first}::bigint, {last}::bigint) AS s(n)"),
                "lpad(n::text, 12, '0')",
                "repeat(md5(n::text), 16)",
            )
        } else {
            (
                format!(
                    "(WITH RECURSIVE s(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM s WHERE n < {last}) \
                     SELECT n FROM s)"
                ),
                "substr('000000000000' || n, -12)",
                "hex(randomblob(256))",
            )
        };
        let submitted = format!("({now} - (n % 300) * {day})");
        conn.execute(
            format!(
                "INSERT INTO demandes (id, numero, slug, version, usager_id, status, phase, primary_service, \
                 submitted_at, processing_deadline, on_hold_since, revision, updated_at, data, key_id, \
                 analysis_started_at, closed_at, hold_ms, closing, refusal_type, processing_ms, last_reminder) \
                 SELECT '00000000-0000-4000-8000-' || {pad}, 'F-' || n, '{slug}', 1, NULL, 'transmise', 'submitted', \
                 'Gest_SVL_DVA_VieAssociative', {submitted}, NULL, NULL, 1, {submitted}, {data}, NULL, \
                 NULL, NULL, 0, NULL, NULL, NULL, 0 FROM {sequence}",
                slug = load::SLUG,
            )
            .as_str(),
        )
        .await?;
        for (kind, offset) in [("reminder_15", 0), ("reminder_21", 6)] {
            conn.execute(
                format!(
                    "INSERT INTO timers (demande_id, kind, due_at, claimed_by, lease_until) \
                     SELECT '00000000-0000-4000-8000-' || {pad}, '{kind}', {later} + (n % 300 + {offset}) * {day}, \
                     NULL, NULL FROM {sequence}"
                )
                .as_str(),
            )
            .await?;
        }
        first = last + 1;
    }
    if postgres {
        conn.execute("VACUUM ANALYZE demandes").await?;
        conn.execute("VACUUM ANALYZE timers").await?;
    }
    Ok(())
}
