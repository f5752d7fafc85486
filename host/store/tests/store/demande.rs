//! Filing demandes, reading them, and the processing table.

use guichet_core::id::{DemandeId, StatusId};
use std::collections::BTreeSet;

use guichet_core::workflow::deadline::{self, Timer, TimerChange, TimerKind};

use guichet_core::workflow::Action;
use guichet_store::StoreError;
use guichet_store::demande::{ProcessingQuery, ProcessingRow};
use guichet_store::outcome::Extras;

use crate::support::*;

const VELO_SERVICE: &str = "Gest_SVL_DACT_Mobilités";

fn numeros(rows: &[ProcessingRow]) -> Vec<&str> {
    rows.iter().map(|row| row.numero.as_str()).collect()
}

on_both_backends!(
    a_submission_is_stored_with_its_history_jobs_and_timers,
    a_failed_submission_writes_nothing,
    a_refused_submission_takes_no_number,
    numeros_are_unique_under_concurrent_submissions,
    an_usager_lists_only_their_own_demandes,
    the_processing_table_filters_and_sorts_by_deadline,
    a_hold_moves_the_deadline_and_the_late_flag_as_the_core_says,
);

async fn a_submission_is_stored_with_its_history_jobs_and_timers(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;

    let outcome = file_demande(&db, &definition, velo_answers(), owner, start()).await;

    let stored = db.demande(outcome.demande.id).await.unwrap();
    assert_eq!(stored.demande, outcome.demande);
    assert_eq!(stored.revision.0, 1);
    assert_eq!(stored.demande.numero, "ARV-2026-000001");
    assert_eq!(
        db.history(outcome.demande.id).await.unwrap(),
        outcome.history
    );
    let jobs = db.jobs_of(outcome.demande.id).await.unwrap();
    assert_eq!(jobs.len(), outcome.notifications.len());
    assert!(jobs.iter().all(|job| job.kind == "notification"));
    let found = db
        .demande_by_numero(&definition.slug, "ARV-2026-000001")
        .await
        .unwrap();
    assert_eq!(found.demande.id, outcome.demande.id);
}

async fn a_failed_submission_writes_nothing(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let mut outcome = submission(&db, &definition, velo_answers(), owner, start()).await;
    // The last write refers to a demande that does not exist: the
    // demande, its history and its jobs are written before it fails.
    outcome.timers.push(TimerChange::Schedule(Timer {
        kind: TimerKind::Archive,
        demande: DemandeId::from_uuid(uuid::Uuid::new_v4()),
        due_at: start(),
    }));

    let failed = db
        .insert_demande(&outcome, Extras::default(), start())
        .await;

    assert!(failed.is_err());
    let id = outcome.demande.id;
    assert!(matches!(db.demande(id).await, Err(StoreError::NotFound(_))));
    assert!(db.history(id).await.unwrap().is_empty());
    assert!(db.jobs_of(id).await.unwrap().is_empty());
    assert!(
        db.due_timers(start() + days(10_000), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_refused_submission_takes_no_number(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;

    let refused = try_file_demande(&db, &definition, velo_answers(), owner, false, start()).await;
    let filed = file_demande(&db, &definition, velo_answers(), owner, start()).await;

    assert!(matches!(refused, Err(StoreError::Invalid(_))));
    assert_eq!(filed.demande.numero, "ARV-2026-000001");
    let table = db
        .processing_table(&ProcessingQuery::of(vec![definition.slug.clone()]), start())
        .await
        .unwrap();
    assert_eq!(numeros(&table.rows), ["ARV-2026-000001"]);
    assert_eq!(table.total, 1);
}

async fn numeros_are_unique_under_concurrent_submissions(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let owner = usager(&db).await;
    let db = std::sync::Arc::new(db);

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let db = db.clone();
            let definition = definition.clone();
            tokio::spawn(async move {
                file_demande(&db, &definition, velo_answers(), owner, start())
                    .await
                    .demande
                    .numero
            })
        })
        .collect();
    let mut filed = BTreeSet::new();
    for task in tasks {
        filed.insert(task.await.unwrap());
    }

    assert_eq!(filed.len(), 50);
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("ARV-2026-{n:06}")).collect();
    assert_eq!(filed, expected);
    assert_eq!(db.usager_demandes(owner).await.unwrap().len(), 50);
}

async fn an_usager_lists_only_their_own_demandes(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let camille = usager(&db).await;
    let dominique = usager(&db).await;
    let first = file_demande(&db, &definition, velo_answers(), camille, start()).await;
    let second = file_demande(&db, &definition, velo_answers(), camille, start() + days(1)).await;
    file_demande(&db, &definition, velo_answers(), dominique, start()).await;

    let mine = db.usager_demandes(camille).await.unwrap();

    let ids: Vec<DemandeId> = mine.iter().map(|s| s.demande.id).collect();
    assert_eq!(ids, [second.demande.id, first.demande.id]);
}

async fn the_processing_table_filters_and_sorts_by_deadline(db: TestDb) {
    let velo = import(&db, "aide-reparation-velo").await;
    let voirie = import(&db, "signalement-voie-publique").await;
    let owner = usager(&db).await;
    let agent = gestionnaire(usager(&db).await);
    let taken_first = file_demande(&db, &velo, velo_answers(), owner, start()).await;
    let taken_later = file_demande(&db, &velo, velo_answers(), owner, start()).await;
    let waiting = file_demande(&db, &velo, velo_answers(), owner, start()).await;
    file_demande(&db, &voirie, signalement_answers(vec![]), owner, start()).await;
    act(
        &db,
        &taken_later,
        Action::new("prendre_en_compte"),
        &agent,
        start() + days(5),
    )
    .await
    .unwrap();
    act(
        &db,
        &taken_first,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
    )
    .await
    .unwrap();
    let day_30 = start() + days(30);
    let table = |query: ProcessingQuery| {
        let db = &db;
        async move { db.processing_table(&query, day_30).await.unwrap() }
    };
    let all = ProcessingQuery::of(vec![velo.slug.clone()]);

    let page = table(all.clone()).await;
    assert_eq!(page.total, 3);
    assert_eq!(
        numeros(&page.rows),
        ["ARV-2026-000001", "ARV-2026-000002", "ARV-2026-000003"]
    );
    // 27 calendar days in Paris: summer time starts on the 29 March.
    assert_eq!(page.rows[0].deadline, Some(ZONE.add_days(start(), 27)));
    assert_eq!(
        page.rows.iter().map(|r| r.late).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert_eq!(page.rows[2].id, waiting.demande.id);
    let late = table(ProcessingQuery {
        late: Some(true),
        ..all.clone()
    })
    .await;
    assert_eq!(numeros(&late.rows), ["ARV-2026-000001"]);
    let on_time = table(ProcessingQuery {
        late: Some(false),
        ..all.clone()
    })
    .await;
    assert_eq!(
        numeros(&on_time.rows),
        ["ARV-2026-000002", "ARV-2026-000003"]
    );
    let transmises = table(ProcessingQuery {
        statuses: vec![StatusId::from("transmise")],
        ..all.clone()
    })
    .await;
    assert_eq!(numeros(&transmises.rows), ["ARV-2026-000003"]);
    let by_service = table(ProcessingQuery {
        service: Some(group(VELO_SERVICE)),
        ..all.clone()
    })
    .await;
    assert_eq!(by_service.total, 3);
    let other_service = table(ProcessingQuery {
        service: Some(group("Gest_SVL_DTE_Voirie")),
        ..all.clone()
    })
    .await;
    assert_eq!(other_service.total, 0);
    let second_page = table(ProcessingQuery {
        offset: 2,
        limit: 2,
        ..all.clone()
    })
    .await;
    assert_eq!(
        (second_page.total, numeros(&second_page.rows)),
        (3, vec!["ARV-2026-000003"])
    );
    let both = table(ProcessingQuery::of(vec![
        velo.slug.clone(),
        voirie.slug.clone(),
    ]))
    .await;
    assert_eq!(both.total, 4);
    assert_eq!(table(ProcessingQuery::of(vec![])).await.total, 0);
}

async fn a_hold_moves_the_deadline_and_the_late_flag_as_the_core_says(db: TestDb) {
    let voirie = import(&db, "signalement-voie-publique").await;
    let workflow = voirie.workflow();
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(
        &db,
        &voirie,
        signalement_answers(vec![]),
        usager(&db).await,
        start(),
    )
    .await;
    act(&db, &filed, Action::new("receptionner"), &agent, start())
        .await
        .unwrap();
    act(
        &db,
        &filed,
        Action::new("mettre_en_attente"),
        &agent,
        start() + days(20),
    )
    .await
    .unwrap();
    let query = ProcessingQuery::of(vec![voirie.slug.clone()]);

    for day in [21, 30, 40] {
        let now = start() + days(day);
        let row = db
            .processing_table(&query, now)
            .await
            .unwrap()
            .rows
            .remove(0);
        let demande = db.demande(filed.demande.id).await.unwrap().demande;
        assert_eq!(
            row.deadline,
            deadline::processing_deadline(&workflow, &demande, now, ZONE),
            "day {day}"
        );
        assert_eq!(
            row.late,
            deadline::is_late(&workflow, &demande, now, ZONE),
            "day {day}"
        );
    }
    act(
        &db,
        &filed,
        Action::new("reprendre"),
        &agent,
        start() + days(40),
    )
    .await
    .unwrap();
    let demande = db.demande(filed.demande.id).await.unwrap().demande;
    for day in [46, 48] {
        let now = start() + days(day);
        let row = db
            .processing_table(&query, now)
            .await
            .unwrap()
            .rows
            .remove(0);
        assert_eq!(
            row.deadline,
            Some(ZONE.add_days(start(), 27) + days(20)),
            "day {day}: 27 calendar days and 20 days on hold"
        );
        assert_eq!(
            row.late,
            deadline::is_late(&workflow, &demande, now, ZONE),
            "day {day}"
        );
        let late_only = ProcessingQuery {
            late: Some(true),
            ..query.clone()
        };
        assert_eq!(
            db.processing_table(&late_only, now).await.unwrap().total,
            u64::from(row.late)
        );
    }
}
