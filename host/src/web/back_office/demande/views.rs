//! What the demande's page shows of its forms: each action open to the
//! agent with its inputs, the cadre réservé's fields, the vendor's card.

use super::*;

pub(super) fn input_name(input: Input) -> &'static str {
    match input {
        Input::Message => "message",
        Input::Attachment => FILE_PART,
        Input::RefusalType => "type_refus",
        Input::Justification => "justification",
        Input::ClosingComment => "commentaire_cloture",
        Input::Service => "service",
    }
}

fn input_label(input: Input) -> &'static str {
    match input {
        Input::Message => "Message",
        Input::Attachment => "Pièce jointe (facultative)",
        Input::RefusalType => "Type de refus",
        Input::Justification => "Justification du refus",
        Input::ClosingComment => "Commentaire de clôture",
        Input::Service => "Service",
    }
}

/// The form of an action, with the errors and texts of a refused post.
pub(super) fn action_view(
    transition: &Transition,
    services: &[String],
    typed: &Typed,
    errors: &Errors,
) -> ActionView {
    let id = transition.id.0.clone();
    let mine = typed.transition.as_deref() == Some(id.as_str());
    let view = |input: Input| {
        let name = input_name(input);
        let element = format!("{id}-{name}");
        InputView {
            name,
            label: input_label(input),
            required: transition.requires.contains(&input),
            error: if mine {
                errors.of(&element).map(str::to_owned)
            } else {
                None
            },
            typed: if mine {
                typed.texts.get(name).cloned().unwrap_or_default()
            } else {
                String::new()
            },
            id: element,
        }
    };
    let inputs: Vec<Input> = transition
        .requires
        .iter()
        .chain(&transition.accepts)
        .copied()
        .collect();
    let texts = inputs
        .iter()
        .filter(|i| {
            matches!(
                i,
                Input::Message | Input::Justification | Input::ClosingComment
            )
        })
        .map(|i| view(*i))
        .collect();
    ActionView {
        open: mine && !errors.is_empty(),
        label: transition.label.clone(),
        texts,
        refusal: inputs
            .contains(&Input::RefusalType)
            .then(|| view(Input::RefusalType)),
        service: inputs
            .contains(&Input::Service)
            .then(|| (view(Input::Service), services.to_vec())),
        file: inputs
            .contains(&Input::Attachment)
            .then(|| view(Input::Attachment)),
        confirm: transition.confirm.then(|| {
            if mine {
                errors
                    .of(&format!("{id}-{CONFIRM_FIELD}"))
                    .map(str::to_owned)
            } else {
                None
            }
        }),
        id,
    }
}

/// The cadre réservé's fields with their values (or what was typed).
pub(super) fn reserved_views(loaded: &Loaded, typed: &Typed, errors: &Errors) -> Vec<ReservedView> {
    let demande = &loaded.stored.demande;
    loaded
        .definition
        .definition
        .pages
        .iter()
        .flat_map(|page| &page.fields)
        .filter(|field| field.agent_only)
        .filter_map(|field| {
            let (kind, choices) = match &field.kind {
                FieldKind::Text { .. } | FieldKind::Email {} | FieldKind::Phone {} => {
                    ("text", Vec::new())
                }
                FieldKind::LongText { .. } => ("textarea", Vec::new()),
                FieldKind::Number { .. } => ("number", Vec::new()),
                FieldKind::Date { .. } => ("date", Vec::new()),
                FieldKind::Checkbox {} => ("checkbox", Vec::new()),
                FieldKind::Choice { choices, .. } => {
                    let kept = demande.source_choices.get(&field.id);
                    let listed: Vec<(String, String)> = choices
                        .iter()
                        .map(|c| (c.value.clone(), c.label.clone()))
                        .chain(
                            kept.into_iter()
                                .flatten()
                                .map(|c| (c.value.clone(), c.label.clone())),
                        )
                        .collect();
                    ("select", listed)
                }
                _ => return None,
            };
            let name = field.id.as_str().to_owned();
            let value = match typed.reserved.get(&name) {
                Some(text) => text.clone(),
                None => match demande.answers.get(&field.id) {
                    Some(Value::Text(text)) => text.clone(),
                    Some(Value::Checkbox(true)) => "oui".to_owned(),
                    Some(Value::Date(date)) => date.format("%d/%m/%Y").to_string(),
                    Some(Value::Number(number)) => number.to_string().replace('.', ","),
                    Some(Value::Choice(choice)) => choice.clone(),
                    _ => String::new(),
                },
            };
            Some(ReservedView {
                error: errors.of(&name).map(str::to_owned),
                label: field.label.clone(),
                help: field.help.clone(),
                kind,
                value,
                choices,
                name,
            })
        })
        .collect()
}

pub(super) fn card_view(card: &serde_json::Value) -> Option<CardView> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    Some(CardView {
        title: card.get("title").map(text).unwrap_or_default(),
        sections: card
            .get("sections")?
            .as_array()?
            .iter()
            .map(|section| {
                let title = section.get("title").map(text).unwrap_or_default();
                let entries = section
                    .get("entries")
                    .and_then(serde_json::Value::as_array)
                    .map(|entries| {
                        entries
                            .iter()
                            .map(|e| {
                                (
                                    e.get("label").map(text).unwrap_or_default(),
                                    e.get("value").map(text).unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (title, entries)
            })
            .collect(),
        link: card
            .get("link")
            .and_then(|l| l.get("url").or(Some(l)))
            .and_then(serde_json::Value::as_str)
            .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
            .map(str::to_owned),
    })
}
