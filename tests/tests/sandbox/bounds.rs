//! Everything a call leaves behind is bounded, with a marker saying what was
//! cut, and one instance cannot hold every call slot: each bomb of the hostile
//! component runs beside good calls of another connector, which all succeed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use guichet_host::connectors::journal::{CallRecord, MemoryJournal};
use guichet_host::connectors::model::ConnectorError;
use guichet_host::connectors::{CallError, InstanceConfig, Registry, Runtime, RuntimeConfig};
use guichet_tests::{atal, atal_config, cache_dir, components};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, watch};

use super::{hostile, sandbox};

/// The secret every hostile instance is configured with.
const SECRET: &str = "jeton-tres-secret";
/// How much the host's resident memory may grow over all the bombs of
/// [`the_host_memory_stays_bounded_under_every_bomb`]: generous, far below
/// what the unbounded records took (more than 1.5 GiB).
const MAX_RSS_GROWTH: u64 = 512 * 1024 * 1024;
/// How long the good calls may take while the hostile instance holds its
/// whole share of the slots (they take well under a second).
const GOOD_CALLS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the hostile instance may take to reach the gate.
const HOSTILE_AT_THE_GATE: Duration = Duration::from_secs(30);

/// The memory-heavy tests run one at a time, so one's peak does not count in
/// another's measure.
static HEAVY: Mutex<()> = Mutex::const_new(());

/// A hostile instance with room for its bombs (memory, time).
fn bomb(id: &str, behaviour: &str, count: Option<u64>, bytes: Option<u64>) -> InstanceConfig {
    let mut config = hostile(id, behaviour, None, &[]);
    if let Some(count) = count {
        config.settings["count"] = count.into();
    }
    if let Some(bytes) = bytes {
        config.settings["bytes"] = bytes.into();
    }
    config.memory_mib = Some(256);
    config.timeout_ms = Some(120_000);
    config
}

/// Resident memory of this process, bytes (`/proc/self/statm`).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

fn assert_no_secret(record: &CallRecord) {
    let json = serde_json::to_string(record).expect("json");
    assert!(
        !json.contains(SECRET),
        "the secret leaked: {}",
        &json[..2000.min(json.len())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_of_refused_requests_records_the_first_ones_and_counts_the_rest() {
    let _heavy = HEAVY.lock().await;
    let sandbox = sandbox().await;

    let answer = sandbox
        .call_beside_good_ones(bomb("refus", "refused-loop", Some(30_000), None))
        .await
        .expect("the loop ends");

    assert_eq!(answer.message, "30000 refus");
    let record = sandbox.last_record_of("refus");
    assert_eq!(record.http.len(), 21, "20 refusals and a marker");
    assert!(
        record.http[..20]
            .iter()
            .all(|e| e.url.len() < 2 * 1024 + 64 && e.url.contains("coupé")),
        "{:?}",
        record.http[0]
    );
    let marker = record.http[20].error.as_deref().unwrap_or("");
    assert!(
        marker.contains("29980 requêtes refusées par l'hôte non enregistrées"),
        "{marker}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_log_records_are_cut_with_markers_and_secrets_masked_in_keys() {
    let _heavy = HEAVY.lock().await;
    let sandbox = sandbox().await;

    sandbox
        .call_beside_good_ones(bomb("bavard-geant", "log-bomb", Some(4), Some(4 << 20)))
        .await
        .expect("the connector answers");

    let record = sandbox.last_record_of("bavard-geant");
    assert_no_secret(&record);
    assert_eq!(record.logs.len(), 4);
    for log in &record.logs {
        assert!(log.message.len() <= 4 * 1024 + 64, "{}", log.message.len());
        assert!(log.message.ends_with("[coupé : 4194304 octets au total]"));
        assert_eq!(log.fields.len(), 33, "32 fields and a marker");
        let (key, value) = &log.fields[0];
        assert!(key.starts_with("***k"), "{key}");
        assert!(key.len() <= 128 + 64, "{}", key.len());
        assert!(key.ends_with(&format!(
            "[coupé : {} octets au total]",
            SECRET.len() + (4 << 20)
        )));
        assert!(value.len() <= 2 * 1024 + 64, "{}", value.len());
        assert!(value.contains("coupé"));
        assert_eq!(
            log.fields[32].1,
            "69 champs ignorés (limite de 32 par enregistrement)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_log_records_keeps_the_first_ones_and_counts_the_rest() {
    let sandbox = sandbox().await;

    sandbox
        .call_beside_good_ones(bomb("inondation", "log-flood", Some(10_000), None))
        .await
        .expect("the connector answers");

    let record = sandbox.last_record_of("inondation");
    assert_eq!(record.logs.len(), 201, "200 records and a marker");
    assert!(
        record.logs[200]
            .message
            .starts_with("9800 enregistrements de journal ignorés"),
        "{}",
        record.logs[200].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_log_records_stop_at_the_byte_budget_of_the_call() {
    let sandbox = sandbox().await;

    sandbox
        .call_beside_good_ones(bomb("volumineux", "log-bomb", Some(150), Some(16 * 1024)))
        .await
        .expect("the connector answers");

    let record = sandbox.last_record_of("volumineux");
    let (kept, marker) = record.logs.split_at(record.logs.len() - 1);
    let bytes: usize = kept
        .iter()
        .map(|l| {
            l.message.len()
                + l.fields
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>()
        })
        .sum();
    assert!(kept.len() < 150, "{}", kept.len());
    assert!(bytes <= 256 * 1024 + 16 * 1024, "{bytes}");
    assert!(
        marker[0].message.starts_with(&format!(
            "{} enregistrements de journal ignorés",
            150 - kept.len()
        )),
        "{}",
        marker[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_error_is_cut_before_anything_keeps_it() {
    let _heavy = HEAVY.lock().await;
    let sandbox = sandbox().await;

    let error = sandbox
        .hostile_call_beside_good_ones(bomb("erreur-geante", "error-bomb", None, Some(16 << 20)))
        .await;

    let CallError::Connector(ConnectorError::Other(message)) = &error else {
        panic!("expected the connector's error, got a {}", error.code());
    };
    assert!(message.len() <= 4 * 1024 + 64, "{}", message.len());
    assert!(message.starts_with("*** eee"), "{}", &message[..40]);
    assert!(
        message.ends_with(&format!(
            "[coupé : {} octets au total]",
            SECRET.len() + 1 + (16 << 20)
        )),
        "{}",
        &message[message.len() - 60..]
    );
    let record = sandbox.last_record_of("erreur-geante");
    assert_no_secret(&record);
    assert!(
        record
            .error
            .as_ref()
            .is_some_and(|e| e.len() <= 4 * 1024 + 512)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_memory_stays_bounded_under_every_bomb() {
    let _heavy = HEAVY.lock().await;
    let sandbox = sandbox().await;
    // Warm up: the first calls of each component allocate what every later
    // call reuses (compiled code, pools).
    sandbox
        .call_beside_good_ones(bomb("chauffe", "log-bomb", Some(1), Some(1024)))
        .await
        .expect("answers");
    let before = resident_bytes();

    for round in 0..2 {
        sandbox
            .call_beside_good_ones(bomb(
                &format!("refus-{round}"),
                "refused-loop",
                Some(50_000),
                None,
            ))
            .await
            .expect("the loop ends");
        sandbox
            .call_beside_good_ones(bomb(
                &format!("logs-{round}"),
                "log-bomb",
                Some(12),
                Some(8 << 20),
            ))
            .await
            .expect("the connector answers");
        let _ = sandbox
            .hostile_call_beside_good_ones(bomb(
                &format!("erreur-{round}"),
                "error-bomb",
                None,
                Some(32 << 20),
            ))
            .await;
    }
    let after = resident_bytes();

    let growth = after.saturating_sub(before);
    assert!(
        growth < MAX_RSS_GROWTH,
        "resident memory grew by {} MiB (from {} MiB to {} MiB)",
        growth >> 20,
        before >> 20,
        after >> 20
    );
    assert!(
        sandbox.journal.bytes() < 8 << 20,
        "{}",
        sandbox.journal.bytes()
    );
}

/// A loopback HTTP server that holds every request until the gate opens.
struct Gate {
    url: String,
    arrived: Arc<AtomicUsize>,
    arrivals: watch::Receiver<usize>,
    open: watch::Sender<bool>,
}

async fn gate() -> Gate {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let arrived = Arc::new(AtomicUsize::new(0));
    let (arrivals_tx, arrivals) = watch::channel(0usize);
    let (open, opened) = watch::channel(false);
    let counter = arrived.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let count = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let _ = arrivals_tx.send(count);
            let mut opened = opened.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = opened.wait_for(|open| *open).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    Gate {
        url,
        arrived,
        arrivals,
        open,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_cannot_hold_every_call_slot() {
    // 8 slots in all: the default share of an instance is a quarter, 2.
    let journal = Arc::new(MemoryJournal::default());
    let mut config = RuntimeConfig::new(cache_dir());
    config.max_concurrent_calls = 8;
    let registry = Arc::new(Registry::new(
        Runtime::new(config, journal).expect("runtime starts"),
    ));
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("hostile installs");
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("ATAL installs");
    let atal = atal().await;
    registry
        .configure(atal_config("atal-ville", &atal.base_url()), None)
        .expect("ATAL configured");
    let mut gate = gate().await;
    let mut slow = hostile("accapareur", "http", Some(&gate.url), &[gate.url.clone()]);
    slow.timeout_ms = Some(120_000);
    slow.http.total_timeout_ms = 120_000;
    registry.configure(slow, None).expect("hostile configured");

    // The vendor sends as many slow calls as there are slots, and more.
    let hostile_calls: Vec<_> = (0..12)
        .map(|_| {
            let registry = registry.clone();
            tokio::spawn(async move { registry.check("accapareur").await })
        })
        .collect();
    tokio::time::timeout(HOSTILE_AT_THE_GATE, gate.arrivals.wait_for(|n| *n >= 2))
        .await
        .expect("the hostile instance reaches the gate")
        .expect("gate running");
    let good_calls = (0..20).map(|_| registry.check("atal-ville"));
    let good = tokio::time::timeout(GOOD_CALLS_TIMEOUT, futures::future::join_all(good_calls))
        .await
        .expect("good calls are not starved by the hostile instance");
    let held = registry.runtime().calls_in_flight_of("accapareur");
    let _ = gate.open.send(true);
    let hostile_results = futures::future::join_all(hostile_calls).await;

    let failures = good
        .into_iter()
        .filter(|r| !r.as_ref().is_ok_and(|a| a.available))
        .count();
    assert_eq!(failures, 0);
    assert_eq!(held, 2, "the hostile instance holds its share, no more");
    assert!(
        hostile_results
            .into_iter()
            .all(|r| matches!(r, Ok(Ok(ref a)) if a.message.starts_with("HTTP 200"))),
        "the waiting calls of the hostile instance run once it has room"
    );
    assert_eq!(gate.arrived.load(Ordering::SeqCst), 12);
}
