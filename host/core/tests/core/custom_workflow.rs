//! Custom workflows use the template format and pass the same checks.

use chrono::Duration;
use guichet_core::demarche::Definition;
use guichet_core::workflow::Action;
use guichet_core::workflow::deadline::TimerKind;

use crate::support::*;

const HEAD: &str = "\
slug: pret-de-salle
title: Réserver une salle municipale
category: Vie associative
visibility: everyone
kind: simple
service: Gest_SVL_DVA_Associations
presentation: { average_minutes: 5 }
rgpd: { text: Texte légal, consent_label: J'accepte }
pages:
  - id: demande
    title: Votre demande
    fields:
      - { id: association, kind: text, label: Association, required: true }
";

const CUSTOM: &str = "\
workflow:
  custom:
    initial: deposee
    statuses:
      - { id: deposee, label: Demande déposée, visibility: everyone, phase: submitted }
      - { id: instruction, label: En instruction, visibility: everyone, phase: analysis }
      - { id: reservee, label: Salle réservée, visibility: everyone, phase: closed }
      - { id: archivee, label: Archivée, visibility: agent, phase: archived }
      - { id: anonymisee, label: Anonymisée, visibility: hidden, phase: anonymised }
    on_submit:
      history: [{ audience: both, text: Demande déposée }]
      notify: [{ template: transmise_service, to: service }]
    transitions:
      - id: instruire
        label: Instruire
        from: [deposee]
        to: instruction
        actor: agent
        right: process
        effects: { history: [{ audience: both, text: Demande en instruction }], start: [processing] }
      - id: reserver
        label: Réserver la salle
        from: [instruction]
        to: reservee
        actor: agent
        right: process
        requires: [closing_comment]
        effects:
          history: [{ audience: both, text: Salle réservée }]
          notify: [{ template: salle_reservee, to: usager }]
          cancel: [processing]
          start: [archive, anonymise]
      - id: relancer
        label: Relance
        from: [instruction]
        actor: automatic
        on_timer: reminder
        effects: { history: [{ audience: agents, text: 'Relance : {jours} jours' }] }
      - id: archiver
        label: Archivage
        from: [reservee]
        to: archivee
        actor: automatic
        on_timer: archive
      - id: anonymiser
        label: Anonymisation
        from: [archivee]
        to: anonymisee
        actor: automatic
        on_timer: anonymise
    timing: { processing_days: 10, reminder_days: [7], archive_after_days: 3, anonymise_after_days: 30 }
notifications:
  salle_reservee: { subject: 'Salle réservée ({numero})', body: Votre réservation est confirmée. }
";

#[test]
fn a_custom_workflow_runs_like_the_templates() {
    let definition = Definition::from_yaml(&format!("{HEAD}{CUSTOM}")).unwrap();
    let mut store = Store::file(
        definition,
        answers(vec![("association", text("Les Amis du Vieux-Port"))]),
    );
    assert_eq!(store.status(), "deposee");

    store
        .act(Action::new("instruire"), &gestionnaire())
        .unwrap();
    assert_eq!(store.advance(days(7)), [TimerKind::Reminder { days: 7 }]);
    assert_eq!(store.history.last().unwrap().text, "Relance : 7 jours");
    store
        .act(
            Action::new("reserver").closing_comment("Salle Gérard-Philipe, samedi 14 mars."),
            &gestionnaire(),
        )
        .unwrap();
    assert_eq!(
        store.job_templates().last().map(String::as_str),
        Some("salle_reservee:mail")
    );
    assert_eq!(
        store.advance(Duration::days(30)),
        [TimerKind::Archive, TimerKind::Anonymise]
    );
    assert_eq!(store.status(), "anonymisee");
    assert!(store.demande.answers.is_empty());
}

#[test]
fn each_bad_custom_workflow_is_refused_with_its_path() {
    let cases = [
        (
            "unknown status",
            "from: [instruction]\n        to: reservee\n        actor: agent",
            "from: [nulle_part]\n        to: reservee\n        actor: agent",
            "workflow.custom.transitions[1].from[0]",
            "statut inconnu « nulle_part »",
        ),
        (
            "unreachable status",
            "to: reservee\n        actor: agent",
            "actor: agent",
            "workflow.custom.statuses",
            "« reservee » n'est atteint par aucune action",
        ),
        (
            "agent without right",
            "right: process\n        requires",
            "requires",
            "workflow.custom.transitions[1].right",
            "doit indiquer le droit requis",
        ),
        (
            "automatic without timer",
            "on_timer: archive",
            "to: archivee",
            "workflow.custom.transitions[3].on_timer",
            "doit indiquer son minuteur",
        ),
        (
            "previous outside a hold",
            "to: reservee",
            "to: '@previous'",
            "workflow.custom.transitions[1].to",
            "mise en attente",
        ),
        (
            "unknown template",
            "template: salle_reservee",
            "template: salle_louee",
            "workflow.custom.transitions[1].effects.notify[0].template",
            "aucun texte de notification « salle_louee »",
        ),
        (
            "unknown placeholder",
            "{jours} jours",
            "{jour} jours",
            "workflow.custom.transitions[2].effects.history[0].text",
            "paramètre de modèle inconnu {jour}",
        ),
        (
            "duplicate status",
            "id: archivee, label: Archivée",
            "id: reservee, label: Archivée",
            "workflow.custom.statuses[3].id",
            "statut « reservee » défini deux fois",
        ),
        (
            "initial not submitted",
            "initial: deposee",
            "initial: instruction",
            "workflow.custom.initial",
            "phase « submitted »",
        ),
        (
            "refusal type without justification",
            "requires: [closing_comment]",
            "requires: [refusal_type]",
            "workflow.custom.transitions[1].requires",
            "vont ensemble",
        ),
    ];
    for (case, from, to, path, fragment) in cases {
        assert!(CUSTOM.contains(from), "{case}: fixture lacks `{from}`");
        let yaml = format!("{HEAD}{}", CUSTOM.replacen(from, to, 1));
        let error = Definition::from_yaml(&yaml).unwrap_err();
        let found = error
            .problems
            .iter()
            .any(|p| p.path == path && p.message.contains(fragment));
        assert!(
            found,
            "{case}: expected `{path}: …{fragment}…`, got {:#?}",
            error.problems
        );
    }
}

/// A history text written at submission may name the number: the store
/// builds the outcome with a placeholder and renumbers it
/// (`Outcome::renumber`), which must reach that text too.
#[test]
fn a_custom_workflow_naming_the_number_at_submission_is_renumbered() {
    let custom = CUSTOM.replace(
        "history: [{ audience: both, text: Demande déposée }]",
        "history: [{ audience: both, text: 'Demande {numero} déposée' }]",
    );
    assert_ne!(custom, CUSTOM);
    let definition = Definition::from_yaml(&format!("{HEAD}{custom}")).unwrap();
    let numbered = assert_renumbering(
        &definition,
        &answers(vec![("association", text("Les Amis du Vieux-Port"))]),
        guichet_core::submission::Filer::Usager(USAGER),
    );
    assert_eq!(
        numbered.history[0].text,
        format!("Demande {RENUMBERED} déposée")
    );
}
