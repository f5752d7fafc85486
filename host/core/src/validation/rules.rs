//! The rules of each field kind, applied to one typed value.

use super::{Context, ErrorCode, FieldError};
use crate::field::{
    Choice, DEFAULT_FILE_MAX_SIZE_MB, DEFAULT_LONG_TEXT_MAX_LENGTH, DEFAULT_TEXT_MAX_LENGTH, Field,
    FieldKind, TextFormat,
};
use crate::file::{FileRef, MediaType};
use crate::format::{
    MAX_YEAR, MIN_YEAR, is_postcode, normalise_phone, plausible_date, valid_email, valid_iban,
};
use crate::profile::ProfileField;
use crate::text::clean;
use crate::value::{Address, Value, french_number};

/// The error of a required field left empty.
pub(crate) fn required(field: &Field) -> FieldError {
    let message = match field.kind {
        FieldKind::Checkbox {} => "Cochez cette case pour continuer.",
        FieldKind::File { .. } => "Joignez ce document.",
        FieldKind::Choice { .. } | FieldKind::MultipleChoice { .. } => "Choisissez une réponse.",
        _ => "Ce champ est obligatoire.",
    };
    FieldError::new(field.id.as_str(), ErrorCode::Requis, message)
}

/// Checks a value against its field. `Ok(None)` means "no answer" (blank
/// text, unticked box, empty list); `Ok(Some(v))` is the cleaned value.
pub(crate) fn check_value(
    field: &Field,
    value: &Value,
    context: &Context<'_>,
) -> Result<Option<Value>, FieldError> {
    let id = field.id.as_str();
    let error = |code: ErrorCode, message: String| Err(FieldError::new(id, code, message));
    let wrong_type = || {
        Err(FieldError::new(
            id,
            ErrorCode::TypeInvalide,
            format!(
                "Cette réponse ne convient pas à un champ de type {}.",
                field.kind.name()
            ),
        ))
    };
    if value.is_empty() {
        return match (&field.kind, value) {
            (FieldKind::Checkbox {}, Value::Checkbox(_)) => Ok(None),
            (_, Value::Checkbox(_)) => wrong_type(),
            _ => Ok(None),
        };
    }
    match (&field.kind, value) {
        (FieldKind::Text { max_length, format }, Value::Text(text)) => {
            let text = clean(text);
            let text = text.as_str();
            too_long(field, text, max_length.unwrap_or(DEFAULT_TEXT_MAX_LENGTH))?;
            match format {
                None => Ok(Some(Value::Text(text.to_owned()))),
                Some(TextFormat::Iban) => match valid_iban(text) {
                    Some(iban) => Ok(Some(Value::Text(iban))),
                    None => error(
                        ErrorCode::FormatIban,
                        "Saisissez un IBAN valide, de la longueur et au format de son pays, \
                         par exemple FR76 3000 6000 0112 3456 7890 189."
                            .into(),
                    ),
                },
                Some(TextFormat::Postcode) if is_postcode(text) => {
                    Ok(Some(Value::Text(text.to_owned())))
                }
                Some(TextFormat::Postcode) => error(
                    ErrorCode::FormatCodePostal,
                    "Saisissez un code postal à 5 chiffres.".into(),
                ),
            }
        }
        (FieldKind::LongText { max_length }, Value::Text(text)) => {
            let text = clean(text);
            let text = text.as_str();
            too_long(
                field,
                text,
                max_length.unwrap_or(DEFAULT_LONG_TEXT_MAX_LENGTH),
            )?;
            Ok(Some(Value::Text(text.to_owned())))
        }
        (FieldKind::Email {}, Value::Text(text)) => {
            let text = clean(text);
            let text = text.as_str();
            if valid_email(text) {
                Ok(Some(Value::Text(text.to_owned())))
            } else {
                error(
                    ErrorCode::FormatEmail,
                    "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.".into(),
                )
            }
        }
        (FieldKind::Phone {}, Value::Text(text)) => match normalise_phone(text) {
            Some(phone) => Ok(Some(Value::Text(phone))),
            None => error(
                ErrorCode::FormatTelephone,
                "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78 \
                 ou +262 692 12 34 56."
                    .into(),
            ),
        },
        (
            FieldKind::Number {
                min, max, integer, ..
            },
            Value::Number(n),
        ) => {
            let n = *n;
            if !n.is_finite() {
                return error(ErrorCode::NombreInvalide, "Saisissez un nombre.".into());
            }
            if *integer && n.fract() != 0.0 {
                return error(
                    ErrorCode::NombreEntierAttendu,
                    "Saisissez un nombre entier.".into(),
                );
            }
            if let Some(min) = min.filter(|min| n < *min) {
                return error(
                    ErrorCode::NombreTropPetit,
                    format!(
                        "Saisissez un nombre supérieur ou égal à {}.",
                        french_number(min)
                    ),
                );
            }
            if let Some(max) = max.filter(|max| n > *max) {
                return error(
                    ErrorCode::NombreTropGrand,
                    format!(
                        "Saisissez un nombre inférieur ou égal à {}.",
                        french_number(max)
                    ),
                );
            }
            Ok(Some(Value::Number(n)))
        }
        (FieldKind::Date { min, max }, Value::Date(date)) => {
            if !plausible_date(*date) {
                return error(
                    ErrorCode::FormatDate,
                    format!(
                        "Saisissez une date entre {MIN_YEAR} et {MAX_YEAR}, au format JJ/MM/AAAA."
                    ),
                );
            }
            // A birth date is never in the future, whatever the definition says.
            let birth_date = field.prefill == Some(ProfileField::BirthDate);
            let max = max
                .map(|b| b.resolve(context.today))
                .into_iter()
                .chain(birth_date.then_some(context.today))
                .min();
            if let Some(min) = min
                .map(|b| b.resolve(context.today))
                .filter(|min| date < min)
            {
                return error(
                    ErrorCode::DateTropTot,
                    format!("Saisissez une date à partir du {}.", min.format("%d/%m/%Y")),
                );
            }
            if let Some(max) = max.filter(|max| date > max) {
                return error(
                    ErrorCode::DateTropTard,
                    format!("Saisissez une date jusqu'au {}.", max.format("%d/%m/%Y")),
                );
            }
            Ok(Some(Value::Date(*date)))
        }
        (FieldKind::Choice { .. }, Value::Choice(chosen)) => {
            let options = options(field, context)?;
            let chosen = clean(chosen);
            known_choice(field, options, &chosen)?;
            Ok(Some(Value::Choice(chosen)))
        }
        (
            FieldKind::MultipleChoice {
                min_choices,
                max_choices,
                ..
            },
            Value::Choices(chosen),
        ) => {
            let options = options(field, context)?;
            let mut unique: Vec<String> = Vec::new();
            for value in chosen.iter().map(|v| clean(v)) {
                known_choice(field, options, &value)?;
                if !unique.contains(&value) {
                    unique.push(value);
                }
            }
            let count = u32::try_from(unique.len()).unwrap_or(u32::MAX);
            if let Some(min) = min_choices.filter(|min| count < *min) {
                return error(
                    ErrorCode::ChoixTropPeu,
                    format!("Choisissez au moins {min} réponses."),
                );
            }
            if let Some(max) = max_choices.filter(|max| count > *max) {
                return error(
                    ErrorCode::ChoixTropNombreux,
                    format!("Choisissez au plus {max} réponses."),
                );
            }
            Ok(Some(Value::Choices(unique)))
        }
        (FieldKind::Checkbox {}, Value::Checkbox(ticked)) => Ok(Some(Value::Checkbox(*ticked))),
        (FieldKind::File { max_files, .. }, Value::Files(files)) => {
            let max = max_files.unwrap_or(1);
            if files.len() > max as usize {
                return error(
                    ErrorCode::FichiersTropNombreux,
                    format!("Joignez au plus {max} fichier(s)."),
                );
            }
            for file in files {
                check_file(field, Some(file.media_type), file.size)?;
            }
            Ok(Some(Value::Files(
                files.iter().map(clean_file_ref).collect(),
            )))
        }
        (
            FieldKind::Address {
                require_coordinates,
            },
            Value::Address(address),
        ) => check_address(field, address, *require_coordinates).map(|a| Some(Value::Address(a))),
        _ => wrong_type(),
    }
}

fn clean_file_ref(file: &FileRef) -> FileRef {
    FileRef {
        name: crate::file::display_name(&file.name, file.media_type),
        ..file.clone()
    }
}

fn too_long(field: &Field, text: &str, max: u32) -> Result<(), FieldError> {
    if text.chars().count() > max as usize {
        Err(FieldError::new(
            field.id.as_str(),
            ErrorCode::TexteTropLong,
            format!("Saisissez au plus {max} caractères."),
        ))
    } else {
        Ok(())
    }
}

fn options<'c>(field: &'c Field, context: &'c Context<'_>) -> Result<&'c [Choice], FieldError> {
    match field.kind.choice_list() {
        Some((_, Some(_source))) => context
            .options
            .get(&field.id)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                FieldError::new(
                    field.id.as_str(),
                    ErrorCode::SourceIndisponible,
                    "La liste de choix est momentanément indisponible. Réessayez plus tard.",
                )
            }),
        Some((choices, None)) => Ok(choices),
        None => Ok(&[]),
    }
}

fn known_choice(field: &Field, options: &[Choice], value: &str) -> Result<(), FieldError> {
    if options.iter().any(|choice| choice.value == value) {
        Ok(())
    } else {
        Err(FieldError::new(
            field.id.as_str(),
            ErrorCode::ChoixInconnu,
            "Choisissez une réponse dans la liste proposée.",
        ))
    }
}

/// Checks a file's sniffed type and size against a file field.
pub(crate) fn check_file(
    field: &Field,
    media_type: Option<MediaType>,
    size: u64,
) -> Result<MediaType, FieldError> {
    let id = field.id.as_str();
    let FieldKind::File {
        accept,
        max_size_mb,
        ..
    } = &field.kind
    else {
        return Err(FieldError::new(
            id,
            ErrorCode::TypeInvalide,
            "Ce champ ne reçoit pas de fichier.",
        ));
    };
    let accepted = accept.as_deref().unwrap_or(&MediaType::ALL);
    let media_type = media_type.filter(|t| accepted.contains(t)).ok_or_else(|| {
        let names: Vec<&str> = accepted.iter().map(|t| t.label()).collect();
        FieldError::new(
            id,
            ErrorCode::TypeFichier,
            format!("Joignez un fichier au format {}.", names.join(", ")),
        )
    })?;
    let max_mb = max_size_mb.unwrap_or(DEFAULT_FILE_MAX_SIZE_MB);
    if size > u64::from(max_mb) * 1024 * 1024 {
        return Err(FieldError::new(
            id,
            ErrorCode::FichierTropGros,
            format!("Joignez un fichier de {max_mb} Mo au plus."),
        ));
    }
    Ok(media_type)
}

fn check_address(
    field: &Field,
    address: &Address,
    require_coordinates: bool,
) -> Result<Address, FieldError> {
    let id = field.id.as_str();
    let trim = |s: &str| clean(s);
    let clean = Address {
        street: trim(&address.street),
        complement: address
            .complement
            .as_deref()
            .map(trim)
            .filter(|c| !c.is_empty()),
        postcode: trim(&address.postcode),
        city: trim(&address.city),
        label: address.label.as_deref().map(trim).filter(|l| !l.is_empty()),
        latitude: address.latitude,
        longitude: address.longitude,
    };
    if clean.street.is_empty() || clean.city.is_empty() || clean.postcode.is_empty() {
        return Err(FieldError::new(
            id,
            ErrorCode::AdresseIncomplete,
            "Indiquez la rue, le code postal et la ville.",
        ));
    }
    if !is_postcode(&clean.postcode) {
        return Err(FieldError::new(
            id,
            ErrorCode::FormatCodePostal,
            "Saisissez un code postal à 5 chiffres.",
        ));
    }
    match (clean.latitude, clean.longitude) {
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Ok(clean)
        }
        (None, None) if !require_coordinates => Ok(clean),
        (None, None) => Err(FieldError::new(
            id,
            ErrorCode::CoordonneesRequises,
            "Placez le lieu sur la carte.",
        )),
        _ => Err(FieldError::new(
            id,
            ErrorCode::CoordonneesInvalides,
            "La position indiquée sur la carte n'est pas valide.",
        )),
    }
}
