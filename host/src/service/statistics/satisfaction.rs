//! The satisfaction block of the statistics: the survey answers given in
//! the period (counted by `Store::satisfaction`), with the labels of the
//! démarches' questions.

use guichet_store::survey::SatisfactionFigures;
use schemars::JsonSchema;
use serde::Serialize;

use super::Judged;

/// The survey answers given in the period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Satisfaction {
    /// How many.
    pub answers: u64,
    /// The mean score, from 1 (very dissatisfied) to 5 (very satisfied),
    /// two decimals; null without any answer.
    pub mean_score: Option<f64>,
    /// How many gave each score, from 1 to 5 (always five entries).
    pub by_score: Vec<ScoreCount>,
    /// The démarches' own questions with listed answers, with how many
    /// chose each (démarches in the order of `scope.demarches`).
    pub questions: Vec<QuestionCounts>,
}

/// The answers giving one score.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScoreCount {
    /// 1 to 5.
    pub score: u8,
    /// How many.
    pub count: u64,
}

/// The answers to one question of a démarche's survey.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QuestionCounts {
    /// The démarche's slug.
    pub demarche: String,
    /// The question's id.
    pub id: String,
    /// The question (its id when the current version no longer asks it).
    pub label: String,
    /// Each option offered, in the definition's order, then the options
    /// chosen that it no longer offers.
    pub choices: Vec<ChoiceCount>,
}

/// The answers choosing one option.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChoiceCount {
    /// The option, as offered.
    pub choice: String,
    /// How many.
    pub count: u64,
}

/// The satisfaction block: the scores, and the options of each question
/// of the démarches' surveys.
pub(super) fn satisfaction(judged: &Judged, mut figures: SatisfactionFigures) -> Satisfaction {
    let answers: u64 = figures.by_score.iter().sum();
    let total: u64 = (1..=5u64)
        .zip(figures.by_score)
        .map(|(score, n)| score * n)
        .sum();
    let mut questions = Vec::new();
    for demarche in &judged.demarches {
        let mut answered = figures.choices.remove(&demarche.slug).unwrap_or_default();
        // The questions asked now, then those answered that it no longer asks.
        let mut asked: Vec<(String, String, Vec<String>)> = demarche
            .questions
            .iter()
            .filter(|q| !q.choices.is_empty())
            .map(|q| (q.id.clone(), q.label.clone(), q.choices.clone()))
            .collect();
        let gone: Vec<String> = answered
            .keys()
            .filter(|id| !asked.iter().any(|(asked, _, _)| asked == *id))
            .cloned()
            .collect();
        asked.extend(gone.into_iter().map(|id| (id.clone(), id, Vec::new())));
        for (id, label, offered) in asked {
            let mut chosen = answered.remove(&id).unwrap_or_default();
            let mut choices: Vec<ChoiceCount> = offered
                .into_iter()
                .map(|choice| ChoiceCount {
                    count: chosen.remove(&choice).unwrap_or(0),
                    choice,
                })
                .collect();
            choices.extend(
                chosen
                    .into_iter()
                    .map(|(choice, count)| ChoiceCount { choice, count }),
            );
            questions.push(QuestionCounts {
                demarche: demarche.slug.to_string(),
                id,
                label,
                choices,
            });
        }
    }
    Satisfaction {
        answers,
        mean_score: (answers > 0).then(|| (total as f64 / answers as f64 * 100.0).round() / 100.0),
        by_score: (1..=5u8)
            .zip(figures.by_score)
            .map(|(score, count)| ScoreCount { score, count })
            .collect(),
        questions,
    }
}
