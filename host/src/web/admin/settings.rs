//! An instance's settings as a form generated from its connector's JSON
//! Schema (`config_schema` of its description): one field per property —
//! a text (an address for `format: uri`, a mail for `email`), an integer,
//! a number, a box for a boolean, a list for an `enum`, JSON for objects
//! and arrays —, labelled by its `title` (else its name), with its
//! `description`, `format`, `examples` and `default` as hints.
//!
//! **Secrets** (`"x-secret": true`, or `writeOnly`) are write-only: their
//! input is always empty, a value typed replaces the secret, an input left
//! empty keeps it. A form shown again after an error never carries back
//! what was typed in one.
//!
//! The form only reads what was typed into JSON values; whether they fit
//! the schema is the service's check (`service::connectors::configure`),
//! whose problems [`problems`] places beside their fields.

use serde_json::{Map, Value};

use crate::connectors::instance::{ProblemKind, SettingProblem};
use crate::web::ErrorView;
use crate::web::session::Posted;

use super::sentence;

/// The anchor of the form as a whole (problems of no one field).
pub(super) const FORM_ANCHOR: &str = "reglages";

/// What input a property gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A line of text.
    Text,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// A box ticked or not.
    Boolean,
    /// One of the schema's `enum` values.
    Choice,
    /// An object or an array, typed as JSON.
    Json,
    /// A secret: write-only.
    Secret,
}

/// One property of the settings, as a field of the form.
#[derive(Debug, Clone)]
pub(super) struct SettingField {
    /// The property's name.
    pub name: String,
    /// The input's id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its hints, in order.
    pub hints: Vec<String>,
    /// What input it gets.
    pub kind: Kind,
    /// The `type` of a text input (`text`, `url`, `email`).
    pub input_type: &'static str,
    /// The choices of an `enum` (their texts).
    pub choices: Vec<String>,
    /// The schema requires it.
    pub required: bool,
    /// What the input shows (never a secret).
    pub value: String,
    /// A boolean's box is ticked.
    pub checked: bool,
    /// Its error.
    pub error: Option<String>,
    /// The `enum` values as JSON, beside their texts.
    enum_values: Vec<Value>,
}

impl SettingField {
    /// The ids its input is described by: hints, then error.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hints.is_empty() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }

    /// The kind's name, for the template.
    pub fn is(&self, kind: &str) -> bool {
        let name = match self.kind {
            Kind::Text => "text",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Choice => "choice",
            Kind::Json => "json",
            Kind::Secret => "secret",
        };
        name == kind
    }
}

/// The text of a JSON value in an input (a string as is, others as JSON).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Object(_) | Value::Array(_) => {
            serde_json::to_string_pretty(value).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

/// The first type a property's schema names, other than `null`.
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(name)) => Some(name.as_str()),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|name| *name != "null"),
        _ => None,
    }
}

/// The hint a `format` gives.
fn format_hint(format: &str) -> Option<&'static str> {
    match format {
        "uri" | "url" | "iri" => Some("Une adresse web complète, commençant par https://."),
        "email" => Some("Une adresse électronique."),
        "date" => Some("Une date au format AAAA-MM-JJ."),
        "date-time" => Some("Une date et une heure au format AAAA-MM-JJTHH:MM:SSZ."),
        "hostname" => Some("Un nom d'hôte, sans https:// ni chemin."),
        "uuid" => Some("Un identifiant UUID."),
        _ => None,
    }
}

/// The fields of `schema`'s properties — its required ones first, in its
/// order, then the others by name —, showing `settings` (secrets
/// masked or absent: their value is never shown, only whether one is set).
pub(super) fn fields(schema: &Value, settings: &Map<String, Value>) -> Vec<SettingField> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort_by_key(|name| {
        (
            required
                .iter()
                .position(|r| r == *name)
                .unwrap_or(usize::MAX),
            (*name).clone(),
        )
    });
    names
        .into_iter()
        .map(|name| {
            let property = &properties[name];
            field(
                name,
                property,
                required.contains(&name.as_str()),
                settings.get(name),
            )
        })
        .collect()
}

fn field(name: &str, property: &Value, required: bool, current: Option<&Value>) -> SettingField {
    let text = |key: &str| property.get(key).and_then(Value::as_str).map(str::to_owned);
    let secret = property.get("x-secret") == Some(&Value::Bool(true))
        || property.get("writeOnly") == Some(&Value::Bool(true));
    let enum_values: Vec<Value> = property
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let kind = if secret {
        Kind::Secret
    } else if !enum_values.is_empty() {
        Kind::Choice
    } else {
        match type_of(property) {
            Some("string") => Kind::Text,
            Some("integer") => Kind::Integer,
            Some("number") => Kind::Number,
            Some("boolean") => Kind::Boolean,
            _ => Kind::Json,
        }
    };
    let format = text("format");
    let mut hints = Vec::new();
    if let Some(description) = text("description") {
        hints.push(description);
    }
    if let Some(hint) = format.as_deref().and_then(format_hint) {
        hints.push(hint.to_owned());
    }
    match kind {
        Kind::Integer => hints.push("Un nombre entier.".to_owned()),
        Kind::Number => hints.push("Un nombre (virgule ou point).".to_owned()),
        Kind::Json => hints.push("Au format JSON.".to_owned()),
        _ => {}
    }
    if let Some(examples) = property.get("examples").and_then(Value::as_array)
        && !examples.is_empty()
        && kind != Kind::Secret
    {
        let listed: Vec<String> = examples.iter().map(text_of).collect();
        hints.push(format!("Par exemple : {}.", listed.join(", ")));
    }
    if let Some(default) = property.get("default")
        && kind != Kind::Secret
    {
        hints.push(format!("Par défaut : {}.", text_of(default)));
    }
    let secret_set = kind == Kind::Secret && current.is_some_and(|v| !v.is_null());
    if kind == Kind::Secret {
        hints.push(if secret_set {
            "Secret : jamais affiché. Laissez vide pour garder la valeur enregistrée.".to_owned()
        } else {
            "Secret : jamais affiché une fois enregistré.".to_owned()
        });
    }
    SettingField {
        name: name.to_owned(),
        id: format!("reglage-{name}"),
        label: text("title").unwrap_or_else(|| name.to_owned()),
        hints,
        kind,
        input_type: match (kind, format.as_deref()) {
            (Kind::Text, Some("uri" | "url" | "iri")) => "url",
            (Kind::Text, Some("email")) => "email",
            _ => "text",
        },
        choices: enum_values.iter().map(text_of).collect(),
        required,
        value: match kind {
            Kind::Secret | Kind::Boolean => String::new(),
            _ => current.map(text_of).unwrap_or_default(),
        },
        checked: current == Some(&Value::Bool(true)),
        error: None,
        enum_values,
    }
}

/// The settings the form posted: `current` (every stored setting, secrets
/// included) with each property of the form replaced by what was typed —
/// a text left empty removes the property, a secret left empty keeps its
/// value. The fields are updated to show what was typed again (never a
/// secret), with the errors of the values that do not read.
pub(super) fn read(
    fields: &mut [SettingField],
    posted: &Posted,
    current: &Map<String, Value>,
) -> (Map<String, Value>, Vec<ErrorView>) {
    let mut settings = current.clone();
    let mut errors = Vec::new();
    for field in fields.iter_mut() {
        let typed = posted.text(&field.name);
        let value = match field.kind {
            Kind::Secret => {
                let raw = posted.raw(&field.name);
                if raw.is_empty() {
                    continue;
                }
                Some(Value::String(raw))
            }
            Kind::Boolean => {
                field.checked = posted.has(&field.name);
                Some(Value::Bool(field.checked))
            }
            Kind::Text => Some(Value::String(typed.clone())).filter(|_| !typed.is_empty()),
            Kind::Choice => field
                .choices
                .iter()
                .position(|choice| *choice == typed)
                .map(|index| field.enum_values[index].clone()),
            Kind::Integer => match typed.as_str() {
                "" => None,
                text => match text.replace([' ', '\u{a0}'], "").parse::<i64>() {
                    Ok(number) => Some(Value::from(number)),
                    Err(_) => {
                        field.error = Some("Saisissez un nombre entier, sans virgule.".to_owned());
                        None
                    }
                },
            },
            Kind::Number => match typed.as_str() {
                "" => None,
                text => match text
                    .replace([' ', '\u{a0}'], "")
                    .replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    Some(number) => Some(Value::Number(number)),
                    None => {
                        field.error = Some("Saisissez un nombre, par exemple 12,5.".to_owned());
                        None
                    }
                },
            },
            Kind::Json => match typed.as_str() {
                "" => None,
                text => match serde_json::from_str::<Value>(text) {
                    Ok(value) => Some(value),
                    Err(_) => {
                        field.error = Some(
                            "Ce texte n'est pas du JSON valide : vérifiez les guillemets, virgules et accolades."
                                .to_owned(),
                        );
                        None
                    }
                },
            },
        };
        if field.kind != Kind::Secret && field.kind != Kind::Boolean {
            field.value = typed;
        }
        if let Some(message) = &field.error {
            errors.push(error_on(field, message.clone()));
        }
        match value {
            Some(value) => settings.insert(field.name.clone(), value),
            None => settings.remove(&field.name),
        };
    }
    (settings, errors)
}

/// An error beside `field`.
fn error_on(field: &SettingField, message: String) -> ErrorView {
    ErrorView {
        field: field.name.clone(),
        anchor: field.id.clone(),
        message,
        label: Some(field.label.clone()),
    }
}

/// The schema's problems with the settings posted, each beside its field
/// (a missing property beside the required field left empty) or, when it
/// is about no one field, about the form.
pub(super) fn problems(
    fields: &mut [SettingField],
    found: &[SettingProblem],
    settings: &Map<String, Value>,
) -> Vec<ErrorView> {
    let mut errors = Vec::new();
    for problem in found {
        let property = problem
            .pointer
            .split('/')
            .find(|segment| !segment.is_empty());
        let target = match (property, problem.kind) {
            (Some(name), _) => fields.iter_mut().find(|f| f.name == name),
            (None, ProblemKind::Missing) => fields
                .iter_mut()
                .find(|f| f.required && !settings.contains_key(&f.name) && f.error.is_none()),
            (None, _) => None,
        };
        match target {
            Some(field) => {
                let message = if problem.kind == ProblemKind::Missing {
                    "Ce champ est obligatoire.".to_owned()
                } else {
                    format!("{}.", sentence(&problem.message))
                };
                if field.error.is_none() {
                    field.error = Some(message.clone());
                    errors.push(error_on(field, message));
                }
            }
            None => errors.push(ErrorView {
                field: FORM_ANCHOR.to_owned(),
                anchor: FORM_ANCHOR.to_owned(),
                message: format!("{}.", sentence(&problem.message)),
                label: None,
            }),
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Kind, fields};

    #[test]
    fn each_property_gets_the_input_of_its_type_and_secrets_show_nothing() {
        let schema = json!({
            "type": "object",
            "required": ["url", "key"],
            "properties": {
                "url": { "type": "string", "format": "uri", "title": "Adresse" },
                "key": { "type": "string", "x-secret": true },
                "count": { "type": "integer", "description": "Combien" },
                "on": { "type": "boolean" },
                "mode": { "enum": ["a", "b"] },
                "map": { "type": "object" },
                "token": { "type": "string", "writeOnly": true }
            }
        });
        let settings =
            json!({ "url": "https://x.test", "key": "********", "on": true, "count": 3 });

        let found = fields(&schema, settings.as_object().expect("an object"));

        let kinds: Vec<(&str, Kind)> = found.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("url", Kind::Text),
                ("key", Kind::Secret),
                ("count", Kind::Integer),
                ("map", Kind::Json),
                ("mode", Kind::Choice),
                ("on", Kind::Boolean),
                ("token", Kind::Secret),
            ]
        );
        assert_eq!(found[0].input_type, "url");
        assert_eq!(found[0].label, "Adresse");
        assert_eq!(found[1].value, "");
        let kept = |i: usize| found[i].hints.iter().any(|h| h.contains("Laissez vide"));
        assert!(kept(1), "a secret set is kept when left empty");
        assert!(!kept(6), "no secret set, nothing to keep");
        assert_eq!(found[2].value, "3");
        assert!(found[5].checked);
        assert_eq!(found[4].choices, ["a", "b"]);
    }
}
