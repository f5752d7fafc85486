//! What makes a password acceptable, after the ANSSI's recommendations on
//! authentication by password (*Recommandations relatives à
//! l'authentification multifacteur et aux mots de passe*, 2021): a minimum
//! length of [`MIN_PASSWORD_CHARS`], no upper bound imposed on people
//! beyond [`MAX_PASSWORD_CHARS`] (a cap that keeps hashing cheap to
//! bound), and no password an attacker would try early. The last point is
//! `zxcvbn`'s estimate (dictionaries of common passwords, names, keyboard
//! patterns, dates, repetitions, and the person's own login and names): its
//! score must reach [`MIN_SCORE`] (more than 10⁸ guesses).
//!
//! Registration, agent creation, password change and `guichet admin
//! create` all check through [`check_password`].

use guichet_core::validation::{ErrorCode, FieldError};
use zxcvbn::zxcvbn;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Longest password accepted (checked before any hashing, also at login).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The lowest `zxcvbn` score accepted (0 to 4; 3 is "safely unguessable":
/// more than 10⁸ guesses).
pub const MIN_SCORE: u8 = 3;

/// Checks a new password given in `field`; `personal` are the person's
/// login and names, which the password must not merely repeat. Lengths are
/// counted in characters.
///
/// # Errors
/// The problem, on `field`: `mot_de_passe_trop_court` (under
/// [`MIN_PASSWORD_CHARS`]), `mot_de_passe_trop_long` (over
/// [`MAX_PASSWORD_CHARS`]) or `mot_de_passe_trop_faible`.
pub fn check_password(field: &str, password: &str, personal: &[&str]) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            ErrorCode::MotDePasseTropCourt,
            format!("Choisissez un mot de passe d'au moins {MIN_PASSWORD_CHARS} caractères."),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            ErrorCode::MotDePasseTropLong,
            format!("Choisissez un mot de passe d'au plus {MAX_PASSWORD_CHARS} caractères."),
        ));
    }
    // zxcvbn matches its dictionaries in lowercase: give it the person's
    // words lowercased, whole and cut at punctuation (`camille.martin@…`).
    let mut words: Vec<String> = Vec::new();
    for input in personal {
        let lower = input.trim().to_lowercase();
        words.extend(
            lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_owned),
        );
        words.push(lower);
    }
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.is_empty())
        .collect();
    if mostly_personal(password, &words) || u8::from(zxcvbn(password, &words).score()) < MIN_SCORE {
        return Err(FieldError::new(
            field,
            ErrorCode::MotDePasseTropFaible,
            "Ce mot de passe est trop facile à deviner (mot courant, suite, date ou votre nom) : \
             allongez-le ou mêlez plusieurs mots inattendus.",
        ));
    }
    Ok(())
}

/// Characters a password must keep once the person's own words are taken
/// out of it.
const MIN_NON_PERSONAL_CHARS: usize = 4;

/// Whether the password is little more than the person's words
/// (`dominique.essai` for Dominique Essai), which `zxcvbn` may still score
/// well once they are joined by punctuation.
fn mostly_personal(password: &str, words: &[&str]) -> bool {
    let mut rest: String = password
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let mut words: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| w.chars().count() >= 3)
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    for word in &words {
        rest = rest.replace(word.as_str(), "");
    }
    rest.chars().count() < MIN_NON_PERSONAL_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(password: &str, personal: &[&str]) -> Vec<String> {
        check_password("password", password, personal)
            .err()
            .into_iter()
            .map(|p| p.code.as_str().to_owned())
            .collect()
    }

    #[test]
    fn short_common_personal_and_huge_passwords_are_refused() {
        assert_eq!(codes("12345678", &[]), ["mot_de_passe_trop_court"]);
        assert_eq!(codes("123456789012", &[]), ["mot_de_passe_trop_faible"]);
        assert_eq!(codes("motdepasse123", &[]), ["mot_de_passe_trop_faible"]);
        assert_eq!(
            codes(
                "camillemartin",
                &["camille.martin@example.fr", "Camille", "Martin"]
            ),
            ["mot_de_passe_trop_faible"]
        );
        assert_eq!(
            codes(
                "dominique.essai",
                &["dominique.essai@exemple.test", "Dominique", "Essai"]
            ),
            ["mot_de_passe_trop_faible"]
        );
        assert_eq!(codes(&"x".repeat(129), &[]), ["mot_de_passe_trop_long"]);
    }

    #[test]
    fn long_unusual_passwords_are_accepted() {
        for password in [
            "agent-demo-2026",
            "observateur-demo-2026",
            "consultant-demo-2026",
            "saisie-demo-2026",
            "gestionnaire-demo-2026",
            "qualite-demo-2026",
            "admin-demo-2026",
            "usager-demo-2026",
            "mot-de-passe-usager",
            "un-bon-mot-de-passe",
            "Tartine-Vélo-Soleil-42",
        ] {
            assert!(codes(password, &[]).is_empty(), "{password}");
        }
    }
}
