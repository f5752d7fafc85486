//! The two standard paths of the collectivité, as built-in workflows.
//!
//! Both are ordinary [`Workflow`] values — the same format as custom
//! workflows — built from the démarche's kind and its
//! [`StandardParameters`]:
//!
//! | parameter | simple | complexe |
//! |---|---|---|
//! | `processing_days` | 27 | 27 |
//! | `reminder_days` | [15, 21] | [15, 21] |
//! | `at_deadline` | `close` (automatic closing) | `escalate` (mail to the service and its manager) |
//! | `hold` | — | true |
//! | `hold_max_days` | — | none (no automatic resume) |
//! | `transfer_targets` | — | any service |
//! | `no_answer_days` | — | none (no automatic cancellation) |
//! | `archive_after_days` | 7 | 27 |
//! | `anonymise_after_months` (or `anonymise_after_days`) | 12 | 24 |
//! | `sms` (SMS to the usager besides mails) | false | true |
//!
//! Statuses: *transmise*, *en cours d'analyse*, *acceptée*, *en cours de
//! traitement*, *traitée*, *refusée*, *abandonnée*, *archivée*, *anonymisée*,
//! *corbeille* (agents only); complexe adds *en attente* and *annulée pour
//! absence de réponse*. Global actions: exchange with the usager and
//! *Répondre au service*, internal comment, admin back to *transmise*, admin
//! trash; abandon by the usager from *en cours d'analyse*, *acceptée* and *en
//! cours de traitement* only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::builder::T;
use super::{
    ANY_STATUS, Effects, HistoryText, Input, Notify, Phase, ServiceChange, Status,
    StatusVisibility, TimerGroup, TimerTrigger, Timing, Transition, Workflow, WorkflowChoice,
};
use crate::demarche::{Definition, DemarcheKind};
use crate::history::Audience;
use crate::id::StatusId;
use crate::notification::{Channel, RecipientKind};
use crate::role::{GroupName, Right};

/// What happens at the processing deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AtDeadline {
    /// The demande is closed automatically (*traitée*).
    Close,
    /// The service and its manager are told; agents keep the hand.
    Escalate,
}

/// Parameters of the standard path; absent ones take the kind's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StandardParameters {
    /// Processing deadline in days (27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_days: Option<u32>,
    /// Agent reminders in days ([15, 21]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_days: Option<Vec<u32>>,
    /// Close automatically or escalate at the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_deadline: Option<AtDeadline>,
    /// Whether agents can put demandes on hold (complexe only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<bool>,
    /// Longest hold before automatic resume (complexe only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_max_days: Option<u32>,
    /// Services a demande can be transferred to or shared with (complexe
    /// only); any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_targets: Vec<GroupName>,
    /// Usager's silence after an exchange before automatic cancellation
    /// (complexe only); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer_days: Option<u32>,
    /// Archiving after closing, in days (7 simple, 27 complexe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_after_days: Option<u32>,
    /// Anonymisation after closing, in days; when absent, the calendar
    /// months of `anonymise_after_months`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymise_after_days: Option<u32>,
    /// Anonymisation after closing, in calendar months (12 simple, 24
    /// complexe); ignored when `anonymise_after_days` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymise_after_months: Option<u32>,
    /// Whether the usager also receives SMS (signalements; default: complexe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<bool>,
}

/// The workflow of a definition: its standard path with its parameters, or
/// its custom workflow; with the answers kept at anonymisation.
pub fn resolve(definition: &Definition) -> Workflow {
    let mut workflow = match &definition.workflow {
        WorkflowChoice::Standard(parameters) => standard(definition.kind, parameters),
        WorkflowChoice::Custom(custom) => (**custom).clone(),
    };
    workflow.retained_fields = crate::workflow::anonymise::retained_fields(definition);
    workflow
}

/// The standard path of a kind with parameters.
pub fn standard(kind: DemarcheKind, parameters: &StandardParameters) -> Workflow {
    let complexe = kind == DemarcheKind::Complexe;
    let p = parameters;
    let timing = Timing {
        processing_days: p.processing_days.unwrap_or(27),
        reminder_days: p.reminder_days.clone().unwrap_or_else(|| vec![15, 21]),
        archive_after_days: p
            .archive_after_days
            .unwrap_or(if complexe { 27 } else { 7 }),
        anonymise_after_days: p.anonymise_after_days,
        anonymise_after_months: match p.anonymise_after_days {
            Some(_) => None,
            None => Some(
                p.anonymise_after_months
                    .unwrap_or(if complexe { 24 } else { 12 }),
            ),
        },
        no_answer_days: p.no_answer_days.filter(|_| complexe),
        hold_max_days: p.hold_max_days.filter(|_| complexe),
    };
    let options = Options {
        complexe,
        hold: complexe && p.hold.unwrap_or(true),
        no_answer: timing.no_answer_days.is_some(),
        sms: p.sms.unwrap_or(complexe),
        at_deadline: p.at_deadline.unwrap_or(if complexe {
            AtDeadline::Escalate
        } else {
            AtDeadline::Close
        }),
    };
    Workflow {
        initial: StatusId::from(TRANSMISE),
        statuses: statuses(&options),
        transitions: transitions(&options),
        on_submit: Effects {
            history: vec![both("Demande transmise")],
            notify: usager_notices(&options, "transmise_usager", true)
                .into_iter()
                .chain([notify("transmise_service", RecipientKind::Service)])
                .collect(),
            start: Vec::new(),
            cancel: Vec::new(),
        },
        timing,
        transfer_targets: if complexe {
            p.transfer_targets.clone()
        } else {
            Vec::new()
        },
        retained_fields: Vec::new(),
    }
}

struct Options {
    complexe: bool,
    hold: bool,
    no_answer: bool,
    sms: bool,
    at_deadline: AtDeadline,
}

const TRANSMISE: &str = "transmise";
const ANALYSE: &str = "en_cours_analyse";
const ACCEPTEE: &str = "acceptee";
const TRAITEMENT: &str = "en_cours_traitement";
const ATTENTE: &str = "en_attente";
const TRAITEE: &str = "traitee";
const REFUSEE: &str = "refusee";
const ABANDONNEE: &str = "abandonnee";
const ANNULEE: &str = "annulee_absence_reponse";
const ARCHIVEE: &str = "archivee";
const ANONYMISEE: &str = "anonymisee";
const CORBEILLE: &str = "corbeille";

/// The statuses where processing runs (and the usager may abandon).
const IN_PROGRESS: [&str; 3] = [ANALYSE, ACCEPTEE, TRAITEMENT];

fn statuses(o: &Options) -> Vec<Status> {
    use Phase::*;
    use StatusVisibility::*;
    let mut list = vec![
        (TRANSMISE, "Demande transmise", Everyone, Submitted),
        (ANALYSE, "Demande en cours d'analyse", Everyone, Analysis),
        (ACCEPTEE, "Demande acceptée", Everyone, Processing),
        (
            TRAITEMENT,
            "Demande en cours de traitement",
            Everyone,
            Processing,
        ),
    ];
    if o.hold {
        list.push((ATTENTE, "Demande mise en attente", Everyone, OnHold));
    }
    list.extend([
        (TRAITEE, "Demande traitée", Everyone, Closed),
        (REFUSEE, "Demande refusée par le service", Everyone, Closed),
        (
            ABANDONNEE,
            "Demande abandonnée par l'usager",
            Everyone,
            Closed,
        ),
    ]);
    if o.no_answer {
        list.push((
            ANNULEE,
            "Demande annulée par le service pour absence de réponse",
            Everyone,
            Closed,
        ));
    }
    list.extend([
        (ARCHIVEE, "Demande archivée", Everyone, Archived),
        (ANONYMISEE, "Demande anonymisée", Everyone, Anonymised),
        (CORBEILLE, "Demande à la corbeille", Agent, Trashed),
    ]);
    list.into_iter()
        .map(|(id, label, visibility, phase)| Status {
            id: StatusId::from(id),
            label: label.to_owned(),
            visibility,
            phase,
        })
        .collect()
}

fn transitions(o: &Options) -> Vec<Transition> {
    let mut open: Vec<&str> = vec![TRANSMISE];
    open.extend(IN_PROGRESS);
    if o.hold {
        open.push(ATTENTE);
    }
    let mut closed = vec![TRAITEE, REFUSEE, ABANDONNEE];
    if o.no_answer {
        closed.push(ANNULEE);
    }
    let closing = |t: T| {
        t.cancel(&[
            TimerGroup::Processing,
            TimerGroup::NoAnswer,
            TimerGroup::HoldEnd,
        ])
        .start(&[TimerGroup::Archive, TimerGroup::Anonymise])
    };
    let (take_id, take_label) = if o.complexe {
        ("receptionner", "Réceptionner la demande")
    } else {
        ("prendre_en_compte", "Prendre en compte la demande")
    };

    let mut list = vec![
        T::agent(
            take_id,
            take_label,
            &[TRANSMISE],
            Some(ANALYSE),
            Right::Process,
        )
        .history(Audience::Both, "Demande réceptionnée, en cours d'analyse")
        .notices(usager_notices(o, "prise_en_compte_usager", true))
        .start(&[TimerGroup::Processing]),
        T::agent(
            "accepter",
            "Accepter la demande",
            &[ANALYSE],
            Some(ACCEPTEE),
            Right::Process,
        )
        .history(Audience::Both, "Demande acceptée")
        .notices(usager_notices(o, "acceptee_usager", false)),
        closing(
            T::agent(
                "refuser",
                "Refuser la demande",
                &IN_PROGRESS,
                Some(REFUSEE),
                Right::Process,
            )
            .requires(&[Input::RefusalType, Input::Justification])
            .confirm()
            .history(
                Audience::Both,
                "Demande refusée par le service ({type_refus})",
            )
            .notices(usager_notices(o, "refusee_usager", true)),
        ),
        T::agent(
            "commencer_traitement",
            "Commencer le traitement",
            &[ACCEPTEE],
            Some(TRAITEMENT),
            Right::Process,
        )
        .history(Audience::Both, "Demande en cours de traitement"),
        closing(
            T::agent(
                "cloturer",
                "Clôturer la demande",
                &[ACCEPTEE, TRAITEMENT],
                Some(TRAITEE),
                Right::Process,
            )
            .requires(&[Input::ClosingComment])
            .confirm()
            .history(Audience::Both, "Demande traitée")
            .notices(usager_notices(o, "traitee_usager", true)),
        ),
        closing(
            T::usager(
                "abandonner",
                "Abandonner votre démarche",
                &IN_PROGRESS,
                Some(ABANDONNEE),
            )
            .confirm()
            .history(Audience::Both, "Demande abandonnée par l'usager")
            .notices(vec![
                notify("abandon_service", RecipientKind::Service),
                notify("abandon_usager", RecipientKind::Usager),
            ]),
        ),
        {
            let exchange = T::agent(
                "echanger",
                "Échanger avec l'usager",
                &[ANY_STATUS],
                None,
                Right::Process,
            )
            .requires(&[Input::Message])
            .accepts(&[Input::Attachment])
            .history(Audience::Both, "Message du service")
            .notices(usager_notices(o, "echange_usager", true));
            if o.no_answer {
                exchange.start(&[TimerGroup::NoAnswer])
            } else {
                exchange
            }
        },
        T::usager("repondre", "Répondre au service", &[ANY_STATUS], None)
            .requires(&[Input::Message])
            .accepts(&[Input::Attachment])
            .history(Audience::Both, "Réponse de l'usager")
            .notices(vec![notify("reponse_service", RecipientKind::Service)])
            .cancel(&[TimerGroup::NoAnswer]),
        T::agent(
            "commenter",
            "Ajouter un commentaire interne",
            &[ANY_STATUS],
            None,
            Right::Comment,
        )
        .requires(&[Input::Message])
        .accepts(&[Input::Attachment])
        .history(Audience::Agents, "Commentaire interne"),
        T::automatic(
            "relance",
            "Relance de l'agent",
            &IN_PROGRESS,
            None,
            TimerTrigger::Reminder,
        )
        .history(
            Audience::Agents,
            "Relance : demande en cours depuis {jours} jours, échéance le {echeance}",
        )
        .notices(vec![notify("relance_agent", RecipientKind::Service)]),
        match o.at_deadline {
            AtDeadline::Close => closing(
                T::automatic(
                    "echeance",
                    "Clôture à l'échéance",
                    &IN_PROGRESS,
                    Some(TRAITEE),
                    TimerTrigger::Deadline,
                )
                .history(
                    Audience::Both,
                    "Demande clôturée automatiquement à l'échéance de traitement",
                )
                .notices(usager_notices(o, "traitee_usager", true)),
            ),
            AtDeadline::Escalate => T::automatic(
                "echeance",
                "Échéance dépassée",
                &open[1..],
                None,
                TimerTrigger::Deadline,
            )
            .history(
                Audience::Agents,
                "Échéance de traitement dépassée ({echeance})",
            )
            .notices(vec![
                notify("echeance_depassee", RecipientKind::Service),
                notify("echeance_depassee", RecipientKind::Manager),
            ]),
        },
        T::automatic(
            "archiver",
            "Archivage",
            &closed,
            Some(ARCHIVEE),
            TimerTrigger::Archive,
        )
        .history(Audience::Both, "Demande archivée"),
        {
            let mut from = closed.clone();
            from.push(ARCHIVEE);
            let anonymise = T::automatic(
                "anonymiser",
                "Anonymisation",
                &from,
                Some(ANONYMISEE),
                TimerTrigger::Anonymise,
            )
            .history(
                Audience::Both,
                "Données personnelles et pièces jointes supprimées (RGPD)",
            )
            .cancel(&[TimerGroup::All]);
            if o.complexe {
                anonymise.notices(vec![notify("anonymisation_usager", RecipientKind::Usager)])
            } else {
                anonymise
            }
        },
        T::agent(
            "retour_transmise",
            "Revenir au statut « Demande transmise »",
            &[ANY_STATUS],
            Some(TRANSMISE),
            Right::Administration,
        )
        .confirm()
        .history(
            Audience::Agents,
            "Retour au statut « Demande transmise » par l'administration",
        )
        .cancel(&[TimerGroup::All]),
        T::agent(
            "corbeille",
            "Mettre à la corbeille",
            &[ANY_STATUS],
            Some(CORBEILLE),
            Right::Administration,
        )
        .confirm()
        .history(
            Audience::Agents,
            "Demande mise à la corbeille par l'administration",
        )
        .cancel(&[TimerGroup::All]),
    ];
    if o.hold {
        let resume = |t: T| {
            t.history(Audience::Both, "Reprise du traitement")
                .notices(usager_notices(o, "reprise_usager", false))
                .cancel(&[TimerGroup::HoldEnd])
                .start(&[TimerGroup::Processing])
        };
        list.extend([
            T::agent(
                "mettre_en_attente",
                "Mettre en attente",
                &IN_PROGRESS,
                Some(ATTENTE),
                Right::Process,
            )
            .accepts(&[Input::Message])
            .history(Audience::Both, "Demande mise en attente")
            .notices(usager_notices(o, "mise_en_attente_usager", false))
            .cancel(&[TimerGroup::Processing])
            .start(&[TimerGroup::HoldEnd]),
            resume(
                T::agent(
                    "reprendre",
                    "Reprendre le traitement",
                    &[ATTENTE],
                    None,
                    Right::Process,
                )
                .back_to_previous(),
            ),
            resume(
                T::automatic(
                    "reprise_automatique",
                    "Reprise automatique",
                    &[ATTENTE],
                    None,
                    TimerTrigger::HoldEnd,
                )
                .back_to_previous(),
            ),
        ]);
    }
    if o.complexe {
        list.extend([
            T::agent(
                "transferer",
                "Transférer vers un autre service",
                &open,
                None,
                Right::Process,
            )
            .requires(&[Input::Service])
            .accepts(&[Input::Message])
            .service_change(ServiceChange::Transfer)
            .history(Audience::Agents, "Demande transférée au service {service}")
            .notices(vec![notify(
                "transfert_service",
                RecipientKind::TargetService,
            )]),
            T::agent(
                "ajouter_service",
                "Ajouter un autre service",
                &open,
                None,
                Right::Process,
            )
            .requires(&[Input::Service])
            .accepts(&[Input::Message])
            .service_change(ServiceChange::Join)
            .history(Audience::Agents, "Service {service} associé au traitement")
            .notices(vec![notify("ajout_service", RecipientKind::TargetService)]),
            T::agent(
                "relancer_service",
                "Relancer un service",
                &[ANY_STATUS],
                None,
                Right::Process,
            )
            .requires(&[Input::Service, Input::Message])
            .history(Audience::Agents, "Relance du service {service}")
            .notices(vec![notify(
                "relance_service",
                RecipientKind::TargetService,
            )]),
            T::agent(
                "echange_interne",
                "Échange interne",
                &[ANY_STATUS],
                None,
                Right::Comment,
            )
            .requires(&[Input::Message])
            .accepts(&[Input::Attachment])
            .history(Audience::Agents, "Échange interne"),
        ]);
    }
    if o.no_answer {
        let mut from = IN_PROGRESS.to_vec();
        if o.hold {
            from.push(ATTENTE);
        }
        list.push(closing(
            T::automatic(
                "annulation_absence_reponse",
                "Annulation pour absence de réponse",
                &from,
                Some(ANNULEE),
                TimerTrigger::NoAnswer,
            )
            .history(
                Audience::Both,
                "Demande annulée par le service pour absence de réponse",
            )
            .notices(usager_notices(o, "annulee_absence_reponse_usager", true)),
        ));
    }
    list.into_iter().map(|t| t.0).collect()
}

fn both(text: &str) -> HistoryText {
    HistoryText {
        audience: Audience::Both,
        text: text.to_owned(),
    }
}

fn notify(template: &str, to: RecipientKind) -> Notify {
    Notify {
        template: template.to_owned(),
        channel: Channel::Mail,
        to,
    }
}

/// A mail to the usager, plus an SMS when the démarche sends SMS and the
/// event deserves one.
fn usager_notices(o: &Options, template: &str, sms_worthy: bool) -> Vec<Notify> {
    let mut notices = vec![notify(template, RecipientKind::Usager)];
    if o.sms && sms_worthy {
        notices.push(Notify {
            template: template.to_owned(),
            channel: Channel::Sms,
            to: RecipientKind::Usager,
        });
    }
    notices
}
