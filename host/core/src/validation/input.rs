//! Reading answers posted as plain JSON, with the definition at hand.
//!
//! | field kind | plain JSON accepted |
//! |---|---|
//! | text, long text, e-mail, phone | `"texte"` |
//! | number | `120.5` or `"120,5"` |
//! | date | `"2026-09-01"` or `"01/09/2026"` (four-digit year) |
//! | choice | `"valeur"` |
//! | multiple choice | `["lundi", "jeudi"]` (or one `"valeur"`) |
//! | checkbox | `true` / `false` (or `"on"` from an HTML form) |
//! | file | a file reference object, or a list of them |
//! | address | `{"street", "postcode", "city", "complement"?, "label"?, "latitude"?, "longitude"?}` |
//!
//! `null` means no answer. Reading only converts types; the rules of each
//! field are applied by validation afterwards.

use serde_json::Value as Json;

use super::{ErrorCode, FieldError};
use crate::demarche::Definition;
use crate::field::{Field, FieldKind};
use crate::file::FileRef;
use crate::id::FieldId;
use crate::value::{Address, Answers, Value};

/// Converts a plain JSON object of answers into typed [`Answers`].
///
/// # Errors
/// `champ_inconnu` for ids that are not fields, `type_invalide`,
/// `nombre_invalide` or `format_date` for values of the wrong shape; every
/// error at once.
pub fn read_answers(definition: &Definition, json: &Json) -> Result<Answers, Vec<FieldError>> {
    let Some(object) = json.as_object() else {
        return Err(vec![FieldError::new(
            "",
            ErrorCode::TypeInvalide,
            "Les réponses doivent être un objet JSON.",
        )]);
    };
    let mut answers = Answers::new();
    let mut errors = Vec::new();
    for (id, raw) in object {
        let field_id = FieldId::from(id.clone());
        let Some(field) = definition.field(&field_id) else {
            errors.push(FieldError::new(
                id,
                ErrorCode::ChampInconnu,
                "Ce champ n'existe pas dans le formulaire.",
            ));
            continue;
        };
        if raw.is_null() {
            continue;
        }
        match read_value(field, raw) {
            Ok(value) => {
                answers.insert(field_id, value);
            }
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn read_value(field: &Field, raw: &Json) -> Result<Value, FieldError> {
    let id = field.id.as_str();
    let wrong = || {
        FieldError::new(
            id,
            ErrorCode::TypeInvalide,
            format!(
                "Cette réponse ne convient pas à un champ de type {}.",
                field.kind.name()
            ),
        )
    };
    match &field.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText { .. }
        | FieldKind::Email {}
        | FieldKind::Phone {} => raw
            .as_str()
            .map(|s| Value::Text(s.to_owned()))
            .ok_or_else(wrong),
        FieldKind::Number { .. } => {
            let number = match raw {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s
                    .trim()
                    .replace([' ', '\u{202f}', '\u{a0}'], "")
                    .replace(',', ".")
                    .parse::<f64>()
                    .ok(),
                _ => None,
            };
            number
                .filter(|n| n.is_finite())
                .map(Value::Number)
                .ok_or_else(|| {
                    FieldError::new(id, ErrorCode::NombreInvalide, "Saisissez un nombre.")
                })
        }
        FieldKind::Date { .. } => {
            let text = raw.as_str().ok_or_else(wrong)?;
            crate::format::parse_date(text)
                .map(Value::Date)
                .ok_or_else(|| {
                    FieldError::new(
                        id,
                        ErrorCode::FormatDate,
                        "Saisissez une date au format JJ/MM/AAAA.",
                    )
                })
        }
        FieldKind::Choice { .. } => raw
            .as_str()
            .map(|s| Value::Choice(s.to_owned()))
            .ok_or_else(wrong),
        FieldKind::MultipleChoice { .. } => match raw {
            Json::String(s) => Ok(Value::Choices(vec![s.clone()])),
            Json::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Value::Choices)
                .ok_or_else(wrong),
            _ => Err(wrong()),
        },
        FieldKind::Checkbox {} => match raw {
            Json::Bool(b) => Ok(Value::Checkbox(*b)),
            Json::String(s) if s == "on" => Ok(Value::Checkbox(true)),
            _ => Err(wrong()),
        },
        FieldKind::File { .. } => {
            let list = match raw {
                Json::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            list.into_iter()
                .map(|item| serde_json::from_value::<FileRef>(item).map_err(|_| wrong()))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Files)
        }
        FieldKind::Address { .. } => serde_json::from_value::<Address>(raw.clone())
            .map(Value::Address)
            .map_err(|_| {
                FieldError::new(
                    id,
                    ErrorCode::AdresseIncomplete,
                    "Indiquez la rue, le code postal et la ville.",
                )
            }),
        FieldKind::Title {} | FieldKind::Comment { .. } => Err(FieldError::new(
            id,
            ErrorCode::ChampSansSaisie,
            "Ce bloc de texte ne reçoit pas de valeur.",
        )),
    }
}
