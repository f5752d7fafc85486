//! Every role × every action, at the engine level; usagers see only their
//! own demandes and the usager-visible history.
use guichet_core::access::usager_may_read;
use guichet_core::actor::{Actor, ActorKind};
use guichet_core::id::Slug;

use guichet_core::demande::FilingChannel;
use guichet_core::demarche::DemarcheKind;
use guichet_core::history::{Audience, usager_history};
use guichet_core::role::{Grant, Right, Role, Scope, rights};
use guichet_core::submission::{
    self, AgentFieldsError, Filer, Filing, SubmitError, fill_agent_fields,
};
use guichet_core::validation::Context;
use guichet_core::value::Value;
use guichet_core::workflow::{self, StandardParameters, WorkflowError, template};

use crate::support::*;

use Role::*;

/// Who may run each agent action of the complexe path (which includes every
/// action of the simple one), as the seed's table implies.
const EXPECTED: [(&str, &[Role]); 14] = [
    ("receptionner", &[Gestionnaire, Qualite, Administrateur]),
    ("accepter", &[Gestionnaire, Qualite, Administrateur]),
    ("refuser", &[Gestionnaire, Qualite, Administrateur]),
    (
        "commencer_traitement",
        &[Gestionnaire, Qualite, Administrateur],
    ),
    ("cloturer", &[Gestionnaire, Qualite, Administrateur]),
    ("echanger", &[Gestionnaire, Qualite, Administrateur]),
    (
        "commenter",
        &[Consultant, Gestionnaire, Qualite, Administrateur],
    ),
    (
        "echange_interne",
        &[Consultant, Gestionnaire, Qualite, Administrateur],
    ),
    (
        "mettre_en_attente",
        &[Gestionnaire, Qualite, Administrateur],
    ),
    ("reprendre", &[Gestionnaire, Qualite, Administrateur]),
    ("transferer", &[Gestionnaire, Qualite, Administrateur]),
    ("ajouter_service", &[Gestionnaire, Qualite, Administrateur]),
    ("retour_transmise", &[Administrateur]),
    ("corbeille", &[Administrateur]),
];

#[test]
fn every_role_runs_exactly_the_actions_its_rights_allow() {
    let params = StandardParameters {
        no_answer_days: Some(10),
        ..Default::default()
    };
    let complexe = template::standard(DemarcheKind::Complexe, &params);
    let demande = Store::signalement().demande;
    let agent_actions: Vec<&str> = complexe
        .transitions
        .iter()
        .filter(|t| t.actor == ActorKind::Agent)
        .map(|t| t.id.0.as_str())
        .collect();
    assert_eq!(agent_actions.len(), EXPECTED.len() + 1, "{agent_actions:?}");

    for (action, allowed) in EXPECTED {
        for role in Role::ALL {
            let result = workflow::apply(
                &complexe,
                &demande,
                workflow::Action::new(action),
                &agent(role),
                start(),
                ZONE,
            );
            let refused_for_right = matches!(result, Err(WorkflowError::RightMissing(_)));
            assert_eq!(
                !refused_for_right,
                allowed.contains(&role),
                "{} / {action}: {result:?}",
                role.label()
            );
        }
    }
}

#[test]
fn relance_service_needs_the_processing_right() {
    let complexe = template::standard(DemarcheKind::Complexe, &StandardParameters::default());
    let relance = complexe.transition(&"relancer_service".into()).unwrap();
    assert_eq!(relance.right, Some(Right::Process));
}

#[test]
fn usager_actions_are_refused_to_agents_and_agent_actions_to_usagers() {
    let mut store = Store::velo();
    store
        .act(workflow::Action::new("prendre_en_compte"), &gestionnaire())
        .unwrap();
    assert!(matches!(
        store.act(workflow::Action::new("abandonner").confirmed(), &admin()),
        Err(WorkflowError::WrongActor(_))
    ));
    assert!(matches!(
        store.act(workflow::Action::new("accepter"), &Actor::Usager(USAGER)),
        Err(WorkflowError::WrongActor(_))
    ));
    assert!(matches!(
        store.act(workflow::Action::new("accepter"), &Actor::System),
        Err(WorkflowError::WrongActor(_))
    ));
}

#[test]
fn filing_on_behalf_of_an_usager_needs_the_saisie_right() {
    let velo = example("aide-reparation-velo");
    for role in Role::ALL {
        let filing = Filing {
            version: 1,
            id: guichet_core::id::DemandeId::from_uuid(id(77)),
            numero: "2026-000077".into(),
            answers: velo_answers(),
            consent: true,
            filer: Filer::Agent {
                id: AGENT,
                rights: role.rights(),
                channel: FilingChannel::Guichet,
                usager: Some(USAGER),
            },
        };
        let result = submission::submit(&velo, filing, &source_options(), start(), ZONE);
        let expected = matches!(role, SaisieBo | Gestionnaire | Qualite | Administrateur);
        assert_eq!(result.is_ok(), expected, "{}", role.label());
        if !expected {
            assert_eq!(result.unwrap_err(), SubmitError::RightMissing);
        }
    }
}

#[test]
fn only_processing_agents_fill_the_cadre_reserve() {
    let store = Store::velo();
    let options = source_options();
    let context = Context {
        filler: ActorKind::Agent,
        today: today(),
        options: &options,
    };
    let update = answers(vec![("montant_accorde", Value::Number(50.0))]);
    for role in Role::ALL {
        let result = fill_agent_fields(
            &store.definition,
            &store.workflow,
            &store.demande,
            &update,
            AGENT,
            role.rights(),
            &context,
            start(),
        );
        assert_eq!(
            result.is_ok(),
            role.rights().contains(Right::Process),
            "{}",
            role.label()
        );
    }
    let outcome = fill_agent_fields(
        &store.definition,
        &store.workflow,
        &store.demande,
        &update,
        AGENT,
        Gestionnaire.rights(),
        &context,
        start(),
    )
    .unwrap();
    assert_eq!(
        outcome.demande.answers.get(&"montant_accorde".into()),
        Some(&Value::Number(50.0))
    );
    assert_eq!(outcome.history[0].audience, Audience::Agents);

    let usager_field = answers(vec![("nom", text("Durand"))]);
    let refused = fill_agent_fields(
        &store.definition,
        &store.workflow,
        &store.demande,
        &usager_field,
        AGENT,
        Gestionnaire.rights(),
        &context,
        start(),
    );
    assert!(matches!(refused, Err(AgentFieldsError::Invalid(errors)) if errors[0].field == "nom"));
}

#[test]
fn an_agents_only_demarche_cannot_be_filed_by_an_usager() {
    let mut velo = example("aide-reparation-velo");
    velo.visibility = guichet_core::demarche::DemarcheVisibility::Agents;
    let filing = Filing {
        version: 1,
        id: guichet_core::id::DemandeId::from_uuid(id(78)),
        numero: "2026-000078".into(),
        answers: velo_answers(),
        consent: true,
        filer: Filer::Usager(USAGER),
    };
    assert_eq!(
        submission::submit(&velo, filing, &source_options(), start(), ZONE).unwrap_err(),
        SubmitError::AgentsOnly
    );
}

#[test]
fn grants_are_per_demarche_and_roles_come_from_group_names() {
    let velo = Slug::from("aide-reparation-velo");
    let cantine = Slug::from("inscription-restauration-scolaire");
    let grants = [
        Grant {
            group: group("Gest_SVL_DACT_Mobilités"),
            scope: Scope::Demarche(velo.clone()),
        },
        Grant {
            group: group("Saisie_SVL_DCS_Accueil"),
            scope: Scope::Demarche(velo.clone()),
        },
        Grant {
            group: group("Admin_SVL_DSI_Guichet"),
            scope: Scope::All,
        },
    ];
    let accueil = rights(&[group("Saisie_SVL_DCS_Accueil")], &grants, &velo);
    assert_eq!(
        accueil.iter().collect::<Vec<_>>(),
        [Right::BackOffice, Right::FileOnBehalf]
    );
    assert!(rights(&[group("Gest_SVL_DACT_Mobilités")], &grants, &cantine).is_empty());
    assert!(
        rights(&[group("Admin_SVL_DSI_Guichet")], &grants, &cantine)
            .contains(Right::Administration)
    );
}

#[test]
fn an_usager_reads_only_their_demandes_and_their_history() {
    let mut store = Store::velo();
    store
        .act(workflow::Action::new("prendre_en_compte"), &gestionnaire())
        .unwrap();
    store
        .act(
            workflow::Action::new("commenter").message("Usager connu du service."),
            &gestionnaire(),
        )
        .unwrap();

    assert!(usager_may_read(USAGER, &store.demande));
    assert!(!usager_may_read(OTHER_USAGER, &store.demande));
    let visible = usager_history(&store.history);
    assert!(visible.iter().all(|h| h.audience != Audience::Agents));
    assert!(
        visible
            .iter()
            .all(|h| h.message.as_deref() != Some("Usager connu du service."))
    );
}
