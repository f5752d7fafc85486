//! The inputs of a form page: the answers as typed (`Typed`), reading a
//! posted page (its CSRF part, fields and files), turning it into the
//! plain JSON answers the service reads, and each field's view.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use guichet_core::demarche::{Definition, Page};
use guichet_core::field::{Choice, Field, FieldKind};
use guichet_core::file::FileRef;
use guichet_core::id::FieldId;
use guichet_core::validation::{ErrorCode, FieldError, read_answers};
use guichet_core::value::{Answers, Value, french_number};
use serde_json::{Map, Value as Json, json};

use super::input_id;
use crate::web::Errors;
use crate::web::session::{Csrf, Posted, Refusal};

/// A field's answer as the page shows it in its inputs.
#[derive(Debug, Clone, Default)]
pub(super) struct Typed {
    /// The text of a one-value input (a date as `JJ/MM/AAAA`, a number
    /// with a decimal comma).
    pub(super) text: String,
    /// The values of a multiple choice.
    pub(super) values: Vec<String>,
    /// A ticked box.
    pub(super) ticked: bool,
    /// An address's parts: street, complement, postcode, city, latitude,
    /// longitude.
    pub(super) address: [String; 6],
    /// The files attached.
    pub(super) files: Vec<FileRef>,
}

/// The names of an address's inputs after the field id.
pub(super) const ADDRESS_PARTS: [&str; 6] = [
    "street",
    "complement",
    "postcode",
    "city",
    "latitude",
    "longitude",
];

impl Typed {
    /// A stored answer, as shown.
    pub(super) fn of(value: &Value) -> Typed {
        let mut typed = Typed::default();
        match value {
            Value::Text(text) | Value::Choice(text) => typed.text = text.clone(),
            Value::Number(n) => typed.text = french_number(*n),
            Value::Date(date) => typed.text = date.format("%d/%m/%Y").to_string(),
            Value::Choices(values) => typed.values = values.clone(),
            Value::Checkbox(ticked) => typed.ticked = *ticked,
            Value::Files(files) => typed.files = files.clone(),
            Value::Address(a) => {
                typed.address = [
                    a.street.clone(),
                    a.complement.clone().unwrap_or_default(),
                    a.postcode.clone(),
                    a.city.clone(),
                    a.latitude.map(|v| v.to_string()).unwrap_or_default(),
                    a.longitude.map(|v| v.to_string()).unwrap_or_default(),
                ];
            }
        }
        typed
    }
}

/// A page as posted: the typed answers of its fields, the files sent with
/// it, the button pressed.
#[derive(Debug, Default)]
pub(super) struct PostedPage {
    pub(super) typed: BTreeMap<FieldId, Typed>,
    pub(super) uploads: Vec<(FieldId, String, axum::body::Bytes)>,
    /// Files the usager asked to remove.
    pub(super) removed: BTreeSet<String>,
    pub(super) action: String,
}

/// Reads a posted page: the CSRF part, the page's fields, the files.
///
/// # Errors
/// The refusal of the form; or an unreadable body (answered 400).
pub(super) async fn read_page(
    csrf: &Csrf,
    page: &Page,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<PostedPage, Result<Refusal, String>> {
    let mut multipart = multipart.map_err(|e| Err(e.body_text()))?;
    let mut pairs = Vec::new();
    let mut uploads = Vec::new();
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| Err(e.body_text()))?
    {
        let name = part.name().unwrap_or_default().to_owned();
        match part.file_name().map(str::to_owned) {
            Some(file_name) => {
                let content = part.bytes().await.map_err(|e| Err(e.body_text()))?;
                if !file_name.is_empty() || !content.is_empty() {
                    uploads.push((name, file_name, content));
                }
            }
            None => {
                let text = part.text().await.map_err(|e| Err(e.body_text()))?;
                pairs.push((name, text));
            }
        }
    }
    let posted = Posted::read(csrf, pairs).map_err(Ok)?;
    let mut read = PostedPage {
        action: posted.text("action"),
        removed: posted.all("retirer").into_iter().collect(),
        ..PostedPage::default()
    };
    if let Some(file) = read.action.strip_prefix("retirer:") {
        read.removed.insert(file.to_owned());
    }
    for field in page
        .fields
        .iter()
        .filter(|f| f.has_value() && !f.agent_only)
    {
        let name = field.id.as_str();
        let mut typed = Typed::default();
        match field.kind {
            FieldKind::MultipleChoice { .. } => typed.values = posted.all(name),
            FieldKind::Checkbox {} => typed.ticked = posted.has(name),
            FieldKind::Address { .. } => {
                for (slot, part) in typed.address.iter_mut().zip(ADDRESS_PARTS) {
                    *slot = posted.text(&format!("{name}.{part}"));
                }
            }
            FieldKind::File { .. } => {}
            _ => typed.text = posted.text(name),
        }
        read.typed.insert(field.id.clone(), typed);
    }
    for (name, file_name, content) in uploads {
        if let Some(field) = page
            .fields
            .iter()
            .find(|f| f.id.as_str() == name && matches!(f.kind, FieldKind::File { .. }))
        {
            read.uploads.push((field.id.clone(), file_name, content));
        }
    }
    Ok(read)
}

/// The plain JSON answers (`read_answers`) of typed answers.
pub(super) fn answers_json(page: &Page, typed: &BTreeMap<FieldId, Typed>) -> Json {
    let mut object = Map::new();
    for field in &page.fields {
        let Some(typed) = typed.get(&field.id) else {
            continue;
        };
        let value = match field.kind {
            FieldKind::MultipleChoice { .. } => json!(typed.values),
            FieldKind::Checkbox {} => json!(typed.ticked),
            FieldKind::Address { .. } => {
                let [street, complement, postcode, city, latitude, longitude] = &typed.address;
                if typed.address.iter().all(String::is_empty) {
                    Json::Null
                } else {
                    let coordinate = |text: &str| {
                        text.replace(',', ".")
                            .parse::<f64>()
                            .ok()
                            .map_or(Json::Null, |v| json!(v))
                    };
                    json!({
                        "street": street,
                        "complement": (!complement.is_empty()).then_some(complement),
                        "postcode": postcode,
                        "city": city,
                        "latitude": coordinate(latitude),
                        "longitude": coordinate(longitude),
                    })
                }
            }
            FieldKind::File { .. } => json!(typed.files),
            _ if typed.text.is_empty() => Json::Null,
            _ => json!(typed.text),
        };
        object.insert(field.id.as_str().to_owned(), value);
    }
    Json::Object(object)
}

/// The answers typed that can be read, each field alone (a field typed
/// wrong counts as unanswered): what conditions are decided on while the
/// page is not saved.
pub(super) fn readable_answers(definition: &Definition, json: &Json) -> Answers {
    let mut answers = Answers::new();
    if let Json::Object(object) = json {
        for (id, value) in object {
            let one = Json::Object(Map::from_iter([(id.clone(), value.clone())]));
            if let Ok(read) = read_answers(definition, &one) {
                for (id, value) in read.iter() {
                    answers.insert(id.clone(), value.clone());
                }
            }
        }
    }
    answers
}

/// One choice as shown.
pub(super) struct ChoiceView {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

/// One field as shown.
pub(super) struct FieldView {
    /// The field's id: the input's name.
    pub(super) name: String,
    /// The input's id.
    pub(super) input: String,
    /// `text`, `long_text`, `email`, `phone`, `number`, `date`, `radios`,
    /// `select`, `checkboxes`, `checkbox`, `file`, `address`, `title`,
    /// `comment`.
    pub(super) kind: &'static str,
    pub(super) label: String,
    pub(super) help: Option<String>,
    pub(super) required: bool,
    /// Hidden by its condition for the answers shown.
    pub(super) hidden: bool,
    pub(super) error: Option<String>,
    pub(super) typed: Typed,
    pub(super) choices: Vec<ChoiceView>,
    /// Why a data source gives no choices now; whether linking the
    /// account would give them.
    pub(super) unavailable: Option<(String, bool)>,
    /// The unit after a number, `accept` of a file input, the text of a
    /// comment block.
    pub(super) extra: String,
    /// Several files, or coordinates required.
    pub(super) many: bool,
    /// The `autocomplete` token of the input, from its prefill.
    pub(super) autocomplete: &'static str,
}

impl FieldView {
    /// The ids the input's `aria-describedby` names.
    pub(super) fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-aide", self.input));
        }
        if self.error.is_some() {
            ids.push(format!("{}-erreur", self.input));
        }
        ids.join(" ")
    }
}

pub(super) fn autocomplete(field: &Field) -> &'static str {
    use guichet_core::profile::ProfileField;
    match field.prefill {
        Some(ProfileField::FirstName) => "given-name",
        Some(ProfileField::LastName) => "family-name",
        Some(ProfileField::Email) => "email",
        Some(ProfileField::Phone) => "tel",
        Some(ProfileField::BirthDate) => "bday",
        Some(ProfileField::Address) | None => "",
    }
}

/// The views of a page's fields.
pub(super) fn field_views(
    page: &Page,
    typed: &BTreeMap<FieldId, Typed>,
    shown: &guichet_core::validation::Visibility,
    choices: &BTreeMap<FieldId, Vec<Choice>>,
    missing: &[FieldError],
    errors: &Errors,
) -> Vec<FieldView> {
    page.fields
        .iter()
        .filter(|f| !f.agent_only)
        .map(|field| {
            let typed = typed.get(&field.id).cloned().unwrap_or_default();
            let listed = |list: &[Choice], selected: &dyn Fn(&str) -> bool| {
                list.iter()
                    .map(|c| ChoiceView {
                        selected: selected(&c.value),
                        value: c.value.clone(),
                        label: c.label.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            let mut view = FieldView {
                name: field.id.as_str().to_owned(),
                input: input_id(&field.id),
                kind: field.kind.name(),
                label: field.label.clone(),
                help: field.help.clone(),
                required: field.required,
                hidden: !shown.shows(&field.id),
                error: errors.of(field.id.as_str()).map(str::to_owned),
                typed: Typed::default(),
                choices: Vec::new(),
                unavailable: None,
                extra: String::new(),
                many: false,
                autocomplete: autocomplete(field),
            };
            match &field.kind {
                FieldKind::Choice {
                    choices: list,
                    source,
                } => {
                    let list = if source.is_some() {
                        choices.get(&field.id).cloned().unwrap_or_default()
                    } else {
                        list.clone()
                    };
                    view.kind = if source.is_some() || list.len() > 6 {
                        "select"
                    } else {
                        "radios"
                    };
                    view.choices = listed(&list, &|v| v == typed.text);
                }
                FieldKind::MultipleChoice {
                    choices: list,
                    source,
                    ..
                } => {
                    let list = if source.is_some() {
                        choices.get(&field.id).cloned().unwrap_or_default()
                    } else {
                        list.clone()
                    };
                    view.kind = "checkboxes";
                    view.choices = listed(&list, &|v| typed.values.iter().any(|t| t == v));
                }
                FieldKind::Number { unit, .. } => view.extra = unit.clone().unwrap_or_default(),
                FieldKind::File {
                    accept, max_files, ..
                } => {
                    view.extra = accept
                        .as_ref()
                        .map(|types| types.iter().map(|t| t.mime()).collect::<Vec<_>>().join(","))
                        .unwrap_or_else(|| "application/pdf,image/jpeg,image/png".to_owned());
                    view.many = max_files.unwrap_or(1) > 1;
                }
                FieldKind::Address {
                    require_coordinates,
                } => view.many = *require_coordinates,
                FieldKind::Comment { text } => view.extra = text.clone(),
                _ => {}
            }
            if let Some(problem) = missing.iter().find(|p| p.field == field.id.as_str()) {
                view.unavailable = Some((
                    problem.message.clone(),
                    problem.code == ErrorCode::RattachementRequis,
                ));
            }
            view.typed = typed;
            view
        })
        .collect()
}
