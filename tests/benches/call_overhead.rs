//! Per-call overhead of a connector: a fresh Store, instantiation, `transmit`
//! of a ~2 KB demande through the ATAL mapping with no I/O, and drop — beside
//! the same mapping as plain native Rust, and instantiation alone.
//!
//! Run: `cargo bench -p guichet-tests --bench call_overhead`
//! (results are written down in BENCHMARKS.md). Not a test: nothing here
//! asserts a duration.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guichet_host::connectors::journal::MemoryJournal;
use guichet_host::connectors::model::{self, Request};
use guichet_host::connectors::{
    ConnectorVersion, Instance, InstanceConfig, Runtime, RuntimeConfig,
};
use guichet_tests::{cache_dir, components};

/// Timed runs per measure (`BENCH_RUNS` overrides, e.g. for a profiler).
fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

const WARMUP: usize = 500;

fn demande() -> model::Demande {
    let text = |t: &str| model::FieldValue::Text(t.to_string());
    let mut fields = vec![
        ("objet", text("Nid de poule dangereux devant l'école maternelle")),
        ("description", text(&"Un trou profond s'est formé sur la chaussée, les vélos l'évitent au dernier moment. ".repeat(8))),
        (
            "categorie",
            model::FieldValue::Choice(model::Choice {
                value: "12".into(),
                label: "Voirie - nid de poule".into(),
            }),
        ),
        (
            "adresse",
            model::FieldValue::Address(model::Address {
                label: "12 rue de la République, 69001 Lyon".into(),
                street: Some("12 rue de la République".into()),
                postcode: Some("69001".into()),
                city: Some("Lyon".into()),
                latitude: Some(45.767),
                longitude: Some(4.836),
            }),
        ),
    ];
    for i in 0..12 {
        fields.push((
            "complement",
            text(&format!(
                "Précision complémentaire numéro {i} apportée par l'usager."
            )),
        ));
    }
    model::Demande {
        id: "3f1c2a8e-0000-4000-8000-000000000001".into(),
        numero: "SIG-2026-000042".into(),
        demarche: "signalement-voie-publique".into(),
        demarche_version: 1,
        submitted_at: "2026-11-29T09:30:00Z".into(),
        usager: model::Identity {
            first_name: "Léa".into(),
            last_name: "Martin".into(),
            email: Some("lea.martin@example.org".into()),
            mobile: Some("0612345678".into()),
            ..Default::default()
        },
        fields: fields
            .into_iter()
            .map(|(id, value)| model::Field {
                id: id.into(),
                label: id.into(),
                value,
            })
            .collect(),
    }
}

/// The same demande as the SDK's (guest-side) type, for the native mapping.
fn sdk_demande(d: &model::Demande) -> guichet_sdk::Demande {
    let value = |v: &model::FieldValue| match v {
        model::FieldValue::Text(t) => guichet_sdk::FieldValue::Text(t.clone()),
        model::FieldValue::Choice(c) => guichet_sdk::FieldValue::Choice(guichet_sdk::Choice {
            value: c.value.clone(),
            label: c.label.clone(),
        }),
        model::FieldValue::Address(a) => guichet_sdk::FieldValue::Address(guichet_sdk::Address {
            label: a.label.clone(),
            street: a.street.clone(),
            postcode: a.postcode.clone(),
            city: a.city.clone(),
            latitude: a.latitude,
            longitude: a.longitude,
        }),
        _ => guichet_sdk::FieldValue::Boolean(false),
    };
    guichet_sdk::Demande {
        id: d.id.clone(),
        numero: d.numero.clone(),
        demarche: d.demarche.clone(),
        demarche_version: d.demarche_version,
        submitted_at: d.submitted_at.clone(),
        usager: guichet_sdk::Identity {
            first_name: d.usager.first_name.clone(),
            last_name: d.usager.last_name.clone(),
            email: d.usager.email.clone(),
            phone: None,
            mobile: d.usager.mobile.clone(),
            address: None,
            birth_date: None,
        },
        fields: d
            .fields
            .iter()
            .map(|f| guichet_sdk::Field {
                id: f.id.clone(),
                label: f.label.clone(),
                value: value(&f.value),
            })
            .collect(),
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        mean,
    }
}

fn print(name: &str, s: &Stats) {
    println!(
        "{name:<58} p50 {:>8.1} µs   p99 {:>8.1} µs   mean {:>8.1} µs",
        s.p50.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.mean.as_secs_f64() * 1e6
    );
}

fn main() -> anyhow::Result<()> {
    let runs = runs();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let demande = demande();
    let size = serde_json::to_vec(&demande)?.len();
    println!(
        "demande: {size} bytes of JSON, {} fields; {runs} runs after {WARMUP} warm-up runs\n",
        demande.fields.len()
    );

    // Native mapping: the same function the component runs.
    let native_input = sdk_demande(&demande);
    let settings = guichet_connector_atal::mapping::Settings::default();
    let mut native = Vec::with_capacity(runs);
    for i in 0..runs + WARMUP {
        let started = Instant::now();
        let body =
            guichet_connector_atal::mapping::works_request(black_box(&native_input), &settings)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let json = serde_json::to_vec(&body)?;
        black_box(json.len());
        if i >= WARMUP {
            native.push(started.elapsed());
        }
    }

    // `BENCH_ALLOCATOR=pooling` or `on-demand` measures one allocator only.
    let allocators: Vec<bool> = match std::env::var("BENCH_ALLOCATOR").as_deref() {
        Ok("pooling") => vec![true],
        Ok("on-demand") => vec![false],
        _ => vec![true, false],
    };
    for pooling in allocators {
        let journal = Arc::new(MemoryJournal::new(1_000));
        let mut config = RuntimeConfig::new(cache_dir());
        config.pooling = pooling;
        let rt = Runtime::new(config, journal)?;
        let version = runtime.block_on(rt.load_file(components::BENCH.as_ref()))?;
        let instance = instance("bench", &version, serde_json::json!({}))?;
        let (whole, instantiate) = measure(&runtime, &rt, &version, &instance, runs, || {
            Request::Transmit {
                demande: Box::new(demande.clone()),
                idempotency_key: "k".into(),
            }
        });
        let allocator = if pooling { "pooling" } else { "on-demand" };
        print(
            &format!("whole call: Store + instantiate + transmit + drop ({allocator})"),
            &stats(whole),
        );
        print(
            &format!("instantiation alone ({allocator})"),
            &stats(instantiate),
        );
    }
    print(
        "native mapping (works_request + serde_json::to_vec)",
        &stats(native),
    );
    // The demo connector in other languages, when built
    // (`examples/python-connector`, `examples/js-connector`):
    // BENCH_DEMO_COMPONENTS=python_demo.wasm,js_demo.wasm
    let demos = std::env::var("BENCH_DEMO_COMPONENTS").unwrap_or_default();
    for path in demos.split(',').filter(|path| !path.is_empty()) {
        demo_call(&runtime, path, runs.min(2_000))?;
    }
    Ok(())
}

/// Measures `lookup` (the data source `couleurs`, served from memory) on a
/// demo connector, with the pooling allocator: whole call and
/// instantiation alone.
fn demo_call(runtime: &tokio::runtime::Runtime, path: &str, runs: usize) -> anyhow::Result<()> {
    let rt = Runtime::new(
        RuntimeConfig::new(cache_dir()),
        Arc::new(MemoryJournal::new(1_000)),
    )?;
    let version = runtime.block_on(rt.load_file(path.as_ref()))?;
    let instance = instance(
        "demo",
        &version,
        serde_json::json!({ "base_url": "http://127.0.0.1:9" }),
    )?;
    let lookup = || {
        Request::Lookup(model::LookupQuery {
            source: "couleurs".into(),
            q: Some("ro".into()),
            ..model::LookupQuery::default()
        })
    };
    let answered = runtime.block_on(rt.call(&version, &instance, lookup(), None));
    anyhow::ensure!(answered.is_ok(), "{path}: {answered:?}");
    let (whole, instantiate) = measure(runtime, &rt, &version, &instance, runs, lookup);
    let name = version.name().to_owned();
    print(
        &format!("{name}: whole lookup call (pooling)"),
        &stats(whole),
    );
    print(
        &format!("{name}: instantiation alone (pooling)"),
        &stats(instantiate),
    );
    Ok(())
}

/// An instance of `version` with `settings`, reaching no host.
fn instance(
    id: &str,
    version: &ConnectorVersion,
    settings: serde_json::Value,
) -> anyhow::Result<Arc<Instance>> {
    Ok(Arc::new(Instance::new(
        InstanceConfig {
            id: id.into(),
            connector: version.name().into(),
            settings,
            allowed_hosts: vec![],
            timeout_ms: None,
            memory_mib: None,
            http: Default::default(),
        },
        version.description(),
    )?))
}

/// Times `runs` whole calls of `request()` (after [`WARMUP`] more), then as
/// many instantiations alone.
fn measure(
    runtime: &tokio::runtime::Runtime,
    rt: &Runtime,
    version: &ConnectorVersion,
    instance: &Arc<Instance>,
    runs: usize,
    request: impl Fn() -> Request,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut whole = Vec::with_capacity(runs);
    let mut instantiate = Vec::with_capacity(runs);
    runtime.block_on(async {
        for i in 0..runs + WARMUP {
            let request = request();
            let started = Instant::now();
            let response = rt.call(version, instance, request, None).await;
            let elapsed = started.elapsed();
            black_box(response.is_ok());
            if i >= WARMUP {
                whole.push(elapsed);
            }
        }
        for i in 0..runs + WARMUP {
            let elapsed = rt.measure_instantiation(version, instance).await;
            if i >= WARMUP {
                instantiate.push(elapsed);
            }
        }
    });
    (whole, instantiate)
}
