//! Load benchmark of filing: demandes submitted per second through HTTP
//! with a 20-field form (`load-20-champs.yaml`, no file field), on SQLite
//! and on PostgreSQL.
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench submit_load`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! For each backend the démarche is imported as `guichet demarche import`
//! does, then the application is started as `guichet serve` starts it
//! ([`App::start`] on the system clock, [`App::serve`] with its scheduler)
//! in this process, on a tokio runtime of its own with 2 workers; the
//! clients run on another runtime of 2 workers, so both share the
//! machine's cores as a server and its load generator would. Passwords are
//! hashed at the fast argon2 cost of the test suites: registering and
//! logging in are preparation, never measured.
//!
//! Then, per backend:
//! 1. `LOAD_SUBMISSIONS` usagers register and log in (not timed);
//! 2. warm-up: a tenth of them fill and submit a draft (not timed);
//! 3. for each number of clients C of `LOAD_CONCURRENCY`: every usager
//!    opens a draft and saves its 3 pages (20 answers; not timed), then C
//!    clients, each with its own keep-alive connection, POST `submit` for
//!    these drafts as fast as answers come back (timed: submissions per
//!    second, latency of each request); then, as the **baseline** of the
//!    same run, the same C clients POST the same 20 answers (one JSON
//!    body) for each usager to a bare route on its own port, which checks
//!    the session cookie as the API does and writes the answers as one
//!    row in one transaction through the same store
//!    (`Store::load_baseline_write`, feature `test-support`): the issue's
//!    aim is a submission rate of at least half the baseline's;
//! 4. at the C with the best throughput whose p99 meets the aim (or the
//!    lowest p99 when none does), the whole filing an usager really makes
//!    (open a draft, save 3 pages, submit: 5 requests) by every usager
//!    (timed: filings per second, latency of each request and filing).
//!
//! Any answer other than 2xx counts as an error; the first is printed.
//! Each timed round also prints the CPU time (user + system, from
//! `/proc/<pid>/stat`) it cost per unit, in µs: this process's (server and
//! clients) and PostgreSQL's processes' (the cluster's, whatever else runs
//! on it): what a submission costs beside the baseline's write.
//!
//! Environment: `LOAD_SUBMISSIONS` (5000 per round), `LOAD_CONCURRENCY`
//! (`8,16,32`), `LOAD_BACKENDS` (`sqlite,postgres`), `GUICHET_TEST_POSTGRES`
//! (the server's admin URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a database
//! `guichet_load_<uuid>` is created there and dropped at the end). When
//! PostgreSQL is unreachable, only SQLite is measured, and the output says
//! so.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures::{StreamExt, TryStreamExt, stream};
use guichet_core::clock::{Clock, SystemClock};
use guichet_core::demarche::Definition;
use guichet_host::app::{App, Config, open_store};
use guichet_host::http::PasswordCost;
use guichet_store::demarche::{DefinitionSource, SourceFormat};
use guichet_tests::app::usager_registration;
use guichet_tests::load::{DEFINITION, PAGES, SLUG, answers};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, Row};
use tokio::runtime::Runtime;
use uuid::Uuid;

#[path = "submit_load/measure.rs"]
mod measure;

use measure::{Cpu, Measure, ms, peak_resident_mb};

/// The server runs with the allocator of `guichet serve` (mimalloc), and
/// the clients with it too: one allocator per process.
#[global_allocator]
static ALLOCATOR: guichet_host::Allocator = guichet_host::Allocator;

/// The aims of the issue on this 2-core machine.
const AIM_SQLITE: f64 = 2_000.0;
const AIM_POSTGRES: f64 = 1_500.0;
const AIM_P99: Duration = Duration::from_millis(50);
/// Worker threads of the server's runtime, and of the clients'.
const WORKERS: usize = 2;
/// Requests in flight while preparing (registering, filling drafts).
const PREPARE_CONCURRENCY: usize = 16;
/// The body of every submission.
const SUBMIT_BODY: &str = r#"{"consent":true}"#;

fn main() -> Result<()> {
    let plan = Plan::from_env()?;
    let clients = runtime("load-client")?;
    sqlx::any::install_default_drivers();
    println!("{}", machine());
    println!(
        "{} submissions per round, clients {:?}, server runtime {WORKERS} workers, \
         client runtime {WORKERS} workers\n",
        plan.submissions, plan.concurrency
    );
    let mut reports = Vec::new();
    for backend in &plan.backends {
        let database = match backend {
            Kind::Sqlite => Database::Sqlite,
            Kind::Postgres => match clients.block_on(create_postgres_database()) {
                Ok(database) => database,
                Err(error) => {
                    println!("PostgreSQL not measured: {error:#}\n");
                    continue;
                }
            },
        };
        let report = measure(&clients, &database, &plan);
        if let Database::Postgres { admin, name, .. } = &database
            && let Err(error) = clients.block_on(drop_postgres_database(admin, name))
        {
            eprintln!("could not drop the database {name}: {error:#}");
        }
        reports.push(report?);
    }
    print_tables(&plan, &reports);
    println!(
        "Memory of this process (server, clients and their data): peak {} MB resident",
        peak_resident_mb().map_or_else(|| "unknown".to_owned(), |mb| mb.to_string())
    );
    Ok(())
}

/// What to run, from the environment.
struct Plan {
    submissions: usize,
    concurrency: Vec<usize>,
    backends: Vec<Kind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

impl Plan {
    fn from_env() -> Result<Plan> {
        let submissions = match std::env::var("LOAD_SUBMISSIONS") {
            Ok(n) => n.trim().parse().context("LOAD_SUBMISSIONS: a number")?,
            Err(_) => 5_000,
        };
        if submissions < 10 {
            bail!("LOAD_SUBMISSIONS: at least 10");
        }
        let concurrency = std::env::var("LOAD_CONCURRENCY")
            .unwrap_or_else(|_| "8,16,32".to_owned())
            .split(',')
            .map(|c| c.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .context("LOAD_CONCURRENCY: numbers separated by commas")?;
        if concurrency.is_empty() || concurrency.contains(&0) {
            bail!("LOAD_CONCURRENCY: at least one client");
        }
        let backends = std::env::var("LOAD_BACKENDS")
            .unwrap_or_else(|_| "sqlite,postgres".to_owned())
            .split(',')
            .map(|b| match b.trim() {
                "sqlite" => Ok(Kind::Sqlite),
                "postgres" => Ok(Kind::Postgres),
                other => Err(anyhow!("LOAD_BACKENDS: sqlite or postgres, not {other}")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Plan {
            submissions,
            concurrency,
            backends,
        })
    }

    fn warmup(&self) -> usize {
        (self.submissions / 10).max(1)
    }
}

fn runtime(name: &str) -> Result<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name(name)
        .enable_all()
        .build()?)
}

/// The machine, for the written-down results.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or_else(
            || "?".to_owned(),
            |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0),
        );
    format!(
        "Machine: {cores} cores, {memory} memory; {}",
        SystemClock.now().format("%Y-%m-%d %H:%M UTC")
    )
}

/// The database of one measure.
enum Database {
    Sqlite,
    Postgres {
        admin: String,
        name: String,
        url: String,
    },
}

fn postgres_admin_url() -> String {
    std::env::var("GUICHET_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn create_postgres_database() -> Result<Database> {
    let admin = postgres_admin_url();
    let Some((server, _)) = admin.rsplit_once('/') else {
        bail!("GUICHET_TEST_POSTGRES must end with /database: {admin}");
    };
    let name = format!("guichet_load_{}", Uuid::new_v4().simple());
    let mut conn =
        tokio::time::timeout(Duration::from_secs(5), sqlx::AnyConnection::connect(&admin))
            .await
            .map_err(|_| anyhow!("{admin} did not answer within 5 s"))?
            .with_context(|| format!("PostgreSQL unreachable at {admin}"))?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    conn.close().await?;
    Ok(Database::Postgres {
        url: format!("{server}/{name}"),
        admin,
        name,
    })
}

async fn drop_postgres_database(admin: &str, name: &str) -> Result<()> {
    let mut conn = sqlx::AnyConnection::connect(admin).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    conn.close().await?;
    Ok(())
}

/// The version of the database server or library.
async fn database_version(url: &str, kind: Kind) -> Result<String> {
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let query = match kind {
        Kind::Sqlite => "SELECT 'SQLite ' || sqlite_version() AS v",
        Kind::Postgres => "SELECT 'PostgreSQL ' || current_setting('server_version') AS v",
    };
    let version: String = sqlx::query(query)
        .fetch_one(&mut conn)
        .await?
        .try_get("v")?;
    conn.close().await?;
    Ok(version)
}

/// The figures of one backend.
struct Report {
    kind: Kind,
    version: String,
    rounds: Vec<Round>,
    /// The index in `rounds` of the concurrency kept.
    kept: usize,
    filing: Round,
}

/// One timed round.
struct Round {
    clients: usize,
    measure: Measure,
    /// The baseline's bare writes at the same number of clients.
    baseline: Option<Measure>,
}

/// Starts the application on `database`, measures, stops it, and removes
/// its files.
fn measure(clients: &Runtime, database: &Database, plan: &Plan) -> Result<Report> {
    let dir = std::env::temp_dir()
        .join("guichet-load")
        .join(Uuid::new_v4().simple().to_string());
    let (kind, url) = match database {
        Database::Sqlite => (
            Kind::Sqlite,
            format!("sqlite://{}", dir.join("guichet.db").display()),
        ),
        Database::Postgres { url, .. } => (Kind::Postgres, url.clone()),
    };
    let outcome = serve_and_measure(clients, kind, &dir, url, plan);
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn serve_and_measure(
    clients: &Runtime,
    kind: Kind,
    dir: &std::path::Path,
    url: String,
    plan: &Plan,
) -> Result<Report> {
    let listen = free_port()?;
    let mut config = Config::new(dir.to_path_buf(), Some(url.clone()), listen);
    config.settings.password_cost = PasswordCost::Fast;
    clients.block_on(import_demarche(&config))?;
    let version = clients.block_on(database_version(&url, kind))?;
    eprintln!("== {version}: {url}");
    let server = runtime("guichet-server")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (baseline_tx, baseline_rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    let (store_tx, mut store_rx) = tokio::sync::oneshot::channel::<guichet_store::Store>();
    let served = server.spawn(async move {
        let app = App::start(&config, Arc::new(SystemClock)).await?;
        // The baseline's bare route, on its own port, through the same
        // store.
        let store = app.state.store.clone();
        let _ = store_tx.send(store.clone());
        store
            .create_load_baseline()
            .await
            .expect("the baseline's table");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the baseline");
        let _ = baseline_tx.send(listener.local_addr().expect("its address"));
        tokio::spawn(axum::serve(listener, baseline_router(store)).into_future());
        app.serve(async {
            let _ = stopped.await;
        })
        .await
    });
    let base = format!("http://{listen}");
    let outcome = clients.block_on(async {
        wait_until_ready(&base, &served).await?;
        let baseline = format!("http://{}", baseline_rx.await?);
        drive(&base, &baseline, kind, plan).await
    });
    if let Ok(store) = store_rx.try_recv() {
        let (numbers, statements) = store.numbering_counts();
        if statements > 0 {
            eprintln!(
                "   numbers: {numbers} taken in {statements} counter statements ({:.2} a statement)",
                numbers as f64 / statements as f64
            );
        }
    }
    let _ = stop.send(());
    let ended =
        clients.block_on(async { tokio::time::timeout(Duration::from_secs(30), served).await });
    server.shutdown_timeout(Duration::from_secs(5));
    match ended {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => eprintln!("server stopped on an error: {error}"),
        Ok(Err(panic)) => eprintln!("server panicked: {panic}"),
        Err(_) => eprintln!("server did not stop within 30 s"),
    }
    let (rounds, kept, filing) = outcome?;
    Ok(Report {
        kind,
        version,
        rounds,
        kept,
        filing,
    })
}

/// A loopback address nobody listens on (the application binds it itself,
/// as `guichet serve --listen` does).
fn free_port() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

async fn import_demarche(config: &Config) -> Result<()> {
    let definition = Definition::from_yaml(DEFINITION)?;
    let store = open_store(config).await?;
    store
        .import_demarche(
            &definition,
            &DefinitionSource {
                format: SourceFormat::Yaml,
                text: DEFINITION.to_owned(),
            },
            SystemClock.now(),
        )
        .await?;
    store.close().await;
    Ok(())
}

async fn wait_until_ready<T>(base: &str, served: &tokio::task::JoinHandle<T>) -> Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if served.is_finished() {
            bail!("the server stopped while starting");
        }
        if let Ok(answer) = http.get(format!("{base}/health")).send().await
            && answer.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the server did not answer /health within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the phases of one backend against the server at `base`.
async fn drive(
    base: &str,
    baseline: &str,
    kind: Kind,
    plan: &Plan,
) -> Result<(Vec<Round>, usize, Round)> {
    let api = Api::new(base)?;
    let started = Instant::now();
    let usagers = api.enrol(plan.submissions).await?;
    eprintln!(
        "   {} usagers registered and logged in in {:.1} s",
        usagers.len(),
        started.elapsed().as_secs_f64()
    );
    let usagers = Arc::new(usagers);
    let most = plan.concurrency.iter().copied().max().unwrap_or(1);
    let warmup = api.fill_drafts(&usagers[..plan.warmup()]).await?;
    let warm = timed(base, most, submissions(&usagers, warmup)).await;
    if let Some(error) = &warm.first_error {
        bail!("warm-up submission refused: {error}");
    }
    let mut rounds = Vec::new();
    for &clients in &plan.concurrency {
        let started = Instant::now();
        let drafts = api.fill_drafts(&usagers).await?;
        eprintln!(
            "   {} drafts of 20 answers prepared in {:.1} s",
            drafts.len(),
            started.elapsed().as_secs_f64()
        );
        let measure = timed(base, clients, submissions(&usagers, drafts)).await;
        let bare = timed(baseline, clients, bare_writes(&usagers, &api.answers)).await;
        let (here, postgres) = measure.cpu_per_unit();
        let (bare_here, bare_postgres) = bare.cpu_per_unit();
        eprintln!(
            "   {kind:?}, {clients} clients: {:.0} submissions/s, p99 {:.1} ms, {} errors; \
             baseline {:.0}/s ({:.2}×); CPU µs each: {here:.0} here + {postgres:.0} PostgreSQL, \
             baseline {bare_here:.0} + {bare_postgres:.0}",
            measure.per_second(),
            ms(measure.request(0.99)),
            measure.errors,
            bare.per_second(),
            measure.per_second() / bare.per_second(),
        );
        rounds.push(Round {
            clients,
            measure,
            baseline: Some(bare),
        });
    }
    let kept = keep(&rounds);
    let clients = rounds[kept].clients;
    let measure = timed(base, clients, filings(&usagers, api.pages.clone())).await;
    let (here, postgres) = measure.cpu_per_unit();
    eprintln!(
        "   {kind:?}, {clients} clients: {:.0} whole filings/s, request p99 {:.1} ms, {} errors; \
         CPU µs each: {here:.0} here + {postgres:.0} PostgreSQL",
        measure.per_second(),
        ms(measure.request(0.99)),
        measure.errors
    );
    Ok((
        rounds,
        kept,
        Round {
            clients,
            measure,
            baseline: None,
        },
    ))
}

/// The round kept: the best throughput among those without errors whose
/// p99 meets the aim; the lowest p99 when none does.
fn keep(rounds: &[Round]) -> usize {
    let clean = |r: &&Round| r.measure.errors == 0;
    let meeting = rounds
        .iter()
        .enumerate()
        .filter(|(_, r)| clean(r) && r.measure.request(0.99) <= AIM_P99)
        .max_by(|(_, a), (_, b)| a.measure.per_second().total_cmp(&b.measure.per_second()));
    let lowest = || {
        rounds
            .iter()
            .enumerate()
            .min_by_key(|(_, r)| (r.measure.errors, r.measure.request(0.99)))
    };
    meeting.or_else(lowest).map_or(0, |(i, _)| i)
}

/// Preparation through the API, not timed.
struct Api {
    http: reqwest::Client,
    base: String,
    /// The answers of each page, as JSON bodies.
    pages: Arc<Vec<(String, String)>>,
    /// The 20 answers as one JSON body (the baseline's).
    answers: Arc<String>,
}

/// A logged-in usager: the `Cookie` header of their session.
struct Usager {
    cookie: String,
}

impl Api {
    fn new(base: &str) -> Result<Api> {
        let answers = answers();
        let pages = PAGES
            .iter()
            .map(|page| Ok(((*page).to_owned(), serde_json::to_string(&answers[page])?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Api {
            http: client()?,
            base: base.to_owned(),
            pages: Arc::new(pages),
            answers: Arc::new(answers.to_string()),
        })
    }

    /// Registers and logs in `count` usagers.
    async fn enrol(&self, count: usize) -> Result<Vec<Usager>> {
        let run = Uuid::new_v4().simple().to_string();
        stream::iter(0..count)
            .map(|i| self.enrol_one(format!("usager{i}.{}@charge.example.fr", &run[..8])))
            .buffered(PREPARE_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn enrol_one(&self, login: String) -> Result<Usager> {
        let password = "mot-de-passe-usager";
        let registration = usager_registration(&login, password, "Camille", "Martin");
        let url = format!("{}/api/auth/register", self.base);
        success(self.http.post(url).json(&registration).send().await?).await?;
        let url = format!("{}/api/auth/login", self.base);
        let credentials = json!({ "login": login, "password": password });
        let answer = success(self.http.post(url).json(&credentials).send().await?).await?;
        let cookie = answer
            .cookie
            .ok_or_else(|| anyhow!("login without a session cookie"))?;
        Ok(Usager { cookie })
    }

    /// Opens one draft per usager and saves its 3 pages; the drafts' ids.
    async fn fill_drafts(&self, usagers: &[Usager]) -> Result<Vec<String>> {
        stream::iter(usagers)
            .map(|usager| async {
                let mut draft = String::new();
                for step in filing_steps(&self.base, &self.pages, usager, false) {
                    let request = step.request(&self.http, &draft);
                    let answer = success(request.send().await?).await?;
                    if draft.is_empty() {
                        draft = answer.draft_id()?;
                    }
                }
                Ok::<_, anyhow::Error>(draft)
            })
            .buffered(PREPARE_CONCURRENCY)
            .try_collect()
            .await
    }
}

/// A reqwest client that keeps its connections alive.
fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(None)
        .build()?)
}

/// One request of a filing.
enum Step<'a> {
    Open {
        base: &'a str,
        cookie: &'a str,
    },
    Save {
        base: &'a str,
        cookie: &'a str,
        page: &'a str,
        body: &'a str,
    },
    Submit {
        base: &'a str,
        cookie: &'a str,
    },
}

/// The requests of a filing: open a draft, save each page, and submit
/// when `submit` says so.
fn filing_steps<'a>(
    base: &'a str,
    pages: &'a [(String, String)],
    usager: &'a Usager,
    submit: bool,
) -> Vec<Step<'a>> {
    let cookie = usager.cookie.as_str();
    let mut steps = vec![Step::Open { base, cookie }];
    steps.extend(pages.iter().map(|(page, body)| Step::Save {
        base,
        cookie,
        page,
        body,
    }));
    if submit {
        steps.push(Step::Submit { base, cookie });
    }
    steps
}

impl Step<'_> {
    /// The request, on the draft `draft` (empty before it is opened).
    fn request(&self, http: &reqwest::Client, draft: &str) -> reqwest::RequestBuilder {
        let (request, cookie, body) = match self {
            Step::Open { base, cookie } => (
                http.post(format!("{base}/api/drafts")),
                cookie,
                format!(r#"{{"demarche":"{SLUG}"}}"#),
            ),
            Step::Save {
                base,
                cookie,
                page,
                body,
            } => (
                http.put(format!("{base}/api/drafts/{draft}/pages/{page}")),
                cookie,
                (*body).to_owned(),
            ),
            Step::Submit { base, cookie } => (
                http.post(format!("{base}/api/drafts/{draft}/submit")),
                cookie,
                SUBMIT_BODY.to_owned(),
            ),
        };
        request
            .header(COOKIE, *cookie)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    }
}

/// A successful answer: its body and session cookie.
struct Answer {
    body: Vec<u8>,
    cookie: Option<String>,
}

impl Answer {
    fn draft_id(&self) -> Result<String> {
        let body: Value = serde_json::from_slice(&self.body)?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("draft without an id: {body}"))
    }
}

/// Reads an answer; an error for anything but 2xx.
async fn success(response: reqwest::Response) -> Result<Answer> {
    let status = response.status();
    let url = response.url().path().to_owned();
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body = response.bytes().await?.to_vec();
    if !status.is_success() {
        bail!("{url} → {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(Answer { body, cookie })
}

/// What a timed phase does for its `i`th unit of work.
trait Work: Send + Sync + 'static {
    /// Runs unit `i` over `http`, timing each request.
    fn run(
        &self,
        http: &reqwest::Client,
        base: &str,
        i: usize,
    ) -> impl Future<Output = Unit> + Send;
    /// How many units there are.
    fn count(&self) -> usize;
}

/// What one unit of work did.
#[derive(Default)]
struct Unit {
    requests: Vec<Duration>,
    error: Option<String>,
}

impl Unit {
    /// Sends one request, timing it up to the last byte of the answer.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> Option<Answer> {
        let started = Instant::now();
        let answer = match request.send().await {
            Ok(response) => success(response).await,
            Err(error) => Err(error.into()),
        };
        self.requests.push(started.elapsed());
        match answer {
            Ok(answer) => Some(answer),
            Err(error) => {
                self.error = Some(format!("{error:#}"));
                None
            }
        }
    }
}

/// Submitting prepared drafts.
struct Submissions {
    usagers: Arc<Vec<Usager>>,
    drafts: Vec<String>,
}

fn submissions(usagers: &Arc<Vec<Usager>>, drafts: Vec<String>) -> Submissions {
    Submissions {
        usagers: usagers.clone(),
        drafts,
    }
}

impl Work for Submissions {
    async fn run(&self, http: &reqwest::Client, base: &str, i: usize) -> Unit {
        let mut unit = Unit::default();
        let step = Step::Submit {
            base,
            cookie: &self.usagers[i].cookie,
        };
        unit.send(step.request(http, &self.drafts[i])).await;
        unit
    }

    fn count(&self) -> usize {
        self.drafts.len()
    }
}

/// The baseline: each usager's session cookie and the 20 answers, posted
/// to the bare route.
struct BareWrites {
    usagers: Arc<Vec<Usager>>,
    answers: Arc<String>,
}

fn bare_writes(usagers: &Arc<Vec<Usager>>, answers: &Arc<String>) -> BareWrites {
    BareWrites {
        usagers: usagers.clone(),
        answers: answers.clone(),
    }
}

impl Work for BareWrites {
    async fn run(&self, http: &reqwest::Client, base: &str, i: usize) -> Unit {
        let mut unit = Unit::default();
        let request = http
            .post(format!("{base}/baseline"))
            .header(COOKIE, &self.usagers[i].cookie)
            .header(CONTENT_TYPE, "application/json")
            .body(self.answers.as_str().to_owned());
        unit.send(request).await;
        unit
    }

    fn count(&self) -> usize {
        self.usagers.len()
    }
}

/// The baseline's server: `/health`, and `POST /baseline`, which checks
/// the session cookie as the API does (`Store::session_user`), reads the
/// JSON body and writes it as one row in one transaction
/// (`Store::load_baseline_write`).
fn baseline_router(store: guichet_store::Store) -> axum::Router {
    async fn write(
        axum::extract::State(store): axum::extract::State<guichet_store::Store>,
        headers: axum::http::HeaderMap,
        body: String,
    ) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        let Some(token) = headers
            .get(COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| {
                c.split(';')
                    .find_map(|p| p.trim().strip_prefix("guichet_session="))
            })
        else {
            return StatusCode::UNAUTHORIZED;
        };
        let Ok(answers) = serde_json::from_str::<Value>(&body) else {
            return StatusCode::UNPROCESSABLE_ENTITY;
        };
        let secret = guichet_store::session::Secret::from_client(token);
        match store
            .load_baseline_write(&secret, &answers.to_string(), chrono::Utc::now())
            .await
        {
            Ok(()) => StatusCode::CREATED,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/baseline", axum::routing::post(write))
        .with_state(store)
}

/// Whole filings: open, save the pages, submit.
struct Filings {
    usagers: Arc<Vec<Usager>>,
    pages: Arc<Vec<(String, String)>>,
}

fn filings(usagers: &Arc<Vec<Usager>>, pages: Arc<Vec<(String, String)>>) -> Filings {
    Filings {
        usagers: usagers.clone(),
        pages,
    }
}

impl Work for Filings {
    async fn run(&self, http: &reqwest::Client, base: &str, i: usize) -> Unit {
        let mut unit = Unit::default();
        let mut draft = String::new();
        for step in filing_steps(base, &self.pages, &self.usagers[i], true) {
            let Some(answer) = unit.send(step.request(http, &draft)).await else {
                break;
            };
            if draft.is_empty() {
                match answer.draft_id() {
                    Ok(id) => draft = id,
                    Err(error) => {
                        unit.error = Some(format!("{error:#}"));
                        break;
                    }
                }
            }
        }
        unit
    }

    fn count(&self) -> usize {
        self.usagers.len()
    }
}

/// Runs `work` with `clients` concurrent clients, each with its own
/// keep-alive connection (opened before the clock starts), taking the next
/// unit until none is left.
async fn timed<W: Work>(base: &str, clients: usize, work: W) -> Measure {
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (work, next, ready, base) =
                (work.clone(), next.clone(), ready.clone(), base.to_owned());
            tokio::spawn(async move {
                let mut done = Measure::default();
                let http = match client() {
                    Ok(http) => http,
                    Err(error) => {
                        ready.wait().await;
                        done.errors = 1;
                        done.first_error = Some(format!("client: {error:#}"));
                        return done;
                    }
                };
                // Opens the keep-alive connection.
                let _ = http.get(format!("{base}/health")).send().await;
                ready.wait().await;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= work.count() {
                        break;
                    }
                    let started = Instant::now();
                    let unit = work.run(&http, &base, i).await;
                    done.units_latency.push(started.elapsed());
                    done.units += 1;
                    done.requests.extend(unit.requests);
                    if let Some(error) = unit.error {
                        done.errors += 1;
                        done.first_error.get_or_insert(error);
                    }
                }
                done
            })
        })
        .collect();
    ready.wait().await;
    let cpu = Cpu::now();
    let started = Instant::now();
    let mut total = Measure::default();
    for worker in workers {
        match worker.await {
            Ok(done) => {
                total.units += done.units;
                total.requests.extend(done.requests);
                total.units_latency.extend(done.units_latency);
                total.errors += done.errors;
                if total.first_error.is_none() {
                    total.first_error = done.first_error;
                }
            }
            Err(panic) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert(format!("client panicked: {panic}"));
            }
        }
    }
    total.wall = started.elapsed();
    total.cpu = Cpu::now().since(cpu);
    total.requests.sort_unstable();
    total.units_latency.sort_unstable();
    total
}

fn print_tables(plan: &Plan, reports: &[Report]) {
    println!(
        "\nSubmissions: POST /api/drafts/{{id}}/submit of a draft holding 20 answers, \
         {} per round",
        plan.submissions
    );
    println!(
        "{:<10} {:>7} {:>14} {:>8} {:>8} {:>8} {:>7} {:>11} {:>6}  aim",
        "backend",
        "clients",
        "submissions/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "baseline/s",
        "ratio"
    );
    for report in reports {
        let aim = match report.kind {
            Kind::Sqlite => AIM_SQLITE,
            Kind::Postgres => AIM_POSTGRES,
        };
        for (i, round) in report.rounds.iter().enumerate() {
            let m = &round.measure;
            let met = m.errors == 0 && m.per_second() >= aim && m.request(0.99) <= AIM_P99;
            let bare = round.baseline.as_ref().map_or(0.0, Measure::per_second);
            println!(
                "{:<10} {:>7} {:>14.0} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>11.0} {:>5.2}×  ≥ {aim:.0}/s, p99 ≤ {} ms: {}{}",
                name(report.kind),
                round.clients,
                m.per_second(),
                ms(m.request(0.5)),
                ms(m.request(0.99)),
                ms(m.request(1.0)),
                m.errors,
                bare,
                m.per_second() / bare,
                AIM_P99.as_millis(),
                if met { "met" } else { "missed" },
                if i == report.kept { " (kept)" } else { "" },
            );
        }
    }
    println!(
        "\nWhole filings: open a draft, save 3 pages (20 answers), submit = 5 requests, \
         {} filings at the kept number of clients",
        plan.submissions
    );
    println!(
        "{:<10} {:>7} {:>10} {:>11} {:>8} {:>8} {:>8} {:>11} {:>7}",
        "backend",
        "clients",
        "filings/s",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "filing p99",
        "errors"
    );
    for report in reports {
        let m = &report.filing.measure;
        println!(
            "{:<10} {:>7} {:>10.0} {:>11.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} ms {:>7}",
            name(report.kind),
            report.filing.clients,
            m.per_second(),
            m.requests_per_second(),
            ms(m.request(0.5)),
            ms(m.request(0.99)),
            ms(m.request(1.0)),
            ms(m.unit(0.99)),
            m.errors,
        );
    }
    println!("(p50, p99, max: latency of each HTTP request; filing p99: of the 5 together)");
    let versions: Vec<&str> = reports.iter().map(|r| r.version.as_str()).collect();
    println!("Databases: {}", versions.join(", "));
    for report in reports {
        let firsts = report
            .rounds
            .iter()
            .chain([&report.filing])
            .filter_map(|r| r.measure.first_error.as_ref().map(|e| (r.clients, e)));
        for (clients, error) in firsts {
            println!(
                "{}, first error at {clients} clients: {error}",
                name(report.kind)
            );
        }
    }
    if !reports.iter().any(|r| r.kind == Kind::Postgres) && plan.backends.contains(&Kind::Postgres)
    {
        println!("PostgreSQL: not measured (see above)");
    }
}

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "SQLite",
        Kind::Postgres => "PostgreSQL",
    }
}
