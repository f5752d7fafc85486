//! The runtime: one wasmtime `Engine` per process, components loaded into
//! [`ConnectorVersion`]s, and the call path (a fresh `Store` per call).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use super::bounds::{RecordLimits, cut_masked};
use super::cache::{Cache, CacheError};
use super::capability::{self, Capability};
use super::contract::{self, Bound};
use super::error::{CallError, InstallError};
use super::host::{AttachmentSource, CallState};
use super::instance::{Instance, MAX_MEMORY_MIB};
use super::journal::{self, CallRecord, Journal, Outcome};
use super::model::{Description, Operation, Request, Response};
use super::validation::{check_header, placeholder_description, validate_description};

/// Room for the words a [`CallError`] puts around a guest's bounded message,
/// bytes.
const ERROR_WORDS_BYTES: usize = 512;

/// How the runtime is set up.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Directory of the precompiled-component cache.
    pub cache_dir: PathBuf,
    /// Calls running at once, all instances together (default 64); further
    /// calls wait for a slot.
    pub max_concurrent_calls: u32,
    /// Calls running at once for one instance (default: a quarter of
    /// `max_concurrent_calls`, at least 1), so one vendor cannot hold every
    /// slot and starve the others; further calls of that instance wait.
    pub max_calls_per_instance: Option<u32>,
    /// What one call's record may keep: logs, exchanges, error sizes.
    pub record_limits: RecordLimits,
    /// Use wasmtime's pooling allocator (fast instantiation); falls back to the
    /// on-demand allocator if the pool cannot be reserved.
    pub pooling: bool,
    /// Epoch tick: the granularity of deadlines and of yielding to tokio.
    pub epoch_tick: Duration,
}

impl RuntimeConfig {
    /// Defaults with the cache in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            max_concurrent_calls: 64,
            max_calls_per_instance: None,
            record_limits: RecordLimits::default(),
            pooling: true,
            epoch_tick: Duration::from_millis(10),
        }
    }

    /// The per-instance share of the call slots (see
    /// [`RuntimeConfig::max_calls_per_instance`]).
    pub fn instance_share(&self) -> usize {
        let share = self
            .max_calls_per_instance
            .unwrap_or(self.max_concurrent_calls / 4);
        share.clamp(1, self.max_concurrent_calls.max(1)) as usize
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("démarrage du moteur de connecteurs impossible : {0}")]
pub struct StartError(String);

/// An installed connector version: validated, described, pre-instantiated.
pub struct ConnectorVersion {
    description: Description,
    digest: String,
    size: usize,
    imports: Vec<(String, Capability)>,
    bound: Bound,
}

impl std::fmt::Debug for ConnectorVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorVersion")
            .field("name", &self.description.name)
            .field("version", &self.description.version)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl ConnectorVersion {
    /// What the connector said about itself at install.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// Connector name.
    pub fn name(&self) -> &str {
        &self.description.name
    }

    /// Connector version.
    pub fn version(&self) -> &str {
        &self.description.version
    }

    /// SHA-256 of the component bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Size of the component in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Every interface the component imports, with what it gives the guest.
    pub fn imports(&self) -> &[(String, Capability)] {
        &self.imports
    }

    /// The imports linked to a deny-all implementation (filesystem, sockets…).
    pub fn denied_imports(&self) -> Vec<&str> {
        self.imports
            .iter()
            .filter(|(_, c)| *c == Capability::DenyAll)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// The connector runtime. Cheap to clone; clones share the engine.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<CallState>,
    cache: Cache,
    slots: Semaphore,
    max_slots: usize,
    /// One semaphore per instance id, each with `instance_share` permits.
    instance_slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    instance_share: usize,
    record_limits: RecordLimits,
    journal: Arc<dyn Journal>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Starts the engine, its epoch ticker and the cache.
    ///
    /// # Errors
    /// [`StartError`] when the engine or the cache directory cannot be set up.
    pub fn new(config: RuntimeConfig, journal: Arc<dyn Journal>) -> Result<Self, StartError> {
        let engine = if config.pooling {
            match Engine::new(&engine_config(Some(config.max_concurrent_calls))) {
                Ok(engine) => engine,
                Err(e) => {
                    tracing::warn!(error = %e, "pooling allocator unavailable, using on-demand instances");
                    Engine::new(&engine_config(None)).map_err(|e| StartError(e.to_string()))?
                }
            }
        } else {
            Engine::new(&engine_config(None)).map_err(|e| StartError(e.to_string()))?
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| StartError(e.to_string()))?;
        contract::add_to_linker(&mut linker).map_err(|e| StartError(e.to_string()))?;
        let cache = Cache::new(&config.cache_dir, &engine)
            .map_err(|e| StartError(format!("{} : {e}", config.cache_dir.display())))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), config.epoch_tick, ticker_stop.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache,
                slots: Semaphore::new(config.max_concurrent_calls as usize),
                max_slots: config.max_concurrent_calls as usize,
                instance_slots: Mutex::new(HashMap::new()),
                instance_share: config.instance_share(),
                record_limits: config.record_limits,
                journal,
                ticker_stop,
            }),
        })
    }

    /// Calls running now (for health and metrics).
    pub fn calls_in_flight(&self) -> usize {
        self.inner.max_slots - self.inner.slots.available_permits()
    }

    /// Calls of the instance `instance_id` running now.
    pub fn calls_in_flight_of(&self, instance_id: &str) -> usize {
        let slots = self.instance_slots(instance_id);
        self.inner.instance_share - slots.available_permits()
    }

    /// The semaphore of one instance, made on its first call.
    fn instance_slots(&self, instance_id: &str) -> Arc<Semaphore> {
        let mut map = self
            .inner
            .instance_slots
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(instance_id.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.instance_share)))
            .clone()
    }

    /// The journal every call is recorded to.
    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.inner.journal
    }

    /// Loads, validates and describes the component in `path`.
    ///
    /// # Errors
    /// See [`Runtime::load`]; also [`InstallError::Read`].
    pub async fn load_file(&self, path: &Path) -> Result<Arc<ConnectorVersion>, InstallError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| InstallError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        self.load(bytes).await
    }

    /// Loads a component: checks it is a component, compiles it (or reads it
    /// back from the cache), matches it against the supported contracts,
    /// pre-instantiates it and calls `describe`, whose answer must be valid.
    ///
    /// # Errors
    /// [`InstallError`] naming what is wrong, in French.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Arc<ConnectorVersion>, InstallError> {
        check_header(&bytes)?;
        let digest = Cache::digest(&bytes);
        let size = bytes.len();
        let component = {
            let inner = self.inner.clone();
            let digest = digest.clone();
            tokio::task::spawn_blocking(move || inner.cache.load(&inner.engine, &bytes, &digest))
                .await
                .map_err(|e| InstallError::Invalid(e.to_string()))?
                .map_err(|e| match e {
                    CacheError::Compile(why) => InstallError::Invalid(why),
                    CacheError::Io(why) => InstallError::Cache(why),
                })?
        };
        let imports = self.classify_imports(&component)?;
        let bound = self.bind(&component)?;
        let unnamed = ConnectorVersion {
            description: placeholder_description(),
            digest,
            size,
            imports,
            bound,
        };
        let instance = Arc::new(Instance::bare("installation")?);
        let description = match self.run(&unnamed, &instance, Request::Describe, None).await {
            Ok(Response::Describe(d)) => d,
            Ok(other) => {
                return Err(InstallError::Description(format!(
                    "réponse inattendue : {other:?}"
                )));
            }
            Err(e) => return Err(InstallError::Describe(Box::new(e))),
        };
        validate_description(&description)?;
        if let Some(op) = description
            .operations
            .iter()
            .find(|op| !unnamed.bound.serves(**op))
        {
            return Err(InstallError::Description(format!(
                "l'opération « {op} » est déclarée mais le monde du contrat {} que le composant implémente ne l'exporte pas",
                description.contract
            )));
        }
        Ok(Arc::new(ConnectorVersion {
            description,
            ..unnamed
        }))
    }

    /// Sorts the component's imports by what they give; refuses imports
    /// outside the supported worlds, naming them.
    fn classify_imports(
        &self,
        component: &Component,
    ) -> Result<Vec<(String, Capability)>, InstallError> {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for (name, _) in component.component_type().imports(&self.inner.engine) {
            match capability::classify(name) {
                Some(capability) => known.push((name.to_string(), capability)),
                None => unknown.push(name.to_string()),
            }
        }
        if !unknown.is_empty() {
            let mut message = format!(
                "{} (Guichet ne fournit que le contrat {} et les interfaces WASI 0.2)",
                unknown.join(", "),
                contract::supported_list()
            );
            if unknown.iter().any(|name| name.starts_with("wasi:http/")) {
                message.push_str(WASI_HTTP_FIX);
            }
            return Err(InstallError::Imports(message));
        }
        Ok(known)
    }

    /// Pre-instantiates the component and binds it to the contract version
    /// it implements.
    fn bind(&self, component: &Component) -> Result<Bound, InstallError> {
        let instance_pre = self
            .inner
            .linker
            .instantiate_pre(component)
            .map_err(|e| InstallError::Imports(format!("{e:#}")))?;
        contract::bind(instance_pre)
    }

    /// Calls one operation of `version` for `instance`, in a fresh store, and
    /// journals it.
    ///
    /// # Errors
    /// [`CallError`]: the connector's own error, an unsupported operation, a
    /// trap, a timeout or a memory blow-up — for this call alone.
    pub async fn call(
        &self,
        version: &ConnectorVersion,
        instance: &Arc<Instance>,
        request: Request,
        attachments: Option<Arc<dyn AttachmentSource>>,
    ) -> Result<Response, CallError> {
        let operation = request.operation();
        if operation != Operation::Describe && !version.description.operations.contains(&operation)
        {
            let error = CallError::Unsupported(operation);
            self.journal_call(
                version,
                instance,
                &request,
                (self.inner.journal.now(), Instant::now()),
                &Err(error.clone()),
                Vec::new(),
                Vec::new(),
            );
            return Err(error);
        }
        self.run(version, instance, request, attachments).await
    }

    async fn run(
        &self,
        version: &ConnectorVersion,
        instance: &Arc<Instance>,
        request: Request,
        attachments: Option<Arc<dyn AttachmentSource>>,
    ) -> Result<Response, CallError> {
        // The instance's share first, then a global slot: an instance waiting
        // for its own share holds no global slot.
        let instance_slots = self.instance_slots(instance.id());
        let _instance_slot = instance_slots
            .acquire()
            .await
            .map_err(|_| CallError::Host("moteur arrêté".into()))?;
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| CallError::Host("moteur arrêté".into()))?;
        let started = (self.inner.journal.now(), Instant::now());
        let readable: HashSet<String> = match &request {
            Request::Transmit { demande, .. } => demande.attachment_ids().into_iter().collect(),
            _ => HashSet::new(),
        };
        let mut store = Store::new(
            &self.inner.engine,
            CallState::new(
                instance.clone(),
                attachments,
                readable,
                self.inner.record_limits,
            ),
        );
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            if Instant::now() >= state.deadline {
                state.timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        // The epoch deadline stops a busy guest; this one also bounds the time
        // spent awaiting the host (HTTP), with a small margin so the epoch
        // trap wins when both apply.
        let wall = instance.timeout() + Duration::from_millis(250);
        let outcome = tokio::time::timeout(wall, version.bound.call(&mut store, &request)).await;
        let result = match outcome {
            Err(_elapsed) => Err(CallError::Timeout(instance.timeout())),
            Ok(Ok(Ok(response))) => Ok(instance.mask_response(response)),
            // A connector may quote a secret in its error, or send megabytes:
            // mask it like its logs and cut it before anything keeps it.
            Ok(Ok(Err(connector_error))) => Err(CallError::Connector(
                connector_error.map_message(|m| self.bounded_error(instance, m)),
            )),
            Ok(Err(trap)) => Err(classify_trap(&trap, store.data(), instance)),
        }
        .map_err(|error| match error {
            CallError::Trap(m) => CallError::Trap(self.bounded_error(instance, &m)),
            other => other,
        });
        let (logs, exchanges) = store.data_mut().take_journal();
        drop(store);
        self.journal_call(
            version, instance, &request, started, &result, logs, exchanges,
        );
        result
    }

    /// An error text from the guest, masked and cut to the record limit.
    fn bounded_error(&self, instance: &Instance, text: &str) -> String {
        cut_masked(
            text,
            self.inner.record_limits.max_error_bytes,
            instance.longest_secret(),
            |t| instance.mask(t),
        )
    }

    /// Time to create a Store and instantiate `version` for `instance`, then
    /// drop both: the fixed cost of every call (for the benchmark).
    #[doc(hidden)]
    pub async fn measure_instantiation(
        &self,
        version: &ConnectorVersion,
        instance: &Arc<Instance>,
    ) -> Duration {
        let started = Instant::now();
        let mut store = Store::new(
            &self.inner.engine,
            CallState::new(
                instance.clone(),
                None,
                HashSet::new(),
                self.inner.record_limits,
            ),
        );
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(u64::MAX / 2);
        let instantiated = version.bound.instantiate(&mut store).await.is_ok();
        std::hint::black_box(instantiated);
        drop(store);
        started.elapsed()
    }

    #[allow(clippy::too_many_arguments)]
    fn journal_call(
        &self,
        version: &ConnectorVersion,
        instance: &Instance,
        request: &Request,
        (at, started): (chrono::DateTime<Utc>, Instant),
        result: &Result<Response, CallError>,
        logs: Vec<super::model::GuestLog>,
        http: Vec<super::outbound::Exchange>,
    ) {
        let outcome = match result {
            Ok(_) => Outcome::Ok,
            Err(CallError::Connector(_)) => Outcome::ConnectorError,
            Err(CallError::Trap(_)) => Outcome::Trap,
            Err(CallError::Timeout(_)) => Outcome::Timeout,
            Err(CallError::MemoryLimit(_)) => Outcome::MemoryLimit,
            Err(CallError::Unsupported(_) | CallError::Host(_)) => Outcome::HostError,
        };
        let record = CallRecord {
            at,
            connector: if version.description.name.is_empty() {
                instance.connector().to_string()
            } else {
                version.description.name.clone()
            },
            version: version.description.version.clone(),
            instance: instance.id().to_string(),
            operation: request.operation(),
            demande: request.demande().map(str::to_owned),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            outcome,
            // The message inside is bounded already; the bound here covers
            // the variant's own words around it.
            error: result.as_ref().err().map(|e| {
                cut_masked(
                    &e.to_string(),
                    self.inner.record_limits.max_error_bytes + ERROR_WORDS_BYTES,
                    instance.longest_secret(),
                    |t| instance.mask(t),
                )
            }),
            logs,
            http,
        };
        journal::trace(&record);
        self.inner.journal.record(record);
    }
}

fn classify_trap(error: &wasmtime::Error, state: &CallState, instance: &Instance) -> CallError {
    if state.limits.exceeded {
        return CallError::MemoryLimit(instance.memory_bytes());
    }
    if state.timed_out {
        return CallError::Timeout(instance.timeout());
    }
    let mut message = match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => {
            "dépassement de la pile d'appels (récursion trop profonde)".to_string()
        }
        Some(Trap::UnreachableCodeReached) => "arrêt brutal du connecteur (panique)".to_string(),
        // A Rust guest's stack lives in its linear memory: overflowing it reads
        // below address 0.
        Some(Trap::MemoryOutOfBounds) => {
            "accès mémoire hors limites (souvent une récursion trop profonde)".to_string()
        }
        Some(trap) => format!("{trap}"),
        None => format!("{error:#}"),
    };
    let stderr = state.stderr();
    if !stderr.is_empty() {
        message.push_str(" — ");
        message.push_str(&stderr);
    }
    CallError::Trap(instance.mask(&message))
}

/// Core instances one component may hold in the pooling allocator.
pub const POOL_CORE_INSTANCES: u32 = 128;

/// Linear memories one component may hold in the pooling allocator.
pub const POOL_MEMORIES: u32 = 4;

/// Tables one component may hold in the pooling allocator.
pub const POOL_TABLES: u32 = 16;

/// What to do about a `wasi:http` import, appended to its refusal: the
/// default builds of ComponentizeJS and of componentize-py's HTTP examples
/// import it.
const WASI_HTTP_FIX: &str = " — wasi:http n'est pas fourni : un connecteur joint le web par \
     l'import HTTP du contrat (guichet:connector/http, `guichet_sdk::http` en Rust), limité \
     aux hôtes autorisés de son instance. Reconstruisez le composant sans wasi:http : \
     ComponentizeJS avec `--disable http fetch-event`, componentize-py sans importer wasi:http.";

fn engine_config(pool_slots: Option<u32>) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(512 * 1024);
    // A memory's initial image is mapped copy-on-write (instantiation in
    // microseconds rather than copying megabytes) when its data segments
    // are dense enough, or span less than this: guarantee it up to the
    // largest memory an instance may have.
    config.memory_guaranteed_dense_image_size(MAX_MEMORY_MIB * 1024 * 1024);
    if let Some(slots) = pool_slots {
        let mut pool = PoolingAllocationConfig::default();
        // Components made by componentize-py 0.25 hold 14 core instances
        // (38 with `--stub-wasi`), ComponentizeJS 0.23's 4, each with one
        // memory and two tables: the per-component limits leave room for
        // them (slots are reserved address space, touched only when used).
        pool.total_component_instances(slots)
            .max_core_instances_per_component(POOL_CORE_INSTANCES)
            .total_core_instances(slots * POOL_CORE_INSTANCES)
            .max_memories_per_component(POOL_MEMORIES)
            .total_memories(slots * POOL_MEMORIES)
            .max_tables_per_component(POOL_TABLES)
            .total_tables(slots * POOL_TABLES)
            .total_stacks(slots)
            .max_memory_size((MAX_MEMORY_MIB * 1024 * 1024) as usize)
            // Reset the first pages of a slot with memset rather than madvise,
            // so the next call does not fault them in again; where Linux has
            // the PAGEMAP_SCAN ioctl (6.7+), only the pages the call wrote
            // are reset, instead of the whole resident range.
            // Up to 16 MiB: the pre-initialised heaps of componentize-py
            // and ComponentizeJS components reach 9–12 MiB, and a page
            // reset by madvise faults in again, from the image, on the next
            // call (165–191 faults, about 1 ms, measured with both). Only
            // the pages a call wrote are reset, so a small connector pays
            // nothing for the larger range.
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(16 * 1024 * 1024)
            .table_keep_resident(64 * 1024)
            .async_stack_keep_resident(128 * 1024);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

fn spawn_ticker(engine: Engine, tick: Duration, stop: Arc<AtomicBool>) -> Result<(), StartError> {
    std::thread::Builder::new()
        .name("guichet-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        })
        .map(|_| ())
        .map_err(|e| StartError(e.to_string()))
}
