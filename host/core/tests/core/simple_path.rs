//! The *parcours standard simple*, end to end at the engine level, with
//! clock jumps.
use guichet_core::actor::Actor;
use guichet_core::workflow::usager_status;

use guichet_core::demande::RefusalType;
use guichet_core::history::{Audience, agents_history, usager_history};
use guichet_core::notification::{Channel, Recipient};
use guichet_core::role::{Right, Role};
use guichet_core::workflow::deadline::{self, TimerKind};
use guichet_core::workflow::{Action, Input, WorkflowError};

use crate::support::*;

fn take(store: &mut Store) {
    store
        .act(Action::new("prendre_en_compte"), &gestionnaire())
        .unwrap();
}

#[test]
fn submission_notifies_the_service_and_the_usager() {
    let store = Store::velo();
    assert_eq!(store.status(), "transmise");
    assert_eq!(
        store.job_templates(),
        ["transmise_usager:mail", "transmise_service:mail"]
    );
    assert_eq!(
        store.jobs[1].recipient,
        Recipient::Service(group("Gest_SVL_DACT_Mobilités"))
    );
    assert_eq!(store.jobs[0].params["numero"], "2026-000042");
    assert_eq!(store.history[0].audience, Audience::Both);
    assert_eq!(store.history[0].text, "Demande transmise");
    assert!(
        store.timers.is_empty(),
        "deadlines start at en cours d'analyse"
    );
}

#[test]
fn simple_path_runs_from_submission_to_anonymisation() {
    let mut store = Store::velo();

    take(&mut store);
    assert_eq!(store.status(), "en_cours_analyse");
    assert_eq!(store.demande.dates.analysis_started_at, Some(start()));
    assert_eq!(store.due_at(TimerKind::Deadline), Some(day(27)));

    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(Action::new("commencer_traitement"), &gestionnaire())
        .unwrap();
    assert_eq!(store.advance(days(10)), []);
    store.clear_jobs();
    store
        .act(
            Action::new("cloturer")
                .closing_comment("Aide de 50 € versée le 12/03.")
                .confirmed(),
            &gestionnaire(),
        )
        .unwrap();
    assert_eq!(store.status(), "traitee");
    assert_eq!(store.job_templates(), ["traitee_usager:mail"]);
    assert_eq!(
        store.jobs[0].params["commentaire"],
        "Aide de 50 € versée le 12/03."
    );
    assert_eq!(
        store.due_at(TimerKind::Deadline),
        None,
        "closing cancels the deadline"
    );
    assert_eq!(store.due_at(TimerKind::Archive), Some(start() + days(17)));

    assert_eq!(store.advance(days(7)), [TimerKind::Archive]);
    assert_eq!(store.status(), "archivee");

    assert_eq!(store.advance(days(357)), []);
    assert_eq!(store.advance(days(1)), [TimerKind::Anonymise]);
    assert_eq!(store.status(), "anonymisee");
    assert_eq!(store.demande.dates.anonymised_at, Some(start() + days(375)));
    let path: Vec<&str> = store
        .demande
        .path
        .iter()
        .map(|c| c.status.as_str())
        .collect();
    assert_eq!(
        path,
        [
            "transmise",
            "en_cours_analyse",
            "acceptee",
            "en_cours_traitement",
            "traitee",
            "archivee",
            "anonymisee"
        ]
    );
}

#[test]
fn reminders_fire_at_15_and_21_days() {
    let mut store = Store::velo();
    take(&mut store);
    store.clear_jobs();

    assert_eq!(store.advance(days(14)), []);
    assert_eq!(store.advance(days(1)), [TimerKind::Reminder { days: 15 }]);
    assert_eq!(store.advance(days(5)), []);
    assert_eq!(store.advance(days(1)), [TimerKind::Reminder { days: 21 }]);

    assert_eq!(
        store.job_templates(),
        ["relance_agent:mail", "relance_agent:mail"]
    );
    assert_eq!(
        store.jobs[0].recipient,
        Recipient::Service(group("Gest_SVL_DACT_Mobilités"))
    );
    let reminders: Vec<&str> = store
        .history
        .iter()
        .filter(|h| h.event == "relance")
        .map(|h| h.text.as_str())
        .collect();
    assert_eq!(
        reminders,
        [
            "Relance : demande en cours depuis 15 jours, échéance le 29/03/2026",
            "Relance : demande en cours depuis 21 jours, échéance le 29/03/2026"
        ]
    );
    assert!(
        store
            .history
            .iter()
            .filter(|h| h.event == "relance")
            .all(|h| h.audience == Audience::Agents)
    );
    assert_eq!(store.demande.reminders_sent, [15, 21]);
}

#[test]
fn the_deadline_closes_a_simple_demande_at_27_days() {
    let mut store = Store::velo();
    take(&mut store);

    let fired = store.advance(days(27));

    assert_eq!(
        fired,
        [
            TimerKind::Reminder { days: 15 },
            TimerKind::Reminder { days: 21 },
            TimerKind::Deadline
        ]
    );
    assert_eq!(store.status(), "traitee");
    assert_eq!(
        store.demande.closing_comment.as_deref(),
        Some("Clôture automatique à l'échéance de traitement.")
    );
    assert!(
        store
            .job_templates()
            .contains(&"traitee_usager:mail".to_owned())
    );
    assert!(!deadline::is_late(
        &store.workflow,
        &store.demande,
        store.now(),
        ZONE
    ));
    assert_eq!(store.due_at(TimerKind::Archive), Some(start() + days(34)));
}

#[test]
fn refusal_requires_a_type_and_a_justification() {
    let mut store = Store::velo();
    take(&mut store);

    let no_type = Action::new("refuser").confirmed();
    assert_eq!(
        store.act(no_type, &gestionnaire()),
        Err(WorkflowError::MissingInput(Input::RefusalType))
    );
    let blank = Action::new("refuser")
        .refusal(RefusalType::Refusee, "   ")
        .confirmed();
    assert_eq!(
        store.act(blank, &gestionnaire()),
        Err(WorkflowError::MissingInput(Input::Justification))
    );
    let unconfirmed = Action::new("refuser").refusal(RefusalType::Refusee, "Facture hors délai.");
    assert_eq!(
        store.act(unconfirmed, &gestionnaire()),
        Err(WorkflowError::ConfirmationRequired)
    );
    assert_eq!(store.status(), "en_cours_analyse");

    store.clear_jobs();
    let refusal = Action::new("refuser")
        .refusal(RefusalType::Refusee, "Facture datée de plus de 3 mois.")
        .confirmed();
    store.act(refusal, &gestionnaire()).unwrap();

    assert_eq!(store.status(), "refusee");
    let recorded = store.demande.refusal.clone().unwrap();
    assert_eq!(
        (recorded.kind, recorded.justification.as_str()),
        (RefusalType::Refusee, "Facture datée de plus de 3 mois.")
    );
    assert_eq!(store.job_templates(), ["refusee_usager:mail"]);
    assert_eq!(
        store.jobs[0].params["motif"],
        "Facture datée de plus de 3 mois."
    );
    assert_eq!(store.jobs[0].params["type_refus"], "Refusée");
    let entry = store.history.last().unwrap();
    assert_eq!(entry.text, "Demande refusée par le service (Refusée)");
    assert_eq!(
        entry.message.as_deref(),
        Some("Facture datée de plus de 3 mois.")
    );
    assert_eq!(entry.audience, Audience::Both);
}

#[test]
fn refusal_types_are_the_three_of_the_seed() {
    for (json, label) in [
        ("\"refusee\"", "Refusée"),
        ("\"annulee\"", "Annulée"),
        ("\"absence_reponse_usager\"", "Absence de réponse usager"),
    ] {
        let kind: RefusalType = serde_json::from_str(json).unwrap();
        assert_eq!(kind.label(), label);
    }
    assert!(serde_json::from_str::<RefusalType>("\"autre\"").is_err());
}

#[test]
fn closing_requires_a_comment() {
    let mut store = Store::velo();
    take(&mut store);
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    let result = store.act(Action::new("cloturer").confirmed(), &gestionnaire());
    assert_eq!(
        result,
        Err(WorkflowError::MissingInput(Input::ClosingComment))
    );
    assert_eq!(
        result.unwrap_err().to_string(),
        "information obligatoire manquante : commentaire de clôture"
    );
}

#[test]
fn abandon_is_allowed_only_while_the_demande_is_in_progress() {
    let usager = Actor::Usager(USAGER);
    let mut store = Store::velo();
    assert!(matches!(
        store.act(Action::new("abandonner").confirmed(), &usager),
        Err(WorkflowError::NotAllowedFromStatus { .. })
    ));

    for steps in [
        &[][..],
        &["accepter"][..],
        &["accepter", "commencer_traitement"][..],
    ] {
        let mut store = Store::velo();
        take(&mut store);
        for step in steps {
            store.act(Action::new(step), &gestionnaire()).unwrap();
        }
        assert_eq!(
            store.act(Action::new("abandonner"), &usager),
            Err(WorkflowError::ConfirmationRequired)
        );
        store.clear_jobs();
        store
            .act(Action::new("abandonner").confirmed(), &usager)
            .unwrap();
        assert_eq!(store.status(), "abandonnee", "after {steps:?}");
        assert_eq!(
            store.job_templates(),
            ["abandon_service:mail", "abandon_usager:mail"]
        );
        assert!(
            store
                .timers
                .keys()
                .all(|k| matches!(k, TimerKind::Archive | TimerKind::Anonymise))
        );
    }
}

#[test]
fn abandon_is_refused_after_traitee() {
    let mut store = Store::velo();
    take(&mut store);
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(
            Action::new("cloturer")
                .closing_comment("Versée.")
                .confirmed(),
            &gestionnaire(),
        )
        .unwrap();

    let result = store.act(
        Action::new("abandonner").confirmed(),
        &Actor::Usager(USAGER),
    );

    assert_eq!(
        result.unwrap_err().to_string(),
        "l'action « Abandonner votre démarche » n'est pas possible au statut « Demande traitée »"
    );
}

#[test]
fn a_transition_not_allowed_from_the_current_status_changes_nothing() {
    let mut store = Store::velo();
    let (demande, history, jobs) = (store.demande.clone(), store.history.len(), store.jobs.len());

    let result = store.act(Action::new("accepter"), &gestionnaire());

    assert!(matches!(
        result,
        Err(WorkflowError::NotAllowedFromStatus { .. })
    ));
    assert_eq!(
        (store.demande.clone(), store.history.len(), store.jobs.len()),
        (demande, history, jobs)
    );
}

#[test]
fn an_usager_cannot_act_on_someone_elses_demande() {
    let mut store = Store::velo();
    take(&mut store);
    let result = store.act(
        Action::new("abandonner").confirmed(),
        &Actor::Usager(OTHER_USAGER),
    );
    assert_eq!(result, Err(WorkflowError::NotOwner));
}

#[test]
fn unknown_actions_automatic_actions_and_unexpected_inputs_are_refused() {
    let mut store = Store::velo();
    take(&mut store);
    assert_eq!(
        store.act(Action::new("valider"), &admin()),
        Err(WorkflowError::UnknownTransition("valider".into()))
    );
    assert!(matches!(
        store.act(Action::new("archiver"), &admin()),
        Err(WorkflowError::WrongActor(_))
    ));
    assert_eq!(
        store.act(Action::new("accepter").message("Bravo"), &gestionnaire()),
        Err(WorkflowError::UnexpectedInput(Input::Message))
    );
    let long = "x".repeat(5001);
    assert!(matches!(
        store.act(Action::new("commenter").message(&long), &gestionnaire()),
        Err(WorkflowError::TextTooLong { .. })
    ));
}

#[test]
fn exchanges_go_to_both_histories_and_internal_comments_to_agents_only() {
    let mut store = Store::velo();
    take(&mut store);
    store.clear_jobs();

    store
        .act(
            Action::new("echanger")
                .message("Pouvez-vous joindre une facture lisible ?")
                .attachment(file(20, guichet_core::file::MediaType::Pdf, 800)),
            &gestionnaire(),
        )
        .unwrap();
    store
        .act(
            Action::new("repondre")
                .message("Voici la facture.")
                .attachment(file(21, guichet_core::file::MediaType::Png, 900)),
            &Actor::Usager(USAGER),
        )
        .unwrap();
    store
        .act(
            Action::new("commenter").message("Facture vérifiée auprès du réparateur."),
            &agent(Role::Consultant),
        )
        .unwrap();

    assert_eq!(
        store.job_templates(),
        ["echange_usager:mail", "reponse_service:mail"]
    );
    let seen_by_usager: Vec<&str> = usager_history(&store.history)
        .iter()
        .map(|h| h.text.as_str())
        .collect();
    assert_eq!(
        seen_by_usager,
        [
            "Demande transmise",
            "Demande réceptionnée, en cours d'analyse",
            "Message du service",
            "Réponse de l'usager"
        ]
    );
    let seen_by_agents: Vec<&str> = agents_history(&store.history)
        .iter()
        .map(|h| h.text.as_str())
        .collect();
    assert_eq!(seen_by_agents.last(), Some(&"Commentaire interne"));
    assert_eq!(seen_by_agents.len(), 5);
    let reply = store
        .history
        .iter()
        .find(|h| h.event == "repondre")
        .unwrap();
    assert_eq!(reply.message.as_deref(), Some("Voici la facture."));
    assert_eq!(
        reply.attachment.as_ref().map(|f| f.name.as_str()),
        Some("piece-21.png")
    );
    assert_eq!(
        store.status(),
        "en_cours_analyse",
        "exchanges keep the status"
    );
}

#[test]
fn admin_sends_back_to_transmise_and_resets_the_deadlines() {
    let mut store = Store::velo();
    take(&mut store);
    store.advance(days(16));

    assert_eq!(
        store.act(Action::new("retour_transmise").confirmed(), &gestionnaire()),
        Err(WorkflowError::RightMissing(Right::Administration))
    );
    store
        .act(Action::new("retour_transmise").confirmed(), &admin())
        .unwrap();

    assert_eq!(store.status(), "transmise");
    assert!(store.timers.is_empty());
    assert_eq!(store.demande.dates.analysis_started_at, None);
    assert!(store.demande.reminders_sent.is_empty());

    take(&mut store);
    assert_eq!(
        store.due_at(TimerKind::Reminder { days: 15 }),
        Some(day(31))
    );
}

#[test]
fn admin_trash_hides_the_demande_from_the_usager_and_freezes_it() {
    let mut store = Store::velo();
    take(&mut store);
    store
        .act(Action::new("corbeille").confirmed(), &admin())
        .unwrap();

    assert_eq!(store.status(), "corbeille");
    assert!(store.timers.is_empty());
    let shown = usager_status(&store.workflow, &store.demande).unwrap();
    assert_eq!(shown.label, "Demande en cours d'analyse");
    assert!(matches!(
        store.act(Action::new("echanger").message("?"), &gestionnaire()),
        Err(WorkflowError::NotAllowedFromStatus { .. })
    ));
    assert!(
        store
            .history
            .iter()
            .filter(|h| h.event == "corbeille")
            .all(|h| h.audience == Audience::Agents)
    );
}

#[test]
fn a_stale_timer_fires_nothing() {
    let store = Store::velo();
    let wf = &store.workflow;
    let now = start() + days(30);
    for kind in [
        TimerKind::Reminder { days: 15 },
        TimerKind::Deadline,
        TimerKind::Archive,
        TimerKind::NoAnswer,
    ] {
        assert!(
            matches!(
                deadline::fire(wf, &store.demande, kind, now, ZONE),
                Err(WorkflowError::NothingToFire(_))
            ),
            "{kind}"
        );
    }
}

#[test]
fn the_actions_offered_depend_on_the_status_and_the_actor() {
    let mut store = Store::velo();
    let ids = |store: &Store, actor: &Actor| -> Vec<String> {
        store
            .workflow
            .available(&store.demande, actor)
            .iter()
            .map(|t| t.id.to_string())
            .collect()
    };
    assert_eq!(ids(&store, &Actor::Usager(USAGER)), ["repondre"]);
    take(&mut store);
    assert_eq!(
        ids(&store, &Actor::Usager(USAGER)),
        ["abandonner", "repondre"]
    );
    assert_eq!(
        ids(&store, &gestionnaire()),
        ["accepter", "refuser", "echanger", "commenter"]
    );
    assert_eq!(ids(&store, &agent(Role::Observateur)), Vec::<String>::new());
}

#[test]
fn sms_are_not_sent_on_the_simple_path() {
    // The usager gave a mobile number (`velo_answers`); the path goes through
    // the events the complex path also tells by SMS (filing, taking up, the
    // automatic closing at the deadline), and past the reminders.
    let mut store = Store::velo();
    take(&mut store);
    store.advance(days(27));

    assert_eq!(store.status(), "traitee");
    assert_eq!(
        store.job_templates(),
        [
            "transmise_usager:mail",
            "transmise_service:mail",
            "prise_en_compte_usager:mail",
            "relance_agent:mail",
            "relance_agent:mail",
            "traitee_usager:mail"
        ]
    );
    assert!(store.jobs.iter().all(|j| j.channel == Channel::Mail));
}

#[test]
fn workflow_errors_read_in_french() {
    let messages = [
        (
            WorkflowError::RightMissing(Right::Process),
            "droit manquant : traitement des demandes",
        ),
        (
            WorkflowError::ConfirmationRequired,
            "cette action doit être confirmée",
        ),
        (WorkflowError::NotOwner, "cette demande n'est pas la vôtre"),
        (
            WorkflowError::MissingInput(Input::Justification),
            "information obligatoire manquante : justification",
        ),
    ];
    for (error, text) in messages {
        assert_eq!(error.to_string(), text);
    }
}
