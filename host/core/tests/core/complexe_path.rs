//! The *parcours standard complexe*, end to end at the engine level, with
//! clock jumps: reception, hold, transfer, joint processing, escalation,
//! no-answer cancellation, archive at 27 days, anonymisation at 2 years.
use guichet_core::actor::Actor;

use guichet_core::demande::RefusalType;
use guichet_core::history::Audience;
use guichet_core::notification::Recipient;
use guichet_core::workflow::deadline::{self, TimerKind};
use guichet_core::workflow::{Action, WorkflowError};

use crate::support::*;

fn receive(store: &mut Store) {
    store
        .act(Action::new("receptionner"), &gestionnaire())
        .unwrap();
}

#[test]
fn a_signalement_is_acknowledged_by_sms_and_mail() {
    let mut store = Store::signalement();
    assert_eq!(
        store.job_templates(),
        [
            "transmise_usager:mail",
            "transmise_usager:sms",
            "transmise_service:mail"
        ]
    );
    store.clear_jobs();

    receive(&mut store);

    assert_eq!(store.status(), "en_cours_analyse");
    assert_eq!(
        store.job_templates(),
        ["prise_en_compte_usager:mail", "prise_en_compte_usager:sms"]
    );
}

#[test]
fn hold_moves_the_deadline() {
    let mut store = Store::signalement();
    receive(&mut store);
    store.advance(days(10));

    store
        .act(
            Action::new("mettre_en_attente").message("En attente du passage du concessionnaire."),
            &gestionnaire(),
        )
        .unwrap();
    assert_eq!(store.status(), "en_attente");
    assert_eq!(
        store.due_at(TimerKind::Deadline),
        None,
        "no deadline runs while on hold"
    );
    assert_eq!(store.advance(days(5)), []);

    store
        .act(Action::new("reprendre"), &gestionnaire())
        .unwrap();

    assert_eq!(
        store.status(),
        "en_cours_analyse",
        "back to the status before the hold"
    );
    assert_eq!(
        store.due_at(TimerKind::Reminder { days: 15 }),
        Some(day(20))
    );
    assert_eq!(
        store.due_at(TimerKind::Reminder { days: 21 }),
        Some(day(26))
    );
    assert_eq!(store.due_at(TimerKind::Deadline), Some(day(32)));
    assert_eq!(store.advance(days(4)), []);
    assert_eq!(store.advance(days(1)), [TimerKind::Reminder { days: 15 }]);
    let hold = store.demande.dates.holds[0];
    assert_eq!(
        (hold.from, hold.until),
        (start() + days(10), Some(start() + days(15)))
    );
}

#[test]
fn a_reminder_already_sent_is_not_sent_again_after_a_hold() {
    let mut store = Store::signalement();
    receive(&mut store);
    assert_eq!(store.advance(days(16)), [TimerKind::Reminder { days: 15 }]);
    store
        .act(Action::new("mettre_en_attente"), &gestionnaire())
        .unwrap();
    store.advance(days(3));
    store
        .act(Action::new("reprendre"), &gestionnaire())
        .unwrap();

    assert_eq!(store.due_at(TimerKind::Reminder { days: 15 }), None);
    assert_eq!(
        store.due_at(TimerKind::Reminder { days: 21 }),
        Some(day(24))
    );
    assert_eq!(store.due_at(TimerKind::Deadline), Some(day(30)));
}

#[test]
fn a_hold_from_acceptee_resumes_to_acceptee() {
    let mut store = Store::signalement();
    receive(&mut store);
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(Action::new("mettre_en_attente"), &gestionnaire())
        .unwrap();
    store
        .act(Action::new("reprendre"), &gestionnaire())
        .unwrap();
    assert_eq!(store.status(), "acceptee");
}

#[test]
fn a_hold_ends_by_itself_after_its_maximum() {
    let mut store = Store::signalement();
    receive(&mut store);
    store
        .act(Action::new("mettre_en_attente"), &gestionnaire())
        .unwrap();

    assert_eq!(store.advance(days(60)), [TimerKind::HoldEnd]);

    assert_eq!(store.status(), "en_cours_analyse");
    assert_eq!(store.due_at(TimerKind::Deadline), Some(day(87)));
}

#[test]
fn the_deadline_escalates_to_the_service_and_its_manager() {
    let mut store = Store::signalement();
    receive(&mut store);
    store.clear_jobs();

    let fired = store.advance(days(27));

    assert_eq!(
        fired,
        [
            TimerKind::Reminder { days: 15 },
            TimerKind::Reminder { days: 21 },
            TimerKind::Deadline
        ]
    );
    assert_eq!(store.status(), "en_cours_analyse", "agents keep the hand");
    let escalation: Vec<&Recipient> = store
        .jobs
        .iter()
        .filter(|j| j.template == "echeance_depassee")
        .map(|j| &j.recipient)
        .collect();
    let voirie = group("Gest_SVL_DTE_Voirie");
    assert_eq!(
        escalation,
        [
            &Recipient::Service(voirie.clone()),
            &Recipient::Manager(voirie)
        ]
    );
    let due =
        deadline::processing_deadline(&store.workflow, &store.demande, store.now(), ZONE).unwrap();
    assert_eq!(
        due,
        day(27),
        "27 calendar days, across the change to summer time"
    );
    assert!(!deadline::is_late(
        &store.workflow,
        &store.demande,
        due,
        ZONE
    ));
    assert!(deadline::is_late(
        &store.workflow,
        &store.demande,
        due + chrono::Duration::seconds(1),
        ZONE
    ));
}

#[test]
fn a_transfer_changes_the_service_and_notifies_the_target() {
    let mut store = Store::signalement();
    receive(&mut store);
    store.clear_jobs();
    let eclairage = group("Gest_SVL_DTE_Éclairage");

    store
        .act(
            Action::new("transferer").service(eclairage.clone()),
            &gestionnaire(),
        )
        .unwrap();

    assert_eq!(store.demande.services.primary, eclairage);
    assert_eq!(
        store.jobs[0].recipient,
        Recipient::Service(eclairage.clone())
    );
    assert_eq!(store.jobs[0].template, "transfert_service");
    let entry = store.history.last().unwrap();
    assert_eq!(
        (entry.audience, entry.text.as_str()),
        (
            Audience::Agents,
            "Demande transférée au service Gest_SVL_DTE_Éclairage"
        )
    );

    let not_listed = group("Gest_SVL_DEJ_RestaurationScolaire");
    assert_eq!(
        store.act(
            Action::new("transferer").service(not_listed.clone()),
            &gestionnaire()
        ),
        Err(WorkflowError::InvalidService(not_listed))
    );
    assert_eq!(
        store.act(
            Action::new("transferer").service(eclairage.clone()),
            &gestionnaire()
        ),
        Err(WorkflowError::InvalidService(eclairage))
    );
}

#[test]
fn joint_processing_adds_a_service_and_relance_service_mails_it() {
    let mut store = Store::signalement();
    receive(&mut store);
    let proprete = group("Gest_SVL_DTE_Propreté");

    store
        .act(
            Action::new("ajouter_service").service(proprete.clone()),
            &gestionnaire(),
        )
        .unwrap();
    store.clear_jobs();
    store
        .act(
            Action::new("relancer_service")
                .service(proprete.clone())
                .message("Pouvez-vous passer cette semaine ?"),
            &gestionnaire(),
        )
        .unwrap();

    assert_eq!(
        store.demande.services.joint,
        std::slice::from_ref(&proprete)
    );
    assert_eq!(
        store.jobs[0].recipient,
        Recipient::Service(proprete.clone())
    );
    assert_eq!(store.jobs[0].template, "relance_service");
    assert_eq!(
        store.act(
            Action::new("ajouter_service").service(proprete.clone()),
            &gestionnaire()
        ),
        Err(WorkflowError::InvalidService(proprete))
    );
    store
        .act(
            Action::new("echange_interne").message("Vu avec la Propreté."),
            &gestionnaire(),
        )
        .unwrap();
    assert_eq!(store.history.last().unwrap().audience, Audience::Agents);
}

#[test]
fn the_silence_of_the_usager_cancels_the_demande() {
    let mut store = Store::signalement();
    receive(&mut store);
    store
        .act(
            Action::new("echanger").message("Le lampadaire est-il côté pair ou impair ?"),
            &gestionnaire(),
        )
        .unwrap();
    assert_eq!(store.due_at(TimerKind::NoAnswer), Some(start() + days(15)));
    store.clear_jobs();

    assert_eq!(
        store.advance(days(15)),
        [TimerKind::Reminder { days: 15 }, TimerKind::NoAnswer]
    );

    assert_eq!(store.status(), "annulee_absence_reponse");
    assert_eq!(
        store.demande.refusal.as_ref().map(|r| r.kind),
        Some(RefusalType::AbsenceReponseUsager)
    );
    assert!(store.job_templates().ends_with(&[
        "annulee_absence_reponse_usager:mail".to_owned(),
        "annulee_absence_reponse_usager:sms".to_owned()
    ]));
    assert_eq!(store.due_at(TimerKind::Archive), Some(day(42)));
}

#[test]
fn an_answer_of_the_usager_stops_the_silence_timer() {
    let mut store = Store::signalement();
    receive(&mut store);
    store
        .act(
            Action::new("echanger").message("Côté pair ou impair ?"),
            &gestionnaire(),
        )
        .unwrap();
    store.advance(days(10));

    store
        .act(
            Action::new("repondre").message("Côté pair, devant le 12."),
            &Actor::Usager(USAGER),
        )
        .unwrap();

    assert_eq!(store.due_at(TimerKind::NoAnswer), None);
    store.advance(days(10));
    assert_eq!(store.status(), "en_cours_analyse");
}

#[test]
fn complexe_path_runs_from_submission_to_anonymisation() {
    let mut store = Store::signalement();
    receive(&mut store);
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(Action::new("commencer_traitement"), &gestionnaire())
        .unwrap();
    store.advance(days(3));
    store
        .act(
            Action::new("cloturer")
                .closing_comment("Lampe remplacée le 05/03.")
                .confirmed(),
            &gestionnaire(),
        )
        .unwrap();
    assert_eq!(
        store.job_templates().last().map(String::as_str),
        Some("traitee_usager:sms")
    );

    assert_eq!(store.advance(days(26)), []);
    assert_eq!(store.advance(days(1)), [TimerKind::Archive]);
    assert_eq!(store.status(), "archivee");
    // Two calendar years after closing on 5 March 2026: 5 March 2028, 731
    // days later (2028 is a leap year).
    assert_eq!(store.advance(days(703)), []);
    store.clear_jobs();
    assert_eq!(store.advance(days(1)), [TimerKind::Anonymise]);
    assert_eq!(store.status(), "anonymisee");
    assert_eq!(store.demande.dates.anonymised_at, Some(start() + days(734)));
    assert_eq!(store.job_templates(), ["anonymisation_usager:mail"]);
}

#[test]
fn anonymisation_of_a_complexe_demande_notifies_the_usager() {
    let mut store = Store::signalement();
    receive(&mut store);
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(
            Action::new("cloturer").closing_comment("Fait.").confirmed(),
            &gestionnaire(),
        )
        .unwrap();
    store.advance(days(27));

    // Two calendar years after closing: 731 days, 2028 being a leap year.
    let now = store.now() + days(704);
    let outcome = deadline::fire(
        &store.workflow,
        &store.demande,
        TimerKind::Anonymise,
        now,
        ZONE,
    )
    .unwrap();

    let templates: Vec<&str> = outcome
        .notifications
        .iter()
        .map(|j| j.template.as_str())
        .collect();
    assert_eq!(templates, ["anonymisation_usager"]);
    assert!(outcome.erase_personal_data);
}
