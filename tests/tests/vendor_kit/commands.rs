//! `guichet connector new`, `verify` and `call` as a vendor runs them.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_made_by_connector_new_builds_and_passes_check_and_verify() {
    let outside = scratch("vendor-new");
    let sdk = root().join("sdk");
    let new = |name: &str| {
        args(&[
            "connector",
            "new",
            name,
            "--dir",
            &outside.to_string_lossy(),
            "--sdk-path",
            &sdk.to_string_lossy(),
        ])
    };

    let made = guichet(new("bibliotheque")).await;
    let again = guichet(new("bibliotheque")).await;
    let bad = guichet(new("Bibliothèque")).await;

    assert!(made.status.success(), "{}", stderr(&made));
    assert!(stdout(&made).contains("cargo build --release --target wasm32-wasip2"));
    let project = outside.join("bibliotheque");
    assert_eq!(
        files(&project),
        [
            ".gitignore",
            "Cargo.toml",
            "README.md",
            "instance.json",
            "src/lib.rs"
        ]
        .map(PathBuf::from)
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("existe déjà"), "{}", stderr(&again));
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("nom « Bibliothèque » invalide"));

    test_and_build(&project, "bibliotheque");
    let wasm = target_dir()
        .join("wasm32-wasip2/release/bibliotheque.wasm")
        .to_string_lossy()
        .into_owned();
    let checked = guichet(args(&["connector", "check", &wasm])).await;
    assert!(checked.status.success(), "{}", stderr(&checked));
    let description: serde_json::Value = serde_json::from_str(&stdout(&checked)).expect("JSON");
    assert_eq!(description["name"], "bibliotheque");
    assert_eq!(description["operations"], serde_json::json!(["check"]));

    // The generated instance.json, pointed at the vendor's test server.
    let base = test_server(false).await;
    let config = project.join("instance.json");
    let text = std::fs::read_to_string(&config).expect("instance.json");
    assert!(text.contains("http://127.0.0.1:8099"));
    std::fs::write(
        &config,
        text.replace("http://127.0.0.1:8099/", &format!("{base}/"))
            .replace("http://127.0.0.1:8099", &base),
    )
    .expect("instance.json rewritten");
    let config = config.to_string_lossy().into_owned();
    let verified = guichet(args(&["connector", "verify", &wasm, "--config", &config])).await;

    assert!(
        verified.status.success(),
        "{}\n{}",
        stdout(&verified),
        stderr(&verified)
    );
    let report = stdout(&verified);
    assert!(
        report.contains("ok     describe — bibliotheque 0.1.0"),
        "{report}"
    );
    assert!(
        report.contains("ok     check — L'application répond."),
        "{report}"
    );
    assert!(
        report.contains("—      transmit — non déclarée"),
        "{report}"
    );
    assert!(
        report.contains("Conforme : 2 vérifications réussies."),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&outside);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_without_an_sdk_source_depends_on_the_sdk_version() {
    let outside = scratch("vendor-new-registry");

    let made = guichet(args(&[
        "connector",
        "new",
        "mon-connecteur-2",
        "--dir",
        &outside.to_string_lossy(),
        "--vendor",
        "Éditeur \"Exemple\"",
    ]))
    .await;

    assert!(made.status.success(), "{}", stderr(&made));
    let project = outside.join("mon-connecteur-2");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("manifest");
    assert!(
        manifest.contains(&format!("guichet-sdk = \"{}\"", sdk_version())),
        "{manifest}"
    );
    let source = std::fs::read_to_string(project.join("src/lib.rs")).expect("lib.rs");
    assert!(source.contains("pub struct MonConnecteur2;"));
    assert!(
        source.contains(r#"vendor: "Éditeur \"Exemple\"".into(),"#),
        "{source}"
    );
    let _ = std::fs::remove_dir_all(&outside);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fails_a_connector_whose_transmit_ignores_the_idempotency_key() {
    let dir = scratch("verify-hello");
    let config = |base: &str| {
        serde_json::json!({
            "settings": { "base_url": base, "token": "jeton-de-test" },
            "allowed_hosts": [base],
            "verify": { "demande": hello_demande() }
        })
    };
    let keeping = write_json(&dir, "keeping.json", &config(&test_server(false).await));
    let forgetful = write_json(&dir, "forgetful.json", &config(&test_server(true).await));
    let no_demande = write_json(
        &dir,
        "no-demande.json",
        &serde_json::json!({ "settings": { "base_url": "http://127.0.0.1:9", "token": "t" } }),
    );
    let misspelt = write_json(
        &dir,
        "misspelt.json",
        &serde_json::json!({
            "settings": { "base_url": "http://127.0.0.1:9", "token": "t" },
            "verify": { "demande": hello_demande(), "lookup": {} }
        }),
    );
    let verify =
        |config: &str| args(&["connector", "verify", components::HELLO, "--config", config]);

    let passed = guichet(verify(&keeping)).await;
    let failed = guichet(verify(&forgetful)).await;
    let without = guichet(verify(&no_demande)).await;
    let unknown = guichet(verify(&misspelt)).await;

    assert!(
        passed.status.success(),
        "{}\n{}",
        stdout(&passed),
        stderr(&passed)
    );
    assert!(
        stdout(&passed).contains(
            "ok     transmit (deux fois, même clé d'idempotence) — un seul dossier distant"
        )
    );
    assert_eq!(failed.status.code(), Some(2), "{}", stdout(&failed));
    let report = stdout(&failed);
    assert!(
        report.contains(
            "ÉCHEC  transmit (deux fois, même clé d'idempotence) — deux dossiers distants"
        ),
        "{report}"
    );
    assert!(report.contains("la clé d'idempotence n'est pas respectée"));
    assert!(
        stderr(&failed).contains("erreur : 1 vérification(s) en échec"),
        "{}",
        stderr(&failed)
    );
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stderr(&without).contains("verify.demande"),
        "{}",
        stderr(&without)
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("verify.lookup"),
        "{}",
        stderr(&unknown)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_party_connectors_pass_verify_against_the_simulated_vendors() {
    let atal = guichet_tests::atal().await;
    let famille = guichet_tests::espace_famille().await;
    let dir = scratch("verify-first-party");
    let photo = dir.join("trou.jpg");
    std::fs::write(&photo, guichet_tests::app::jpeg("trou")).expect("photo written");
    let usager = serde_json::json!({
        "first_name": "Léa", "last_name": "Martin",
        "email": "lea.martin@example.org", "mobile": "0612345678"
    });
    let atal_config = write_json(
        &dir,
        "atal.json",
        &serde_json::json!({
            "settings": {
                "base_url": atal.base_url(), "api_key": guichet_tests::ATAL_KEY, "requester_id": "105"
            },
            "allowed_hosts": [atal.base_url()],
            "verify": { "demande": {
                "id": "id-SIG-2026-000001", "numero": "SIG-2026-000001",
                "demarche": "signalement-voie-publique", "demarche_version": 1,
                "submitted_at": "2026-11-29T09:30:00Z", "usager": usager,
                "fields": [
                    { "id": "objet", "value": { "type": "text", "value": "Nid de poule dangereux" } },
                    { "id": "description", "value": { "type": "text", "value": "Trou profond devant l'école." } },
                    { "id": "categorie", "value": { "type": "choice", "value": { "value": "12", "label": "Voirie - nid de poule" } } },
                    { "id": "adresse", "value": { "type": "address", "value": {
                        "label": "12 rue de la République, 69001 Lyon", "latitude": 45.767, "longitude": 4.836
                    } } },
                    { "id": "photos", "value": { "type": "files", "value": [
                        { "id": "pj-1", "filename": "trou.jpg", "media_type": "image/jpeg", "size": 6 }
                    ] } }
                ]
            } }
        }),
    );
    let famille_config = write_json(
        &dir,
        "famille.json",
        &serde_json::json!({
            "settings": { "base_url": famille.base_url(), "token": guichet_tests::FAMILLE_TOKEN },
            "allowed_hosts": [famille.base_url()],
            "verify": {
                "demande": {
                    "id": "id-cant-1", "numero": "CANT-2026-000001",
                    "demarche": "inscription-restauration-scolaire", "demarche_version": 1,
                    "submitted_at": "2026-11-29T09:30:00Z", "usager": usager,
                    "fields": [
                        { "id": "famille", "value": { "type": "text", "value": "F-0001" } },
                        { "id": "enfant", "value": { "type": "choice", "value": { "value": "E-0001", "label": "Léa DUPONT" } } },
                        { "id": "activite", "value": { "type": "choice", "value": { "value": "CANT-2026", "label": "Restauration scolaire" } } },
                        { "id": "date_debut", "value": { "type": "date", "value": "2027-01-04" } },
                        { "id": "jours", "value": { "type": "choices", "value": [
                            { "value": "lundi", "label": "Lundi" }, { "value": "jeudi", "label": "Jeudi" }
                        ] } }
                    ]
                },
                "lookups": {
                    "family-link": { "params": { "family-code": "F-0001", "secret": "s3cret-dupont" } },
                    "children": { "params": { "family-id": "F-0001" } },
                    "family": { "params": { "family-id": "F-0001" } }
                }
            }
        }),
    );
    let attachment = format!("pj-1={}", photo.display());

    let atal_report = guichet(args(&[
        "connector",
        "verify",
        components::ATAL,
        "--config",
        &atal_config,
        "--attachment",
        &attachment,
    ]))
    .await;
    let famille_report = guichet(args(&[
        "connector",
        "verify",
        components::ESPACE_FAMILLE,
        "--config",
        &famille_config,
    ]))
    .await;

    for (report, sources) in [(&atal_report, 3), (&famille_report, 4)] {
        let text = stdout(report);
        assert!(report.status.success(), "{text}\n{}", stderr(report));
        assert!(!text.contains("ÉCHEC"), "{text}");
        // describe, check, a search and a fetch per source, transmit,
        // status, card.
        let checks = 1 + 1 + 2 * sources + 3;
        assert!(
            text.contains(&format!("Conforme : {checks} vérifications réussies.")),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_call_names_the_path_of_a_wrong_input_and_the_schema() {
    let dir = scratch("call-path");
    let config = write_json(
        &dir,
        "hello.json",
        &serde_json::json!({ "settings": { "base_url": "http://127.0.0.1:9", "token": "t" } }),
    );
    let mut demande = hello_demande();
    demande["fields"][0]["value"] = serde_json::json!({ "value": 86.5 });
    let input = serde_json::json!({ "demande": demande, "idempotency_key": "k" }).to_string();

    let refused = guichet(args(&[
        "connector",
        "call",
        components::HELLO,
        "--config",
        &config,
        "transmit",
        &input,
    ]))
    .await;
    let schema = guichet(args(&["connector", "schema", "transmit.input"])).await;

    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("à « demande.fields[0].value »"),
        "{message}"
    );
    assert!(message.contains("missing field `type`"), "{message}");
    assert!(
        message.contains("guichet connector schema transmit"),
        "{message}"
    );
    assert!(schema.status.success(), "{}", stderr(&schema));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&schema)).expect("JSON");
    assert_eq!(printed["title"], "TransmitInput");
    let _ = std::fs::remove_dir_all(&dir);
}
