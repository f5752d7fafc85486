//! Validation of answers: per page while filling, and whole at submission.
//!
//! Errors are [`FieldError`]s: the field, a stable snake_case code (for
//! programs and tests) and a French message (for the usager), e.g.
//! `{ field: "courriel", code: "format_email", message: "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr." }`.
//!
//! Rules:
//! - an id that is not a field of the form is refused (`champ_inconnu`);
//! - a field hidden by its condition (or its page's) is not required and its
//!   value is dropped from the cleaned answers;
//! - *cadre réservé à l'administration* fields are refused when an usager
//!   sends them (`champ_reserve_administration`) and never required at
//!   submission; agents fill them later ([`validate_agent_fields`]);
//! - a choice outside the list is refused (`choix_inconnu`); options of a
//!   data source are resolved by the caller and passed in [`Context`];
//! - files are checked by content at upload ([`check_upload`]) and again by
//!   their recorded type and size at submission;
//! - at submission the RGPD box must be ticked (`consentement_requis`);
//! - a text with nothing visible (spaces, zero-width and other format
//!   characters) is no answer, and every accepted text is cleaned by
//!   [`crate::text::clean`] (NFC, invisible ends removed);
//! - phones are stored in E.164, IBANs in their electronic form, dates have
//!   a four-digit year from [`MIN_YEAR`] to [`MAX_YEAR`], and a date field
//!   prefilled from `profile.birth_date` is never after today (see the
//!   `format` module for the libraries used).
//!
//! Answers posted as plain JSON (`{"nom": "Dupont", "montant": 120.5}`) are
//! read with [`read_answers`].

mod input;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use crate::actor::ActorKind;
use crate::id::{FieldId, PageId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::demarche::{Definition, Page};
use crate::field::{Choice, Field};
use crate::file::{MediaType, sniff_media_type};
use crate::value::Answers;

pub use crate::format::{
    MAX_YEAR, MIN_YEAR, iban_display, is_postcode, normalise_phone, parse_date, phone_display,
    plausible_date, valid_email, valid_iban,
};
pub use input::read_answers;

/// The pseudo-field of the RGPD consent box in errors.
pub const CONSENT_FIELD: &str = "rgpd";

/// A stable error code of a field problem: the codes of form validation, and
/// those the API gives for the other fields it checks (passwords, groups,
/// definitions…), so that every field problem has its code in this one list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "FieldCode")]
pub enum ErrorCode {
    /// A required field is empty.
    Requis,
    /// The id is not a field of the form.
    ChampInconnu,
    /// An usager sent a field reserved to agents.
    ChampReserveAdministration,
    /// A value for a title or comment block.
    ChampSansSaisie,
    /// The page does not exist.
    PageInconnue,
    /// The value has the wrong type for the field.
    TypeInvalide,
    /// The text is too long.
    TexteTropLong,
    /// Not an e-mail address.
    FormatEmail,
    /// Not a French phone number.
    FormatTelephone,
    /// Not a valid IBAN.
    FormatIban,
    /// Not a five-digit postcode.
    FormatCodePostal,
    /// Not a finite number.
    NombreInvalide,
    /// A whole number was expected.
    NombreEntierAttendu,
    /// Below the minimum.
    NombreTropPetit,
    /// Above the maximum.
    NombreTropGrand,
    /// Not a date.
    FormatDate,
    /// Before the earliest date.
    DateTropTot,
    /// After the latest date.
    DateTropTard,
    /// A value outside the choice list.
    ChoixInconnu,
    /// Fewer choices than required.
    ChoixTropPeu,
    /// More choices than allowed.
    ChoixTropNombreux,
    /// The options of the data source could not be obtained.
    SourceIndisponible,
    /// The data source needs the usager's account linked to the vendor's
    /// application first (a family at Espace famille).
    RattachementRequis,
    /// A file whose content is not an accepted type.
    TypeFichier,
    /// A file above the size cap.
    FichierTropGros,
    /// More files than allowed.
    FichiersTropNombreux,
    /// Street, postcode or city missing.
    AdresseIncomplete,
    /// Coordinates out of range, or one without the other.
    CoordonneesInvalides,
    /// Coordinates required but missing.
    CoordonneesRequises,
    /// The RGPD box is not ticked.
    ConsentementRequis,
    /// A text holds a control character.
    CaractereInterdit,
    /// A problem in a démarche definition, at its path.
    DefinitionInvalide,
    /// Not a valid group name.
    NomDeGroupeInvalide,
    /// No such group.
    GroupeInconnu,
    /// A password under 12 characters.
    MotDePasseTropCourt,
    /// A password over 128 characters.
    MotDePasseTropLong,
    /// A password too easy to guess.
    MotDePasseTropFaible,
    /// A service the demande may not go to.
    ServiceInvalide,
    /// A value nobody asked for (a channel from an usager…).
    NonAttendu,
    /// No usager account with this identifier.
    UsagerInconnu,
    /// Not the usager the draft was opened for.
    UsagerDifferent,
    /// A file that is not one of the draft's.
    FichierInconnu,
    /// A field that is not on the page saved.
    ChampHorsPage,
}

impl ErrorCode {
    /// The code as text (`format_email`), as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Requis => "requis",
            ErrorCode::ChampInconnu => "champ_inconnu",
            ErrorCode::ChampReserveAdministration => "champ_reserve_administration",
            ErrorCode::ChampSansSaisie => "champ_sans_saisie",
            ErrorCode::PageInconnue => "page_inconnue",
            ErrorCode::TypeInvalide => "type_invalide",
            ErrorCode::TexteTropLong => "texte_trop_long",
            ErrorCode::FormatEmail => "format_email",
            ErrorCode::FormatTelephone => "format_telephone",
            ErrorCode::FormatIban => "format_iban",
            ErrorCode::FormatCodePostal => "format_code_postal",
            ErrorCode::NombreInvalide => "nombre_invalide",
            ErrorCode::NombreEntierAttendu => "nombre_entier_attendu",
            ErrorCode::NombreTropPetit => "nombre_trop_petit",
            ErrorCode::NombreTropGrand => "nombre_trop_grand",
            ErrorCode::FormatDate => "format_date",
            ErrorCode::DateTropTot => "date_trop_tot",
            ErrorCode::DateTropTard => "date_trop_tard",
            ErrorCode::ChoixInconnu => "choix_inconnu",
            ErrorCode::ChoixTropPeu => "choix_trop_peu",
            ErrorCode::ChoixTropNombreux => "choix_trop_nombreux",
            ErrorCode::SourceIndisponible => "source_indisponible",
            ErrorCode::RattachementRequis => "rattachement_requis",
            ErrorCode::TypeFichier => "type_fichier",
            ErrorCode::FichierTropGros => "fichier_trop_gros",
            ErrorCode::FichiersTropNombreux => "fichiers_trop_nombreux",
            ErrorCode::AdresseIncomplete => "adresse_incomplete",
            ErrorCode::CoordonneesInvalides => "coordonnees_invalides",
            ErrorCode::CoordonneesRequises => "coordonnees_requises",
            ErrorCode::ConsentementRequis => "consentement_requis",
            ErrorCode::CaractereInterdit => "caractere_interdit",
            ErrorCode::DefinitionInvalide => "definition_invalide",
            ErrorCode::NomDeGroupeInvalide => "nom_de_groupe_invalide",
            ErrorCode::GroupeInconnu => "groupe_inconnu",
            ErrorCode::MotDePasseTropCourt => "mot_de_passe_trop_court",
            ErrorCode::MotDePasseTropLong => "mot_de_passe_trop_long",
            ErrorCode::MotDePasseTropFaible => "mot_de_passe_trop_faible",
            ErrorCode::ServiceInvalide => "service_invalide",
            ErrorCode::NonAttendu => "non_attendu",
            ErrorCode::UsagerInconnu => "usager_inconnu",
            ErrorCode::UsagerDifferent => "usager_different",
            ErrorCode::FichierInconnu => "fichier_inconnu",
            ErrorCode::ChampHorsPage => "champ_hors_page",
        }
    }
}

/// One error on one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field (or page, or `rgpd` for the consent).
    pub field: String,
    /// Stable code.
    pub code: ErrorCode,
    /// French message for the usager.
    pub message: String,
}

impl FieldError {
    /// An error on `field` (a field id, or `rgpd`, `channel`, `usager`…).
    pub fn new(field: &str, code: ErrorCode, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

/// What validation needs besides the definition and the answers.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Who fills the form (an usager, or an agent for them or in the
    /// *cadre réservé*).
    pub filler: ActorKind,
    /// Today's date in the collectivité's time zone, for `today` bounds.
    pub today: NaiveDate,
    /// The options of data-source choice fields, resolved by the caller.
    pub options: &'a BTreeMap<FieldId, Vec<Choice>>,
}

/// Which pages and fields are shown for these answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visibility {
    /// Shown pages.
    pub pages: BTreeSet<PageId>,
    /// Shown fields (agent-only fields included; callers filter them for usagers).
    pub fields: BTreeSet<FieldId>,
}

impl Visibility {
    /// Whether a field is shown.
    pub fn shows(&self, field: &FieldId) -> bool {
        self.fields.contains(field)
    }
}

/// Decides which pages and fields are shown, in form order: a hidden field
/// counts as unanswered for the conditions after it.
pub fn visibility(definition: &Definition, answers: &Answers) -> Visibility {
    let mut shown = Visibility::default();
    let mut effective = Answers::new();
    for page in &definition.pages {
        let page_shown = page.condition.as_ref().is_none_or(|c| c.holds(&effective));
        if page_shown {
            shown.pages.insert(page.id.clone());
        }
        for field in &page.fields {
            if page_shown && field.condition.as_ref().is_none_or(|c| c.holds(&effective)) {
                shown.fields.insert(field.id.clone());
                if let Some(value) = answers.get(&field.id) {
                    effective.insert(field.id.clone(), value.clone());
                }
            }
        }
    }
    shown
}

/// Validates the answers of one page (the draft may hold other pages'
/// answers, which conditions read). Returns every error of the page, plus
/// unknown or forbidden ids anywhere in the draft.
pub fn validate_page(
    definition: &Definition,
    page: &PageId,
    answers: &Answers,
    context: &Context<'_>,
) -> Vec<FieldError> {
    let Some(page) = definition.page(page) else {
        return vec![FieldError::new(
            page.as_str(),
            ErrorCode::PageInconnue,
            "Cette page n'existe pas dans le formulaire.",
        )];
    };
    let mut errors = foreign_ids(definition, answers, context.filler);
    let shown = visibility(definition, answers);
    if shown.pages.contains(&page.id) {
        errors.extend(check_fields(page, answers, &shown, context).1);
    }
    errors
}

/// The answers as they are stored: each valid value in its cleaned form
/// (texts in NFC without invisible ends, phones in E.164, IBANs compact);
/// blank and invalid ones are kept as given (validation reports the
/// invalid ones). Draft pages are saved through this, so a draft holds what a
/// submission would file.
pub fn clean_answers(definition: &Definition, answers: &Answers, context: &Context<'_>) -> Answers {
    answers
        .iter()
        .map(|(id, value)| {
            let cleaned = definition
                .field(id)
                .and_then(|field| rules::check_value(field, value, context).ok().flatten());
            (id.clone(), cleaned.unwrap_or_else(|| value.clone()))
        })
        .collect()
}

/// Validates a whole submission and returns the cleaned answers: hidden
/// fields dropped, texts cleaned, phones and IBANs normalised.
///
/// # Errors
/// Every [`FieldError`] found, including `consentement_requis` when the
/// RGPD box is not ticked.
pub fn validate_submission(
    definition: &Definition,
    answers: &Answers,
    consent: bool,
    context: &Context<'_>,
) -> Result<Answers, Vec<FieldError>> {
    let mut errors = foreign_ids(definition, answers, context.filler);
    let shown = visibility(definition, answers);
    let mut cleaned = Answers::new();
    for page in definition
        .pages
        .iter()
        .filter(|p| shown.pages.contains(&p.id))
    {
        let (values, page_errors) = check_fields(page, answers, &shown, context);
        cleaned.merge(values);
        errors.extend(page_errors);
    }
    if !consent {
        errors.push(FieldError::new(
            CONSENT_FIELD,
            ErrorCode::ConsentementRequis,
            "Cochez la case de consentement pour que votre demande soit reçue.",
        ));
    }
    if errors.is_empty() {
        Ok(cleaned)
    } else {
        Err(errors)
    }
}

/// Validates the *cadre réservé à l'administration* filled by an agent on a
/// filed demande: only agent-only fields may be sent. Returns the cleaned
/// values to merge into the demande's answers.
///
/// # Errors
/// Every [`FieldError`]; a field that is not agent-only is `champ_inconnu`.
pub fn validate_agent_fields(
    definition: &Definition,
    current: &Answers,
    update: &Answers,
    context: &Context<'_>,
) -> Result<Answers, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut cleaned = Answers::new();
    let mut merged = current.clone();
    merged.merge(update.clone());
    let shown = visibility(definition, &merged);
    for (id, value) in update.iter() {
        match definition.field(id) {
            Some(field) if field.agent_only && field.has_value() => {
                // A hidden agent-only field keeps no value, as at submission.
                if !shown.shows(id) {
                    continue;
                }
                match rules::check_value(field, value, context) {
                    Ok(Some(value)) => {
                        cleaned.insert(id.clone(), value);
                    }
                    Ok(None) if field.required => errors.push(rules::required(field)),
                    Ok(None) => {}
                    Err(error) => errors.push(error),
                }
            }
            _ => errors.push(unknown(id)),
        }
    }
    if errors.is_empty() {
        Ok(cleaned)
    } else {
        Err(errors)
    }
}

/// Checks an uploaded file for a field: its content must be an accepted type
/// and its size under the cap. The declared name and type are ignored.
///
/// # Errors
/// `type_fichier` or `fichier_trop_gros`, or `type_invalide` if the field
/// takes no file.
pub fn check_upload(field: &Field, content: &[u8]) -> Result<MediaType, FieldError> {
    let media_type = sniff_media_type(content);
    rules::check_file(field, media_type, content.len() as u64)
}

/// The part of a multipart request that carries a file.
pub const FILE_PART: &str = "file";

/// Checks an attachment of a history entry (an exchange, a reply, a
/// comment): PDF, JPEG or PNG recognised by content, at most the default
/// cap of a file field ([`crate::field::DEFAULT_FILE_MAX_SIZE_MB`]).
///
/// # Errors
/// `type_fichier` or `fichier_trop_gros`, on the field [`FILE_PART`].
pub fn check_attachment(content: &[u8]) -> Result<MediaType, FieldError> {
    let Some(media_type) = sniff_media_type(content) else {
        return Err(FieldError::new(
            FILE_PART,
            ErrorCode::TypeFichier,
            "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG.",
        ));
    };
    let cap = u64::from(crate::field::DEFAULT_FILE_MAX_SIZE_MB) * 1024 * 1024;
    if content.len() as u64 > cap {
        return Err(FieldError::new(
            FILE_PART,
            ErrorCode::FichierTropGros,
            format!(
                "Ce fichier dépasse {} Mo.",
                crate::field::DEFAULT_FILE_MAX_SIZE_MB
            ),
        ));
    }
    Ok(media_type)
}

fn unknown(id: &FieldId) -> FieldError {
    FieldError::new(
        id.as_str(),
        ErrorCode::ChampInconnu,
        "Ce champ n'existe pas dans le formulaire.",
    )
}

/// Ids that are not fields, blocks with values, and agent-only fields sent by an usager.
fn foreign_ids(definition: &Definition, answers: &Answers, filler: ActorKind) -> Vec<FieldError> {
    answers
        .iter()
        .filter_map(|(id, _)| match definition.field(id) {
            None => Some(unknown(id)),
            Some(field) if !field.has_value() => Some(FieldError::new(
                id.as_str(),
                ErrorCode::ChampSansSaisie,
                "Ce bloc de texte ne reçoit pas de valeur.",
            )),
            Some(field) if field.agent_only && filler == ActorKind::Usager => {
                Some(FieldError::new(
                    id.as_str(),
                    ErrorCode::ChampReserveAdministration,
                    "Ce champ est réservé à l'administration.",
                ))
            }
            Some(_) => None,
        })
        .collect()
}

/// Checks the shown fields of a page; returns the cleaned values and errors.
fn check_fields(
    page: &Page,
    answers: &Answers,
    shown: &Visibility,
    context: &Context<'_>,
) -> (Answers, Vec<FieldError>) {
    let mut values = Answers::new();
    let mut errors = Vec::new();
    for field in page
        .fields
        .iter()
        .filter(|f| f.has_value() && shown.shows(&f.id))
    {
        if field.agent_only && context.filler == ActorKind::Usager {
            continue;
        }
        match answers
            .get(&field.id)
            .map(|value| rules::check_value(field, value, context))
        {
            Some(Ok(Some(value))) => {
                values.insert(field.id.clone(), value);
            }
            Some(Err(error)) => errors.push(error),
            Some(Ok(None)) | None => {
                // Agent-only fields are filled during processing, never required at submission.
                if field.required && !field.agent_only {
                    errors.push(rules::required(field));
                }
            }
        }
    }
    (values, errors)
}
