//! Checks of a workflow: what a custom workflow must respect (the built-in
//! templates pass them too, which a test proves).

use std::collections::{BTreeSet, VecDeque};

use super::{
    ANY_STATUS, Effects, Input, Phase, RecipientKind, ServiceChange, Target, TimerGroup, Workflow,
};
use crate::actor::ActorKind;
use crate::demarche::Problem;
use crate::id::is_snake_case;

use crate::notification::{PLACEHOLDERS, placeholders_in};

/// Every problem of a workflow, with paths relative to it (`statuses[2].id`).
/// `template_exists` says whether a notification template key has a text.
pub fn check_workflow(workflow: &Workflow, template_exists: &dyn Fn(&str) -> bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut push = |path: String, message: String| problems.push(Problem { path, message });

    let mut seen = BTreeSet::new();
    for (i, status) in workflow.statuses.iter().enumerate() {
        if !is_snake_case(status.id.as_str(), 64) {
            push(
                format!("statuses[{i}].id"),
                format!(
                    "identifiant de statut invalide « {} » (minuscules, chiffres et _)",
                    status.id
                ),
            );
        }
        if !seen.insert(status.id.clone()) {
            push(
                format!("statuses[{i}].id"),
                format!("statut « {} » défini deux fois", status.id),
            );
        }
        if status.label.trim().is_empty() {
            push(
                format!("statuses[{i}].label"),
                "le libellé du statut est vide".to_owned(),
            );
        }
    }
    match workflow.phase(&workflow.initial) {
        None => push(
            "initial".to_owned(),
            format!("statut initial inconnu « {} »", workflow.initial),
        ),
        Some(Phase::Submitted) => {}
        Some(_) => push(
            "initial".to_owned(),
            "le statut initial doit être de phase « submitted »".to_owned(),
        ),
    }

    let mut ids = BTreeSet::new();
    for (i, t) in workflow.transitions.iter().enumerate() {
        let at = |field: &str| format!("transitions[{i}].{field}");
        if !is_snake_case(&t.id.0, 64) {
            push(
                at("id"),
                format!(
                    "identifiant d'action invalide « {} » (minuscules, chiffres et _)",
                    t.id
                ),
            );
        }
        if !ids.insert(t.id.clone()) {
            push(at("id"), format!("action « {} » définie deux fois", t.id));
        }
        if t.from.is_empty() {
            push(at("from"), "l'action ne part d'aucun statut".to_owned());
        }
        for (j, from) in t.from.iter().enumerate() {
            if from.as_str() != ANY_STATUS && workflow.status(from).is_none() {
                push(
                    format!("transitions[{i}].from[{j}]"),
                    format!("statut inconnu « {from} »"),
                );
            }
        }
        match &t.to {
            Some(Target::Status(to)) if workflow.status(to).is_none() => {
                push(at("to"), format!("statut inconnu « {to} »"));
            }
            Some(Target::Previous) => {
                let all_on_hold = t
                    .from
                    .iter()
                    .all(|from| workflow.phase(from) == Some(Phase::OnHold));
                if !all_on_hold {
                    push(
                        at("to"),
                        "« @previous » ne s'utilise qu'au départ de statuts de mise en attente"
                            .to_owned(),
                    );
                }
            }
            _ => {}
        }
        match t.actor {
            ActorKind::Agent if t.right.is_none() => push(
                at("right"),
                "une action d'agent doit indiquer le droit requis".to_owned(),
            ),
            ActorKind::Usager | ActorKind::System if t.right.is_some() => {
                push(
                    at("right"),
                    "seules les actions d'agent demandent un droit".to_owned(),
                );
            }
            _ => {}
        }
        match (t.actor, t.on_timer) {
            (ActorKind::System, None) => push(
                at("on_timer"),
                "une action automatique doit indiquer son minuteur".to_owned(),
            ),
            (ActorKind::Usager | ActorKind::Agent, Some(_)) => {
                push(
                    at("on_timer"),
                    "seules les actions automatiques ont un minuteur".to_owned(),
                );
            }
            _ => {}
        }
        if t.actor == ActorKind::System && !(t.requires.is_empty() && t.accepts.is_empty()) {
            push(
                at("requires"),
                "une action automatique ne reçoit aucune information".to_owned(),
            );
        }
        for input in &t.requires {
            if t.accepts.contains(input) {
                push(
                    at("accepts"),
                    format!("« {} » est à la fois requis et accepté", input.label()),
                );
            }
        }
        let takes = |input: Input| t.requires.contains(&input) || t.accepts.contains(&input);
        if t.requires.contains(&Input::RefusalType) != t.requires.contains(&Input::Justification) {
            push(
                at("requires"),
                "le type de refus et la justification vont ensemble".to_owned(),
            );
        }
        if t.service_change.is_some() && !t.requires.contains(&Input::Service) {
            push(
                at("service_change"),
                "un transfert ou un ajout de service requiert l'information « service »".to_owned(),
            );
        }
        if t.effects
            .notify
            .iter()
            .any(|n| n.to == RecipientKind::TargetService)
            && !t.requires.contains(&Input::Service)
        {
            push(
                at("effects.notify"),
                "notifier le service cible requiert l'information « service »".to_owned(),
            );
        }
        if takes(Input::Service)
            && t.service_change.is_none()
            && !t
                .effects
                .notify
                .iter()
                .any(|n| n.to == RecipientKind::TargetService)
        {
            push(at("requires"), "l'information « service » n'est utilisée ni pour un transfert ni pour une notification".to_owned());
        }
        if matches!(
            t.service_change,
            Some(ServiceChange::Transfer | ServiceChange::Join)
        ) && t.to.is_some()
        {
            push(
                at("to"),
                "un transfert ou un ajout de service ne change pas le statut".to_owned(),
            );
        }
        check_effects(
            &t.effects,
            &format!("transitions[{i}].effects"),
            template_exists,
            &mut push,
        );
    }
    if !workflow.on_submit.start.is_empty() {
        push(
            "on_submit.start".to_owned(),
            "aucun minuteur ne démarre au dépôt : les délais courent dès la prise en compte"
                .to_owned(),
        );
    }
    check_effects(&workflow.on_submit, "on_submit", template_exists, &mut push);
    for status in unreachable(workflow) {
        push(
            "statuses".to_owned(),
            format!("le statut « {status} » n'est atteint par aucune action"),
        );
    }

    let timing = &workflow.timing;
    if timing.processing_days == 0 {
        push(
            "timing.processing_days".to_owned(),
            "le délai de traitement doit être d'au moins un jour".to_owned(),
        );
    }
    for (i, days) in timing.reminder_days.iter().enumerate() {
        if *days == 0 || *days >= timing.processing_days {
            push(
                format!("timing.reminder_days[{i}]"),
                format!(
                    "une relance ({days} jours) doit précéder l'échéance de {} jours",
                    timing.processing_days
                ),
            );
        }
    }
    // A month has at least 28 days: the shortest reading of the delay.
    let anonymise_days = match (timing.anonymise_after_days, timing.anonymise_after_months) {
        (Some(days), None) => Some(days),
        (None, Some(months)) => Some(months.saturating_mul(28)),
        _ => {
            push(
                "timing".to_owned(),
                "indiquez le délai d'anonymisation en jours (anonymise_after_days) \
                 ou en mois (anonymise_after_months), pas les deux"
                    .to_owned(),
            );
            None
        }
    };
    if anonymise_days.is_some_and(|days| days <= timing.archive_after_days) {
        push(
            "timing.anonymise_after_days".to_owned(),
            "l'anonymisation doit suivre l'archivage".to_owned(),
        );
    }
    if timing.no_answer_days == Some(0) || timing.hold_max_days == Some(0) {
        push(
            "timing".to_owned(),
            "un délai configuré doit être d'au moins un jour".to_owned(),
        );
    }
    problems
}

fn check_effects(
    effects: &Effects,
    path: &str,
    template_exists: &dyn Fn(&str) -> bool,
    push: &mut impl FnMut(String, String),
) {
    for (i, text) in effects.history.iter().enumerate() {
        for name in placeholders_in(&text.text) {
            if !PLACEHOLDERS.contains(&name) {
                push(
                    format!("{path}.history[{i}].text"),
                    format!("paramètre de modèle inconnu {{{name}}}"),
                );
            }
        }
    }
    for (i, notify) in effects.notify.iter().enumerate() {
        if !template_exists(&notify.template) {
            push(
                format!("{path}.notify[{i}].template"),
                format!("aucun texte de notification « {} »", notify.template),
            );
        }
    }
    if effects.start.contains(&TimerGroup::All) {
        push(
            format!("{path}.start"),
            "« all » ne sert qu'à annuler les minuteurs".to_owned(),
        );
    }
}

/// Statuses no path of transitions reaches from the initial status.
fn unreachable(workflow: &Workflow) -> Vec<&super::StatusId> {
    let mut reached: BTreeSet<&super::StatusId> = BTreeSet::new();
    let mut queue = VecDeque::new();
    if workflow.status(&workflow.initial).is_some() {
        reached.insert(&workflow.initial);
        queue.push_back(&workflow.initial);
    }
    while let Some(status) = queue.pop_front() {
        for t in workflow
            .transitions
            .iter()
            .filter(|t| workflow.allows(t, status))
        {
            let targets: Vec<&super::StatusId> = match &t.to {
                Some(Target::Status(to)) => vec![to],
                // Back to any status that can lead to the hold.
                Some(Target::Previous) => workflow
                    .transitions
                    .iter()
                    .filter(|into| matches!(&into.to, Some(Target::Status(to)) if to == status))
                    .flat_map(|into| into.from.iter())
                    .filter(|from| workflow.status(from).is_some())
                    .collect(),
                None => Vec::new(),
            };
            for to in targets {
                if workflow.status(to).is_some() && reached.insert(to) {
                    queue.push_back(to);
                }
            }
        }
    }
    workflow
        .statuses
        .iter()
        .map(|s| &s.id)
        .filter(|id| !reached.contains(id))
        .collect()
}
