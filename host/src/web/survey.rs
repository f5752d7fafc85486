//! The survey's page (`/enquete/{token}`), where the closing, refusal and
//! abandon mails lead: the score as radio buttons, a comment, the
//! démarche's own questions; errors summarised at the top of the page and
//! tied to their field; a link altered, expired or already used gets a
//! page that says so. The rules are the survey's (`service::survey`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::session::Checked;
use super::{Site, failure, message, page};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::survey::{self, Answer, Survey, SurveyError};

/// The scale of the score, as the usager reads it.
const SCALE: [(&str, &str); 5] = [
    ("1", "1 — Très insatisfait(e)"),
    ("2", "2 — Insatisfait(e)"),
    ("3", "3 — Moyennement satisfait(e)"),
    ("4", "4 — Satisfait(e)"),
    ("5", "5 — Très satisfait(e)"),
];

#[derive(Template)]
#[template(path = "portal/survey.html")]
struct SurveyPage {
    site: Site,
    token: String,
    number: String,
    demarche: String,
    expires: String,
    scale: Vec<(String, String)>,
    note: Option<String>,
    comment: String,
    questions: Vec<QuestionView>,
    errors: Vec<ErrorView>,
}

impl SurveyPage {
    /// The message of the error on `field`, if any.
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

struct QuestionView {
    id: String,
    label: String,
    choices: Vec<String>,
    answer: String,
}

struct ErrorView {
    field: String,
    anchor: String,
    message: String,
}

/// What the usager sent, kept to show again.
#[derive(Default)]
struct Sent {
    note: Option<String>,
    comment: String,
    answers: BTreeMap<String, String>,
}

fn form(
    state: &AppState,
    site: Site,
    token: &str,
    survey: Survey,
    sent: Sent,
    errors: Vec<ErrorView>,
) -> Response {
    let guichet = state.guichet();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &SurveyPage {
            site,
            token: token.to_owned(),
            number: survey.number,
            demarche: survey.demarche,
            expires: guichet.zone.date_text(survey.expires_at),
            scale: SCALE
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
                .collect(),
            note: sent.note,
            comment: sent.comment,
            questions: survey
                .questions
                .into_iter()
                .map(|q| QuestionView {
                    answer: sent.answers.get(&q.id).cloned().unwrap_or_default(),
                    id: q.id,
                    label: q.label,
                    choices: q.choices,
                })
                .collect(),
            errors,
        },
    )
}

/// A link that does not lead to a survey, as a page.
fn refused(site: &Site, error: ServiceError) -> Response {
    match error {
        ServiceError::Survey(SurveyError::InvalidLink) => message(
            site,
            StatusCode::NOT_FOUND,
            "Lien d'enquête invalide",
            "Ce lien d'enquête n'est pas valide : vérifiez qu'il a été copié en entier depuis le mail reçu.",
        ),
        ServiceError::Survey(expired @ SurveyError::Expired(_)) => message(
            site,
            StatusCode::GONE,
            "Enquête terminée",
            &format!("{expired}. Merci de votre intérêt."),
        ),
        ServiceError::Survey(SurveyError::AlreadyAnswered) => thanks(site, true),
        other => failure(site, other),
    }
}

fn thanks(site: &Site, before: bool) -> Response {
    message(
        site,
        StatusCode::OK,
        "Merci pour votre avis",
        if before {
            "Vous avez déjà répondu à l'enquête de cette demande. Merci !"
        } else {
            "Votre avis a bien été enregistré. Il nous aide à améliorer ce service."
        },
    )
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    Path(token): Path<String>,
) -> Response {
    match survey::open(&state.guichet(), &token).await {
        Ok(survey) if survey.answered => thanks(&site, true),
        Ok(survey) => form(&state, site, &token, survey, Sent::default(), Vec::new()),
        Err(error) => refused(&site, error),
    }
}

pub(super) async fn answer(
    State(state): State<AppState>,
    site: Site,
    Path(token): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let mut sent = Sent::default();
    for (name, value) in posted.pairs() {
        let value = value.trim().to_owned();
        match name.as_str() {
            "note" => sent.note = Some(value),
            "commentaire" => sent.comment = value,
            other => {
                if let Some(id) = other.strip_prefix("q_")
                    && !value.is_empty()
                {
                    sent.answers.insert(id.to_owned(), value);
                }
            }
        }
    }
    let answer = Answer {
        // No score, or not a number: 0, which the survey refuses on `note`.
        score: sent
            .note
            .as_deref()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        comment: Some(sent.comment.clone()).filter(|c| !c.is_empty()),
        answers: sent.answers.clone(),
    };
    let guichet = state.guichet();
    match survey::answer(&guichet, &token, answer).await {
        Ok(()) => thanks(&site, false),
        Err(ServiceError::Fields(problems)) => match survey::open(&guichet, &token).await {
            Ok(survey) => {
                let errors = problems
                    .into_iter()
                    .map(|p| ErrorView {
                        anchor: match p.field.as_str() {
                            "note" => "note-1".to_owned(),
                            "commentaire" => "commentaire".to_owned(),
                            id => format!("q-{id}"),
                        },
                        field: p.field,
                        message: p.message,
                    })
                    .collect();
                form(&state, site, &token, survey, sent, errors)
            }
            Err(error) => refused(&site, error),
        },
        Err(error) => refused(&site, error),
    }
}
