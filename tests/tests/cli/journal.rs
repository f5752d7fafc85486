//! `guichet connector instance create | update | check`, `journal` and
//! `dead-letters` on the database of a data directory, against the
//! simulated ATAL over real HTTP: French text by default, JSON with
//! `--json`, a refusal in French with a non-zero exit code.

use std::path::Path;

use chrono::Utc;
use guichet_host::cli::demo::atal_settings;
use guichet_host::service::transmission::TRANSMIT_JOB;
use guichet_store::job::{JobStatus, NewJob};
use guichet_tests::{ATAL_KEY, atal, components};
use serde_json::{Value, json};

use super::registry::{data_dir, run, start};
use super::{guichet, stderr, stdout};

/// `guichet connector <args> --data-dir <dir>`, which must fail: its exit
/// code, standard output and standard error.
fn refused(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = guichet()
        .arg("connector")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs");
    assert!(!output.status.success(), "{args:?}: {}", stdout(&output));
    (
        output.status.code().unwrap_or(-1),
        stdout(&output),
        stderr(&output),
    )
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("JSON expected ({e}): {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_is_created_updated_checked_and_journaled_from_the_command_line() {
    let dir = data_dir();
    let sim = atal().await;
    run(&dir, &["install", components::ATAL]);
    let config = dir.join("atal-ville.json");
    std::fs::write(
        &config,
        json!({
            "connector": "atal",
            "settings": atal_settings(&sim.base_url(), ATAL_KEY),
            "allowed_hosts": [sim.base_url()],
        })
        .to_string(),
    )
    .expect("configuration file written");
    let config = config.to_str().expect("UTF-8 path");

    let created = json_of(&run(
        &dir,
        &[
            "instance",
            "create",
            "atal-ville",
            "--config",
            config,
            "--json",
        ],
    ));
    let (_, _, twice) = refused(
        &dir,
        &["instance", "create", "atal-ville", "--config", config],
    );
    let updated = run(
        &dir,
        &[
            "instance",
            "update",
            "atal-ville",
            "--setting",
            "requester_id=106",
        ],
    );
    let (code, _, wrong) = refused(
        &dir,
        &[
            "instance",
            "update",
            "atal-ville",
            "--setting-json",
            "api_key=12",
        ],
    );
    let instances = json_of(&run(&dir, &["instances", "--json"]));

    assert_eq!(created["connector"], "atal");
    assert_eq!(created["settings"]["api_key"], "********", "{created}");
    assert!(
        twice.contains("l'instance « atal-ville » existe déjà"),
        "{twice}"
    );
    assert!(updated.contains("Instance mise à jour."), "{updated}");
    assert_eq!(code, 1);
    assert!(
        wrong.contains("configuration invalide pour le connecteur « atal »")
            && wrong.contains("settings.api_key : "),
        "one French message per wrong value: {wrong}"
    );
    assert_eq!(instances[0]["settings"]["requester_id"], "106");
    assert_eq!(instances[0]["settings"]["api_key"], "********");
    assert!(!instances.to_string().contains(ATAL_KEY));

    // The vendor up, then down: the secret kept through the update works.
    let up = json_of(&run(&dir, &["instance", "check", "atal-ville", "--json"]));
    let up_text = run(&dir, &["instance", "check", "atal-ville"]);
    sim.set_mode(atal_sim::Mode::Down);
    let (code, down, why) = refused(&dir, &["instance", "check", "atal-ville", "--json"]);

    assert_eq!(up["available"], true, "{up}");
    assert!(
        up_text.contains("L'instance « atal-ville » est disponible"),
        "{up_text}"
    );
    assert_eq!(code, 2);
    let down = json_of(&down);
    assert_eq!(down["available"], false, "{down}");
    assert!(why.contains("n'est pas disponible"), "{why}");

    // Every check is in the journal, the latest first.
    let journal = json_of(&run(
        &dir,
        &["journal", "--instance", "atal-ville", "--json"],
    ));
    let outcomes: Vec<(&str, &str)> = journal
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().expect("an operation"),
                e["outcome"].as_str().expect("an outcome"),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 3, "{journal}");
    assert!(outcomes.iter().all(|(operation, _)| *operation == "check"));
    assert_ne!(outcomes[0].1, "ok", "the vendor down, last: {journal}");
    assert_eq!(&outcomes[1..], [("check", "ok"), ("check", "ok")]);
    let text = run(&dir, &["journal", "--connector", "atal", "--limit", "1"]);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("atal-ville (atal 1.0.0) check : "), "{text}");
    let none = run(&dir, &["journal", "--connector", "espace-famille"]);
    assert!(none.contains("Aucun appel journalisé."), "{none}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_jobs_are_listed_retried_and_abandoned_from_the_command_line() {
    let dir = data_dir();
    let empty = run(&dir, &["dead-letters"]);
    assert!(
        empty.contains("Aucune tâche en échec définitif."),
        "{empty}"
    );
    let app = start(&dir).await;
    let store = app.state.store.clone();
    let now = Utc::now();
    let mut jobs = Vec::new();
    for _ in 0..2 {
        let job = NewJob {
            kind: TRANSMIT_JOB.to_owned(),
            demande: None,
            payload: json!({ "instance": "atal-ville", "status": "en_cours_analyse" }),
            run_at: now,
        };
        let id = store.enqueue(job, now).await.expect("enqueued");
        store
            .claim_jobs("test-worker", &[TRANSMIT_JOB], now, 10)
            .await
            .expect("claimed");
        store
            .fail_job(id, "test-worker", "refusé par ATAL", None, now)
            .await
            .expect("failed for good");
        jobs.push(id);
    }
    store.close().await;
    let ids: Vec<String> = jobs.iter().map(ToString::to_string).collect();
    let (abandoned_id, retried_id) = (ids[0].as_str(), ids[1].as_str());

    let listed = json_of(&run(&dir, &["dead-letters", "--json"]));
    let text = run(&dir, &["dead-letters"]);
    let abandoned = json_of(&run(
        &dir,
        &["dead-letters", "abandon", abandoned_id, "--json"],
    ));
    let (code, _, refusal) = refused(&dir, &["dead-letters", "retry", abandoned_id]);
    let retried = run(&dir, &["dead-letters", "retry", retried_id]);
    let (_, _, not_failed) = refused(&dir, &["dead-letters", "abandon", retried_id]);
    let left = json_of(&run(&dir, &["dead-letters", "--json"]));

    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    assert_eq!(listed[0]["last_error"], "refusé par ATAL");
    assert!(
        text.contains(abandoned_id) && text.contains("dernière erreur : refusé par ATAL"),
        "{text}"
    );
    assert_eq!(abandoned["status"], "abandoned");
    assert!(
        abandoned["abandoned_by"]
            .as_str()
            .is_some_and(|by| by.starts_with("ligne de commande (")),
        "{abandoned}"
    );
    assert_eq!(code, 1);
    assert!(
        refusal.contains("a été abandonnée par ligne de commande"),
        "{refusal}"
    );
    assert!(retried.contains("remise dans la file"), "{retried}");
    assert!(
        not_failed.contains("n'est pas en échec définitif"),
        "{not_failed}"
    );
    assert_eq!(left, json!([]), "neither the abandoned nor the retried job");
    let app = start(&dir).await;
    let mut statuses = Vec::new();
    for id in &jobs {
        statuses.push(app.state.store.job(*id).await.expect("kept").status);
    }
    app.state.store.close().await;
    assert_eq!(statuses, [JobStatus::Abandoned, JobStatus::Pending]);
    let _ = std::fs::remove_dir_all(&dir);
}
