//! Mails delivered through a real SMTP server (`mail-sim`, started per
//! test on a free port) by the notification worker: the mails of the
//! *parcours simple* to the usager and to the service's mailbox, with
//! their French texts, links and HTML part; the agents' history that
//! records each one; an SMTP server down then up delivers each mail
//! exactly once; a server that refuses for good fails the job, which an
//! administrator sees and puts back in the queue; the satisfaction survey
//! reached by the closing mail's signed link, answered once, its link
//! refused when altered or expired.

use std::sync::Arc;

use guichet_host::mail::Mailer;
use guichet_host::service::notifications::Delivery;
use guichet_tests::app::{Backend, Client, TestApp, run_with, test_settings};
use guichet_tests::filing::*;
use mail_sim::{MailSink, Received};
use serde_json::{Value, json};

/// Runs a test on both backends with the mailer pointed at `$smtp`'s
/// address (a `std::net::SocketAddr` expression evaluated per run).
macro_rules! with_smtp {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::with_sink(guichet_tests::app::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::with_sink(guichet_tests::app::Backend::Postgres, super::$name).await;
            }
        }
    )+};
}

with_smtp!(
    the_simple_path_mails_the_usager_and_the_service,
    a_server_down_then_up_gets_each_mail_exactly_once,
    a_refusal_for_good_fails_the_job_until_an_administrator_retries,
    the_survey_link_is_answered_once_and_refuses_tampering_and_expiry,
    a_signalement_texts_the_usager_at_the_steps_the_seed_marks,
);

const ADMIN: &str = "Admin_SVL_DSI_Guichet";
const PORTAL: &str = "https://demarches.ville-saint-laurent.fr";
const MAILBOX: &str = "mobilites@ville-saint-laurent.fr";
pub const USAGER_MAIL: &str = "camille.martin@exemple.test";

/// Where the test's mails go: a port reserved for the sink, which a test
/// may start late (a server down).
pub struct Smtp {
    addr: std::net::SocketAddr,
    sink: std::sync::Mutex<Option<MailSink>>,
}

impl Smtp {
    /// Starts the sink on the reserved port.
    pub fn start(&self) -> MailSink {
        let mut sink = self.sink.lock().unwrap();
        sink.get_or_insert_with(|| MailSink::start_on(self.addr).unwrap())
            .clone()
    }

    /// The mails received so far (none while not started).
    pub fn received(&self) -> Vec<Received> {
        self.sink
            .lock()
            .unwrap()
            .as_ref()
            .map(MailSink::received)
            .unwrap_or_default()
    }
}

pub async fn with_sink<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp, Arc<Smtp>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // A free port, released for the sink to bind when the test starts it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let smtp = Arc::new(Smtp {
        addr,
        sink: std::sync::Mutex::new(None),
    });
    let mailer = Mailer::new(
        &guichet_tests::mail_settings(addr, std::time::Duration::from_secs(5)),
        "Ville de Saint-Laurent",
    )
    .unwrap();
    let settings = guichet_host::http::Settings {
        delivery: Arc::new(Delivery {
            mailer: Some(mailer),
            public_url: PORTAL.to_owned(),
            sms_gateway: Some("sms".to_owned()),
            ..Delivery::default()
        }),
        ..test_settings()
    };
    run_with(backend, settings, |app| body(app, smtp)).await;
}

async fn setup(app: &TestApp) -> (Client, Client, Client) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(ADMIN, None).await;
    let admin = app.agent("admin@ville.test", &[ADMIN]).await;
    admin
        .put(
            &format!("/api/admin/groups/{MOBILITES}"),
            json!({ "mailbox": MAILBOX }),
        )
        .await
        .expect(200);
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app.usager("Camille", "Martin", USAGER_MAIL).await;
    (usager, gestionnaire, admin)
}

/// (recipient, subject) of each mail received, in order.
fn sent(mails: &[Received]) -> Vec<(String, String)> {
    mails
        .iter()
        .map(|m| (m.envelope_to.join(","), m.subject.clone()))
        .collect()
}

fn agents_texts(history: &Value) -> Vec<String> {
    history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "notification")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_simple_path_mails_the_usager_and_the_service(app: TestApp, smtp: Arc<Smtp>) {
    smtp.start();
    let (usager, gestionnaire, _) = setup(&app).await;
    let id = file_velo(&usager).await;
    let number = usager_view(&usager, &id).await["numero"]
        .as_str()
        .unwrap()
        .to_owned();
    let notified = app.notify().await;
    assert_eq!(notified.mails, 2, "{notified:?}");
    assert_eq!(
        sorted(sent(&smtp.received())),
        sorted(vec![
            (
                USAGER_MAIL.to_owned(),
                format!("Votre demande {number} a bien été transmise")
            ),
            (
                MAILBOX.to_owned(),
                format!("Nouvelle demande {number} : Demander une aide à la réparation d'un vélo")
            ),
        ])
    );
    let first = smtp
        .received()
        .into_iter()
        .find(|m| m.envelope_to == [USAGER_MAIL])
        .unwrap();
    let text = first.text.clone().unwrap();
    assert!(text.starts_with("Bonjour,"), "{text}");
    assert!(
        text.contains(&format!("{PORTAL}/demandes/{id}")),
        "the link to the demande: {text}"
    );
    let html = first.html.clone().unwrap();
    assert!(
        html.contains(&format!(r#"<a href="{PORTAL}/demandes/{id}""#)),
        "{html}"
    );
    assert!(html.contains("Ville de Saint-Laurent"), "{html}");
    assert_eq!(
        first.from.as_deref(),
        Some("ne-pas-repondre@ville-saint-laurent.fr")
    );
    assert_eq!(
        first.reply_to.as_deref(),
        Some("accueil@ville-saint-laurent.fr")
    );
    assert_eq!(
        first
            .message_id
            .as_deref()
            .map(|m| m.ends_with("@ville-saint-laurent.fr")),
        Some(true)
    );

    for transition in ["prendre_en_compte", "accepter", "commencer_traitement"] {
        step(&gestionnaire, &id, transition).await;
    }
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Aide de 50 € versée le 10 mars.", "confirmed": true } }),
    )
    .await
    .expect(200);
    app.notify().await;
    let mails = smtp.received();
    let subjects: Vec<_> = mails[2..].iter().map(|m| m.subject.clone()).collect();
    // The vélo démarche words its acceptance itself (`notifications:`).
    assert_eq!(
        sorted_texts(subjects),
        sorted_texts(vec![
            format!("Votre demande {number} est en cours d'analyse"),
            format!("Votre aide à la réparation de vélo {number} est accordée"),
            format!("Votre demande {number} a été traitée"),
        ])
    );
    let closing = mails
        .iter()
        .find(|m| m.subject.ends_with("a été traitée"))
        .unwrap()
        .text
        .clone()
        .unwrap();
    assert!(
        closing.contains("Aide de 50 € versée le 10 mars."),
        "{closing}"
    );
    assert!(
        closing.contains(&format!("{PORTAL}/enquete/")),
        "the survey link: {closing}"
    );

    // Each mail is in the agents' history, with its local date and time
    // (the clock starts on 2 March 2026 at 9:00 UTC, 10:00 in Paris).
    let texts = agents_texts(&agent_view(&gestionnaire, &id).await["history"]);
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(
        texts.contains(&format!(
            "Mail « Votre demande {number} a bien été transmise » envoyé à l'usager le 02/03/2026 à 10:00"
        )),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("envoyé à la boîte du service {MOBILITES}"))),
        "{texts:?}"
    );
    // The usager's history does not show them.
    let theirs = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert!(agents_texts(theirs.expect(200)).is_empty());
    // Nothing is sent twice.
    assert_eq!(app.notify().await.mails, 0);
    assert_eq!(smtp.received().len(), 5);
}

fn sorted_texts(mut texts: Vec<String>) -> Vec<String> {
    texts.sort();
    texts
}

fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

async fn a_server_down_then_up_gets_each_mail_exactly_once(app: TestApp, smtp: Arc<Smtp>) {
    let (usager, gestionnaire, admin) = setup(&app).await;
    let id = file_velo(&usager).await;
    // Nothing listens: both mails fail and wait for their retry.
    let notified = app.notify().await;
    assert_eq!((notified.mails, notified.retried), (0, 2), "{notified:?}");
    let unknown = admin.get("/api/admin/jobs/queue?kind=courrier").await;
    assert_eq!(unknown.status, 400, "a kind the queue does not know");
    let queue = admin.get("/api/admin/jobs/queue?kind=notification").await;
    let queue = queue.expect(200);
    assert_eq!(queue["pending"], 2, "{queue}");
    assert!(
        queue["jobs"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("SMTP"),
        "{queue}"
    );
    // Not due yet: nothing is tried.
    assert_eq!(app.notify().await, Default::default());

    let sink = smtp.start();
    app.jump_days(1).await;
    let notified = app.notify().await;
    assert_eq!((notified.mails, notified.retried), (2, 0), "{notified:?}");
    assert_eq!(sink.received().len(), 2);
    app.jump_days(1).await;
    assert_eq!(app.notify().await.mails, 0);
    assert_eq!(sink.received().len(), 2, "each mail exactly once");
    assert_eq!(
        agents_texts(&agent_view(&gestionnaire, &id).await["history"]).len(),
        2
    );
}

async fn a_refusal_for_good_fails_the_job_until_an_administrator_retries(
    app: TestApp,
    smtp: Arc<Smtp>,
) {
    let sink = smtp.start();
    sink.mailbox().set_rejecting(true);
    let (usager, gestionnaire, admin) = setup(&app).await;
    let id = file_velo(&usager).await;
    let notified = app.notify().await;
    assert_eq!((notified.mails, notified.failed), (0, 2), "{notified:?}");
    let texts = agents_texts(&agent_view(&gestionnaire, &id).await["history"]);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Échec de l'envoi : Mail « Votre demande")),
        "{texts:?}"
    );
    let failed = admin.get("/api/admin/jobs/failed").await;
    let failed = failed.expect(200).as_array().unwrap().clone();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|j| j["kind"] == "notification"));

    sink.mailbox().set_rejecting(false);
    let job = failed[0]["id"].as_str().unwrap();
    admin
        .post(&format!("/api/admin/jobs/{job}/retry"), json!({}))
        .await
        .expect(200);
    assert_eq!(app.notify().await.mails, 1);
    assert_eq!(sink.received().len(), 1);
}

/// The survey link of the refusal mail.
fn survey_token(smtp: &Smtp) -> String {
    let text = smtp
        .received()
        .into_iter()
        .find(|m| m.subject.ends_with("n'a pas pu aboutir"))
        .expect("the refusal mail")
        .text
        .unwrap();
    let start = text.find("/enquete/").expect("a survey link") + "/enquete/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn the_survey_link_is_answered_once_and_refuses_tampering_and_expiry(
    app: TestApp,
    smtp: Arc<Smtp>,
) {
    smtp.start();
    let (usager, gestionnaire, _) = setup(&app).await;
    let id = file_velo(&usager).await;
    step(&gestionnaire, &id, "prendre_en_compte").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "refuser", "inputs": {
            "refusal_type": "refusee", "justification": "Facture hors délai.", "confirmed": true } }),
    )
    .await
    .expect(200);
    app.notify().await;
    let token = survey_token(&smtp);
    let anyone = app.anonymous();

    let survey = anyone.get(&format!("/api/enquetes/{token}")).await;
    let survey = survey.expect(200);
    assert_eq!(survey["deja_repondue"], false);
    assert_eq!(
        survey["demarche"],
        "Demander une aide à la réparation d'un vélo"
    );

    // An altered link: one character changed.
    let mut altered: Vec<char> = token.chars().collect();
    altered[3] = if altered[3] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let refused = anyone.get(&format!("/api/enquetes/{altered}")).await;
    assert_eq!(refused.expect(404)["code"], "lien_invalide");

    let bad = anyone
        .post(&format!("/api/enquetes/{token}"), json!({ "note": 9 }))
        .await;
    assert_eq!(bad.expect(422)["errors"][0]["field"], "note");
    anyone
        .post(
            &format!("/api/enquetes/{token}"),
            json!({ "note": 4, "commentaire": "Rapide, merci." }),
        )
        .await
        .expect(204);
    let again = anyone
        .post(&format!("/api/enquetes/{token}"), json!({ "note": 1 }))
        .await;
    assert_eq!(again.expect(409)["code"], "enquete_deja_repondue");
    let answered = app
        .store
        .survey_answer(guichet_core::id::DemandeId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (answered.score, answered.comment.as_deref()),
        (4, Some("Rapide, merci."))
    );
    // The agents read it on the demande.
    let seen = agent_view(&gestionnaire, &id).await;
    assert_eq!(
        (&seen["survey"]["note"], &seen["survey"]["commentaire"]),
        (&json!(4), &json!("Rapide, merci."))
    );

    // Thirty days later the link has expired.
    app.jump_days(31).await;
    let expired = anyone.get(&format!("/api/enquetes/{token}")).await;
    assert_eq!(expired.expect(410)["code"], "enquete_expiree");
}

async fn a_signalement_texts_the_usager_at_the_steps_the_seed_marks(app: TestApp, smtp: Arc<Smtp>) {
    let sink = smtp.start();
    let provider = sms_sim::spawn(([127, 0, 0, 1], 0).into()).await.unwrap();
    app.connect(
        guichet_tests::components::SMS,
        guichet_tests::instance_config(
            "sms",
            "sms",
            &provider.base_url(),
            json!({
                "base_url": provider.base_url(),
                "api_key": sms_sim::DEFAULT_API_KEY,
                "sender": "MAIRIE"
            }),
        ),
    )
    .await;
    connect_atal(&app).await;
    app.import(SIGNALEMENT).await;
    app.grant(VOIRIE, None).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app.usager("Camille", "Martin", USAGER_MAIL).await;
    let id = file_signalement(&usager, None).await;
    app.notify().await;
    step(&gestionnaire, &id, "receptionner").await;
    app.notify().await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "echanger", "inputs": {
            "message": "Pouvez-vous préciser le numéro du lampadaire ?" } }),
    )
    .await
    .expect(200);
    app.notify().await;
    let number = usager_view(&usager, &id).await["numero"]
        .as_str()
        .unwrap()
        .to_owned();
    // The profile's 06 12 34 56 78, in E.164; one SMS per step marked 📱:
    // transmission, acknowledgement, exchange.
    let texts: Vec<(String, String)> = provider
        .messages()
        .into_iter()
        .map(|m| (m.to, m.text))
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts.iter().all(|(to, _)| to == "+33612345678"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|(_, t)| t
            == &format!(
                "Votre demande {number} a bien été transmise. Suivi : {PORTAL}/demandes/{id}"
            )),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .all(|(_, t)| guichet_core::sms::segments(t).count <= 2)
    );
    // The mails went too; the service's mailbox has none (none was set).
    assert_eq!(
        sink.received()
            .iter()
            .filter(|m| m.envelope_to == [USAGER_MAIL])
            .count(),
        3
    );
    let history = agents_texts(&agent_view(&gestionnaire, &id).await["history"]);
    assert!(
        history
            .iter()
            .any(|t| t.starts_with("SMS envoyé à l'usager le ")),
        "{history:?}"
    );
    assert!(
        history
            .iter()
            .any(|t| t.contains("n'a pas de boîte aux lettres")),
        "{history:?}"
    );
}
