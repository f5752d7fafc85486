//! Which edits of a definition need a new version.
//!
//! Texts and dates can change during the year so that usagers always read
//! reliable information: titles, labels, help texts, the presentation page,
//! the open period, the RGPD text, notification texts, keywords and category.
//! They are updated **in place** (same version). Anything else — fields,
//! kinds, required flags, choice values, conditions, the workflow and its
//! parameters, the service, the visibility, the connector, the kind — changes
//! what a demande is made of, so it needs a **new version**; filed demandes
//! keep theirs.
//!
//! The rule is implemented by blanking every text of both definitions and
//! comparing what remains. The blanking destructures every struct without
//! `..`, so adding a property to the format does not compile until it is
//! classified here.

use super::{Definition, Link, OpenPeriod, Page, Presentation, Rgpd};
use crate::field::{Choice, Field, FieldKind};
use crate::workflow::{Effects, Status, Transition, Workflow, WorkflowChoice};

/// How a new definition differs from the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing changed.
    Identical,
    /// Only texts and dates changed: update the current version in place.
    TextsOnly,
    /// The structure changed: store a new version.
    Structural,
}

/// Classifies the change from `current` to `new`.
pub fn classify_change(current: &Definition, new: &Definition) -> Change {
    if current == new {
        Change::Identical
    } else if without_texts(current) == without_texts(new) {
        Change::TextsOnly
    } else {
        Change::Structural
    }
}

fn without_texts(definition: &Definition) -> Definition {
    let Definition {
        slug,
        title: _,
        category: _,
        keywords: _,
        visibility,
        kind,
        open_period: _,
        service,
        presentation: _,
        pages,
        rgpd: _,
        workflow,
        notifications: _,
        connector,
        satisfaction,
        resolved: _,
    } = definition.clone();
    Definition {
        slug,
        title: String::new(),
        category: String::new(),
        keywords: Vec::new(),
        visibility,
        kind,
        open_period: None::<OpenPeriod>,
        service,
        presentation: blank_presentation(),
        pages: pages.into_iter().map(blank_page).collect(),
        rgpd: Rgpd {
            text: String::new(),
            consent_label: String::new(),
        },
        workflow: match workflow {
            WorkflowChoice::Custom(custom) => {
                WorkflowChoice::Custom(Box::new(blank_workflow(*custom)))
            }
            standard => standard,
        },
        notifications: Default::default(),
        connector,
        satisfaction: satisfaction.map(super::satisfaction::without_texts),
        resolved: Default::default(),
    }
}

fn blank_presentation() -> Presentation {
    Presentation {
        intro: None,
        steps: Vec::new(),
        documents: Vec::new(),
        average_minutes: 0,
        practical_info: None,
        links: Vec::<Link>::new(),
    }
}

fn blank_page(page: Page) -> Page {
    let Page {
        id,
        title: _,
        subtitle: _,
        condition,
        fields,
    } = page;
    Page {
        id,
        title: String::new(),
        subtitle: None,
        condition,
        fields: fields.into_iter().map(blank_field).collect(),
    }
}

fn blank_field(field: Field) -> Field {
    let Field {
        id,
        label: _,
        help: _,
        required,
        agent_only,
        condition,
        prefill,
        kind,
    } = field;
    let blank_choices = |choices: Vec<Choice>| {
        choices
            .into_iter()
            .map(|Choice { value, label: _ }| Choice {
                value,
                label: String::new(),
            })
            .collect()
    };
    let kind = match kind {
        FieldKind::Choice { choices, source } => FieldKind::Choice {
            choices: blank_choices(choices),
            source,
        },
        FieldKind::MultipleChoice {
            choices,
            source,
            min_choices,
            max_choices,
        } => FieldKind::MultipleChoice {
            choices: blank_choices(choices),
            source,
            min_choices,
            max_choices,
        },
        FieldKind::Number {
            min,
            max,
            integer,
            unit: _,
        } => FieldKind::Number {
            min,
            max,
            integer,
            unit: None,
        },
        FieldKind::Comment { text: _ } => FieldKind::Comment {
            text: String::new(),
        },
        other => other,
    };
    Field {
        id,
        label: String::new(),
        help: None,
        required,
        agent_only,
        condition,
        prefill,
        kind,
    }
}

fn blank_workflow(workflow: Workflow) -> Workflow {
    let Workflow {
        initial,
        statuses,
        transitions,
        on_submit,
        timing,
        transfer_targets,
        retained_fields,
    } = workflow;
    Workflow {
        initial,
        statuses: statuses
            .into_iter()
            .map(
                |Status {
                     id,
                     label: _,
                     visibility,
                     phase,
                 }| Status {
                    id,
                    label: String::new(),
                    visibility,
                    phase,
                },
            )
            .collect(),
        transitions: transitions
            .into_iter()
            .map(|t| Transition {
                label: String::new(),
                effects: blank_effects(t.effects),
                ..t
            })
            .collect(),
        on_submit: blank_effects(on_submit),
        timing,
        transfer_targets,
        retained_fields,
    }
}

fn blank_effects(mut effects: Effects) -> Effects {
    for history in &mut effects.history {
        history.text.clear();
    }
    effects
}
