//! Timers: read by due date, claimed once, deleted with their outcome.

use guichet_core::workflow::Action;
use guichet_core::workflow::deadline::{Timer, TimerChange, TimerKind};

use crate::support::*;

on_both_backends!(
    due_timers_returns_only_due_ones_in_due_order,
    a_claimed_timer_is_not_claimed_again_until_its_lease_ends,
    firing_a_timer_deletes_it_with_its_outcome,
    a_timer_rescheduled_meanwhile_survives_the_deletion_of_the_fired_one,
    the_scheduler_drops_stale_timers,
);

async fn due_timers_returns_only_due_ones_in_due_order(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let agent = gestionnaire(usager(&db).await);
    let early = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let late = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    act(
        &db,
        &late,
        Action::new("prendre_en_compte"),
        &agent,
        start() + days(3),
    )
    .await
    .unwrap();
    act(
        &db,
        &early,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
    )
    .await
    .unwrap();

    let due = db.due_timers(start() + days(21), 100).await.unwrap();
    let limited = db.due_timers(start() + days(21), 2).await.unwrap();

    let seen: Vec<(bool, TimerKind)> = due
        .iter()
        .map(|t| (t.demande == early.demande.id, t.kind))
        .collect();
    assert_eq!(
        seen,
        [
            (true, TimerKind::Reminder { days: 15 }),
            (false, TimerKind::Reminder { days: 15 }),
            (true, TimerKind::Reminder { days: 21 }),
        ]
    );
    assert_eq!(limited, due[..2]);
    assert!(
        db.due_timers(start() + days(14), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_claimed_timer_is_not_claimed_again_until_its_lease_ends(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    act(
        &db,
        &filed,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
    )
    .await
    .unwrap();
    let day_15 = start() + days(15);

    let first = db.claim_timers("host-a", day_15, 10).await.unwrap();
    let second = db.claim_timers("host-b", day_15, 10).await.unwrap();
    let after_lease = db
        .claim_timers("host-b", day_15 + guichet_store::timer::TIMER_LEASE, 10)
        .await
        .unwrap();

    assert_eq!(first.len(), 1);
    assert!(second.is_empty());
    assert_eq!(after_lease, first);
}

async fn firing_a_timer_deletes_it_with_its_outcome(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    act(
        &db,
        &filed,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
    )
    .await
    .unwrap();

    let fired = run_scheduler(&db, start() + days(15)).await;

    assert_eq!(fired, ["reminder_15"]);
    let left: Vec<TimerKind> = db
        .timers_of(filed.demande.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(
        left,
        [TimerKind::Reminder { days: 21 }, TimerKind::Deadline]
    );
    let demande = db.demande(filed.demande.id).await.unwrap().demande;
    assert_eq!(demande.reminders_sent, [15]);
}

async fn a_timer_rescheduled_meanwhile_survives_the_deletion_of_the_fired_one(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let id = filed.demande.id;
    let claimed = Timer {
        kind: TimerKind::Archive,
        demande: id,
        due_at: start() + days(1),
    };
    let stored = db.demande(id).await.unwrap();
    let mut moved = filed.clone();
    moved.history.clear();
    moved.notifications.clear();
    moved.timers = vec![TimerChange::Schedule(claimed)];
    let revision = db
        .apply_outcome(&moved, stored.revision, Default::default(), start())
        .await
        .unwrap();
    moved.timers = vec![TimerChange::Schedule(Timer {
        due_at: start() + days(9),
        ..claimed
    })];
    db.apply_outcome(&moved, revision, Default::default(), start())
        .await
        .unwrap();

    let deleted = db.delete_timer(&claimed).await.unwrap();

    assert!(!deleted);
    assert_eq!(db.timers_of(id).await.unwrap()[0].due_at, start() + days(9));
}

async fn the_scheduler_drops_stale_timers(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let id = filed.demande.id;
    let stale = Timer {
        kind: TimerKind::Archive,
        demande: id,
        due_at: start() + days(1),
    };
    let stored = db.demande(id).await.unwrap();
    let mut with_stale = filed.clone();
    with_stale.history.clear();
    with_stale.notifications.clear();
    with_stale.timers = vec![TimerChange::Schedule(stale)];
    db.apply_outcome(&with_stale, stored.revision, Default::default(), start())
        .await
        .unwrap();
    act(
        &db,
        &filed,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
    )
    .await
    .unwrap();

    let fired = run_scheduler(&db, start() + days(2)).await;

    assert!(fired.is_empty());
    assert!(
        db.due_timers(start() + days(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
