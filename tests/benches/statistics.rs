//! Benchmark of the statistics: the figures of one démarche over one year
//! (`GET /api/statistics?demarche=…&from=2026-01-01&to=2026-12-31`'s use
//! case) with 1,000,000 demandes stored, on SQLite and on PostgreSQL,
//! against a baseline measured in the same run on the same rows: a plain
//! `SELECT COUNT(*)` of the démarche's demandes filed in the year.
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench statistics`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! Per backend: a fresh database migrated by the store, `STATS_DEMARCHES`
//! démarches (the vélo example under other slugs), then
//! `STATS_DEMANDES` rows inserted by one `INSERT … SELECT` over a
//! generated sequence (not through the API: only the columns the
//! statistics read are meaningful; the sealed `data` is `STATS_DATA_BYTES`
//! of incompressible text, the order of a sealed demande, so that a scan
//! of the table costs what it would), spread
//! evenly over the démarches and over `STATS_YEARS` years ending with
//! 2026: 3 % never taken, 7 % in analysis, 5 % accepted, 60 % processed,
//! 10 % refused (three types), 5 % abandoned, 10 % archived; a tenth held
//! 3 days; times to process of 0 to 43 days. On PostgreSQL the table is
//! then `VACUUM ANALYZE`d, as autovacuum would after such a load (an
//! index-only scan needs the visibility map); SQLite is left as the
//! application leaves it (no `ANALYZE`).
//!
//! One closed demande in eight has a survey answer (the day after its
//! closing), three in four of them with an option chosen.
//!
//! Measured, `STATS_RUNS` times each after 3 warm-up runs, with the
//! median and the worst: the baseline count; the store's figures
//! (`Store::statistics`: received by status, closings, percentiles); the
//! survey answers (`Store::satisfaction`); the
//! whole use case (`service::statistics::statistics`: the figures, the
//! late and never-taken counts, the labels); and the CSV export on top.
//!
//! Environment: `STATS_DEMANDES` (1000000), `STATS_DEMARCHES` (1: every
//! demande in the measured démarche, the worst case), `STATS_YEARS` (1),
//! `STATS_DATA_BYTES` (1500),
//! `STATS_RUNS` (20), `STATS_BACKENDS` (`sqlite,postgres`), `STATS_KEEP`
//! (set: the databases are kept, and their URLs printed, to `EXPLAIN`),
//! `GUICHET_TEST_POSTGRES` (the server's admin URL; a database
//! `guichet_bench_<uuid>` is created there and dropped at the end).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{NaiveDate, TimeZone, Utc};
use guichet_core::calendar::Zone;
use guichet_core::clock::ManualClock;
use guichet_core::demarche::Definition;
use guichet_core::profile::Profile;
use guichet_core::role::{Grant, GroupName, Scope};
use guichet_host::service::statistics::{self, StatisticsRequest};
use guichet_host::service::{Caller, Credential, Guichet};
use guichet_store::account::{NewUser, UserKind};
use guichet_store::demarche::{DefinitionSource, SourceFormat};
use guichet_store::statistics::StatisticsScope;
use guichet_store::{Backend, FileStore, Store};
use guichet_testdb::TestDatabase;
use sqlx::{Connection, Executor, Row};

/// One day in milliseconds.
const DAY: i64 = 86_400_000;
/// The year measured.
const YEAR: i32 = 2026;
/// Rows inserted per statement.
const BATCH: i64 = 200_000;

struct Plan {
    demandes: i64,
    demarches: i64,
    years: i64,
    data_bytes: i64,
    runs: usize,
    backends: Vec<bool>,
}

fn number(name: &str, default: i64) -> Result<i64> {
    match std::env::var(name) {
        Ok(n) => n
            .trim()
            .parse()
            .with_context(|| format!("{name}: a number")),
        Err(_) => Ok(default),
    }
}

impl Plan {
    fn from_env() -> Result<Plan> {
        let plan = Plan {
            demandes: number("STATS_DEMANDES", 1_000_000)?,
            demarches: number("STATS_DEMARCHES", 1)?,
            years: number("STATS_YEARS", 1)?,
            data_bytes: number("STATS_DATA_BYTES", 1500)?.max(2),
            runs: usize::try_from(number("STATS_RUNS", 20)?)?,
            backends: std::env::var("STATS_BACKENDS")
                .unwrap_or_else(|_| "sqlite,postgres".to_owned())
                .split(',')
                .map(|b| match b.trim() {
                    "sqlite" => Ok(false),
                    "postgres" => Ok(true),
                    other => Err(anyhow!("STATS_BACKENDS: sqlite or postgres, not {other}")),
                })
                .collect::<Result<_>>()?,
        };
        if plan.demandes < 100 || plan.demarches < 1 || plan.years < 1 || plan.runs < 1 {
            bail!("at least 100 demandes, 1 démarche, 1 year and 1 run");
        }
        Ok(plan)
    }
}

fn main() -> Result<()> {
    let plan = Plan::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "{} demandes over {} démarche(s) and {} year(s); {} runs per measure after 3 warm-up runs\n",
        plan.demandes, plan.demarches, plan.years, plan.runs
    );
    for &postgres in &plan.backends {
        let Some(database) = runtime.block_on(TestDatabase::create(postgres, "bench")) else {
            continue;
        };
        let measured = runtime.block_on(measure(&database, &plan));
        if std::env::var_os("STATS_KEEP").is_some() {
            println!("kept for a look: {}", database.url);
            continue;
        }
        runtime.block_on(database.remove());
        measured?;
    }
    Ok(())
}

/// The vélo example under `slug`.
fn definition(slug: &str) -> Result<(Definition, DefinitionSource)> {
    let path = guichet_tests::app::example_path("aide-reparation-velo");
    let text = std::fs::read_to_string(path)?
        .replace("slug: aide-reparation-velo", &format!("slug: {slug}"));
    let definition = Definition::from_yaml(&text).map_err(|e| anyhow!("{e:?}"))?;
    Ok((
        definition,
        DefinitionSource {
            format: SourceFormat::Yaml,
            text,
        },
    ))
}

/// The `INSERT … SELECT` of rows `first..=last` (the module docs say
/// what they hold), for the sequence `n` of the backend.
fn insert_sql(plan: &Plan, postgres: bool, first: i64, last: i64) -> String {
    let start = Utc
        .with_ymd_and_hms(YEAR, 1, 1, 0, 0, 0)
        .single()
        .map_or(0, |at| at.timestamp_millis())
        - (plan.years - 1) * 365 * DAY;
    let step = plan.years * 365 * DAY / plan.demandes;
    let n = plan.demandes;
    let (sequence, pad, data) = if postgres {
        // Distinct digests: nothing for PostgreSQL's compression to find.
        let digests: Vec<String> = (0..(plan.data_bytes + 31) / 32)
            .map(|i| format!("md5(n::text || '-{i}')"))
            .collect();
        (
            format!("generate_series({first}::bigint, {last}::bigint) AS s(n)"),
            "lpad(n::text, 12, '0')".to_owned(),
            format!("substr({}, 1, {})", digests.join(" || "), plan.data_bytes),
        )
    } else {
        (
            format!(
                "(WITH RECURSIVE s(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM s WHERE n < {last}) \
                 SELECT n FROM s)"
            ),
            "substr('000000000000' || n, -12)".to_owned(),
            format!("hex(randomblob({}))", plan.data_bytes / 2),
        )
    };
    let submitted = format!("({start} + ((n * 7919) % {n}) * {step})");
    let analysis = format!("({submitted} + (n % 5) * {DAY})");
    let hold = format!("(CASE WHEN n % 10 = 0 THEN {} ELSE 0 END)", 3 * DAY);
    let closed = format!("({analysis} + {hold} + ((n * 31) % 40) * {DAY} + (n % 1000) * 60000)");
    format!(
        "INSERT INTO demandes (id, numero, slug, version, usager_id, status, phase, primary_service, \
         submitted_at, processing_deadline, on_hold_since, revision, updated_at, data, key_id, \
         analysis_started_at, closed_at, hold_ms, closing, refusal_type, processing_ms, last_reminder) \
         SELECT '00000000-0000-4000-8000-' || {pad}, 'B-' || n, 'bench-' || (n % {demarches}), 1, NULL, \
         CASE WHEN n % 100 < 3 THEN 'transmise' WHEN n % 100 < 10 THEN 'en_cours_analyse' \
              WHEN n % 100 < 15 THEN 'acceptee' WHEN n % 100 < 75 THEN 'traitee' \
              WHEN n % 100 < 85 THEN 'refusee' WHEN n % 100 < 90 THEN 'abandonnee' ELSE 'archivee' END, \
         CASE WHEN n % 100 < 3 THEN 'submitted' WHEN n % 100 < 10 THEN 'analysis' \
              WHEN n % 100 < 15 THEN 'processing' WHEN n % 100 < 90 THEN 'closed' ELSE 'archived' END, \
         CASE WHEN n % 3 = 0 THEN 'Gest_SVL_DACT_Cycles' ELSE 'Gest_SVL_DACT_Mobilités' END, \
         {submitted}, \
         CASE WHEN n % 100 < 3 THEN NULL ELSE {analysis} + {deadline} + {hold} END, \
         NULL, 1, {submitted}, {data}, NULL, \
         CASE WHEN n % 100 < 3 THEN NULL ELSE {analysis} END, \
         CASE WHEN n % 100 < 15 THEN NULL ELSE {closed} END, \
         CASE WHEN n % 100 < 3 THEN 0 ELSE {hold} END, \
         CASE WHEN n % 100 < 15 THEN NULL WHEN n % 100 < 75 THEN 'processed' \
              WHEN n % 100 < 85 THEN 'refused' WHEN n % 100 < 90 THEN 'abandoned' ELSE 'processed' END, \
         CASE WHEN n % 100 < 75 OR n % 100 >= 85 THEN NULL WHEN n % 3 = 0 THEN 'refusee' \
              WHEN n % 3 = 1 THEN 'annulee' ELSE 'absence_reponse_usager' END, \
         CASE WHEN n % 100 < 15 OR (n % 100 >= 85 AND n % 100 < 90) THEN NULL \
              ELSE {closed} - {analysis} - {hold} END, \
         CASE WHEN n % 100 < 3 OR n % 100 >= 15 THEN 0 WHEN n % 3 = 0 THEN 0 \
              WHEN n % 3 = 1 THEN 15 ELSE 21 END \
         FROM {sequence}",
        demarches = plan.demarches,
        deadline = 27 * DAY,
    )
}

/// The `INSERT … SELECT` of the survey answers: one closed demande in
/// eight answered the day after its closing, scores 1 to 5 in turn, three
/// demandes in four choosing one of the vélo survey's options.
fn survey_sql(postgres: bool) -> String {
    let n = if postgres {
        "substr(numero, 3)::bigint"
    } else {
        "CAST(substr(numero, 3) AS INTEGER)"
    };
    format!(
        "INSERT INTO survey_answers (demande_id, demarche, service, score, choices, comment, \
         free_answers, answered_at) \
         SELECT id, slug, primary_service, 1 + {n} % 5, \
         CASE {n} % 4 WHEN 0 THEN '{{}}' WHEN 1 THEN '{{\"connu_par\":\"Site de la ville\"}}' \
              WHEN 2 THEN '{{\"connu_par\":\"Bouche-à-oreille\"}}' \
              ELSE '{{\"connu_par\":\"Réseaux sociaux\"}}' END, \
         NULL, NULL, closed_at + {DAY} \
         FROM demandes WHERE closed_at IS NOT NULL AND {n} % 8 = 0"
    )
}

/// Median and worst of `runs` timed runs of `f` after 3 warm-up runs.
async fn time<F, Fut, T>(runs: usize, mut f: F) -> Result<(Duration, Duration, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    for _ in 0..3 {
        f().await?;
    }
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let began = Instant::now();
        last = Some(f().await?);
        times.push(began.elapsed());
    }
    times.sort();
    let last = last.ok_or_else(|| anyhow!("no run"))?;
    Ok((times[times.len() / 2], times[times.len() - 1], last))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn measure(database: &TestDatabase, plan: &Plan) -> Result<()> {
    let files = FileStore::new(database.dir.join("files"));
    let store = Store::connect(&database.url, files).await?;
    let postgres = store.backend() == Backend::Postgres;
    let version: String = sqlx::query(if postgres {
        "SELECT 'PostgreSQL ' || current_setting('server_version') AS v"
    } else {
        "SELECT 'SQLite ' || sqlite_version() AS v"
    })
    .fetch_one(&mut sqlx::AnyConnection::connect(&database.url).await?)
    .await?
    .try_get("v")?;
    let now = Utc
        .with_ymd_and_hms(YEAR + 1, 1, 15, 9, 0, 0)
        .single()
        .ok_or_else(|| anyhow!("date"))?;
    for d in 0..plan.demarches {
        let (definition, source) = definition(&format!("bench-{d}"))?;
        store.import_demarche(&definition, &source, now).await?;
    }

    let seeding = Instant::now();
    let mut conn = sqlx::AnyConnection::connect(&database.url).await?;
    let mut first = 1;
    while first <= plan.demandes {
        let last = (first + BATCH - 1).min(plan.demandes);
        conn.execute(insert_sql(plan, postgres, first, last).as_str())
            .await
            .with_context(|| format!("rows {first} to {last}"))?;
        first = last + 1;
    }
    conn.execute(survey_sql(postgres).as_str())
        .await
        .context("survey answers")?;
    if postgres {
        conn.execute("VACUUM ANALYZE demandes").await?;
        conn.execute("VACUUM ANALYZE survey_answers").await?;
    }
    let seeded = seeding.elapsed();

    let zone = Zone::default();
    let from = zone.day_start(NaiveDate::from_ymd_opt(YEAR, 1, 1).ok_or_else(|| anyhow!("date"))?);
    let until =
        zone.day_start(NaiveDate::from_ymd_opt(YEAR + 1, 1, 1).ok_or_else(|| anyhow!("date"))?);
    let in_window: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM demandes WHERE slug = 'bench-0' \
         AND submitted_at >= $1 AND submitted_at < $2",
    )
    .bind(from.timestamp_millis())
    .bind(until.timestamp_millis())
    .fetch_one(&mut conn)
    .await?
    .try_get("n")?;
    println!(
        "## {version}: {} rows seeded in {:.1} s; {in_window} filed in {YEAR} in the démarche measured",
        plan.demandes,
        seeded.as_secs_f64()
    );

    conn.close().await?;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database.url)
        .await?;
    let (baseline, baseline_worst, _) = time(plan.runs, || {
        let pool = &pool;
        async move {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM demandes WHERE slug = $1 \
                 AND submitted_at >= $2 AND submitted_at < $3",
            )
            .bind("bench-0")
            .bind(from.timestamp_millis())
            .bind(until.timestamp_millis())
            // Planned for its values each time, as the statistics are.
            .persistent(false)
            .fetch_one(pool)
            .await?;
            Ok(row.try_get::<i64, _>("n")?)
        }
    })
    .await?;
    pool.close().await;

    let scope = StatisticsScope {
        demarches: vec!["bench-0".into()],
        service: None,
    };
    let (figures, figures_worst, result) = time(plan.runs, || {
        let store = &store;
        let scope = &scope;
        async move { Ok(store.statistics(scope, from, until).await?) }
    })
    .await?;

    let guichet = guichet(&store, now);
    let caller = quality_caller(&store, now).await?;
    let request = StatisticsRequest {
        demarche: Some("bench-0".to_owned()),
        from: NaiveDate::from_ymd_opt(YEAR, 1, 1),
        to: NaiveDate::from_ymd_opt(YEAR, 12, 31),
        ..StatisticsRequest::default()
    };
    let (whole, whole_worst, stats) = time(plan.runs, || {
        let (guichet, caller, request) = (&guichet, &caller, request.clone());
        async move { Ok(statistics::statistics(guichet, caller, request).await?) }
    })
    .await?;
    let (satisfaction, satisfaction_worst, answers) = time(plan.runs, || {
        let store = &store;
        let scope = &scope;
        async move { Ok(store.satisfaction(scope, from, until).await?) }
    })
    .await?;
    let (csv, csv_worst, bytes) = time(plan.runs, || {
        let (guichet, caller, request) = (&guichet, &caller, request.clone());
        async move {
            let stats = statistics::statistics(guichet, caller, request).await?;
            Ok(statistics::export::csv(&stats)?)
        }
    })
    .await?;

    let ratio = |d: Duration| d.as_secs_f64() / baseline.as_secs_f64();
    println!("| measure | median | worst | × baseline |");
    println!("|---|---|---|---|");
    println!(
        "| baseline `COUNT(*)` of the démarche's demandes of {YEAR} | {} | {} | 1 |",
        ms(baseline),
        ms(baseline_worst)
    );
    println!(
        "| `Store::statistics` (received by status, closings, median, p90) | {} | {} | {:.1} |",
        ms(figures),
        ms(figures_worst),
        ratio(figures)
    );
    println!(
        "| `Store::satisfaction` (survey answers: scores, options) | {} | {} | {:.1} |",
        ms(satisfaction),
        ms(satisfaction_worst),
        ratio(satisfaction)
    );
    println!(
        "| the use case (`GET /api/statistics` without HTTP) | {} | {} | {:.1} |",
        ms(whole),
        ms(whole_worst),
        ratio(whole)
    );
    println!(
        "| the same and its CSV (`GET /api/statistics.csv`) | {} | {} | {:.1} |",
        ms(csv),
        ms(csv_worst),
        ratio(csv)
    );
    println!(
        "\nreceived {}, closed {}, measured {}, median {:?} d, p90 {:?} d, within the deadline {:?}, late now {}, never taken {}; {} survey answers, mean {:?}; CSV {} bytes; {} closing groups\n",
        stats.received.total,
        stats.closed.total,
        stats.processing_time.measured,
        stats.processing_time.median_days,
        stats.processing_time.p90_days,
        stats.deadline.share,
        stats.late,
        stats.untaken.count,
        answers.by_score.iter().sum::<u64>(),
        stats.satisfaction.mean_score,
        bytes.len(),
        result.closings.len(),
    );
    store.close().await;
    Ok(())
}

fn guichet(store: &Store, now: chrono::DateTime<Utc>) -> Guichet {
    let (registry, _) = guichet_tests::registry();
    Guichet {
        store: store.clone(),
        clock: Arc::new(ManualClock::new(now)),
        registry,
        zone: Zone::default(),
        breakers: Arc::default(),
        delivery: Arc::default(),
        environment: guichet_host::service::Environment::Test,
    }
}

/// A Qualité agent granted on every démarche, as the API would see them.
async fn quality_caller(store: &Store, now: chrono::DateTime<Utc>) -> Result<Caller> {
    let group = GroupName::parse("Qual_SVL_DGS_GRU").map_err(|e| anyhow!("{e}"))?;
    store.create_group(&group, now).await?;
    store
        .grant(
            &Grant {
                group: group.clone(),
                scope: Scope::All,
            },
            now,
        )
        .await?;
    let user = store
        .create_user(
            NewUser {
                login: "qualite@ville.test".to_owned(),
                display_name: "Qualité".to_owned(),
                kind: UserKind::Agent,
                profile: Profile::default(),
                password_hash: None,
            },
            now,
        )
        .await?;
    store.add_member(&group, user.id).await?;
    Ok(Caller {
        access: store.access(user.id).await?,
        user,
        credential: Credential::Session,
    })
}
