//! The usager's and the agents' steps through the API, shared by the `api`
//! and `workflow` suites: filing the example démarches, running actions.

use serde_json::{Value, json};

use guichet_host::connectors::InstanceConfig;

use crate::app::{Client, Reply, TestApp, pdf};

/// The Mobilités service processing the vélo démarche.
pub const MOBILITES: &str = "Gest_SVL_DACT_Mobilités";
/// The Voirie service processing signalements.
pub const VOIRIE: &str = "Gest_SVL_DTE_Voirie";
/// The vélo démarche (simple).
pub const VELO: &str = "aide-reparation-velo";
/// The signalement démarche (complexe).
pub const SIGNALEMENT: &str = "signalement-voie-publique";
/// The restauration scolaire démarche (complexe, children from Espace famille).
pub const RESTAURATION: &str = "inscription-restauration-scolaire";

/// The `atal-ville` instance the signalement names, as the demo
/// configures it, for the simulated ATAL `sim` with this API key.
pub fn atal_ville(sim: &atal_sim::Handle, api_key: &str) -> InstanceConfig {
    crate::instance_config(
        "atal-ville",
        "atal",
        &sim.base_url(),
        guichet_host::cli::demo::atal_settings(&sim.base_url(), api_key),
    )
}

/// Installs the ATAL component as the `atal-ville` instance of `sim`: the
/// signalement's categories are ATAL's request types (its data source
/// `thematics`), so filing one needs it.
pub async fn connect_atal_to(app: &TestApp, sim: &atal_sim::Handle) {
    app.connect(crate::components::ATAL, atal_ville(sim, crate::ATAL_KEY))
        .await;
}

/// A simulated ATAL, kept running until the test ends, connected as
/// [`connect_atal_to`] does.
pub async fn connect_atal(app: &TestApp) {
    let sim = crate::atal().await;
    connect_atal_to(app, &sim).await;
    app.keep(sim);
}

/// Opens a draft of a démarche; returns its id.
///
/// # Panics
/// When the API refuses.
pub async fn open_draft(client: &Client, demarche: &str) -> String {
    let reply = client
        .post("/api/drafts", json!({ "demarche": demarche }))
        .await;
    assert!(
        reply.status == 201 || reply.status == 200,
        "draft refused: {}",
        reply.body
    );
    reply.body["id"].as_str().expect("draft id").to_owned()
}

/// Saves a page of a draft, expecting success.
pub async fn save_page(client: &Client, draft: &str, page: &str, answers: Value) -> Value {
    client
        .put(&format!("/api/drafts/{draft}/pages/{page}"), answers)
        .await
        .expect(200)
        .clone()
}

/// The vélo repair page's answers.
pub fn velo_repair() -> Value {
    json!({
        "type_velo": "electrique",
        "date_reparation": "20/02/2026",
        "reparateur": "Cycles du Vieux-Port",
        "montant": "86,50"
    })
}

/// Fills the vélo form (identity prefilled from the profile): uploads the
/// invoice, saves the repair and payment pages; returns the draft id.
pub async fn fill_velo(usager: &Client, invoice: Vec<u8>) -> String {
    let draft = open_draft(usager, VELO).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture-velo.pdf", invoice)),
        )
        .await
        .expect(201);
    save_page(usager, &draft, "reparation", velo_repair()).await;
    save_page(
        usager,
        &draft,
        "versement",
        json!({
            "titulaire_compte": "Camille Martin",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "attestation": true
        }),
    )
    .await;
    draft
}

/// Submits a draft with the RGPD consent; returns the demande's id.
pub async fn submit(usager: &Client, draft: &str) -> String {
    let reply = usager
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": true }),
        )
        .await;
    reply.expect(201);
    reply.body["id"].as_str().expect("demande id").to_owned()
}

/// Files a vélo demande; returns its id.
pub async fn file_velo(usager: &Client) -> String {
    let draft = fill_velo(usager, pdf("facture Cycles du Vieux-Port")).await;
    submit(usager, &draft).await
}

/// The Espace famille instance the restauration names.
pub const FAMILLE: &str = "espace-famille-ville";

/// Camille Martin's family at the simulated Espace famille: its code and
/// secret (its demo data).
pub const MARTIN: (&str, &str) = ("F-0002", "s3cret-martin");

/// Links the usager's account to the family `(code, secret)` at the
/// Espace famille instance; the API's answer.
pub async fn link_family(usager: &Client, (code, secret): (&str, &str)) -> Reply {
    usager
        .put(
            &format!("/api/me/links/{FAMILLE}"),
            json!({ "params": { "family-code": code, "secret": secret } }),
        )
        .await
}

/// The restauration's first page, for the family `famille` (the one the
/// usager's account is linked to).
pub fn restauration_responsable(famille: &str) -> Value {
    json!({ "prenom": "Camille", "nom": "Martin", "date_naissance": "1988-04-12",
            "courriel": "camille.martin@example.fr", "telephone": "0612345678",
            "lien_enfant": "parent", "famille": famille })
}

/// Fills and files a restauration scolaire registration for Chloé
/// (`E-0003`) of the family `F-0002`, the usager's account linked to it
/// first with its code and secret (the simulated Espace famille's demo
/// data); returns its id.
pub async fn file_restauration(usager: &Client) -> String {
    link_family(usager, MARTIN).await.expect(200);
    let draft = open_draft(usager, RESTAURATION).await;
    save_page(
        usager,
        &draft,
        "responsable",
        restauration_responsable(MARTIN.0),
    )
    .await;
    save_page(
        usager,
        &draft,
        "enfant",
        json!({ "enfant": "E-0003", "ecole": "les-tilleuls", "classe": "ms" }),
    )
    .await;
    save_page(
        usager,
        &draft,
        "frequentation",
        json!({ "jours": ["lundi", "jeudi"], "date_debut": "2026-09-01",
                "regime": "standard", "allergie": false }),
    )
    .await;
    submit(usager, &draft).await
}

/// Fills and files a signalement, with a photo when given; returns its id.
pub async fn file_signalement(usager: &Client, photo: Option<Vec<u8>>) -> String {
    file_signalement_on(usager, SIGNALEMENT, photo).await
}

/// [`file_signalement`] on `slug`, a démarche with the signalement's form
/// (a copy without connector, in the benchmarks).
pub async fn file_signalement_on(usager: &Client, slug: &str, photo: Option<Vec<u8>>) -> String {
    let draft = open_draft(usager, slug).await;
    save_page(
        usager,
        &draft,
        "signalement",
        json!({
            "objet": "Lampadaire éteint",
            "categorie": "20",
            "description": "Le lampadaire devant l'école Jules-Ferry est éteint depuis une semaine."
        }),
    )
    .await;
    save_page(
        usager,
        &draft,
        "lieu",
        json!({
            "localisation": {
                "street": "12 rue de la République",
                "postcode": "13001",
                "city": "Marseille",
                "latitude": 43.2965,
                "longitude": 5.3698
            },
            "precision_lieu": "devant le numéro 12, côté école"
        }),
    )
    .await;
    if let Some(photo) = photo {
        usager
            .post_form(
                &format!("/api/drafts/{draft}/files/photos"),
                &[],
                Some(("photo-du-lampadaire.jpg", photo)),
            )
            .await
            .expect(201);
    }
    submit(usager, &draft).await
}

/// Runs an action as an agent.
pub async fn act(agent: &Client, demande: &str, action: Value) -> Reply {
    agent
        .post(&format!("/api/agent/demandes/{demande}/actions"), action)
        .await
}

/// Runs an action without inputs, expecting success.
pub async fn step(agent: &Client, demande: &str, transition: &str) -> Value {
    act(agent, demande, json!({ "transition": transition }))
        .await
        .expect(200)
        .clone()
}

/// The agent's view of a demande.
pub async fn agent_view(agent: &Client, demande: &str) -> Value {
    agent
        .get(&format!("/api/agent/demandes/{demande}"))
        .await
        .expect(200)
        .clone()
}

/// The usager's view of their demande.
pub async fn usager_view(usager: &Client, demande: &str) -> Value {
    usager
        .get(&format!("/api/demandes/{demande}"))
        .await
        .expect(200)
        .clone()
}

/// The events of a history answer, in order.
pub fn events(history: &Value) -> Vec<String> {
    history
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
