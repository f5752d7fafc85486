//! Phone numbers as the notifications see them: which French number can
//! receive an SMS.
//!
//! Parsing and normalising is [`format::normalise_phone`]'s (the
//! `phonenumber` crate, a port of Google's libphonenumber and its
//! metadata): metropolitan France, the départements d'outre-mer and the
//! collectivités with a numbering plan of their own, in national or
//! international form. This module adds what an SMS needs on top of it:
//! the kind of line (libphonenumber's number types) and the territory, so
//! that an usager without a mobile number gets mail only.
//!
//! Start with [`mobile_e164`], the one question of the SMS delivery: the
//! number to text, if any. [`Phone::parse`] tells more (territory, line).
//!
//! Numbers of other countries are refused ([`PhoneError::NotFrench`]):
//! Guichet stores French numbers only, and its SMS providers are paid per
//! French message.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

use crate::format::normalise_phone;
use crate::text::{clean, is_blank};

/// Why a text is not a number Guichet can use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Not a valid number of the French numbering plans (a digit missing,
    /// letters, an unassigned block…).
    #[error("numéro de téléphone invalide")]
    Invalid,
    /// A valid number of another country.
    #[error("numéro de téléphone étranger : seuls les numéros français sont acceptés")]
    NotFrench,
}

/// The territory whose numbering plan a number belongs to.
///
/// Guadeloupe, Saint-Barthélemy and Saint-Martin share `+590` and their
/// mobile blocks (`0690`, `0691`): libphonenumber files such mobiles under
/// Guadeloupe. Réunion and Mayotte share `+262` and are told apart by their
/// blocks (`0269`, `0639` are Mayotte's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Territory {
    /// France métropolitaine (+33).
    Metropole,
    /// Guadeloupe (+590).
    Guadeloupe,
    /// Martinique (+596).
    Martinique,
    /// Guyane (+594).
    Guyane,
    /// La Réunion (+262).
    Reunion,
    /// Mayotte (+262).
    Mayotte,
    /// Saint-Barthélemy (+590).
    SaintBarthelemy,
    /// Saint-Martin (+590).
    SaintMartin,
    /// Saint-Pierre-et-Miquelon (+508).
    SaintPierreEtMiquelon,
    /// Wallis-et-Futuna (+681).
    WallisEtFutuna,
    /// Polynésie française (+689).
    Polynesie,
    /// Nouvelle-Calédonie (+687).
    NouvelleCaledonie,
}

impl Territory {
    fn from_region(region: Id) -> Option<Self> {
        Some(match region {
            Id::FR => Self::Metropole,
            Id::GP => Self::Guadeloupe,
            Id::MQ => Self::Martinique,
            Id::GF => Self::Guyane,
            Id::RE => Self::Reunion,
            Id::YT => Self::Mayotte,
            Id::BL => Self::SaintBarthelemy,
            Id::MF => Self::SaintMartin,
            Id::PM => Self::SaintPierreEtMiquelon,
            Id::WF => Self::WallisEtFutuna,
            Id::PF => Self::Polynesie,
            Id::NC => Self::NouvelleCaledonie,
            _ => return None,
        })
    }
}

/// The kind of line a number is, by its numbering plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Line {
    /// A mobile phone (`06`, `07` in metropolitan France, `0692` in
    /// Réunion…).
    Mobile,
    /// A block the plan gives to fixed lines and mobiles alike (most of
    /// Saint-Pierre-et-Miquelon's, Wallis-et-Futuna's `72`): it may be a
    /// mobile.
    FixedLineOrMobile,
    /// A fixed line (`01` to `05`, `0262`…).
    FixedLine,
    /// Anything else: VoIP (`09`), freephone, shared cost, premium rate…
    Other,
}

/// A valid French phone number, in E.164, with its territory and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    e164: String,
    territory: Territory,
    line: Line,
}

impl Phone {
    /// Reads a number as people write it (`06 12 34 56 78`,
    /// `+262 692 12 34 56`, `0033…`, `87 12 34 56` in Polynésie) or as it is
    /// stored (E.164). See [`normalise_phone`] for the forms accepted.
    ///
    /// # Errors
    /// [`PhoneError::NotFrench`] for a valid number of another country,
    /// [`PhoneError::Invalid`] for anything else that is not a valid French
    /// number.
    ///
    /// ```
    /// use guichet_core::phone::{Line, Phone, Territory};
    ///
    /// let phone = Phone::parse("0639 01 23 45").unwrap();
    /// assert_eq!(phone.e164(), "+262639012345");
    /// assert_eq!(phone.territory(), Territory::Mayotte);
    /// assert_eq!(phone.line(), Line::Mobile);
    /// ```
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let Some(e164) = normalise_phone(input) else {
            return Err(if is_foreign(input) {
                PhoneError::NotFrench
            } else {
                PhoneError::Invalid
            });
        };
        let number = phonenumber::parse(None, &e164).map_err(|_| PhoneError::Invalid)?;
        let territory = number
            .country()
            .id()
            .and_then(Territory::from_region)
            .ok_or(PhoneError::Invalid)?;
        let line = match number.number_type(&DATABASE) {
            phonenumber::Type::Mobile => Line::Mobile,
            phonenumber::Type::FixedLineOrMobile => Line::FixedLineOrMobile,
            phonenumber::Type::FixedLine => Line::FixedLine,
            _ => Line::Other,
        };
        Ok(Self {
            e164,
            territory,
            line,
        })
    }

    /// The number in E.164, e.g. `+33612345678`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The territory whose plan the number belongs to.
    pub fn territory(&self) -> Territory {
        self.territory
    }

    /// The kind of line.
    pub fn line(&self) -> Line {
        self.line
    }

    /// Whether an SMS sent to it can reach a phone: a mobile, or a block
    /// whose numbers may be mobiles (libphonenumber cannot tell there, and
    /// refusing would leave a whole territory without SMS).
    pub fn receives_sms(&self) -> bool {
        matches!(self.line, Line::Mobile | Line::FixedLineOrMobile)
    }
}

/// The number to send an SMS to, in E.164: `Some` for a French mobile,
/// `None` when there is no number or it is not a mobile (the usager gets
/// mail only).
///
/// # Errors
/// As [`Phone::parse`], for a text that is neither blank nor a valid
/// French number: the caller sends mail only too, and may say why.
///
/// ```
/// use guichet_core::phone::{PhoneError, mobile_e164};
///
/// assert_eq!(mobile_e164("06 12 34 56 78"), Ok(Some("+33612345678".into())));
/// assert_eq!(mobile_e164("+262 692 12 34 56"), Ok(Some("+262692123456".into())));
/// assert_eq!(mobile_e164("01 42 68 53 00"), Ok(None)); // a landline
/// assert_eq!(mobile_e164(""), Ok(None));
/// assert_eq!(mobile_e164("06 12"), Err(PhoneError::Invalid));
/// ```
pub fn mobile_e164(input: &str) -> Result<Option<String>, PhoneError> {
    if is_blank(input) {
        return Ok(None);
    }
    let phone = Phone::parse(input)?;
    Ok(phone.receives_sms().then_some(phone.e164))
}

/// Whether `input` is a valid number of another country (written
/// internationally: a national form is read as French).
fn is_foreign(input: &str) -> bool {
    let digits: String = clean(input)
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let international = match digits.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => digits,
    };
    international.starts_with('+')
        && phonenumber::parse(None, &international).is_ok_and(|n| phonenumber::is_valid(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One fixed line and one mobile (or the closest there is) per
    /// territory, in the form people write them.
    const NUMBERS: [(&str, &str, Territory, Line); 26] = [
        (
            "01 42 68 53 00",
            "+33142685300",
            Territory::Metropole,
            Line::FixedLine,
        ),
        (
            "04 91 55 11 11",
            "+33491551111",
            Territory::Metropole,
            Line::FixedLine,
        ),
        (
            "06 12 34 56 78",
            "+33612345678",
            Territory::Metropole,
            Line::Mobile,
        ),
        (
            "+33 7 81 23 45 67",
            "+33781234567",
            Territory::Metropole,
            Line::Mobile,
        ),
        (
            "09 70 12 34 56",
            "+33970123456",
            Territory::Metropole,
            Line::Other,
        ),
        (
            "0590 20 12 34",
            "+590590201234",
            Territory::Guadeloupe,
            Line::FixedLine,
        ),
        (
            "0690 00 12 34",
            "+590690001234",
            Territory::Guadeloupe,
            Line::Mobile,
        ),
        (
            "0596 30 12 34",
            "+596596301234",
            Territory::Martinique,
            Line::FixedLine,
        ),
        (
            "+596 696 20 12 34",
            "+596696201234",
            Territory::Martinique,
            Line::Mobile,
        ),
        (
            "0594 10 12 34",
            "+594594101234",
            Territory::Guyane,
            Line::FixedLine,
        ),
        (
            "0694 20 12 34",
            "+594694201234",
            Territory::Guyane,
            Line::Mobile,
        ),
        (
            "0262 21 34 56",
            "+262262213456",
            Territory::Reunion,
            Line::FixedLine,
        ),
        (
            "0692 12 34 56",
            "+262692123456",
            Territory::Reunion,
            Line::Mobile,
        ),
        (
            "0269 61 12 34",
            "+262269611234",
            Territory::Mayotte,
            Line::FixedLine,
        ),
        (
            "0639 01 23 45",
            "+262639012345",
            Territory::Mayotte,
            Line::Mobile,
        ),
        (
            "0590 27 12 34",
            "+590590271234",
            Territory::SaintBarthelemy,
            Line::FixedLine,
        ),
        (
            "0590 07 12 34",
            "+590590071234",
            Territory::SaintMartin,
            Line::FixedLine,
        ),
        (
            "+508 41 12 34",
            "+508411234",
            Territory::SaintPierreEtMiquelon,
            Line::FixedLine,
        ),
        (
            "+508 55 12 34",
            "+508551234",
            Territory::SaintPierreEtMiquelon,
            Line::Mobile,
        ),
        (
            "+508 20 12 34",
            "+508201234",
            Territory::SaintPierreEtMiquelon,
            Line::FixedLineOrMobile,
        ),
        (
            "+681 82 12 34",
            "+681821234",
            Territory::WallisEtFutuna,
            Line::Mobile,
        ),
        (
            "+681 72 12 34",
            "+681721234",
            Territory::WallisEtFutuna,
            Line::FixedLineOrMobile,
        ),
        (
            "40 41 23 45",
            "+68940412345",
            Territory::Polynesie,
            Line::FixedLine,
        ),
        (
            "+689 87 12 34 56",
            "+68987123456",
            Territory::Polynesie,
            Line::Mobile,
        ),
        (
            "+687 20 12 34",
            "+687201234",
            Territory::NouvelleCaledonie,
            Line::FixedLine,
        ),
        (
            "+687 75 12 34",
            "+687751234",
            Territory::NouvelleCaledonie,
            Line::Mobile,
        ),
    ];

    #[test]
    fn numbers_of_every_territory_are_read_with_their_territory_and_line() {
        for (input, e164, territory, line) in NUMBERS {
            let phone = Phone::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(phone.e164(), e164, "{input}");
            assert_eq!(phone.territory(), territory, "{input}");
            assert_eq!(phone.line(), line, "{input}");
        }
    }

    #[test]
    fn only_mobiles_get_a_number_to_text() {
        for (input, e164, _, line) in NUMBERS {
            let expected =
                matches!(line, Line::Mobile | Line::FixedLineOrMobile).then(|| e164.to_owned());
            assert_eq!(mobile_e164(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn stored_numbers_read_back_as_they_were_stored() {
        for (_, e164, territory, line) in NUMBERS {
            let phone = Phone::parse(e164).unwrap_or_else(|e| panic!("{e164}: {e}"));
            assert_eq!(
                (phone.e164(), phone.territory(), phone.line()),
                (e164, territory, line)
            );
        }
    }

    #[test]
    fn every_territorys_example_mobile_can_receive_an_sms() {
        for region in [
            Id::FR,
            Id::GP,
            Id::MQ,
            Id::GF,
            Id::RE,
            Id::YT,
            Id::BL,
            Id::MF,
            Id::PM,
            Id::WF,
            Id::PF,
            Id::NC,
        ] {
            let id = format!("{region:?}");
            let metadata = DATABASE.by_id(id.as_str()).expect("metadata of the region");
            let example = metadata
                .descriptors()
                .mobile()
                .and_then(|d| d.example())
                .expect("an example mobile");
            let e164 = format!("+{}{example}", metadata.country_code());

            assert_eq!(mobile_e164(&e164), Ok(Some(e164.clone())), "{id}");
        }
    }

    #[test]
    fn no_number_means_no_sms_and_no_error() {
        for blank in ["", "   ", "\u{200b}"] {
            assert_eq!(mobile_e164(blank), Ok(None), "{blank:?}");
        }
    }

    #[test]
    fn texts_that_are_no_french_number_are_refused_with_why() {
        for (input, error) in [
            ("06 12 34 56", PhoneError::Invalid),
            ("06 12 34 56 7a", PhoneError::Invalid),
            ("00 12 34 56 78", PhoneError::Invalid),
            ("+33 692 12 34 56", PhoneError::Invalid),
            ("appelez-moi", PhoneError::Invalid),
            ("+44 7400 123456", PhoneError::NotFrench),
            ("0032 470 12 34 56", PhoneError::NotFrench),
        ] {
            assert_eq!(mobile_e164(input), Err(error), "{input}");
        }
    }
}
