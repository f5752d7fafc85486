//! The answers to the satisfaction survey, one per demande, and the
//! signing of the links that lead to it.
//!
//! `survey_answers` is keyed by the demande: a second answer is refused by
//! the primary key ([`StoreError::Conflict`]), whichever host records it.
//! The score and the chosen options are kept in clear for the statistics;
//! the comment and the free answers are sealed with the demande's key
//! (`crate::seal`) and erased when the demande is anonymised
//! ([`erase_personal`], called by the anonymising outcome). The rows go
//! with their demande when it is purged (`ON DELETE CASCADE`).
//!
//! [`Store::satisfaction`] counts the answers of a scope and period for
//! the statistics in one `GROUP BY` (démarche, score, options chosen) read
//! from the covering index `survey_answers_period` (migration
//! `0010_survey_index`): the options are stored as canonical JSON (a
//! sorted map), so equal choices group together and each distinct
//! combination is parsed once. No demande is read.
//!
//! Links are signed with HMAC-SHA256 (crate `hmac`) under a key derived
//! from the master key with HKDF-SHA256 (crate `hkdf`) for each purpose
//! ([`Store::sign`], [`Store::verify`]): every host sharing the master key
//! verifies every link, and the master key itself never signs anything.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use guichet_core::id::{DemandeId, Slug};
use guichet_core::role::GroupName;
use sqlx::AnyConnection;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::seal;
use crate::sql::{RowExt, Sql, millis, to_json, unsigned};
use crate::statistics::{StatisticsScope, planned_each_time, push_period, push_scope_on};

/// The sealed columns.
const COMMENT: &str = "survey_answers.comment";
const FREE_ANSWERS: &str = "survey_answers.free_answers";

/// An answer to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSurveyAnswer {
    /// The demande surveyed.
    pub demande: DemandeId,
    /// Its démarche.
    pub demarche: Slug,
    /// Its service in charge when answered.
    pub service: GroupName,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: u8,
    /// Free comment (sealed).
    pub comment: Option<String>,
    /// Answers to the démarche's questions with listed choices, by
    /// question id (kept in clear for the statistics).
    pub choices: BTreeMap<String, String>,
    /// Answers to its free-text questions (sealed).
    pub free_answers: BTreeMap<String, String>,
    /// When.
    pub answered_at: DateTime<Utc>,
}

/// A recorded answer; comment and free answers are gone once the demande
/// is anonymised.
pub type SurveyAnswer = NewSurveyAnswer;

/// The survey answers of a scope over a period (by answer date).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SatisfactionFigures {
    /// How many answers gave each score: index 0 counts the 1s, index 4
    /// the 5s.
    pub by_score: [u64; 5],
    /// How many answers chose each option, by démarche, then question id,
    /// then option (as the usager saw it).
    pub choices: BTreeMap<Slug, BTreeMap<String, BTreeMap<String, u64>>>,
}

impl Store {
    /// Records the answer to a demande's survey.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the demande's survey was answered
    /// already; [`StoreError::Invalid`] for an unknown demande; a database
    /// error.
    pub async fn record_survey_answer(&self, answer: &NewSurveyAnswer) -> Result<()> {
        let mut tx = self.begin().await?;
        let key = self.keys.of_demande(&mut tx, answer.demande).await?;
        let comment = answer
            .comment
            .clone()
            .map(|c| seal::seal(key.as_ref(), COMMENT, c))
            .transpose()?;
        let free = seal::seal_json(key.as_ref(), FREE_ANSWERS, &answer.free_answers)?;
        sqlx::query(
            "INSERT INTO survey_answers (demande_id, demarche, service, score, choices, comment, \
             free_answers, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(answer.demande.to_string())
        .bind(answer.demarche.as_str().to_owned())
        .bind(answer.service.as_str().to_owned())
        .bind(i64::from(answer.score))
        .bind(to_json(&answer.choices)?)
        .bind(comment)
        .bind(free)
        .bind(millis(answer.answered_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a demande's survey was answered.
    ///
    /// # Errors
    /// A database error.
    pub async fn survey_answered(&self, demande: DemandeId) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM survey_answers WHERE demande_id = $1")
            .bind(demande.to_string())
            .fetch_one(&self.read)
            .await?;
        Ok(row.int("n")? > 0)
    }

    /// The answer to a demande's survey, if any.
    ///
    /// # Errors
    /// A database error, or a sealed value that does not open.
    pub async fn survey_answer(&self, demande: DemandeId) -> Result<Option<SurveyAnswer>> {
        let mut conn = self.read.acquire().await?;
        let Some(row) = sqlx::query(
            "SELECT demarche, service, score, choices, comment, free_answers, answered_at \
             FROM survey_answers WHERE demande_id = $1",
        )
        .bind(demande.to_string())
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let key = self.keys.of_demande(&mut conn, demande).await?;
        let free: Option<BTreeMap<String, String>> = row
            .text_opt("free_answers")?
            .map(|text| seal::open_json(key.as_ref(), FREE_ANSWERS, text))
            .transpose()?;
        Ok(Some(SurveyAnswer {
            demande,
            demarche: Slug::parse(&row.text("demarche")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            service: GroupName::parse(&row.text("service")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            score: u8::try_from(row.int("score")?).unwrap_or(0),
            choices: serde_json::from_str(&row.text("choices")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            comment: seal::open_opt(key.as_ref(), COMMENT, row.text_opt("comment")?)?,
            free_answers: free.unwrap_or_default(),
            answered_at: row.instant("answered_at")?,
        }))
    }

    /// The answers of `scope` given in `[from, until)` (the module docs say
    /// how they are counted). The service is the one in charge when the
    /// usager answered.
    ///
    /// # Errors
    /// A database error, or [`StoreError::Corrupt`] for a score outside
    /// 1–5 or choices that are not a JSON object of strings.
    pub async fn satisfaction(
        &self,
        scope: &StatisticsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<SatisfactionFigures> {
        // One pass: the answers grouped by score and by the options chosen
        // (stored as canonical JSON, so equal choices are equal texts).
        let mut sql =
            Sql::new("SELECT a.demarche, a.score, a.choices, COUNT(*) AS n FROM survey_answers a");
        push_scope_on(&mut sql, scope, "a.demarche", "a.service");
        push_period(&mut sql, "a.answered_at", from, until);
        sql.push(" GROUP BY a.demarche, a.score, a.choices");
        let (text, args) = sql.finish()?;
        let mut figures = SatisfactionFigures::default();
        for row in planned_each_time(&text, args).fetch_all(&self.read).await? {
            let n = unsigned(row.int("n")?);
            let score = row.int("score")?;
            let slot = usize::try_from(score - 1)
                .ok()
                .and_then(|i| figures.by_score.get_mut(i))
                .ok_or_else(|| StoreError::Corrupt(format!("note d'enquête {score}")))?;
            *slot += n;
            let chosen: BTreeMap<String, String> = serde_json::from_str(&row.text("choices")?)
                .map_err(|e| StoreError::Corrupt(format!("réponses d'enquête : {e}")))?;
            if chosen.is_empty() {
                continue;
            }
            let slug = Slug::parse(&row.text("demarche")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let questions = figures.choices.entry(slug).or_default();
            for (question, option) in chosen {
                *questions
                    .entry(question)
                    .or_default()
                    .entry(option)
                    .or_default() += n;
            }
        }
        Ok(figures)
    }

    /// HMAC-SHA256 of `data` under the key derived from the master key for
    /// `purpose` (32 bytes).
    pub fn sign(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        self.keys.sign(purpose, data)
    }

    /// Whether `mac` is a prefix (at least 16 bytes) of [`Store::sign`]'s
    /// signature of `data`, compared in constant time.
    pub fn verify(&self, purpose: &str, data: &[u8], mac: &[u8]) -> bool {
        self.keys.verify(purpose, data, mac)
    }
}

/// Erases the personal part of a demande's survey answer (comment, free
/// answers), in the transaction that anonymises it.
///
/// # Errors
/// A database error.
pub(crate) async fn erase_personal(conn: &mut AnyConnection, demande: DemandeId) -> Result<()> {
    sqlx::query(
        "UPDATE survey_answers SET comment = NULL, free_answers = NULL WHERE demande_id = $1",
    )
    .bind(demande.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
