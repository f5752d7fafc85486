//! The satisfaction survey (`crate::service::survey`), reached without
//! logging in by the signed link of the closing, refusal and abandon
//! mails: `GET /api/enquetes/{token}` gives the questions, `POST
//! /api/enquetes/{token}` records the answer, once per demande. The link
//! itself is the proof: an altered one answers 404 `lien_invalide`, an
//! expired one 410 `enquete_expiree`, a second answer 409
//! `enquete_deja_repondue`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiPath};
use super::routes::{Access, ApiRouter, Doc};
use super::{ApiError, AppState};
use crate::service::survey::{self, Answer, Survey};

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/enquetes/{token}",
            show,
            Doc::new(
                "L'enquête de satisfaction d'une demande, par le lien signé reçu par mail (404 lien_invalide, 410 enquete_expiree)",
                Access::Public,
            )
            .gives::<SurveyView>(),
        )
        .post(
            "/api/enquetes/{token}",
            answer,
            Doc::new(
                "Répondre à l'enquête de satisfaction d'une demande, une seule fois (409 enquete_deja_repondue)",
                Access::Public,
            )
            .takes::<AnswerBody>()
            .status(204),
        )
}

/// A survey as its link shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SurveyView {
    /// The demande's number.
    pub numero: String,
    /// The démarche's title.
    pub demarche: String,
    /// The score asked: 1 (très insatisfait) to 5 (très satisfait).
    pub note: ScoreScale,
    /// The démarche's own questions.
    pub questions: Vec<QuestionView>,
    /// Until when the link is valid.
    pub expire_le: DateTime<Utc>,
    /// Whether the survey was answered already (the link then only thanks).
    pub deja_repondue: bool,
}

/// The score's scale.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScoreScale {
    /// Lowest score (1).
    pub min: u8,
    /// Highest score (5).
    pub max: u8,
}

/// One question of the démarche.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QuestionView {
    /// Its id, the key of its answer.
    pub id: String,
    /// The question.
    pub libelle: String,
    /// The answers offered; empty for a free text.
    pub choix: Vec<String>,
}

impl From<Survey> for SurveyView {
    fn from(survey: Survey) -> Self {
        SurveyView {
            numero: survey.number,
            demarche: survey.demarche,
            note: ScoreScale { min: 1, max: 5 },
            questions: survey
                .questions
                .into_iter()
                .map(|q| QuestionView {
                    id: q.id,
                    libelle: q.label,
                    choix: q.choices,
                })
                .collect(),
            expire_le: survey.expires_at,
            deja_repondue: survey.answered,
        }
    }
}

/// An answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// 1 (très insatisfait) to 5 (très satisfait).
    #[schemars(range(min = 1, max = 5))]
    pub note: u8,
    /// A free comment (at most 2,000 characters).
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub commentaire: Option<String>,
    /// The answers to the démarche's questions, by question id.
    #[serde(default)]
    #[schemars(extend("maxProperties" = 50))]
    pub reponses: BTreeMap<String, String>,
}

async fn show(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<SurveyView>, ApiError> {
    Ok(Json(survey::open(&state.guichet(), &token).await?.into()))
}

async fn answer(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<StatusCode, ApiError> {
    survey::answer(
        &state.guichet(),
        &token,
        Answer {
            score: body.note,
            comment: body.commentaire,
            answers: body.reponses,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
