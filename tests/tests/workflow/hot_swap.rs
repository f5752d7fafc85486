//! Swapping connector versions through the admin API while usagers file
//! and agents process: no request fails, a hostile version activated then
//! rolled back delays transmissions without losing or doubling one, and
//! calls made during a swap answer on one version or the other.
//!
//! The component is the hostile test connector: its first version accepts
//! every transmission, its second one panics on it (see
//! `tests/components/hostile`).

use std::collections::BTreeSet;

use guichet_core::id::DemandeId;
use guichet_tests::app::{Client, TestApp, example_path};
use guichet_tests::filing::{SIGNALEMENT, connect_atal, file_signalement_on, step};
use guichet_tests::hostile::echange;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    a_hostile_version_activated_then_rolled_back_while_demandes_flow_loses_nothing,
    swapping_versions_under_concurrent_calls_fails_no_request,
);

const VOIRIE: &str = "Gest_SVL_DTE_Voirie";
const ECHANGE: &str = "signalement-echange";

async fn swap(admin: &Client, to: &str) {
    let reply = if to == "rollback" {
        admin
            .post("/api/connectors/instances/echange/rollback", json!({}))
            .await
    } else {
        admin
            .post(
                "/api/connectors/instances/echange/activate",
                json!({ "version": to }),
            )
            .await
    };
    reply.expect(200);
}

/// The signalement under another slug, transmitted to `echange` when
/// received.
async fn import_signalement_to_echange(app: &TestApp) {
    let text = std::fs::read_to_string(example_path(SIGNALEMENT)).unwrap();
    let text = text
        .replacen(
            "slug: signalement-voie-publique",
            &format!("slug: {ECHANGE}"),
            1,
        )
        .split("\nconnector:")
        .next()
        .unwrap()
        .to_owned()
        + "\nconnector:\n  instance: echange\n  transmit_on: en_cours_analyse\n";
    app.import_yaml(text).await;
}

async fn a_hostile_version_activated_then_rolled_back_while_demandes_flow_loses_nothing(
    app: TestApp,
) {
    let admin = echange(&app, "panic").await;
    connect_atal(&app).await;
    import_signalement_to_echange(&app).await;
    app.grant(VOIRIE, Some(ECHANGE)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usagers = [
        app.usager("Camille", "Martin", "camille.martin@exemple.test")
            .await,
        app.usager("Louis", "Durand", "louis.durand@exemple.test")
            .await,
    ];

    // A transmission that meets the hostile version fails, to be retried.
    let first = file_signalement_on(&usagers[0], ECHANGE, None).await;
    step(&gestionnaire, &first, "receptionner").await;
    swap(&admin, "0.2.0").await;
    let hostile = app.transmit().await;
    assert_eq!(hostile.retried, 1, "{hostile:?}");
    assert_eq!(hostile.failed, 0, "nothing fails for good: {hostile:?}");
    swap(&admin, "rollback").await;

    // Two usagers file and the gestionnaire receives (each reception
    // writes a transmission job) while the administrator activates the
    // hostile version, the worker runs on it, and the administrator rolls
    // back: every request of theirs must succeed (the helpers expect each
    // answer's status).
    let flow = usagers.iter().map(|usager| {
        let gestionnaire = gestionnaire.clone();
        async move {
            let mut filed = Vec::new();
            for _ in 0..5 {
                let id = file_signalement_on(usager, ECHANGE, None).await;
                step(&gestionnaire, &id, "receptionner").await;
                filed.push(id);
            }
            filed
        }
    });
    let swaps = async {
        for _ in 0..3 {
            swap(&admin, "0.2.0").await;
            app.transmit().await;
            swap(&admin, "rollback").await;
            tokio::task::yield_now().await;
        }
    };
    let (filed, ()) = tokio::join!(futures::future::join_all(flow), swaps);
    let mut filed: Vec<String> = filed.into_iter().flatten().collect();
    filed.push(first);

    // Back on the first version: what the hostile one failed is retried
    // after its backoff, and each demande reaches the vendor once.
    app.jump_days(1).await;
    let mut rounds = 0;
    while app.transmit().await != Default::default() {
        rounds += 1;
        assert!(rounds < 10, "transmissions never end");
    }
    let mut remote_ids = BTreeSet::new();
    for id in &filed {
        let jobs: Vec<_> = app
            .store
            .jobs_of(DemandeId::parse(id).unwrap())
            .await
            .unwrap()
            .into_iter()
            .filter(|job| job.kind == "connector.transmit")
            .collect();
        assert_eq!(jobs.len(), 1, "one job per demande: {jobs:?}");
        assert_eq!(jobs[0].status, guichet_store::job::JobStatus::Done);
        let view = guichet_tests::filing::agent_view(&gestionnaire, id).await;
        let transmission = &view["transmissions"][0];
        assert_eq!(transmission["state"], "transmise", "{view}");
        assert_eq!(transmission["display_id"], "0.1.0", "{view}");
        remote_ids.insert(transmission["remote_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(remote_ids.len(), filed.len(), "one record per demande");
}

async fn swapping_versions_under_concurrent_calls_fails_no_request(app: TestApp) {
    let admin = echange(&app, "version").await;
    let callers = (0..3).map(|_| {
        let admin = admin.clone();
        async move {
            let mut seen = BTreeSet::new();
            for _ in 0..40 {
                let reply = admin
                    .post("/api/connectors/instances/echange/check", json!({}))
                    .await;
                let body: &Value = reply.expect(200);
                seen.insert(body["message"].as_str().unwrap().to_owned());
            }
            seen
        }
    });
    let swaps = async {
        for _ in 0..10 {
            swap(&admin, "0.2.0").await;
            tokio::task::yield_now().await;
            swap(&admin, "rollback").await;
        }
        swap(&admin, "0.2.0").await;
    };
    let (seen, ()) = tokio::join!(futures::future::join_all(callers), swaps);

    let seen: BTreeSet<String> = seen.into_iter().flatten().collect();
    assert!(
        seen.iter().all(|v| v == "0.1.0" || v == "0.2.0"),
        "{seen:?}"
    );
    let after = admin
        .post("/api/connectors/instances/echange/check", json!({}))
        .await;
    assert_eq!(
        after.expect(200)["message"],
        "0.2.0",
        "the last activation serves"
    );
}
