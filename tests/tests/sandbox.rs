//! The sandbox: hostile components (built by the suite from
//! `tests/components/`) each end as a clear error for their own call, while
//! good calls running at the same time on the same runtime succeed. What a
//! call leaves behind, and the share of the call slots an instance may hold,
//! are bounded: see `sandbox/bounds.rs`.

#[path = "sandbox/bounds.rs"]
mod bounds;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use guichet_host::connectors::cache::Cache;
use guichet_host::connectors::journal::{MemoryJournal, Outcome};
use guichet_host::connectors::model::ConnectorError;
use guichet_host::connectors::registry::RegistryError;
use guichet_host::connectors::runtime::POOL_CORE_INSTANCES;
use guichet_host::connectors::{
    CallError, InstallError, InstanceConfig, Registry, Runtime, RuntimeConfig,
};
use guichet_tests::{atal, atal_config, components, instance_config, registry};

/// A TCP listener that counts connections: proves a forbidden request never
/// left the host.
struct Canary {
    port: u16,
    connections: Arc<AtomicUsize>,
}

async fn canary() -> Canary {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Canary { port, connections }
}

struct Sandbox {
    registry: Arc<Registry>,
    journal: Arc<MemoryJournal>,
    atal: atal_sim::Handle,
}

/// A runtime with the hostile component and the ATAL connector installed, and
/// an ATAL instance (`atal-ville`) for the good calls.
async fn sandbox() -> Sandbox {
    let (registry, journal) = registry();
    let atal = atal().await;
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("hostile installs");
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("ATAL installs");
    registry
        .configure(atal_config("atal-ville", &atal.base_url()), None)
        .expect("ATAL configured");
    Sandbox {
        registry,
        journal,
        atal,
    }
}

fn hostile(id: &str, behaviour: &str, url: Option<&str>, allowed: &[String]) -> InstanceConfig {
    let mut settings = serde_json::json!({ "behaviour": behaviour, "token": "jeton-tres-secret" });
    if let Some(url) = url {
        settings["url"] = url.into();
    }
    let mut config = instance_config(id, "hostile", "http://127.0.0.1:1", settings);
    config.allowed_hosts = allowed.to_vec();
    config
}

impl Sandbox {
    /// Runs the hostile instance's `check` while 10 good ATAL checks run at the
    /// same time; asserts every good call succeeded and returns the hostile
    /// call's error.
    async fn hostile_call_beside_good_ones(&self, config: InstanceConfig) -> CallError {
        match self.call_beside_good_ones(config).await {
            Err(RegistryError::Call(e)) => e,
            other => panic!("the hostile call should fail, got {other:?}"),
        }
    }

    /// Runs the instance's `check` while 10 good ATAL checks run at the same
    /// time; asserts every good call succeeded and returns the result.
    async fn call_beside_good_ones(
        &self,
        config: InstanceConfig,
    ) -> Result<guichet_host::connectors::model::Availability, RegistryError> {
        let id = config.id.clone();
        self.registry
            .configure(config, None)
            .expect("hostile configured");
        let good = (0..10).map(|_| self.registry.check("atal-ville"));
        let (bad, good) = tokio::join!(self.registry.check(&id), futures::future::join_all(good));
        for result in good {
            assert!(
                result
                    .expect("a good call succeeds beside a hostile one")
                    .available
            );
        }
        bad
    }

    fn last_record_of(&self, instance: &str) -> guichet_host::connectors::journal::CallRecord {
        self.journal
            .records()
            .into_iter()
            .rev()
            .find(|r| r.instance == instance)
            .expect("the call is journaled")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_the_deadline() {
    let sandbox = sandbox().await;
    let mut config = hostile("boucle", "loop", None, &[]);
    config.timeout_ms = Some(300);

    let error = sandbox.hostile_call_beside_good_ones(config).await;

    assert_eq!(error, CallError::Timeout(Duration::from_millis(300)));
    assert_eq!(sandbox.last_record_of("boucle").outcome, Outcome::Timeout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_memory_cap() {
    let sandbox = sandbox().await;
    let mut config = hostile("bombe", "memory", None, &[]);
    config.memory_mib = Some(32);

    let error = sandbox.hostile_call_beside_good_ones(config).await;

    assert_eq!(error, CallError::MemoryLimit(32 * 1024 * 1024));
    assert!(error.to_string().contains("32 Mio"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_trap_for_that_call_alone() {
    let sandbox = sandbox().await;

    let error = sandbox
        .hostile_call_beside_good_ones(hostile("recursion", "recursion", None, &[]))
        .await;

    assert!(
        matches!(&error, CallError::Trap(m) if m.contains("récursion")),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_trap_carrying_its_message() {
    let sandbox = sandbox().await;

    let error = sandbox
        .hostile_call_beside_good_ones(hostile("panique", "panic", None, &[]))
        .await;

    assert!(
        matches!(&error, CallError::Trap(m) if m.contains("panique volontairement")),
        "{error:?}"
    );
    assert_eq!(sandbox.last_record_of("panique").outcome, Outcome::Trap);
}

/// The error the guest got back from the host for its HTTP request.
fn http_refusal(error: &CallError) -> String {
    match error {
        CallError::Connector(ConnectorError::Configuration(m) | ConnectorError::Unavailable(m)) => {
            m.clone()
        }
        other => panic!("expected the connector to report the host's refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_outside_the_allow_list_is_never_contacted() {
    let sandbox = sandbox().await;
    let canary = canary().await;
    let url = format!("http://127.0.0.1:{}/api", canary.port);
    let config = hostile("interdit", "http", Some(&url), &[sandbox.atal.base_url()]);

    let error = sandbox.hostile_call_beside_good_ones(config).await;

    assert!(http_refusal(&error).contains("non autorisé"), "{error:?}");
    assert_eq!(canary.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_a_forbidden_host_is_refused() {
    let sandbox = sandbox().await;
    let canary = canary().await;
    let url = format!(
        "{}/_sim/redirect?to=http://127.0.0.1:{}/vol",
        sandbox.atal.base_url(),
        canary.port
    );
    let config = hostile(
        "redirection",
        "http",
        Some(&url),
        &[sandbox.atal.base_url()],
    );

    let error = sandbox.hostile_call_beside_good_ones(config).await;

    assert!(http_refusal(&error).contains("non autorisé"), "{error:?}");
    assert_eq!(canary.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_response_is_cut_at_the_cap() {
    let sandbox = sandbox().await;
    let url = format!("{}/_sim/big?bytes=3000000", sandbox.atal.base_url());
    let mut config = hostile("geant", "http", Some(&url), &[sandbox.atal.base_url()]);
    config.http.max_response_bytes = 1024 * 1024;

    let error = sandbox.hostile_call_beside_good_ones(config).await;

    assert!(
        http_refusal(&error).contains("trop volumineuse"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_and_private_addresses_not_in_the_allow_list_are_refused() {
    let sandbox = sandbox().await;
    let canary = canary().await;
    let sim_port = sandbox.atal.addr().port();
    let targets = [
        format!("http://127.0.0.1:{}/", canary.port),
        format!("http://localhost:{sim_port}/api/Test"),
        format!("http://[::1]:{sim_port}/api/Test"),
        "http://10.0.0.1/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://192.168.1.1/".to_string(),
    ];

    for (i, url) in targets.iter().enumerate() {
        let config = hostile(
            &format!("prive-{i}"),
            "http",
            Some(url),
            &[sandbox.atal.base_url()],
        );
        let error = sandbox.hostile_call_beside_good_ones(config).await;
        assert!(
            http_refusal(&error).contains("non autorisé"),
            "{url}: {error:?}"
        );
    }
    assert_eq!(canary.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_socket_is_refused_even_to_an_allowed_host() {
    let sandbox = sandbox().await;
    let canary = canary().await;
    let address = format!("127.0.0.1:{}", canary.port);
    let allowed = format!("http://{address}");
    let config = hostile("socket", "socket", Some(&address), &[allowed]);

    let error = sandbox.hostile_call_beside_good_ones(config).await;

    assert!(
        matches!(&error, CallError::Connector(ConnectorError::Other(m)) if m.contains("socket refusée")),
        "{error:?}"
    );
    assert_eq!(canary.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_see_no_filesystem_and_no_environment() {
    let sandbox = sandbox().await;
    sandbox
        .registry
        .configure(hostile("fichiers", "filesystem", None, &[]), None)
        .expect("configured");
    sandbox
        .registry
        .configure(hostile("environnement", "environment", None, &[]), None)
        .expect("configured");

    let files = sandbox.registry.check("fichiers").await;
    let environment = sandbox
        .registry
        .check("environnement")
        .await
        .expect("answers");

    assert!(
        matches!(files, Err(RegistryError::Call(CallError::Connector(ConnectorError::Other(ref m)))) if m.contains("illisible")),
        "{files:?}"
    );
    assert_eq!(environment.message, "0 variables d'environnement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_journal() {
    let sandbox = sandbox().await;
    sandbox
        .registry
        .configure(hostile("bavard", "log-secret", None, &[]), None)
        .expect("configured");

    let result = sandbox.registry.check("bavard").await;

    let message = result.expect_err("the connector fails").to_string();
    assert!(!message.contains("jeton-tres-secret"), "{message}");
    let record = serde_json::to_string(&sandbox.last_record_of("bavard")).expect("json");
    assert!(!record.contains("jeton-tres-secret"), "{record}");
    assert!(record.contains("le jeton est ***"), "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leave_the_guest_in_an_answer() {
    let sandbox = sandbox().await;

    let answer = sandbox
        .call_beside_good_ones(hostile("indiscret", "answer-secret", None, &[]))
        .await
        .expect("the connector answers");

    assert_eq!(answer.message, "le jeton est ***");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_behaviour_at_once_leaves_good_calls_unharmed() {
    let sandbox = sandbox().await;
    let canary = canary().await;
    let forbidden = format!("http://127.0.0.1:{}/", canary.port);
    for (id, behaviour, url) in [
        ("h-loop", "loop", None),
        ("h-memory", "memory", None),
        ("h-recursion", "recursion", None),
        ("h-panic", "panic", None),
        ("h-http", "http", Some(forbidden.as_str())),
    ] {
        let mut config = hostile(id, behaviour, url, &[]);
        config.timeout_ms = Some(500);
        sandbox
            .registry
            .configure(config, None)
            .expect("configured");
    }
    let hostile_calls = ["h-loop", "h-memory", "h-recursion", "h-panic", "h-http"]
        .map(|id| sandbox.registry.check(id));
    let good_calls = (0..20).map(|_| sandbox.registry.check("atal-ville"));

    let (bad, good) = tokio::join!(
        futures::future::join_all(hostile_calls),
        futures::future::join_all(good_calls)
    );

    let errors: Vec<CallError> = bad
        .into_iter()
        .map(|result| match result {
            Err(RegistryError::Call(error)) => error,
            other => panic!("a hostile call should fail, got {other:?}"),
        })
        .collect();
    let [looping, memory, recursion, panic, http] = <[CallError; 5]>::try_from(errors)
        .unwrap_or_else(|errors| panic!("five hostile calls, got {errors:?}"));
    assert_eq!(looping, CallError::Timeout(Duration::from_millis(500)));
    assert_eq!(memory, CallError::MemoryLimit(64 * 1024 * 1024));
    assert!(
        matches!(&recursion, CallError::Trap(m) if m.contains("récursion")),
        "{recursion:?}"
    );
    assert!(
        matches!(&panic, CallError::Trap(m) if m.contains("panique volontairement")),
        "{panic:?}"
    );
    assert!(http_refusal(&http).contains("non autorisé"), "{http:?}");
    assert_eq!(canary.connections.load(Ordering::SeqCst), 0);
    assert!(good.into_iter().all(|r| r.is_ok_and(|a| a.available)));
}

#[tokio::test]
async fn a_file_that_is_not_webassembly_is_refused_at_install() {
    let (registry, _) = registry();

    let text = registry
        .install(b"ceci n'est pas un composant".to_vec())
        .await;
    let core_module = registry.install(b"\0asm\x01\0\0\0".to_vec()).await;

    assert!(matches!(
        text,
        Err(RegistryError::Install(InstallError::NotWasm))
    ));
    assert!(matches!(
        core_module,
        Err(RegistryError::Install(InstallError::CoreModule))
    ));
}

/// A component importing `wasi:http` (a default ComponentizeJS build) is
/// refused with what to do instead.
#[tokio::test]
async fn a_component_importing_wasi_http_is_refused_with_the_fix() {
    let (registry, _) = registry();
    let component =
        wat::parse_str(r#"(component (import "wasi:http/outgoing-handler@0.2.3" (instance)))"#)
            .expect("a component");

    let result = registry.install(component).await;

    let Err(RegistryError::Install(InstallError::Imports(message))) = &result else {
        panic!("refused for its imports: {result:?}");
    };
    assert!(
        message.contains("wasi:http/outgoing-handler@0.2.3")
            && message.contains("guichet:connector/http")
            && message.contains("--disable http"),
        "{message}"
    );
    assert!(registry.connectors().is_empty());
}

/// A component of `n` core instances of one empty module, and nothing else.
fn core_instances(n: u32) -> Vec<u8> {
    let mut text = String::from("(component (core module $m)");
    for _ in 0..n {
        text.push_str(" (core instance (instantiate $m))");
    }
    text.push(')');
    wat::parse_str(&text).expect("a component")
}

/// The pooling allocator holds a component of 40 core instances
/// (componentize-py makes 38); one it cannot hold is refused, and a retry
/// reads the compiled file back and refuses it again without compiling it
/// a second time (seconds for a Python component).
#[tokio::test]
async fn a_component_too_big_for_the_pool_is_refused_without_compiling_again() {
    use std::os::unix::fs::MetadataExt;
    let cache = std::env::temp_dir().join(format!("guichet-pool-{}", uuid::Uuid::new_v4()));
    let runtime = Runtime::new(
        RuntimeConfig::new(cache.clone()),
        Arc::new(MemoryJournal::default()),
    )
    .expect("runtime starts");
    let registry = Registry::new(runtime);

    let fits = registry.install(core_instances(40)).await;
    assert!(
        matches!(
            &fits,
            Err(RegistryError::Install(InstallError::World { .. }))
        ),
        "held by the pool, refused only for not being a connector: {fits:?}"
    );

    let too_big = core_instances(POOL_CORE_INSTANCES + 1);
    let first = registry.install(too_big.clone()).await;
    assert!(
        matches!(
            &first,
            Err(RegistryError::Install(InstallError::Invalid(_)))
        ),
        "{first:?}"
    );
    let compiled = std::fs::read_dir(&cache)
        .expect("cache directory")
        .map(|entry| entry.expect("entry").path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(&Cache::digest(&too_big)))
        })
        .expect("the compiled file is kept");
    let inode = std::fs::metadata(&compiled).expect("compiled file").ino();
    let second = registry.install(too_big).await;
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
    assert_eq!(
        std::fs::metadata(&compiled).expect("compiled file").ino(),
        inode,
        "the retry did not compile the component again"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn a_component_of_another_world_is_refused_at_install() {
    let (registry, _) = registry();

    let result = registry
        .install_file(components::NOT_A_CONNECTOR.as_ref())
        .await;

    assert!(
        matches!(&result, Err(RegistryError::Install(InstallError::World { reason, .. })) if reason.contains("guichet:connector/connector@0.1.0")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_component_with_an_invalid_configuration_schema_is_refused_at_install() {
    let (registry, _) = registry();

    let result = registry.install_file(components::BAD_SCHEMA.as_ref()).await;

    assert!(
        matches!(&result, Err(RegistryError::Install(InstallError::Description(m))) if m.contains("schéma")),
        "{result:?}"
    );
    assert!(registry.connectors().is_empty());
}

#[tokio::test]
async fn installing_the_same_component_twice_is_harmless() {
    let (registry, _) = registry();

    let first = registry
        .install_file(components::HELLO.as_ref())
        .await
        .expect("installs");
    let second = registry
        .install_file(components::HELLO.as_ref())
        .await
        .expect("installs again");

    assert_eq!(first.digest(), second.digest());
    assert_eq!(registry.versions("hello").len(), 1);
}

#[tokio::test]
async fn an_operation_the_connector_does_not_declare_is_refused_without_calling_it() {
    let (registry, journal) = registry();
    registry
        .install_file(components::HELLO.as_ref())
        .await
        .expect("installs");
    registry
        .configure(
            instance_config(
                "bonjour",
                "hello",
                "https://hello.example.org",
                serde_json::json!({"base_url": "https://hello.example.org", "token": "t"}),
            ),
            None,
        )
        .expect("configured");

    let result = registry.status("bonjour", "x").await;

    assert!(matches!(
        result,
        Err(RegistryError::Call(CallError::Unsupported(_)))
    ));
    assert_eq!(
        journal.records().last().map(|r| r.outcome),
        Some(Outcome::HostError)
    );
}
