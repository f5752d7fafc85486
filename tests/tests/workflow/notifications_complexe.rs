//! The mails of the *parcours complexe* (the signalement), read back from
//! a real SMTP server step by step, each to the people the seed names
//! (PROCESS.md, « parcours standard complexe »): the usager at filing,
//! acknowledgement, hold and resume, exchange, acceptance, closing,
//! abandon, cancellation for no answer and anonymisation (sent to the
//! address captured when it was queued, since the demande no longer holds
//! it); the service's mailbox at filing, abandon, the usager's answer and
//! the reminders at 15 and 21 days; the service a demande is transferred
//! to, joined with or asked by a *relance service*; the service's *Qualité*
//! mailbox when the deadline passes.

use std::sync::Arc;

use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::*;
use serde_json::json;

use super::notifications::{Smtp, USAGER_MAIL, with_sink};

mod the_complexe_path_mails_each_step_to_the_people_the_seed_names {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::with_sink(
            guichet_tests::app::Backend::Sqlite,
            super::the_complexe_path_mails_each_step_to_the_people_the_seed_names,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::with_sink(
            guichet_tests::app::Backend::Postgres,
            super::the_complexe_path_mails_each_step_to_the_people_the_seed_names,
        )
        .await;
    }
}

const ECLAIRAGE: &str = "Gest_SVL_DTE_Éclairage";
const PROPRETE: &str = "Gest_SVL_DTE_Propreté";
/// The *Qualité* group of the Voirie service: its manager's mailbox.
const QUALITE_VOIRIE: &str = "Qual_SVL_DTE_Voirie";
const ADMIN: &str = "Admin_SVL_DSI_Guichet";

/// The mailbox of each service of the test.
const MAILBOXES: [(&str, &str); 4] = [
    (VOIRIE, "voirie@ville-saint-laurent.fr"),
    (ECLAIRAGE, "eclairage@ville-saint-laurent.fr"),
    (PROPRETE, "proprete@ville-saint-laurent.fr"),
    (QUALITE_VOIRIE, "qualite.voirie@ville-saint-laurent.fr"),
];

fn mailbox(group: &str) -> String {
    MAILBOXES
        .iter()
        .find(|(name, _)| *name == group)
        .map(|(_, address)| (*address).to_owned())
        .unwrap()
}

/// What the mails received read so far.
struct Inbox<'a> {
    app: &'a TestApp,
    smtp: &'a Smtp,
    seen: usize,
}

impl Inbox<'_> {
    /// Delivers what is queued and returns the new mails, as sorted
    /// (recipient, subject) pairs.
    async fn new_mails(&mut self) -> Vec<(String, String)> {
        self.app.notify().await;
        let mails = self.smtp.received();
        let mut new: Vec<(String, String)> = mails[self.seen..]
            .iter()
            .map(|m| (m.envelope_to.join(","), m.subject.clone()))
            .collect();
        self.seen = mails.len();
        new.sort();
        new
    }
}

fn mails(list: &[(&str, String)]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = list
        .iter()
        .map(|(to, subject)| ((*to).to_owned(), subject.clone()))
        .collect();
    list.sort();
    list
}

async fn numero(usager: &Client, id: &str) -> String {
    usager_view(usager, id).await["numero"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn run(agent: &Client, id: &str, transition: &str, inputs: serde_json::Value) {
    act(
        agent,
        id,
        json!({ "transition": transition, "inputs": inputs }),
    )
    .await
    .expect(200);
}

async fn the_complexe_path_mails_each_step_to_the_people_the_seed_names(
    app: TestApp,
    smtp: Arc<Smtp>,
) {
    smtp.start();
    connect_atal(&app).await;
    app.import(SIGNALEMENT).await;
    for group in [VOIRIE, ECLAIRAGE, PROPRETE, QUALITE_VOIRIE] {
        app.grant(group, Some(SIGNALEMENT)).await;
    }
    app.grant(ADMIN, None).await;
    let admin = app.agent("admin@ville.test", &[ADMIN]).await;
    for (group, address) in MAILBOXES {
        admin
            .put(
                &format!("/api/admin/groups/{group}"),
                json!({ "mailbox": address }),
            )
            .await
            .expect(200);
    }
    let voirie = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let eclairage = app.agent("eclairage@ville.test", &[ECLAIRAGE]).await;
    let usager = app.usager("Camille", "Martin", USAGER_MAIL).await;
    let mut inbox = Inbox {
        app: &app,
        smtp: &smtp,
        seen: 0,
    };

    // A: filed, taken, held, resumed, transferred, joined, exchanged,
    // accepted and closed.
    let a = file_signalement(&usager, None).await;
    let na = numero(&usager, &a).await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[
            (
                USAGER_MAIL,
                format!("Votre demande {na} a bien été transmise")
            ),
            (
                &mailbox(VOIRIE),
                format!("Nouvelle demande {na} : Signaler un problème sur la voie publique")
            ),
        ])
    );
    step(&voirie, &a, "receptionner").await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            USAGER_MAIL,
            format!("Votre demande {na} est en cours d'analyse")
        )])
    );
    run(
        &voirie,
        &a,
        "mettre_en_attente",
        json!({ "message": "En attente de l'entreprise." }),
    )
    .await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(USAGER_MAIL, format!("Votre demande {na} est en attente"))])
    );
    step(&voirie, &a, "reprendre").await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            USAGER_MAIL,
            format!("Le traitement de votre demande {na} reprend")
        )])
    );
    run(&voirie, &a, "transferer", json!({ "service": ECLAIRAGE })).await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            &mailbox(ECLAIRAGE),
            format!("Demande {na} transférée à votre service")
        )])
    );
    run(
        &eclairage,
        &a,
        "ajouter_service",
        json!({ "service": PROPRETE }),
    )
    .await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            &mailbox(PROPRETE),
            format!("Traitement conjoint de la demande {na}")
        )])
    );
    run(
        &eclairage,
        &a,
        "relancer_service",
        json!({ "service": PROPRETE, "message": "Pouvez-vous nettoyer après l'intervention ?" }),
    )
    .await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            &mailbox(PROPRETE),
            format!("Relance au sujet de la demande {na}")
        )])
    );
    run(
        &eclairage,
        &a,
        "echanger",
        json!({ "message": "Quel est le numéro du lampadaire ?" }),
    )
    .await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            USAGER_MAIL,
            format!("Nouveau message sur votre demande {na}")
        )])
    );
    usager
        .post(
            &format!("/api/demandes/{a}/reply"),
            json!({ "message": "Le n° 1207." }),
        )
        .await
        .expect(200);
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            &mailbox(ECLAIRAGE),
            format!("Réponse de l'usager sur la demande {na}")
        )]),
        "the service now in charge hears the answer"
    );
    step(&eclairage, &a, "accepter").await;
    run(
        &eclairage,
        &a,
        "cloturer",
        json!({ "closing_comment": "Lampadaire réparé.", "confirmed": true }),
    )
    .await;
    let closing = inbox.new_mails().await;
    assert_eq!(
        closing,
        mails(&[
            (USAGER_MAIL, format!("Votre demande {na} a été acceptée")),
            (USAGER_MAIL, format!("Votre demande {na} a été traitée")),
        ])
    );

    // C: abandoned by the usager on day 1.
    let c = file_signalement(&usager, None).await;
    let nc = numero(&usager, &c).await;
    step(&voirie, &c, "receptionner").await;
    inbox.new_mails().await;
    app.at_day(1.0).await;
    usager
        .post(
            &format!("/api/demandes/{c}/abandon"),
            json!({ "confirmed": true }),
        )
        .await
        .expect(200);
    assert_eq!(
        inbox.new_mails().await,
        mails(&[
            (
                USAGER_MAIL,
                format!("Vous avez abandonné votre demande {nc}")
            ),
            (
                &mailbox(VOIRIE),
                format!("Demande {nc} abandonnée par l'usager")
            ),
        ])
    );

    // B: taken on day 1, then left: reminders at 15 and 21 days, the
    // deadline passed at 27, a question on day 28 never answered, the
    // cancellation 15 days later.
    let b = file_signalement(&usager, None).await;
    let nb = numero(&usager, &b).await;
    step(&voirie, &b, "receptionner").await;
    inbox.new_mails().await;
    app.at_day(16.1).await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            &mailbox(VOIRIE),
            format!("Relance : demande {nb} en cours depuis 15 jours")
        )])
    );
    app.at_day(22.1).await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(
            &mailbox(VOIRIE),
            format!("Relance : demande {nb} en cours depuis 21 jours")
        )])
    );
    app.at_day(28.1).await;
    let passed = format!("Échéance dépassée : demande {nb}");
    assert_eq!(
        inbox.new_mails().await,
        mails(&[
            (&mailbox(VOIRIE), passed.clone()),
            (&mailbox(QUALITE_VOIRIE), passed),
        ])
    );
    run(
        &voirie,
        &b,
        "echanger",
        json!({ "message": "Le problème est-il toujours là ?" }),
    )
    .await;
    inbox.new_mails().await;
    app.at_day(43.2).await;
    assert_eq!(
        inbox.new_mails().await,
        mails(&[(USAGER_MAIL, format!("Votre demande {nb} est annulée"))])
    );

    // Two years after closing, A is anonymised and the usager told, at the
    // address captured when the notice was queued.
    app.at_day(731.5).await;
    let notices = inbox.new_mails().await;
    assert!(
        notices.contains(&(
            USAGER_MAIL.to_owned(),
            format!("Vos données de la demande {na} ont été supprimées")
        )),
        "{notices:?}"
    );
    assert_eq!(agent_view(&admin, &a).await["status"]["id"], "anonymisee");
}
