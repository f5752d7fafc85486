//! The simulated Espace famille, spoken to over real HTTP as a connector would.

use std::time::Duration;

use chrono::Datelike;
use espace_famille_sim::{
    CodeStatut, DEFAULT_TOKEN, Famille, Handle, Mode, NewCommentaire,
    famille::{Adresse, Enfant},
};
use reqwest::{Client, RequestBuilder, Response, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long a test waits for an answer it expects not to come.
const SHORT_WAIT: Duration = Duration::from_millis(300);

/// How long the server waits in slow mode: far beyond [`SHORT_WAIT`].
const SLOW_DELAY: Duration = Duration::from_secs(30);

struct App {
    portail: Handle,
    client: Client,
}

async fn spawn_app() -> App {
    let portail = espace_famille_sim::spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("the simulator binds a free port");
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("the HTTP client builds");
    App { portail, client }
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.portail.base_url())
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(DEFAULT_TOKEN)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(DEFAULT_TOKEN)
    }

    async fn read(&self, path: &str) -> (StatusCode, Value) {
        let answer = self.get(path).send().await.expect("the simulator answers");
        json_of(answer).await
    }

    async fn send(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let answer = self
            .post(path)
            .json(body)
            .send()
            .await
            .expect("the simulator answers");
        json_of(answer).await
    }

    async fn register(&self, body: &Value) -> (StatusCode, Value) {
        self.send("/api/inscriptions", body).await
    }
}

async fn json_of(answer: Response) -> (StatusCode, Value) {
    let status = answer.status();
    (status, answer.json().await.expect("a JSON body"))
}

/// Léa DUPONT (10) to the school restaurant.
fn lea_at_the_cantine() -> Value {
    json!({
        "id_famille": "F-0001",
        "id_enfant": "E-0001",
        "id_activite": "CANT-2026",
        "date_debut": "2026-09-01",
        "jours": ["lundi", "mardi", "jeudi", "vendredi"],
        "commentaire": "Allergie aux arachides (PAI en cours)."
    })
}

#[tokio::test]
async fn requests_without_the_bearer_token_are_refused() {
    let app = spawn_app().await;
    let ping = || app.client.get(app.url("/api/ping"));

    let answers = [
        ping().send().await,
        ping().bearer_auth("not-the-token").send().await,
        ping().header("Authorization", DEFAULT_TOKEN).send().await,
    ];

    for answer in answers {
        let (status, body) = json_of(answer.expect("the simulator answers")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "non_authentifie");
        assert!(body["erreur"].is_string());
    }
}

#[tokio::test]
async fn ping_reports_the_simulated_version() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/ping").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "statut": "ok", "version": "3.2-sim" }));
}

#[tokio::test]
async fn rattachement_by_code_and_secret_finds_the_family() {
    let app = spawn_app().await;

    let (status, body) = app
        .send(
            "/api/familles/rattachement",
            &json!({ "code_famille": "F-0001", "secret": "s3cret-dupont" }),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "id_famille": "F-0001", "libelle": "Famille DUPONT" }));
}

#[tokio::test]
async fn rattachement_by_identity_ignores_case_and_accents() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "nom": "dupont", "prenom": "LEA", "date_naissance": "2016-04-12" }), "F-0001"),
        (json!({ "nom": "Benoit", "prenom": "thomas", "date_naissance": "1979-02-14" }), "F-0003"),
        (json!({ "nom": "MARTIN", "prenom": "Elodie", "date_naissance": "1990-11-03" }), "F-0002"),
    ];

    for (identity, expected) in cases {
        let (status, body) = app.send("/api/familles/rattachement", &identity).await;

        assert_eq!(status, StatusCode::OK, "{identity}");
        assert_eq!(body["id_famille"], expected, "{identity}");
    }
}

#[tokio::test]
async fn rattachement_with_a_wrong_secret_is_forbidden() {
    let app = spawn_app().await;

    let (status, body) = app
        .send(
            "/api/familles/rattachement",
            &json!({ "code_famille": "F-0001", "secret": "s3cret-martin" }),
        )
        .await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "secret_invalide");
}

#[tokio::test]
async fn rattachement_matching_no_family_is_not_found() {
    let app = spawn_app().await;

    for demande in [
        json!({ "code_famille": "F-9999", "secret": "s3cret-dupont" }),
        json!({ "nom": "DUPONT", "prenom": "Léa", "date_naissance": "2016-04-13" }),
    ] {
        let (status, body) = app.send("/api/familles/rattachement", &demande).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{demande}");
        assert_eq!(body["code"], "famille_introuvable", "{demande}");
    }
}

#[tokio::test]
async fn rattachement_matching_two_families_is_ambiguous() {
    let app = spawn_app().await;
    let lea = app
        .portail
        .state()
        .famille("F-0001")
        .expect("F-0001 is seeded")
        .enfants[0]
        .clone();
    app.portail
        .add_famille(second_household_of(lea))
        .expect("F-0004 is free");

    let (status, body) = app
        .send(
            "/api/familles/rattachement",
            &json!({ "nom": "DUPONT", "prenom": "Léa", "date_naissance": "2016-04-12" }),
        )
        .await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "rattachement_ambigu");
}

/// A family where `enfant` also lives, as in shared custody.
fn second_household_of(enfant: Enfant) -> Famille {
    Famille {
        id_famille: "F-0004".into(),
        libelle: "Famille MOREL".into(),
        secret: "s3cret-morel".into(),
        adresse: Adresse {
            ligne1: "3 rue Garibaldi".into(),
            code_postal: "69006".into(),
            ville: "Lyon".into(),
        },
        responsables: Vec::new(),
        enfants: vec![enfant],
        factures: Vec::new(),
    }
}

#[tokio::test]
async fn rattachement_needs_exactly_one_complete_shape() {
    let app = spawn_app().await;
    let cases = [
        ("neither shape", json!({})),
        (
            "both shapes",
            json!({ "code_famille": "F-0001", "secret": "s3cret-dupont", "nom": "DUPONT" }),
        ),
        ("code without secret", json!({ "code_famille": "F-0001" })),
        ("identity without birth date", json!({ "nom": "DUPONT", "prenom": "Léa" })),
        (
            "invalid birth date",
            json!({ "nom": "DUPONT", "prenom": "Léa", "date_naissance": "12/04/2016" }),
        ),
    ];

    for (case, demande) in cases {
        let (status, body) = app.send("/api/familles/rattachement", &demande).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(body["erreur"].is_string(), "{case}");
    }
}

#[tokio::test]
async fn family_reads_with_its_responsables_and_children_but_no_secret() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/familles/F-0001").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["libelle"], "Famille DUPONT");
    assert_eq!(body["adresse"]["ville"], "Lyon");
    assert_eq!(
        body["responsables"][0],
        json!({
            "id": "R-0001",
            "nom": "DUPONT",
            "prenom": "Marc",
            "email": "marc.dupont@example.fr",
            "telephone": "06 12 34 56 78"
        })
    );
    assert_eq!(body["enfants"][0]["date_naissance"], "2016-04-12");
    assert_eq!(body["enfants"][1]["prenom"], "Hugo");
    assert!(body.get("secret").is_none());
    assert!(body.get("factures").is_none());
}

#[tokio::test]
async fn children_and_invoices_of_a_family_read_separately() {
    let app = spawn_app().await;

    let (enfants_status, enfants) = app.read("/api/familles/F-0002/enfants").await;
    let (factures_status, factures) = app.read("/api/familles/F-0001/factures").await;

    assert_eq!(enfants_status, StatusCode::OK);
    assert_eq!(enfants.as_array().map(Vec::len), Some(1));
    assert_eq!(enfants[0]["prenom"], "Chloé");
    assert_eq!(enfants[0]["ecole"], "École maternelle Les Tilleuls");
    assert_eq!(factures_status, StatusCode::OK);
    assert_eq!(factures.as_array().map(Vec::len), Some(3));
    assert_eq!(
        factures[2],
        json!({ "numero": "FAC-2026-001305", "date": "2026-10-31", "montant": 78.3, "payee": false })
    );
}

#[tokio::test]
async fn unknown_families_are_not_found() {
    let app = spawn_app().await;

    for path in ["/api/familles/F-9999", "/api/familles/F-9999/enfants", "/api/familles/F-9999/factures"] {
        let (status, body) = app.read(path).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "famille_introuvable", "{path}");
    }
}

#[tokio::test]
async fn catalogue_is_filtered_by_category_and_accent_free_words() {
    let app = spawn_app().await;
    let ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .expect("an array")
            .iter()
            .filter_map(|activite| activite["id"].as_str().map(str::to_owned))
            .collect()
    };

    let (_, all) = app.read("/api/activites").await;
    let (_, cantine) = app.read("/api/activites?categorie=cantine").await;
    let (_, periscolaire) = app.read("/api/activites?q=PERISCOLAIRE").await;
    let (_, loisirs) = app
        .read("/api/activites?categorie=centre_de_loisirs&q=oleron")
        .await;

    assert_eq!(ids(&all).len(), 6);
    assert_eq!(ids(&cantine), ["CANT-2026"]);
    assert_eq!(cantine[0]["age_min"], 3);
    assert_eq!(cantine[0]["age_max"], 11);
    assert_eq!(ids(&periscolaire), ["PERI-MATIN-2026"]);
    assert_eq!(ids(&loisirs), ["SEJ-ETE-2027"]);
}

#[tokio::test]
async fn catalogue_rejects_an_unknown_category() {
    let app = spawn_app().await;

    let (status, body) = app.read("/api/activites?categorie=piscine").await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "parametres_invalides");
}

#[tokio::test]
async fn activity_reads_by_id() {
    let app = spawn_app().await;

    let (found, activite) = app.read("/api/activites/ALSH-MERC-2026").await;
    let (missing, error) = app.read("/api/activites/PISCINE").await;

    assert_eq!(found, StatusCode::OK);
    assert_eq!(activite["categorie"], "centre_de_loisirs");
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "activite_introuvable");
}

#[tokio::test]
async fn registration_is_filed_waiting_for_validation() {
    let app = spawn_app().await;
    let year = chrono::Utc::now().year();

    let (status, accuse) = app.register(&lea_at_the_cantine()).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(accuse["numero"], format!("INS-{year}-0001"));
    assert_eq!(
        accuse["statut"],
        json!({ "code": "EN_ATTENTE", "libelle": "En attente de validation", "definitif": false })
    );
    let id = accuse["id"].as_str().expect("an id");
    let (read, inscription) = app.read(&format!("/api/inscriptions/{id}")).await;
    assert_eq!(read, StatusCode::OK);
    assert_eq!(inscription["id_enfant"], "E-0001");
    assert_eq!(inscription["date_debut"], "2026-09-01");
    assert_eq!(inscription["jours"], json!(["lundi", "mardi", "jeudi", "vendredi"]));
    assert_eq!(inscription["commentaires"], json!([]));
}

#[tokio::test]
async fn registration_breaking_a_rule_is_rejected_with_its_code() {
    let app = spawn_app().await;
    let cases = [
        ("date_invalide", json!({ "date_debut": "2026-02-30" })),
        ("famille_inconnue", json!({ "id_famille": "F-9999" })),
        ("enfant_inconnu", json!({ "id_enfant": "E-9999" })),
        ("enfant_hors_famille", json!({ "id_enfant": "E-0003" })),
        ("activite_inconnue", json!({ "id_activite": "PISCINE" })),
        ("age_hors_tranche", json!({ "id_activite": "ALSH-MATER-2026" })),
        ("corps_invalide", json!({ "jours": ["funday"] })),
        ("corps_invalide", json!({ "id_enfant": null })),
    ];

    for (code, change) in cases {
        let mut body = lea_at_the_cantine();
        for (field, value) in change.as_object().expect("an object") {
            body[field] = value.clone();
        }

        let (status, error) = app.register(&body).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(error["code"], code);
    }
    assert!(app.portail.inscriptions().is_empty());
}

#[tokio::test]
async fn child_too_young_for_the_evening_study_is_refused() {
    let app = spawn_app().await;
    let chloe = json!({
        "id_famille": "F-0002",
        "id_enfant": "E-0003",
        "id_activite": "PERI-SOIR-2026",
        "date_debut": "2026-09-01"
    });

    let (status, error) = app.register(&chloe).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "age_hors_tranche");
    assert!(error["erreur"].as_str().is_some_and(|m| m.contains("4 ans")));
}

#[tokio::test]
async fn malformed_json_is_rejected_with_a_json_error() {
    let app = spawn_app().await;

    let answer = app
        .post("/api/inscriptions")
        .header("Content-Type", "application/json")
        .body("{\"id_famille\": ")
        .send()
        .await
        .expect("the simulator answers");

    let (status, error) = json_of(answer).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "json_invalide");
}

#[tokio::test]
async fn second_registration_of_the_same_child_returns_the_first() {
    let app = spawn_app().await;

    let (first_status, first) = app.register(&lea_at_the_cantine()).await;
    let (again_status, again) = app.register(&lea_at_the_cantine()).await;

    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(again_status, StatusCode::OK);
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app.portail.inscriptions().len(), 1);
}

#[tokio::test]
async fn refused_registration_frees_the_place_for_a_new_one() {
    let app = spawn_app().await;
    let (_, first) = app.register(&lea_at_the_cantine()).await;
    let first_id = first["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("a UUID");
    app.portail
        .set_statut(first_id, CodeStatut::Refusee, None)
        .expect("the registration exists");

    let (status, second) = app.register(&lea_at_the_cantine()).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(first["id"], second["id"]);
}

#[tokio::test]
async fn same_idempotency_key_and_body_files_one_registration() {
    let app = spawn_app().await;
    let send = || {
        app.post("/api/inscriptions")
            .header("Idempotency-Key", "demande-7")
            .json(&lea_at_the_cantine())
            .send()
    };

    let (first_status, first) = json_of(send().await.expect("the simulator answers")).await;
    let (again_status, again) = json_of(send().await.expect("the simulator answers")).await;

    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(again_status, StatusCode::OK);
    assert_eq!(first, again);
    let (_, listed) = app.read("/_sim/inscriptions").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn same_idempotency_key_with_another_body_conflicts() {
    let app = spawn_app().await;
    let mut hugo = lea_at_the_cantine();
    hugo["id_enfant"] = json!("E-0002");
    let send = |body: Value| {
        app.post("/api/inscriptions")
            .header("Idempotency-Key", "demande-8")
            .json(&body)
            .send()
    };

    let first = send(lea_at_the_cantine()).await.expect("the simulator answers");
    let (status, error) = json_of(send(hugo).await.expect("the simulator answers")).await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["code"], "cle_idempotence_reutilisee");
    assert_eq!(app.portail.inscriptions().len(), 1);
}

#[tokio::test]
async fn agent_validation_and_comment_show_on_the_registration() {
    let app = spawn_app().await;
    let (_, accuse) = app.register(&lea_at_the_cantine()).await;
    let id = accuse["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("a UUID");

    app.portail
        .set_statut(
            id,
            CodeStatut::Validee,
            Some(NewCommentaire::new("Service enfance", "Inscription validée, PAI reçu.")),
        )
        .expect("the registration exists");
    let (_, inscription) = app.read(&format!("/api/inscriptions/{id}")).await;

    assert_eq!(
        inscription["statut"],
        json!({ "code": "VALIDEE", "libelle": "Validée", "definitif": true })
    );
    assert_eq!(inscription["commentaires"][0]["auteur"], "Service enfance");
    assert!(inscription["commentaires"][0]["date"].is_string());
}

#[tokio::test]
async fn control_route_moves_a_registration_like_an_agent() {
    let app = spawn_app().await;
    let (_, accuse) = app.register(&lea_at_the_cantine()).await;
    let id = accuse["id"].as_str().expect("an id");
    let change = |body: Value| {
        app.client
            .post(app.url(&format!("/_sim/inscriptions/{id}/statut")))
            .json(&body)
            .send()
    };

    let refused = change(json!({ "code": "REFUSEE", "commentaire": { "auteur": "Service enfance", "texte": "Plus de place." } }))
        .await
        .expect("the simulator answers");
    let invalid = change(json!({ "code": "PERDUE" })).await.expect("the simulator answers");

    let (status, inscription) = json_of(refused).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inscription["statut"]["code"], "REFUSEE");
    assert_eq!(inscription["commentaires"][0]["texte"], "Plus de place.");
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_registrations_are_not_found() {
    let app = spawn_app().await;

    for path in [format!("/api/inscriptions/{}", Uuid::new_v4()), "/api/inscriptions/INS-1".to_owned()] {
        let (status, body) = app.read(&path).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "inscription_introuvable", "{path}");
    }
    let missing = app
        .client
        .post(app.url(&format!("/_sim/inscriptions/{}/statut", Uuid::new_v4())))
        .json(&json!({ "code": "VALIDEE" }))
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fail_mode_answers_500_until_back_to_normal() {
    let app = spawn_app().await;

    app.portail.set_mode(Mode::Fail);
    let (failed, error) = app.read("/api/ping").await;
    app.portail.set_mode(Mode::Normal);
    let (recovered, _) = app.read("/api/ping").await;

    assert_eq!(failed, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error["code"], "erreur_interne");
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn mode_can_be_switched_over_http() {
    let app = spawn_app().await;
    let switch = |body: Value| app.client.post(app.url("/_sim/mode")).json(&body).send();

    let to_fail = switch(json!({ "mode": "fail" })).await.expect("the simulator answers");
    let (failed, _) = app.read("/api/activites").await;
    let (current, mode) = json_of(
        app.client
            .get(app.url("/_sim/mode"))
            .send()
            .await
            .expect("the simulator answers"),
    )
    .await;
    let to_normal = switch(json!({ "mode": "normal" })).await.expect("the simulator answers");
    let (recovered, _) = app.read("/api/activites").await;

    assert_eq!(to_fail.status(), StatusCode::OK);
    assert_eq!(failed, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(current, StatusCode::OK);
    assert_eq!(mode, json!({ "mode": "fail" }));
    assert_eq!(to_normal.status(), StatusCode::OK);
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn slow_mode_outlasts_a_short_client_timeout() {
    let app = spawn_app().await;
    app.portail.set_mode(Mode::Slow(SLOW_DELAY));

    let slow = tokio::time::timeout(SHORT_WAIT, app.get("/api/ping").send()).await;
    app.portail.set_mode(Mode::Normal);
    let recovered = tokio::time::timeout(SLOW_DELAY, app.get("/api/ping").send()).await;

    assert!(slow.is_err(), "the answer should not come within {SHORT_WAIT:?}");
    let recovered = recovered.expect("no delay once normal").expect("the simulator answers");
    assert_eq!(recovered.status(), StatusCode::OK);
}

#[tokio::test]
async fn down_mode_drops_connections_then_recovers() {
    let app = spawn_app().await;
    let (warm, _) = app.read("/api/ping").await;

    app.portail.set_mode(Mode::Down);
    let pooled = app.get("/api/ping").send().await;
    let fresh = Client::new()
        .get(app.url("/_sim/mode"))
        .send()
        .await;
    app.portail.set_mode(Mode::Normal);
    let (recovered, _) = app.read("/api/ping").await;

    assert_eq!(warm, StatusCode::OK);
    assert!(pooled.is_err(), "a pooled connection must fail while down");
    assert!(fresh.is_err(), "the control routes are down too");
    assert_eq!(recovered, StatusCode::OK);
}

#[tokio::test]
async fn redirect_and_big_helpers_need_no_token() {
    let app = spawn_app().await;

    let redirect = app
        .client
        .get(app.url("/_sim/redirect?to=https://evil.example/"))
        .send()
        .await
        .expect("the simulator answers");
    let big = app
        .client
        .get(app.url("/_sim/big?bytes=2048"))
        .send()
        .await
        .expect("the simulator answers");

    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(
        redirect.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("https://evil.example/")
    );
    assert_eq!(big.status(), StatusCode::OK);
    assert_eq!(big.bytes().await.expect("a body").as_ref(), [b'a'; 2048]);
}
