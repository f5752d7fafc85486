//! The satisfaction survey of a démarche (`satisfaction:` of its
//! definition): the address of its *Je donne mon avis* page at the
//! Observatoire de la qualité des démarches en ligne (shown in production
//! only, as the seed says), and the questions its built-in survey asks
//! besides the score and the comment (the seed's *enquête spécifique à la
//! démarche*).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::is_snake_case;

/// Questions a survey may add.
pub const MAX_QUESTIONS: usize = 10;

/// The satisfaction part of a démarche.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Satisfaction {
    /// The démarche's *Je donne mon avis* page at the Observatoire
    /// (`https://voxusagers.numerique.gouv.fr/Demarches/…`), shown on its
    /// presentation page in production only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observatoire_url: Option<String>,
    /// The démarche's own questions, asked after the score and comment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<SurveyQuestion>,
}

/// One question of a démarche's survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyQuestion {
    /// Identifier (`snake_case`), the key of its answer.
    pub id: String,
    /// The question, in French.
    pub label: String,
    /// The answers offered; none: a free text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// The problems of a survey, as (path, message).
pub(super) fn problems(satisfaction: &Satisfaction) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if let Some(url) = &satisfaction.observatoire_url
        && !url.starts_with("https://")
    {
        problems.push((
            "satisfaction.observatoire_url".to_owned(),
            "l'adresse de l'Observatoire commence par https://".to_owned(),
        ));
    }
    if satisfaction.questions.len() > MAX_QUESTIONS {
        problems.push((
            "satisfaction.questions".to_owned(),
            format!("au plus {MAX_QUESTIONS} questions"),
        ));
    }
    for (i, question) in satisfaction.questions.iter().enumerate() {
        let path = format!("satisfaction.questions[{i}]");
        if !is_snake_case(&question.id, 64) {
            problems.push((
                format!("{path}.id"),
                format!(
                    "identifiant « {} » invalide (snake_case attendu)",
                    question.id
                ),
            ));
        }
        if satisfaction.questions[..i]
            .iter()
            .any(|q| q.id == question.id)
        {
            problems.push((
                format!("{path}.id"),
                format!("la question « {} » est déjà définie", question.id),
            ));
        }
        if question.label.trim().is_empty() {
            problems.push((format!("{path}.label"), "le libellé est vide".to_owned()));
        }
        for (j, choice) in question.choices.iter().enumerate() {
            if choice.trim().is_empty() {
                problems.push((
                    format!("{path}.choices[{j}]"),
                    "le choix est vide".to_owned(),
                ));
            }
            if question.choices[..j].contains(choice) {
                problems.push((
                    format!("{path}.choices[{j}]"),
                    format!("le choix « {choice} » est en double"),
                ));
            }
        }
    }
    problems
}

/// The survey with its texts blanked (see `super::version`): the Observatoire's
/// address and the labels are texts, the questions' ids and choices are not.
pub(super) fn without_texts(satisfaction: Satisfaction) -> Satisfaction {
    let Satisfaction {
        observatoire_url: _,
        questions,
    } = satisfaction;
    Satisfaction {
        observatoire_url: None,
        questions: questions
            .into_iter()
            .map(
                |SurveyQuestion {
                     id,
                     label: _,
                     choices,
                 }| SurveyQuestion {
                    id,
                    label: String::new(),
                    choices,
                },
            )
            .collect(),
    }
}
