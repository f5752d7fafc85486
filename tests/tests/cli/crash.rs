//! Crash safety under load: usagers file demandes concurrently through a
//! `guichet serve` process, which is killed with SIGKILL at a random moment
//! (0 to 1 s after the round's first acknowledged filing) and started
//! again, ten times, on SQLite and on PostgreSQL. After each
//! restart, every demande whose submission was acknowledged with 201 is
//! stored with its number, its history and its jobs, and no number was
//! given twice. A submission cut by the kill may or may not be stored:
//! nobody was told it was.
//!
//! What makes it hold: the filing is one transaction committed before the
//! answer leaves (`Store::file_demande`); SQLite runs in WAL mode with
//! `synchronous = NORMAL`, whose commits survive the process's death (the
//! WAL is in the kernel's page cache, written before the commit returns);
//! PostgreSQL commits with `fsync`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guichet_core::id::DemandeId;
use guichet_tests::app::{Backend, TestApp, run, usager_registration};
use guichet_tests::load;
use serde_json::{Value, json};

use super::Host;

/// How many times the server is killed.
const KILLS: usize = 10;

/// Usagers filing at once.
const CLIENTS: usize = 8;

/// The password of the usagers registered here.
const PASSWORD: &str = "mot-de-passe-usager";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_demandes_survive_sigkill_on_sqlite() {
    run(Backend::Sqlite, killed_ten_times).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_demandes_survive_sigkill_on_postgres() {
    run(Backend::Postgres, killed_ten_times).await;
}

/// A demande acknowledged: its id and number as the 201 said them.
type Acknowledged = Arc<Mutex<Vec<(String, String)>>>;

/// A delay from 0 to 1,000 ms, different on each call.
fn random_delay() -> Duration {
    let random = uuid::Uuid::new_v4().as_u128();
    Duration::from_millis((random % 1_000) as u64)
}

/// Logs `login` in on `base`; the session cookie. Sessions are stored:
/// one opened before the kills stays valid across the restarts.
async fn log_in(http: &reqwest::Client, base: &str, login: &str) -> String {
    let answer = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "login": login, "password": PASSWORD }))
        .send()
        .await
        .expect("login answered");
    assert_eq!(answer.status(), 200);
    answer
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Files one demande (open a draft, save its pages, submit); `None` when
/// the server stopped answering on the way.
async fn file_one(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    answers: &Value,
) -> Option<(String, String)> {
    let opened = http
        .post(format!("{base}/api/drafts"))
        .header("cookie", cookie)
        .json(&json!({ "demarche": load::SLUG }))
        .send()
        .await
        .ok()?;
    assert!(opened.status().is_success(), "draft: {}", opened.status());
    let draft: Value = opened.json().await.ok()?;
    let draft = draft["id"].as_str()?.to_owned();
    for page in load::PAGES {
        let saved = http
            .put(format!("{base}/api/drafts/{draft}/pages/{page}"))
            .header("cookie", cookie)
            .json(&answers[page])
            .send()
            .await
            .ok()?;
        assert_eq!(saved.status(), 200, "page {page}");
    }
    let submitted = http
        .post(format!("{base}/api/drafts/{draft}/submit"))
        .header("cookie", cookie)
        .json(&json!({ "consent": true }))
        .send()
        .await
        .ok()?;
    assert_eq!(submitted.status(), 201, "submit");
    // Cut while the body was read: acknowledged to nobody.
    let filed: Value = submitted.json().await.ok()?;
    Some((
        filed["id"].as_str()?.to_owned(),
        filed["numero"].as_str()?.to_owned(),
    ))
}

/// Files demandes with the session `cookie` on `base` until the server
/// stops answering.
async fn keep_filing(base: String, cookie: String, acknowledged: Acknowledged) {
    let http = reqwest::Client::new();
    let answers = load::answers();
    while let Some(filed) = file_one(&http, &base, &cookie, &answers).await {
        acknowledged.lock().expect("not poisoned").push(filed);
    }
}

/// Every acknowledged demande is stored with its number, history and
/// jobs; no number twice.
async fn check_stored(app: &TestApp, acknowledged: &[(String, String)], round: usize) {
    let mut numbers = HashSet::new();
    for (id, numero) in acknowledged {
        let demande = DemandeId::parse(id).expect("an id");
        let stored = app
            .store
            .demande(demande)
            .await
            .unwrap_or_else(|e| panic!("round {round}: acknowledged {numero} lost: {e}"));
        assert_eq!(&stored.demande.numero, numero, "round {round}");
        let history = app.store.history(demande).await.expect("history read");
        assert!(
            !history.is_empty(),
            "round {round}: {numero} without history"
        );
        let jobs = app.store.jobs_of(demande).await.expect("jobs read");
        assert!(!jobs.is_empty(), "round {round}: {numero} without its jobs");
        assert!(
            numbers.insert(numero.clone()),
            "round {round}: {numero} given twice"
        );
    }
}

async fn killed_ten_times(app: TestApp) {
    // The hosts read the system's clock.
    app.clock.set(chrono::Utc::now());
    app.import_yaml(load::DEFINITION.to_owned()).await;
    // Registered and logged in on the test's own server (cheap password
    // hashes): the hosts read the same sessions.
    let http = reqwest::Client::new();
    let mut cookies = Vec::new();
    for i in 0..CLIENTS {
        let login = format!("usager{i}@exemple.test");
        app.anonymous()
            .post(
                "/api/auth/register",
                usager_registration(&login, PASSWORD, "Camille", "Martin"),
            )
            .await
            .expect(201);
        cookies.push(log_in(&http, &app.base, &login).await);
    }
    let acknowledged: Acknowledged = Arc::default();
    let mut delays = Vec::new();
    for round in 0..KILLS {
        let host = Host::start(&app, &format!("crash-{round}")).await;
        let clients: Vec<_> = cookies
            .iter()
            .map(|cookie| {
                tokio::spawn(keep_filing(
                    host.base.clone(),
                    cookie.clone(),
                    acknowledged.clone(),
                ))
            })
            .collect();
        // Killed while the filing goes on: a random moment after this
        // round's first acknowledgement (a fresh debug host on a busy
        // machine may take seconds to answer its first filing).
        let before = acknowledged.lock().expect("not poisoned").len();
        let waited = std::time::Instant::now();
        while acknowledged.lock().expect("not poisoned").len() == before {
            assert!(
                waited.elapsed() < Duration::from_secs(120),
                "round {round}: no filing acknowledged in 2 minutes\n{}",
                host.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let delay = random_delay();
        delays.push(delay.as_millis());
        tokio::time::sleep(delay).await;
        // SIGKILL (`Child::kill`), as the host is dropped.
        drop(host);
        for client in clients {
            client.await.expect("a client ends when the server is gone");
        }
        let seen = acknowledged.lock().expect("not poisoned").clone();
        // Started again, the platform has them all.
        let again = Host::start(&app, &format!("crash-{round}-after")).await;
        check_stored(&app, &seen, round).await;
        drop(again);
    }
    let total = acknowledged.lock().expect("not poisoned").len();
    assert!(
        total >= KILLS,
        "too few filings to judge: {total} (kills {delays:?} ms after each round's first)"
    );
    eprintln!(
        "{total} demandes acknowledged across {KILLS} kills, {delays:?} ms after each round's first"
    );
}
