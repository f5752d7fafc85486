//! The columns the statistics read are kept with every outcome, and the
//! backfill of migration 0008 finds them again in the history for the
//! demandes written before it (but the type of a refusal, which only the
//! sealed text says).

use chrono::{DateTime, Utc};
use guichet_core::actor::Actor;
use guichet_core::demande::RefusalType;
use guichet_core::workflow::{Action, Inputs, Outcome};
use guichet_store::account::UserKind;
use sqlx::{Connection, Executor, Row};

use crate::support::*;

on_both_backends!(the_backfill_finds_in_the_history_what_outcomes_keep);

/// The statistics columns of every demande, by id.
type Columns = (
    String,
    Option<i64>,
    Option<i64>,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);

async fn columns(url: &str) -> Vec<Columns> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT id, analysis_started_at, closed_at, hold_ms, closing, refusal_type, \
         processing_ms, last_reminder FROM demandes ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get("id"),
                r.get("analysis_started_at"),
                r.get("closed_at"),
                r.get("hold_ms"),
                r.get("closing"),
                r.get("refusal_type"),
                r.get("processing_ms"),
                r.get("last_reminder"),
            )
        })
        .collect()
}

/// The statements of the migration that fill the new columns.
fn backfill(kind: Kind) -> &'static str {
    let migration = match kind {
        Kind::Sqlite => include_str!("../../migrations/sqlite/0008_statistics.sql"),
        Kind::Postgres => include_str!("../../migrations/postgres/0008_statistics.sql"),
    };
    let from = migration.find("-- Backfill").unwrap();
    let to = migration.find("-- The demandes received").unwrap();
    &migration[from..to]
}

fn with(transition: &str, inputs: Inputs) -> Action {
    Action {
        inputs,
        ..Action::new(transition)
    }
}

async fn by(db: &TestDb, demande: &Outcome, actor: &Actor, action: Action, at: DateTime<Utc>) {
    act(db, demande, action, actor, at).await.unwrap();
}

async fn the_backfill_finds_in_the_history_what_outcomes_keep(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let owner = usager(&db).await;
    let agent = gestionnaire(account(&db, "agent@ville.test", UserKind::Agent).await);
    let usager_actor = Actor::Usager(owner);
    let file = |at| {
        let definition = definition.clone();
        let db = &db;
        async move { file_demande(db, &definition, signalement_answers(vec![]), owner, at).await }
    };
    // Held 3 days then processed; refused; abandoned; reminded twice;
    // cancelled for no answer; never taken.
    let held = file(start()).await;
    let refused = file(start()).await;
    let abandoned = file(start()).await;
    let reminded = file(start()).await;
    let silent = file(start()).await;
    file(start()).await;
    for demande in [&held, &refused, &abandoned, &reminded, &silent] {
        by(&db, demande, &agent, Action::new("receptionner"), start()).await;
    }
    let message = Inputs {
        message: Some("Précisez l'adresse.".into()),
        ..Inputs::default()
    };
    by(
        &db,
        &silent,
        &agent,
        with("echanger", message.clone()),
        start() + days(1),
    )
    .await;
    by(
        &db,
        &held,
        &agent,
        with("mettre_en_attente", message),
        start() + days(2),
    )
    .await;
    by(
        &db,
        &held,
        &agent,
        Action::new("reprendre"),
        start() + days(5),
    )
    .await;
    by(
        &db,
        &held,
        &agent,
        Action::new("accepter"),
        start() + days(6),
    )
    .await;
    let closing = Inputs {
        closing_comment: Some("Lampe remplacée.".into()),
        confirmed: true,
        ..Inputs::default()
    };
    by(
        &db,
        &held,
        &agent,
        with("cloturer", closing),
        start() + days(10),
    )
    .await;
    let refusal = Inputs {
        refusal_type: Some(RefusalType::Refusee),
        justification: Some("Domaine privé.".into()),
        confirmed: true,
        ..Inputs::default()
    };
    by(
        &db,
        &refused,
        &agent,
        with("refuser", refusal),
        start() + days(3),
    )
    .await;
    let confirmed = Inputs {
        confirmed: true,
        ..Inputs::default()
    };
    by(
        &db,
        &abandoned,
        &usager_actor,
        with("abandonner", confirmed),
        start() + days(2),
    )
    .await;
    // Day 16: the 15-day reminders, then the cancellation of the silent
    // one; day 22: the 21-day reminder of the one left.
    run_scheduler(&db, start() + days(16)).await;
    run_scheduler(&db, start() + days(22)).await;

    let kept = columns(&db.url).await;
    let of = |outcome: &Outcome| {
        kept.iter()
            .find(|c| c.0 == outcome.demande.id.to_string())
            .unwrap()
            .clone()
    };
    let day = 86_400_000;
    let taken = start().timestamp_millis();
    assert_eq!(
        of(&held),
        (
            of(&held).0,
            Some(taken),
            Some(taken + 10 * day),
            3 * day,
            Some("processed".into()),
            None,
            Some(7 * day),
            0
        )
    );
    assert_eq!(
        (of(&refused).4, of(&refused).5, of(&refused).6),
        (
            Some("refused".into()),
            Some("refusee".into()),
            Some(3 * day)
        )
    );
    assert_eq!(
        (of(&abandoned).4, of(&abandoned).6),
        (Some("abandoned".into()), None)
    );
    assert_eq!(
        (of(&reminded).2, of(&reminded).7),
        (None, 21),
        "the 15- and 21-day reminders were sent"
    );
    // 15 days without an answer after the exchange of day 1.
    assert_eq!(
        (of(&silent).4, of(&silent).5, of(&silent).6),
        (
            Some("refused".into()),
            Some("absence_reponse_usager".into()),
            Some(16 * day)
        )
    );

    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    conn.execute(
        "UPDATE demandes SET analysis_started_at = NULL, closed_at = NULL, hold_ms = 0, \
         closing = NULL, refusal_type = NULL, processing_ms = NULL, last_reminder = 0",
    )
    .await
    .unwrap();
    conn.execute(backfill(db.kind)).await.unwrap();
    conn.close().await.unwrap();

    let backfilled = columns(&db.url).await;
    let expected: Vec<Columns> = kept
        .iter()
        .cloned()
        .map(|mut c| {
            if c.5.as_deref() == Some("refusee") {
                c.5 = None;
            }
            c
        })
        .collect();
    assert_eq!(backfilled, expected);
}
