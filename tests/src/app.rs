//! The API under test: [`run`] boots the application through
//! `guichet_host::app::App::start`, as `guichet serve` does (store, master
//! key, connector registry with its persistent journal, settings, router),
//! over a fresh database, with a [`ManualClock`] that tests move by hand,
//! and serves it on a free loopback port; [`Client`] speaks JSON to it as an
//! usager, an agent, a machine or nobody. The scheduler runs no round by
//! itself: [`TestApp::fire_due_timers`] and the clock jumps run them, with
//! the application's retention settings; nor does the transmission worker:
//! [`TestApp::transmit`] runs it.
//!
//! [`on_both_backends!`](crate::on_both_backends) runs each listed
//! `async fn name(app: TestApp)` twice, as `name::sqlite` (a new file in a
//! temporary directory) and `name::postgres` (a new database
//! `guichet_api_<uuid>` created through
//! `postgres://postgres@127.0.0.1:5432/postgres`, or `GUICHET_TEST_POSTGRES`,
//! and dropped at the end). An unreachable PostgreSQL fails the test
//! loudly, unless `GUICHET_SKIP_POSTGRES=1` says to skip that half.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::FutureExt;
use guichet_core::calendar::Zone;
use guichet_core::clock::ManualClock;
use guichet_core::demarche::Definition;
use guichet_core::id::Slug;
use guichet_core::profile::Profile;
use guichet_core::role::{Grant, GroupName, Scope};
use guichet_host::app::{App, Config};
use guichet_host::cli::demo::{famille_settings, famille_use};
use guichet_host::connectors::{InstanceConfig, Registry};
use guichet_host::http::{PasswordCost, PasswordHashing, Settings};
use guichet_host::scheduler::{Fired, Retention, fire_due_timers, round};
use guichet_host::service::accounts::hash_password;
use guichet_host::service::transmission::{self, Delivered};
use guichet_host::service::{Guichet, connectors};
use guichet_store::Store;
use guichet_store::account::{NewUser, UserKind};
use guichet_store::demarche::{DefinitionSource, SourceFormat};
use guichet_store::registry::InstanceUse;
use guichet_testdb::TestDatabase;
use serde_json::Value;

use crate::client::Auth;
pub use crate::client::{Client, Reply, session_cookie};

/// Runs each named `async fn(TestApp)` on SQLite and on PostgreSQL, as the
/// tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::app::run($crate::app::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::app::run($crate::app::Backend::Postgres, super::$name).await;
            }
        }
    )+};
}

/// The database of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// Monday 2 March 2026, 9:00 UTC: where every test's clock starts.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The running API and what a test needs to look underneath.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The store the API writes to.
    pub store: Store,
    /// The clock the API reads.
    pub clock: ManualClock,
    /// The connector registry the API uses (empty until a test installs).
    pub registry: Arc<Registry>,
    /// The database URL.
    pub url: String,
    /// The directory of attachments.
    pub files_dir: PathBuf,
    /// The backend.
    pub backend: Backend,
    /// The API's bounded password hashing (to observe its bound).
    pub passwords: Arc<PasswordHashing>,
    /// How long what has ended is kept (the application's settings).
    retention: Retention,
    /// The application layer the API calls (for the workers' runs).
    guichet: Guichet,
    /// The application's configuration (for [`TestApp::start_again`]).
    config: Config,
    http: reqwest::Client,
    people: Arc<Mutex<Vec<Person>>>,
    /// What runs until the test ends (simulated vendors).
    kept: Arc<Mutex<Vec<Box<dyn std::any::Any + Send>>>>,
}

/// Someone logged in: login, password, and their (shared) session cookie.
type Person = (String, String, Arc<Mutex<String>>);

/// The body of `POST /api/auth/register` for an usager living in
/// Marseille, born on 12 April 1988.
pub fn usager_registration(login: &str, password: &str, first: &str, last: &str) -> Value {
    serde_json::json!({
        "login": login,
        "password": password,
        "profile": {
            "first_name": first,
            "last_name": last,
            "phone": "06 12 34 56 78",
            "address": {
                "street": "12 rue de la République",
                "postcode": "13001",
                "city": "Marseille",
                "latitude": 43.2965,
                "longitude": 5.3698
            },
            "birth_date": "1988-04-12"
        }
    })
}

/// The settings of the test API: cheap password hashes, the rest as in
/// production.
pub fn test_settings() -> Settings {
    Settings {
        password_cost: PasswordCost::Fast,
        ..Settings::default()
    }
}

/// Starts the API on a fresh database of `backend`, runs `body`, then
/// removes everything (also when the body panics, whose panic is resumed).
///
/// # Panics
/// When the database or the server cannot start.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    run_with(backend, test_settings(), body).await;
}

/// [`run`] for a collectivité in another time zone (`Indian/Reunion`…).
///
/// # Panics
/// When the database or the server cannot start.
pub async fn run_in_zone<F, Fut>(backend: Backend, zone: Zone, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let settings = Settings {
        time_zone: zone,
        ..test_settings()
    };
    run_with(backend, settings, body).await;
}

/// [`run`] with mails delivered to a real SMTP server (`mail-sim`, started
/// for the test), which `body` reads. The links in the mails name
/// `https://demarches.ville-saint-laurent.fr`: open their paths on
/// [`TestApp::base`].
///
/// # Panics
/// When the sink, the database or the server cannot start.
pub async fn run_with_mail<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp, mail_sim::MailSink) -> Fut,
    Fut: Future<Output = ()>,
{
    let sink = mail_sim::MailSink::start().expect("SMTP sink started");
    let mailer = guichet_host::mail::Mailer::new(
        &crate::mail_settings(sink.smtp_addr(), std::time::Duration::from_secs(5)),
        "Ville de Saint-Laurent",
    )
    .expect("mailer");
    let settings = Settings {
        delivery: Arc::new(guichet_host::service::notifications::Delivery {
            mailer: Some(mailer),
            public_url: "https://demarches.ville-saint-laurent.fr".to_owned(),
            ..guichet_host::service::notifications::Delivery::default()
        }),
        ..test_settings()
    };
    run_with(backend, settings, |app| body(app, sink)).await;
}

/// How long the server may take to stop once a test is over.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The configuration of the application under test: the test database and
/// its directory, `settings`, the shared cache of precompiled components,
/// and no scheduler period (the tests run the rounds after moving the
/// clock).
fn config(database: &TestDatabase, settings: Settings) -> Config {
    let mut config = Config::new(
        database.dir.clone(),
        Some(database.url.clone()),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    config.settings = settings;
    config.runtime.cache_dir = crate::cache_dir();
    config.runtime.pooling = false;
    config.scheduler_period = None;
    config
}

/// [`run`] with these settings.
///
/// # Panics
/// When the database or the server cannot start, or the server stops on an
/// error.
pub async fn run_with<F, Fut>(backend: Backend, settings: Settings, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = TestDatabase::create(backend == Backend::Postgres, "api").await else {
        return;
    };
    let config = config(&database, settings);
    let clock = ManualClock::new(start());
    let app = App::start(&config, Arc::new(clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("{backend:?} application at {}: {e}", database.url));
    let state = app.state.clone();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .expect("port bound");
    let address = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(app.serve_on(listener, async {
        let _ = stopped.await;
    }));
    let test_app = TestApp {
        base: format!("http://{address}"),
        store: state.store.clone(),
        clock,
        registry: state.registry.clone(),
        url: database.url.clone(),
        files_dir: config.files_dir(),
        backend,
        passwords: state.passwords.clone(),
        retention: state.settings.retention,
        guichet: state.guichet(),
        config: config.clone(),
        http: reqwest::Client::new(),
        people: Arc::default(),
        kept: Arc::default(),
    };
    let outcome = AssertUnwindSafe(body(test_app)).catch_unwind().await;
    let _ = stop.send(());
    let served = tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await;
    if served.is_err() {
        server.abort();
        state.store.close().await;
    }
    database.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    match served {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => panic!("the server stopped on an error: {error}"),
        Ok(Err(error)) => panic!("the server task failed: {error}"),
        Err(_) => panic!("the server did not stop within {SHUTDOWN_GRACE:?}"),
    }
}

impl TestApp {
    /// A second application started through `App::start` on the same
    /// database, data directory and master key, as a restarted host (or a
    /// second host of the database) would be; not serving. Close its store
    /// (`state.store.close()`) when done.
    ///
    /// # Panics
    /// When it does not start.
    pub async fn start_again(&self) -> App {
        App::start(&self.config, Arc::new(self.clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("restart on {}: {e}", self.url))
    }

    /// Keeps `value` (a simulated vendor's handle) alive until the test
    /// ends.
    pub fn keep<T: Send + 'static>(&self, value: T) {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(value));
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            auth: Auth::None,
        }
    }

    /// A client sending this session cookie.
    pub fn with_cookie(&self, cookie: &str) -> Client {
        Client {
            auth: Auth::Cookie(Arc::new(Mutex::new(cookie.to_owned()))),
            ..self.anonymous()
        }
    }

    /// A client sending this API token.
    pub fn with_token(&self, secret: &str) -> Client {
        Client {
            auth: Auth::Bearer(secret.to_owned()),
            ..self.anonymous()
        }
    }

    async fn open_session(&self, login: &str, password: &str) -> String {
        let reply = self
            .anonymous()
            .post(
                "/api/auth/login",
                serde_json::json!({ "login": login, "password": password }),
            )
            .await;
        reply.expect(200);
        session_cookie(&reply).expect("session cookie")
    }

    /// Logs in through the API. Sessions last 12 hours of the clock: the
    /// person logs in again after each clock jump ([`TestApp::jump_days`]).
    ///
    /// # Panics
    /// When the login is refused.
    pub async fn login(&self, login: &str, password: &str) -> Client {
        let cookie = Arc::new(Mutex::new(self.open_session(login, password).await));
        self.people
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((login.to_owned(), password.to_owned(), cookie.clone()));
        Client {
            auth: Auth::Cookie(cookie),
            ..self.anonymous()
        }
    }

    /// Everyone logged in with [`TestApp::login`] logs in again (their
    /// sessions expired while the clock jumped).
    pub async fn log_everyone_in_again(&self) {
        let people = self
            .people
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (login, password, cookie) in people {
            let fresh = self.open_session(&login, &password).await;
            *cookie.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
        }
    }

    /// Registers an usager (first name, last name; login = e-mail) through
    /// the API and logs them in.
    pub async fn usager(&self, first: &str, last: &str, email: &str) -> Client {
        let password = "mot-de-passe-usager";
        self.anonymous()
            .post(
                "/api/auth/register",
                usager_registration(email, password, first, last),
            )
            .await
            .expect(201);
        self.login(email, password).await
    }

    /// Creates an agent in the store, member of `groups`, and logs them in.
    pub async fn agent(&self, login: &str, groups: &[&str]) -> Client {
        let password = "mot-de-passe-agent";
        let hash = hash_password(password.to_owned(), PasswordCost::Fast)
            .await
            .expect("hash");
        let user = self
            .store
            .create_user(
                NewUser {
                    login: login.to_owned(),
                    display_name: login.to_owned(),
                    kind: UserKind::Agent,
                    profile: Profile::default(),
                    password_hash: Some(hash),
                },
                self.clock_now(),
            )
            .await
            .expect("agent created");
        for group in groups {
            let name = GroupName::parse(group).expect("group name");
            if !self.store.groups().await.expect("groups").contains(&name) {
                self.store
                    .create_group(&name, self.clock_now())
                    .await
                    .expect("group created");
            }
            self.store
                .add_member(&name, user.id)
                .await
                .expect("member added");
        }
        self.login(login, password).await
    }

    /// Grants a group (created if needed) on a démarche, or on all.
    pub async fn grant(&self, group: &str, demarche: Option<&str>) {
        let name = GroupName::parse(group).expect("group name");
        if !self.store.groups().await.expect("groups").contains(&name) {
            self.store
                .create_group(&name, self.clock_now())
                .await
                .expect("group created");
        }
        let scope = demarche.map_or(Scope::All, |slug| Scope::Demarche(Slug::from(slug)));
        self.store
            .grant(&Grant { group: name, scope }, self.clock_now())
            .await
            .expect("grant");
    }

    /// Imports an example démarche of `examples/demarches/`.
    pub async fn import(&self, name: &str) -> Definition {
        let (definition, source) = example(name);
        self.store
            .import_demarche(&definition, &source, self.clock_now())
            .await
            .expect("import");
        definition
    }

    /// Imports the démarche `text` (YAML), for instance a variant of an
    /// example under another slug.
    pub async fn import_yaml(&self, text: String) -> Definition {
        let definition = Definition::from_yaml(&text).expect("definition valid");
        self.store
            .import_demarche(
                &definition,
                &DefinitionSource {
                    format: SourceFormat::Yaml,
                    text,
                },
                self.clock_now(),
            )
            .await
            .expect("import");
        definition
    }

    /// The token of a demande's survey link as a mail queued now carries it
    /// (`service::survey::link`, the part after `/enquete/`).
    ///
    /// # Panics
    /// If `demande` is not a demande id.
    pub fn survey_token(&self, demande: &str) -> String {
        let id = guichet_core::id::DemandeId::parse(demande).expect("a demande id");
        let link = guichet_host::service::survey::link(&self.guichet, id, self.clock_now());
        link.rsplit('/').next().unwrap_or_default().to_owned()
    }

    /// The API's "now".
    pub fn clock_now(&self) -> DateTime<Utc> {
        use guichet_core::clock::Clock;
        self.clock.now()
    }

    /// Moves the clock by `days`, runs a round of the scheduler (due timers,
    /// end-of-life sweep with the application's retention), and logs
    /// everyone in again.
    pub async fn jump_days(&self, days: i64) -> Fired {
        self.clock.advance(Duration::days(days));
        self.fire_and_log_in_again().await
    }

    /// Moves the clock to `start() + days`, runs a round of the scheduler,
    /// and logs everyone in again.
    pub async fn at_day(&self, days: f64) -> Fired {
        self.clock
            .set(start() + Duration::minutes((days * 24.0 * 60.0) as i64));
        self.fire_and_log_in_again().await
    }

    /// Installs the connector `component` (a path to its `.wasm`) and
    /// configures its instance `config` on its latest version, as an
    /// administrator would: written to the store, so a restarted host or
    /// another host of the database finds them.
    pub async fn connect(&self, component: &str, config: InstanceConfig) {
        self.install(component).await;
        connectors::configure(&self.guichet, config, None)
            .await
            .expect("instance configured");
    }

    /// Installs the connector version `component` (a path to its `.wasm`)
    /// through the application layer (stored, then loaded).
    pub async fn install(&self, component: &str) {
        let bytes = std::fs::read(component).expect("component read");
        connectors::install(&self.guichet, bytes)
            .await
            .expect("connector installs");
    }

    /// Sets how the platform uses the running instance `id` (its account
    /// link, its synchronisation interval), as an administrator's
    /// configuration would.
    pub async fn use_instance(&self, id: &str, uses: InstanceUse) {
        connectors::set_use(&self.guichet, id, uses)
            .await
            .expect("instance use accepted");
    }

    /// A simulated Espace famille, its component installed as the
    /// `espace-famille-ville` instance the restauration names, configured
    /// as the demo does: its settings and the account link it offers
    /// (family code and secret for usagers).
    pub async fn connect_famille(&self) -> espace_famille_sim::Handle {
        let sim = crate::espace_famille().await;
        self.connect(
            crate::components::ESPACE_FAMILLE,
            crate::instance_config(
                crate::filing::FAMILLE,
                "espace-famille",
                &sim.base_url(),
                famille_settings(&sim.base_url(), crate::FAMILLE_TOKEN),
            ),
        )
        .await;
        self.use_instance(crate::filing::FAMILLE, famille_use())
            .await;
        sim
    }

    /// Runs every transmission to vendors due at the clock's instant, as
    /// the worker of `guichet serve` does every few seconds.
    pub async fn transmit(&self) -> Delivered {
        transmission::run(&self.guichet, "test-worker")
            .await
            .expect("transmissions run")
    }

    /// Delivers every notification due at the clock's instant, as the
    /// notification worker would.
    ///
    /// # Panics
    /// When the store fails.
    pub async fn notify(&self) -> guichet_host::service::notifications::Notified {
        guichet_host::service::notifications::run(&self.guichet, "test-worker")
            .await
            .expect("notifications delivered")
    }

    /// Fires every timer due at the clock's instant, as the scheduler would.
    pub async fn fire_due_timers(&self) -> Fired {
        fire_due_timers(&self.store, "test-scheduler", self.clock_now())
            .await
            .expect("timers fired")
    }

    /// A round of the scheduler, as `guichet serve` runs one each period:
    /// the due timers, then the end-of-life sweep with the application's
    /// retention settings; then everyone logs in again.
    async fn fire_and_log_in_again(&self) -> Fired {
        let (fired, _) = round(
            &self.store,
            "test-scheduler",
            self.clock_now(),
            &self.retention,
        )
        .await
        .expect("scheduler round");
        self.log_everyone_in_again().await;
        fired
    }
}

/// Reads an example definition from `examples/demarches/` with its text.
///
/// # Panics
/// When the file is missing or invalid.
pub fn example(name: &str) -> (Definition, DefinitionSource) {
    let text = std::fs::read_to_string(example_path(name)).expect("example read");
    let definition = Definition::from_yaml(&text).expect("example valid");
    (
        definition,
        DefinitionSource {
            format: SourceFormat::Yaml,
            text,
        },
    )
}

/// The path of an example definition.
pub fn example_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/demarches")
        .join(format!("{name}.yaml"))
}

/// A small PDF.
pub fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {marker}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n").into_bytes()
}

/// A small JPEG.
pub fn jpeg(marker: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
    bytes.extend_from_slice(marker.as_bytes());
    bytes
}

/// A small PNG (its signature and a marker).
pub fn png(marker: &str) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(marker.as_bytes());
    bytes
}

/// A Windows executable (to rename `facture.pdf`).
pub fn exe() -> Vec<u8> {
    let mut bytes = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    bytes.extend_from_slice(b"This program cannot be run in DOS mode.");
    bytes
}
