//! The satisfaction survey: a short questionnaire reached by a signed,
//! single-use link sent in the closing, refusal and abandon mails
//! (`{lien_enquete}`), and the démarche's *Je donne mon avis* button.
//!
//! **The link.** `…/enquete/<token>`, where the token is the demande's id
//! and the link's expiry (seconds since the epoch), followed by their
//! HMAC-SHA256 under a key derived from the host's master key
//! (`Store::sign`: HKDF-SHA256 then HMAC, crates `hkdf` and `hmac`),
//! truncated to 128 bits, all in unpadded base64url. Every host of one
//! database shares the master key, so every host verifies every link. A
//! changed byte fails the signature ([`SurveyError::InvalidLink`]); a link
//! past its expiry is refused ([`SurveyError::Expired`]): it is valid for
//! [`Delivery::survey_days`](super::notifications::Delivery) days (default
//! [`DEFAULT_DAYS`]) from the queuing of the mail that carries it.
//!
//! **Once.** One answer per demande: the answer's row is keyed by the
//! demande, so a second answer — the same link replayed, or another mail's
//! link of the same demande — is refused ([`SurveyError::AlreadyAnswered`])
//! and changes nothing.
//!
//! **What is asked.** A score from 1 (very dissatisfied) to 5 (very
//! satisfied), an optional comment (at most [`MAX_COMMENT`] characters),
//! and the démarche's own questions (`satisfaction.questions` of its
//! definition: a free text, or one of its listed choices). The comment and
//! the free answers are sealed with the demande's key and erased at its
//! anonymisation; the score and the chosen options stay for the
//! statistics.
//!
//! Agents read the answer on the demande (`back_office::view`).
//!
//! **The national button.** A démarche may give the address of its
//! *Je donne mon avis* page at the Observatoire de la qualité des
//! démarches en ligne (`satisfaction.observatoire_url`); as the seed
//! says, it is shown in production only (`guichet serve --environment`,
//! `super::catalogue::observatoire_url`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use chrono::{DateTime, TimeZone, Utc};
use guichet_core::demarche::SurveyQuestion;
use guichet_core::id::DemandeId;
use guichet_store::survey::NewSurveyAnswer;

use super::{Guichet, ServiceError};

/// Days a survey link stays valid by default.
pub const DEFAULT_DAYS: u32 = 30;

/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 2000;

/// What the link signature is derived for (domain separation).
const PURPOSE: &str = "guichet survey link v1";

/// Bytes of the signature kept in the token.
const MAC_BYTES: usize = 16;

/// Why a survey link or answer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    /// The link was altered or was never made by this platform.
    #[error("ce lien d'enquête n'est pas valide")]
    InvalidLink,
    /// The link's time is over.
    #[error("ce lien d'enquête a expiré le {0}")]
    Expired(String),
    /// The demande's survey was answered already.
    #[error("vous avez déjà répondu à l'enquête de cette demande : merci !")]
    AlreadyAnswered,
}

/// The survey of one demande, as its link shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    /// The demande.
    pub demande: DemandeId,
    /// Its number.
    pub number: String,
    /// The démarche's title.
    pub demarche: String,
    /// The démarche's own questions.
    pub questions: Vec<SurveyQuestion>,
    /// Until when the link is valid.
    pub expires_at: DateTime<Utc>,
    /// Whether it was answered already.
    pub answered: bool,
}

/// An usager's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: u8,
    /// Free comment.
    pub comment: Option<String>,
    /// The answers to the démarche's questions, by question id.
    pub answers: BTreeMap<String, String>,
}

/// The link to a demande's survey, valid from `from` for the configured
/// number of days.
pub fn link(guichet: &Guichet, demande: DemandeId, from: DateTime<Utc>) -> String {
    let expires = guichet.zone.add_days(from, guichet.delivery.survey_days);
    format!(
        "{}/enquete/{}",
        guichet.delivery.public_url,
        token(guichet, demande, expires)
    )
}

/// The address on the portal (`/enquete/{token}`) of a closed demande's
/// survey, for the usager's page of their demande: valid from the closing
/// (`closed_at`) for the configured number of days, as the closing mail's
/// link; `None` before the closing, once answered or past its time.
///
/// # Errors
/// A store error.
pub async fn for_closed(
    guichet: &Guichet,
    demande: &guichet_core::demande::Demande,
) -> Result<Option<String>, ServiceError> {
    let Some(closed) = demande.dates.closed_at else {
        return Ok(None);
    };
    let expires = guichet.zone.add_days(closed, guichet.delivery.survey_days);
    let token = token(guichet, demande.id, expires);
    match open(guichet, &token).await {
        Ok(survey) if !survey.answered => Ok(Some(format!("/enquete/{token}"))),
        Ok(_) | Err(ServiceError::Survey(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The token of a link: id, expiry, signature.
fn token(guichet: &Guichet, demande: DemandeId, expires: DateTime<Utc>) -> String {
    let mut data = Vec::with_capacity(16 + 8 + MAC_BYTES);
    data.extend_from_slice(demande.uuid().as_bytes());
    data.extend_from_slice(&expires.timestamp().to_be_bytes());
    let mac = guichet.store.sign(PURPOSE, &data);
    data.extend_from_slice(&mac[..MAC_BYTES]);
    BASE64URL.encode(data)
}

/// The demande and expiry of a token whose signature holds.
fn verify(guichet: &Guichet, token: &str) -> Result<(DemandeId, DateTime<Utc>), SurveyError> {
    let data = BASE64URL
        .decode(token.trim())
        .map_err(|_| SurveyError::InvalidLink)?;
    if data.len() != 16 + 8 + MAC_BYTES {
        return Err(SurveyError::InvalidLink);
    }
    let (signed, mac) = data.split_at(16 + 8);
    if !guichet.store.verify(PURPOSE, signed, mac) {
        return Err(SurveyError::InvalidLink);
    }
    let uuid = uuid::Uuid::from_slice(&signed[..16]).map_err(|_| SurveyError::InvalidLink)?;
    let mut seconds = [0u8; 8];
    seconds.copy_from_slice(&signed[16..]);
    let expires = Utc
        .timestamp_opt(i64::from_be_bytes(seconds), 0)
        .single()
        .ok_or(SurveyError::InvalidLink)?;
    Ok((DemandeId::from_uuid(uuid), expires))
}

/// The survey a link leads to.
///
/// # Errors
/// [`SurveyError`] (as `ServiceError::Survey`) for a link altered or past
/// its time; a store error.
pub async fn open(guichet: &Guichet, token: &str) -> Result<Survey, ServiceError> {
    let (demande, expires_at) = verify(guichet, token)?;
    if guichet.now() > expires_at {
        return Err(SurveyError::Expired(guichet.zone.date_text(expires_at)).into());
    }
    let stored = guichet.store.demande(demande).await?;
    let reference = &stored.demande.demarche;
    let version = guichet
        .store
        .demarche_version(&reference.slug, reference.version)
        .await?;
    let definition = version.definition;
    Ok(Survey {
        demande,
        number: stored.demande.numero.clone(),
        demarche: definition.title.clone(),
        questions: definition
            .satisfaction
            .map(|s| s.questions)
            .unwrap_or_default(),
        expires_at,
        answered: guichet.store.survey_answered(demande).await?,
    })
}

/// Records an answer to the survey of a link, once per demande.
///
/// # Errors
/// As [`open`]; [`SurveyError::AlreadyAnswered`]; `ServiceError::Fields`
/// for a score outside 1–5, a comment too long, an unknown question or a
/// choice not offered.
pub async fn answer(guichet: &Guichet, token: &str, answer: Answer) -> Result<(), ServiceError> {
    let survey = open(guichet, token).await?;
    if survey.answered {
        return Err(SurveyError::AlreadyAnswered.into());
    }
    check(&survey.questions, &answer)?;
    let stored = guichet.store.demande(survey.demande).await?;
    let (chosen, free): (BTreeMap<_, _>, BTreeMap<_, _>) =
        answer.answers.into_iter().partition(|(id, _)| {
            survey
                .questions
                .iter()
                .any(|q| &q.id == id && !q.choices.is_empty())
        });
    let new = NewSurveyAnswer {
        demande: survey.demande,
        demarche: stored.demande.demarche.slug.clone(),
        service: stored.demande.services.primary.clone(),
        score: answer.score,
        comment: answer.comment.filter(|c| !c.trim().is_empty()),
        choices: chosen,
        free_answers: free,
        answered_at: guichet.now(),
    };
    match guichet.store.record_survey_answer(&new).await {
        Ok(()) => Ok(()),
        Err(guichet_store::StoreError::Conflict(_)) => Err(SurveyError::AlreadyAnswered.into()),
        Err(error) => Err(error.into()),
    }
}

/// Checks an answer against the questions, field by field.
fn check(questions: &[SurveyQuestion], answer: &Answer) -> Result<(), ServiceError> {
    use guichet_core::validation::{ErrorCode, FieldError};
    let mut errors = Vec::new();
    if !(1..=5).contains(&answer.score) {
        errors.push(FieldError::new(
            "note",
            if answer.score < 1 {
                ErrorCode::NombreTropPetit
            } else {
                ErrorCode::NombreTropGrand
            },
            "La note va de 1 (très insatisfait) à 5 (très satisfait).",
        ));
    }
    if answer
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT)
    {
        errors.push(FieldError::new(
            "commentaire",
            ErrorCode::TexteTropLong,
            format!("Le commentaire ne dépasse pas {MAX_COMMENT} caractères."),
        ));
    }
    for (id, value) in &answer.answers {
        match questions.iter().find(|q| &q.id == id) {
            None => errors.push(FieldError::new(
                id,
                ErrorCode::ChampInconnu,
                "Cette question n'est pas posée par l'enquête.",
            )),
            Some(q) if !q.choices.is_empty() && !q.choices.contains(value) => {
                errors.push(FieldError::new(
                    id,
                    ErrorCode::ChoixInconnu,
                    "Choisissez l'une des réponses proposées.",
                ))
            }
            Some(_) if value.chars().count() > MAX_COMMENT => errors.push(FieldError::new(
                id,
                ErrorCode::TexteTropLong,
                format!("La réponse ne dépasse pas {MAX_COMMENT} caractères."),
            )),
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Fields(errors))
    }
}
