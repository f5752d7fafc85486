//! The rules of each field kind, applied to one typed value.

use super::{Context, ErrorCode, FieldError};
use crate::field::{
    Choice, DEFAULT_FILE_MAX_SIZE_MB, DEFAULT_LONG_TEXT_MAX_LENGTH, DEFAULT_TEXT_MAX_LENGTH, Field,
    FieldKind, TextFormat,
};
use crate::file::{FileRef, MediaType};
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
            let text = text.trim();
            too_long(field, text, max_length.unwrap_or(DEFAULT_TEXT_MAX_LENGTH))?;
            match format {
                None => Ok(Some(Value::Text(text.to_owned()))),
                Some(TextFormat::Iban) => match valid_iban(text) {
                    Some(iban) => Ok(Some(Value::Text(iban))),
                    None => error(
                        ErrorCode::FormatIban,
                        "Saisissez un IBAN valide, par exemple FR76 3000 6000 0112 3456 7890 189."
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
            let text = text.trim();
            too_long(
                field,
                text,
                max_length.unwrap_or(DEFAULT_LONG_TEXT_MAX_LENGTH),
            )?;
            Ok(Some(Value::Text(text.to_owned())))
        }
        (FieldKind::Email {}, Value::Text(text)) => {
            let text = text.trim();
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
                "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78.".into(),
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
            if let Some(min) = min
                .map(|b| b.resolve(context.today))
                .filter(|min| date < min)
            {
                return error(
                    ErrorCode::DateTropTot,
                    format!("Saisissez une date à partir du {}.", min.format("%d/%m/%Y")),
                );
            }
            if let Some(max) = max
                .map(|b| b.resolve(context.today))
                .filter(|max| date > max)
            {
                return error(
                    ErrorCode::DateTropTard,
                    format!("Saisissez une date jusqu'au {}.", max.format("%d/%m/%Y")),
                );
            }
            Ok(Some(Value::Date(*date)))
        }
        (FieldKind::Choice { .. }, Value::Choice(chosen)) => {
            let options = options(field, context)?;
            known_choice(field, options, chosen)?;
            Ok(Some(Value::Choice(chosen.clone())))
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
            for value in chosen {
                known_choice(field, options, value)?;
                if !unique.contains(value) {
                    unique.push(value.clone());
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
    let trim = |s: &str| s.trim().to_owned();
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

fn is_postcode(text: &str) -> bool {
    text.len() == 5 && text.chars().all(|c| c.is_ascii_digit())
}

/// Whether a text is a plausible e-mail address: one `@`, a non-empty local
/// part, a domain with a dot and no empty label, no spaces, at most 254
/// characters.
pub fn valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Normalises a French phone number to `06 12 34 56 78`; `None` if it is
/// not one. Accepts spaces, dots and dashes, and the `+33` / `0033` prefixes.
pub fn normalise_phone(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}'))
        .collect();
    let national = if let Some(rest) = compact
        .strip_prefix("+33")
        .or_else(|| compact.strip_prefix("0033"))
    {
        let rest = rest.strip_prefix("(0)").unwrap_or(rest);
        format!("0{rest}")
    } else {
        compact
    };
    let digits = national.as_bytes();
    let valid = digits.len() == 10
        && digits[0] == b'0'
        && (b'1'..=b'9').contains(&digits[1])
        && digits.iter().all(u8::is_ascii_digit);
    valid.then(|| {
        digits
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Checks an IBAN with its ISO 13616 key (mod 97) and returns it in groups
/// of four (`FR76 3000 6000 0112 3456 7890 189`); `None` if invalid.
pub fn valid_iban(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(15..=34).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (head, tail) = compact.split_at(4);
    if !head[..2].chars().all(|c| c.is_ascii_alphabetic())
        || !head[2..].chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut remainder: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = c.to_digit(36)?;
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    (remainder == 1).then(|| {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_phone_numbers_are_normalised() {
        let cases = [
            ("06 12 34 56 78", Some("06 12 34 56 78")),
            ("0612345678", Some("06 12 34 56 78")),
            ("+33 6 12 34 56 78", Some("06 12 34 56 78")),
            ("+33 (0)4 91 55 11 11", Some("04 91 55 11 11")),
            ("0033491551111", Some("04 91 55 11 11")),
            ("04.91.55.11.11", Some("04 91 55 11 11")),
            ("00 12 34 56 78", None),
            ("061234567", None),
            ("+44 20 7946 0958", None),
            ("06 12 34 56 7a", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_phone(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for good in ["camille.martin@exemple.fr", "a+b@mairie-ville.gouv.fr"] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "",
            "camille",
            "@exemple.fr",
            "camille@",
            "camille@exemple",
            "cam ille@exemple.fr",
            "a@b@c.fr",
            "a@exemple..fr",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn ibans_are_checked_with_their_key() {
        assert_eq!(
            valid_iban("fr76 3000 6000 0112 3456 7890 189").as_deref(),
            Some("FR76 3000 6000 0112 3456 7890 189")
        );
        assert_eq!(
            valid_iban("FR7630006000011234567890189").as_deref(),
            Some("FR76 3000 6000 0112 3456 7890 189")
        );
        assert_eq!(valid_iban("FR76 3000 6000 0112 3456 7890 188"), None);
        assert_eq!(valid_iban("FR76"), None);
        assert_eq!(valid_iban("1234 5678 9012 3456"), None);
    }
}
