//! Assembling the application: configuration, store, connector registry,
//! scheduler and HTTP router.
//!
//! [`Config`] says where things live: the data directory (attachments under
//! `files/`, the precompiled-component cache under `cache/`, and the SQLite
//! database `guichet.db` unless a database URL says otherwise), the listen
//! address, the connector runtime's set-up, how often the scheduler runs and
//! the API's [`Settings`] (among them the collectivité's time zone, which the
//! store also receives). [`App::start`] opens (and migrates) the store,
//! starts the connector runtime with the clock it is given and puts back
//! every connector version and instance stored in the database
//! ([`crate::service::connectors::restore`]), so a restarted host serves
//! the instances it served before; [`App::serve`]
//! runs the scheduler and the transmission worker on that clock beside the
//! HTTP server until the shutdown future resolves.
//!
//! `guichet serve`, `guichet demo` and the test harness (`tests/src/app.rs`)
//! all boot through [`App::start`]. The tests give it a `ManualClock`, their
//! settings and no scheduler period, serve on a port they bound
//! ([`App::serve_on`]), and run the scheduler's rounds themselves after each
//! jump of their clock.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use guichet_core::clock::Clock;
use guichet_store::{FileStore, MasterKey, Store, StoreError};

use crate::connectors::{Registry, Runtime, RuntimeConfig};
use crate::http::{AppState, Settings, router};
use crate::service::journal::PersistentJournal;

/// How often the scheduler looks for due timers.
pub const SCHEDULER_PERIOD: Duration = Duration::from_secs(30);

/// How often the transmission worker looks for due transmissions (it runs
/// when the scheduler does).
pub const TRANSMISSION_PERIOD: Duration = Duration::from_secs(2);

/// Where the application keeps its data and listens.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The data directory (files, component cache, default SQLite file).
    pub data_dir: PathBuf,
    /// The HTTP address.
    pub listen: SocketAddr,
    /// The file of the master key sealing personal values (see
    /// `guichet_store::seal`); `None`: `master.key` in `data_dir`.
    pub master_key_file: Option<PathBuf>,
    /// The connector runtime (default: the precompiled-component cache in
    /// `cache/` of the data directory).
    pub runtime: RuntimeConfig,
    /// How often the scheduler runs a round by itself (default
    /// [`SCHEDULER_PERIOD`]). `None`: never by itself; whoever moves the
    /// clock runs the rounds (the tests, after each jump of their clock).
    pub scheduler_period: Option<Duration>,
    /// How often the host compares its connector registry with the store
    /// besides PostgreSQL's announcements (default
    /// [`crate::service::connectors::REGISTRY_POLL`]; `None`: only on
    /// announcements). Runs when the scheduler runs by itself.
    pub registry_poll: Option<Duration>,
    /// Tunables of the API.
    pub settings: Settings,
}

/// The default database: a SQLite file in the data directory.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("guichet.db").display())
}

impl Config {
    /// A configuration; without a database URL, SQLite in `data_dir`.
    pub fn new(data_dir: PathBuf, database_url: Option<String>, listen: SocketAddr) -> Config {
        Config {
            database_url: database_url
                .filter(|url| !url.trim().is_empty())
                .unwrap_or_else(|| default_database_url(&data_dir)),
            runtime: RuntimeConfig::new(data_dir.join("cache")),
            data_dir,
            listen,
            master_key_file: None,
            scheduler_period: Some(SCHEDULER_PERIOD),
            registry_poll: Some(crate::service::connectors::REGISTRY_POLL),
            settings: Settings::default(),
        }
    }

    /// The directory of attachments.
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// The file of the master key.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(guichet_store::seal::MASTER_KEY_FILE))
    }
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or migrated.
    #[error("base de données : {0}")]
    Store(#[from] StoreError),
    /// The connector runtime could not start.
    #[error("moteur de connecteurs : {0}")]
    Runtime(String),
    /// The address could not be bound.
    #[error("écoute impossible sur {0} : {1}")]
    Listen(SocketAddr, std::io::Error),
    /// The server stopped on an error.
    #[error("serveur : {0}")]
    Serve(std::io::Error),
}

/// Opens the store of a configuration (creating the SQLite file on first
/// start) and brings its schema up to date.
///
/// # Errors
/// [`StartError::Store`].
pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    let master = MasterKey::load_or_create(&config.master_key_path())?;
    Ok(Store::connect_with_key(
        &config.database_url,
        FileStore::new(config.files_dir()),
        &master,
    )
    .await?
    .with_zone(config.settings.time_zone))
}

/// A connector registry whose journal is persisted in `store`
/// ([`PersistentJournal`]), its calls timed by `clock`.
///
/// # Errors
/// [`StartError::Runtime`].
pub fn persistent_registry(
    config: RuntimeConfig,
    store: Store,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Registry>, StartError> {
    let journal = Arc::new(PersistentJournal::new(store, clock));
    let runtime = Runtime::new(config, journal).map_err(|e| StartError::Runtime(e.to_string()))?;
    Ok(Arc::new(Registry::new(runtime)))
}

/// The application, ready to serve.
#[derive(Clone)]
pub struct App {
    /// What the handlers share.
    pub state: AppState,
    /// Where it listens.
    pub listen: SocketAddr,
    /// How often the scheduler runs a round by itself, if at all.
    scheduler_period: Option<Duration>,
    /// How often the registry is compared with the store, if at all.
    registry_poll: Option<Duration>,
}

impl App {
    /// Opens the store, starts the connector runtime with every stored
    /// connector version and instance, and reads time from `clock`.
    ///
    /// # Errors
    /// A [`StartError`].
    pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> Result<App, StartError> {
        let store = open_store(config).await?;
        let registry = persistent_registry(config.runtime.clone(), store.clone(), clock.clone())?;
        let restored = crate::service::connectors::restore(&store, &registry).await?;
        tracing::info!(
            versions = restored.versions,
            instances = restored.instances,
            skipped = restored.skipped,
            "connector registry restored"
        );
        Ok(App {
            state: AppState::new(store, clock, registry, config.settings.clone()),
            listen: config.listen,
            scheduler_period: config.scheduler_period,
            registry_poll: config.registry_poll,
        })
    }

    /// Serves the API on [`App::listen`] and runs the scheduler on the
    /// state's clock until `shutdown` resolves.
    ///
    /// # Errors
    /// [`StartError::Listen`] or [`StartError::Serve`].
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| StartError::Listen(self.listen, e))?;
        self.serve_on(listener, shutdown).await
    }

    /// [`App::serve`] on a listener already bound (the tests bind port 0
    /// and read the address first). Closes the store once served.
    ///
    /// # Errors
    /// [`StartError::Serve`].
    pub async fn serve_on(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let worker = format!("guichet-{}", std::process::id());
        let scheduler = self.scheduler_period.map(|period| {
            tokio::spawn(crate::scheduler::run(
                Arc::new(self.state.store.clone()),
                self.state.clock.clone(),
                worker.clone(),
                period,
                self.state.settings.retention,
            ))
        });
        let transmissions = self.scheduler_period.map(|_| {
            tokio::spawn(crate::service::transmission::work(
                self.state.guichet(),
                worker.clone(),
                TRANSMISSION_PERIOD,
            ))
        });
        let notifications = self.scheduler_period.map(|_| {
            tokio::spawn(crate::service::notifications::work(
                self.state.guichet(),
                worker,
                TRANSMISSION_PERIOD,
            ))
        });
        let registry = self.scheduler_period.map(|_| {
            tokio::spawn(crate::service::connectors::watch(
                self.state.store.clone(),
                self.state.registry.clone(),
                self.registry_poll,
            ))
        });
        let served = axum::serve(
            listener,
            router(self.state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        for task in [scheduler, transmissions, notifications, registry]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.state.store.close().await;
        served.map_err(StartError::Serve)
    }
}
