//! The counts behind the back office's charts: a time to process on a
//! bucket's bound counts in the bucket above it, a closing on a period's
//! bound in the period after it, and only the closings of the scope and
//! the period with a time to process are counted.

use chrono::{DateTime, TimeZone, Utc};
use guichet_core::id::Slug;
use guichet_store::statistics::{DeadlineCount, StatisticsScope};
use sqlx::Connection;

use crate::support::*;

on_both_backends!(closings_are_counted_by_bucket_of_time_and_by_period);

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

/// Sets what the statistics read of a closing: its instant, its time to
/// process (none for an abandon) and its deadline.
async fn closed(
    url: &str,
    numero: &str,
    at: DateTime<Utc>,
    processing: Option<chrono::Duration>,
    deadline: DateTime<Utc>,
) {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query(
        "UPDATE demandes SET closed_at = $1, processing_ms = $2, processing_deadline = $3 \
         WHERE numero = $4",
    )
    .bind(at.timestamp_millis())
    .bind(processing.map(|d| d.num_milliseconds()))
    .bind(deadline.timestamp_millis())
    .bind(numero.to_owned())
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn closings_are_counted_by_bucket_of_time_and_by_period(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let owner = usager(&db).await;
    let mut numeros = Vec::new();
    for _ in 0..5 {
        let filed = file_demande(
            &db,
            &definition,
            signalement_answers(vec![]),
            owner,
            start(),
        )
        .await;
        numeros.push(filed.demande.numero);
    }
    // 1 April 2026, 00:00 in Paris (summer time).
    let april = utc(2026, 3, 31, 22);
    let deadline = start() + days(27);
    // Within its deadline: 2 days; exactly 3 days.
    closed(
        &db.url,
        &numeros[0],
        start() + days(2),
        Some(days(2)),
        deadline,
    )
    .await;
    closed(
        &db.url,
        &numeros[1],
        start() + days(3),
        Some(days(3)),
        deadline,
    )
    .await;
    // Past its deadline, closed on the first instant of April: 27 days
    // and a millisecond.
    let late = days(27) + chrono::Duration::milliseconds(1);
    closed(&db.url, &numeros[2], april, Some(late), deadline).await;
    // An abandon (no time) in March; a closing in May (out of the period).
    closed(&db.url, &numeros[3], start() + days(4), None, deadline).await;
    closed(
        &db.url,
        &numeros[4],
        utc(2026, 5, 4, 9),
        Some(days(60)),
        deadline,
    )
    .await;

    let scope = StatisticsScope {
        demarches: vec![Slug::from("signalement-voie-publique".to_owned())],
        service: None,
    };
    let bounds = [3, 7, 14, 21, 27, 42].map(days);
    let march_first = utc(2026, 2, 28, 23);
    let may_first = utc(2026, 4, 30, 22);
    let histogram = db
        .store
        .processing_histogram(&scope, march_first, may_first, &bounds)
        .await
        .unwrap();
    assert_eq!(histogram, vec![1, 1, 0, 0, 0, 1, 0]);
    let months = db
        .store
        .deadline_by_period(&scope, &[march_first, april, may_first])
        .await
        .unwrap();
    assert_eq!(
        months,
        vec![
            DeadlineCount {
                measured: 2,
                within: 2
            },
            DeadlineCount {
                measured: 1,
                within: 0
            },
        ]
    );
    // Fewer than two bounds: no period.
    assert!(
        db.store
            .deadline_by_period(&scope, &[april])
            .await
            .unwrap()
            .is_empty()
    );
    // Another démarche's scope counts nothing.
    let other = StatisticsScope {
        demarches: vec![Slug::from("aide-reparation-velo".to_owned())],
        service: None,
    };
    let nothing = db
        .store
        .processing_histogram(&other, march_first, may_first, &bounds)
        .await
        .unwrap();
    assert_eq!(nothing, vec![0; 7]);
}
