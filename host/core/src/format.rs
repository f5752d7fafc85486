//! The formats of typed texts: e-mail addresses, phone numbers, IBANs,
//! postcodes and dates.
//!
//! Which library does what:
//! - **phone numbers**: the `phonenumber` crate (a port of Google's
//!   libphonenumber and its metadata) parses and validates; numbers are
//!   stored in E.164 (`+33612345678`, `+262692123456`) and shown in the
//!   national format for metropolitan France, the international one
//!   elsewhere ([`phone_display`]);
//! - **IBANs**: the `iban_validate` crate checks the ISO 13616 key, the
//!   country's length and its BBAN format; IBANs are stored in their
//!   electronic form (`FR7630006000011234567890189`);
//! - e-mail addresses, postcodes and the plausible range of years are
//!   simple enough to be checked here.

use chrono::{Datelike, NaiveDate};
use iban::{Iban, IbanLike};
use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};

use crate::text::clean;

/// The earliest year a date answer may have.
pub const MIN_YEAR: i32 = 1900;
/// The latest year a date answer may have.
pub const MAX_YEAR: i32 = 2100;

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

/// The regions of the French national numbering plan: metropolitan France
/// and the départements d'outre-mer, whose numbers are written from France
/// with a leading 0 (`0692 12 34 56` is a Réunion mobile). libphonenumber
/// files each under its own region and country code.
const NATIONAL_PLAN_REGIONS: [Id; 8] = [
    Id::FR, // France métropolitaine (+33)
    Id::RE, // La Réunion (+262)
    Id::YT, // Mayotte (+262 269, +262 639)
    Id::GP, // Guadeloupe (+590)
    Id::MQ, // Martinique (+596)
    Id::GF, // Guyane (+594)
    Id::BL, // Saint-Barthélemy (+590)
    Id::MF, // Saint-Martin (+590)
];

/// The collectivités with numbering plans of their own, whose numbers are
/// written locally without a leading 0 (`87 12 34 56` in Polynésie).
const OWN_PLAN_REGIONS: [Id; 4] = [
    Id::PM, // Saint-Pierre-et-Miquelon (+508)
    Id::PF, // Polynésie française (+689)
    Id::NC, // Nouvelle-Calédonie (+687)
    Id::WF, // Wallis-et-Futuna (+681)
];

/// The country calling codes of France and its overseas territories.
const FRENCH_CODES: [u16; 9] = [33, 262, 508, 590, 594, 596, 681, 687, 689];

/// Longest phone text looked at, in characters (a number with spaces and a
/// prefix is far shorter).
const MAX_PHONE_LENGTH: usize = 40;

/// Reads a French phone number — metropolitan, overseas département or
/// collectivité, in national (`06 12 34 56 78`, `0692 12 34 56`,
/// `87 12 34 56`) or international form (`+33 6 12 34 56 78`, `0033…`,
/// `+262 692 12 34 56`) — and returns it in E.164 (`+33612345678`); `None`
/// if it is not a valid French number.
///
/// A number with a leading 0 belongs to the national plan: when it is valid
/// both as a metropolitan and as an overseas number (`0269…`, `0596…`, which
/// libphonenumber also accepts for metropolitan France), the overseas
/// département wins, as the national plan reserves those blocks to it. A
/// local number of a collectivité with its own plan must be valid in one of
/// them only: `75 12 34` could be Nouvelle-Calédonie or Saint-Pierre, and
/// is refused in favour of its international form. Letters are refused
/// (libphonenumber would read them as keypad digits).
///
/// ```
/// use guichet_core::validation::normalise_phone;
///
/// assert_eq!(normalise_phone("06 12 34 56 78").as_deref(), Some("+33612345678"));
/// assert_eq!(normalise_phone("+262 692 12 34 56").as_deref(), Some("+262692123456"));
/// assert_eq!(normalise_phone("0692 12 34 56").as_deref(), Some("+262692123456"));
/// assert_eq!(normalise_phone("+44 20 7946 0958"), None);
/// ```
pub fn normalise_phone(text: &str) -> Option<String> {
    let text = clean(text).replace("(0)", "");
    let allowed = |c: char| c.is_ascii_digit() || " .-()/+\u{a0}\u{202f}".contains(c);
    if text.chars().count() > MAX_PHONE_LENGTH || !text.chars().all(allowed) {
        return None;
    }
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let valid_in = |region: Id| {
        phonenumber::parse(Some(region), &digits)
            .ok()
            .filter(|number| {
                FRENCH_CODES.contains(&number.code().value()) && phonenumber::is_valid(number)
            })
            .map(|number| number.format().mode(Mode::E164).to_string())
    };
    if digits.starts_with('+') || digits.starts_with("00") {
        return valid_in(Id::FR);
    }
    if digits.starts_with('0') {
        let mut found = NATIONAL_PLAN_REGIONS.iter().filter_map(|r| valid_in(*r));
        let first = found.next()?;
        // Overseas first: a second candidate is the overseas reading.
        return Some(found.find(|other| *other != first).unwrap_or(first));
    }
    let mut found: Vec<String> = OWN_PLAN_REGIONS
        .iter()
        .filter_map(|r| valid_in(*r))
        .collect();
    found.dedup();
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// A stored phone number as people read it: national format for
/// metropolitan France (`06 12 34 56 78`), international elsewhere
/// (`+262 692 12 34 56`); the text itself if it is not a number.
pub fn phone_display(stored: &str) -> String {
    match phonenumber::parse(None, stored) {
        Ok(number) if number.code().value() == 33 => format_phone(&number, Mode::National),
        Ok(number) => format_phone(&number, Mode::International),
        Err(_) => stored.to_owned(),
    }
}

fn format_phone(number: &PhoneNumber, mode: Mode) -> String {
    number.format().mode(mode).to_string()
}

/// Checks an IBAN — ISO 13616 key, the country's length and BBAN format —
/// and returns its electronic form (`FR7630006000011234567890189`); `None`
/// if invalid. Spaces are allowed and letters may be lowercase.
///
/// ```
/// use guichet_core::validation::valid_iban;
///
/// assert_eq!(
///     valid_iban("fr76 3000 6000 0112 3456 7890 189").as_deref(),
///     Some("FR7630006000011234567890189")
/// );
/// // Two characters short, with a valid key.
/// assert_eq!(valid_iban("FR04300060000112345678901"), None);
/// ```
pub fn valid_iban(text: &str) -> Option<String> {
    let compact: String = clean(text)
        .chars()
        .filter(|c| !crate::text::is_invisible(*c))
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.len() > 34 {
        return None;
    }
    compact
        .parse::<Iban>()
        .ok()
        .map(|iban| iban.electronic_str().to_owned())
}

/// An IBAN stored in its electronic form, in groups of four as people read
/// it (`FR76 3000 6000 0112 3456 7890 189`).
pub fn iban_display(stored: &str) -> String {
    stored
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a text is a French postcode: five digits.
pub fn is_postcode(text: &str) -> bool {
    text.len() == 5 && text.chars().all(|c| c.is_ascii_digit())
}

/// Whether a date's year is in the plausible range ([`MIN_YEAR`] to
/// [`MAX_YEAR`]).
pub fn plausible_date(date: NaiveDate) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&date.year())
}

/// Reads a date written `AAAA-MM-JJ` or `JJ/MM/AAAA`, with a four-digit
/// year and two-digit month and day; `None` otherwise.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = clean(text);
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let (year, month, day) = if let [y, m, d] = text.split('-').collect::<Vec<_>>()[..] {
        (y, m, d)
    } else if let [d, m, y] = text.split('/').collect::<Vec<_>>()[..] {
        (y, m, d)
    } else {
        return None;
    };
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ibans_are_checked_with_their_country_format_and_stored_compact() {
        assert_eq!(
            valid_iban("fr76 3000 6000 0112 3456 7890 189").as_deref(),
            Some("FR7630006000011234567890189")
        );
        assert_eq!(
            valid_iban("FR7630006000011234567890189").as_deref(),
            Some("FR7630006000011234567890189")
        );
        assert_eq!(
            valid_iban("DE89 3704 0044 0532 0130 00").as_deref(),
            Some("DE89370400440532013000")
        );
        for bad in [
            "FR76 3000 6000 0112 3456 7890 188",
            "FR04300060000112345678901",
            "FR76",
            "1234 5678 9012 3456",
            "XX82 WEST 1234 5698 7654 32",
        ] {
            assert_eq!(valid_iban(bad), None, "{bad}");
        }
        assert_eq!(
            iban_display("FR7630006000011234567890189"),
            "FR76 3000 6000 0112 3456 7890 189"
        );
    }

    #[test]
    fn french_numbers_of_every_territory_are_stored_in_e164() {
        let cases = [
            ("01 42 68 53 00", "+33142685300"),
            ("04.91.55.11.11", "+33491551111"),
            ("04 95 12 34 56", "+33495123456"),
            ("06 12 34 56 78", "+33612345678"),
            ("07 81 23 45 67", "+33781234567"),
            ("09 70 12 34 56", "+33970123456"),
            ("+33 6 12 34 56 78", "+33612345678"),
            ("+33 (0)4 91 55 11 11", "+33491551111"),
            ("0033491551111", "+33491551111"),
            // La Réunion
            ("0262 21 34 56", "+262262213456"),
            ("0692 12 34 56", "+262692123456"),
            ("+262 692 12 34 56", "+262692123456"),
            ("0693 12 34 56", "+262693123456"),
            // Mayotte
            ("0269 61 12 34", "+262269611234"),
            ("0639 01 23 45", "+262639012345"),
            ("+262 639 01 23 45", "+262639012345"),
            // Guadeloupe, Saint-Barthélemy, Saint-Martin
            ("0590 20 12 34", "+590590201234"),
            ("0690 00 12 34", "+590690001234"),
            ("+590 690 00 12 34", "+590690001234"),
            // Martinique
            ("0596 30 12 34", "+596596301234"),
            ("0696 20 12 34", "+596696201234"),
            ("+596 696 20 12 34", "+596696201234"),
            // Guyane
            ("0594 10 12 34", "+594594101234"),
            ("0694 20 12 34", "+594694201234"),
            ("+594 694 20 12 34", "+594694201234"),
            // Saint-Pierre-et-Miquelon
            ("+508 41 12 34", "+508411234"),
            // Polynésie française
            ("+689 87 12 34 56", "+68987123456"),
            ("87 12 34 56", "+68987123456"),
            // Nouvelle-Calédonie
            ("+687 75 12 34", "+687751234"),
            // Wallis-et-Futuna
            ("+681 72 12 34", "+681721234"),
        ];
        for (input, e164) in cases {
            assert_eq!(normalise_phone(input).as_deref(), Some(e164), "{input}");
        }
        for bad in [
            "00 12 34 56 78",
            "061234567",
            "+44 20 7946 0958",
            "06 12 34 56 7a",
            "+33 692 12 34 56",
            "12 34 56 78",
            "",
        ] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
        assert_eq!(phone_display("+33612345678"), "06 12 34 56 78");
        assert_eq!(phone_display("+262692123456"), "+262 692 12 34 56");
    }

    #[test]
    fn every_territorys_example_numbers_are_valid_in_both_forms() {
        let database = &*phonenumber::metadata::DATABASE;
        for region in NATIONAL_PLAN_REGIONS.iter().chain(&OWN_PLAN_REGIONS) {
            let id = format!("{region:?}");
            let metadata = database.by_id(id.as_str()).unwrap();
            let code = metadata.country_code();
            let descriptors = metadata.descriptors();
            for example in [descriptors.fixed_line(), descriptors.mobile()]
                .into_iter()
                .flatten()
                .filter_map(|d| d.example())
            {
                let e164 = format!("+{code}{example}");
                assert_eq!(
                    normalise_phone(&e164).as_deref(),
                    Some(e164.as_str()),
                    "{id}"
                );
                if NATIONAL_PLAN_REGIONS.contains(region) {
                    let national = format!("0{example}");
                    assert_eq!(
                        normalise_phone(&national).as_deref(),
                        Some(e164.as_str()),
                        "{id} {national}"
                    );
                }
            }
        }
    }

    #[test]
    fn years_have_four_digits_in_a_plausible_range() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(parse_date("2026-09-01"), date(2026, 9, 1));
        assert_eq!(parse_date(" 01/09/2026 "), date(2026, 9, 1));
        for bad in [
            "26-09-01",
            "1/9/2026",
            "+2026-09-01",
            "02026-09-01",
            "2026-02-30",
            "hier",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert!(!plausible_date(NaiveDate::from_ymd_opt(0, 1, 1).unwrap()));
        assert!(!plausible_date(
            NaiveDate::from_ymd_opt(2101, 1, 1).unwrap()
        ));
        assert!(plausible_date(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()));
    }
}
