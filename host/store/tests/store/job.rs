//! The outbox: claim, complete, fail and retry; one job to one worker.

use std::collections::BTreeSet;

use guichet_store::StoreError;
use guichet_store::job::{Completion, JOB_LEASE, JobId, JobStatus, JobSuccess, NewJob};

use crate::support::*;

fn mail(n: u32) -> NewJob {
    NewJob {
        kind: "mail".to_owned(),
        demande: None,
        payload: serde_json::json!({ "n": n }),
        run_at: start(),
    }
}

on_both_backends!(
    a_job_is_claimed_then_completed,
    a_job_is_not_claimed_before_it_is_due,
    a_failed_attempt_is_retried_and_counted_then_fails_for_good,
    only_the_worker_holding_a_job_settles_it,
    a_job_whose_worker_died_is_claimed_again_after_its_lease,
    two_concurrent_claimers_never_get_the_same_job,
    a_worker_claims_only_the_kinds_it_runs,
    a_released_job_comes_back_when_due_without_an_attempt_counted,
    an_abandoned_job_leaves_the_failed_jobs_for_good,
    successes_recorded_together_answer_each_job_on_its_own,
);

async fn an_abandoned_job_leaves_the_failed_jobs_for_good(db: TestDb) {
    let id = db.enqueue(mail(1), start()).await.unwrap();
    let pending = db.abandon_job(id, "admin@ville.test", None, start()).await;
    db.claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();
    db.fail_job(id, "worker-a", "adresse refusée", None, start())
        .await
        .unwrap();

    db.abandon_job(id, "admin@ville.test", None, start() + days(1))
        .await
        .unwrap();

    assert!(
        matches!(pending, Err(StoreError::NotFound(_))),
        "{pending:?}"
    );
    let job = db.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Abandoned);
    assert_eq!(job.abandoned_by.as_deref(), Some("admin@ville.test"));
    assert_eq!(job.abandoned_at, Some(start() + days(1)));
    assert!(db.failed_jobs(10).await.unwrap().is_empty());
    assert!(matches!(
        db.retry_job(id, start() + days(2)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        db.claim_jobs("worker-a", &["mail"], start() + days(3), 10)
            .await
            .unwrap()
            .is_empty(),
        "never run again"
    );
}

async fn a_released_job_comes_back_when_due_without_an_attempt_counted(db: TestDb) {
    let id = db.enqueue(mail(1), start()).await.unwrap();
    db.claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();

    let stranger = db
        .release_job(id, "worker-b", start() + days(1), start())
        .await;
    db.release_job(id, "worker-a", start() + days(1), start())
        .await
        .unwrap();

    assert!(matches!(stranger, Err(StoreError::Conflict(_))));
    let job = db.job(id).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Pending, 0));
    assert!(
        db.claim_jobs("worker-a", &["mail"], start(), 10)
            .await
            .unwrap()
            .is_empty(),
        "not before it is due"
    );
    let again = db
        .claim_jobs("worker-a", &["mail"], start() + days(1), 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 1);
}

async fn a_worker_claims_only_the_kinds_it_runs(db: TestDb) {
    let queued_mail = db.enqueue(mail(1), start()).await.unwrap();
    let call = db
        .enqueue(
            NewJob {
                kind: "connector.transmit".to_owned(),
                ..mail(2)
            },
            start(),
        )
        .await
        .unwrap();

    let calls = db
        .claim_jobs("worker-a", &["connector.transmit"], start(), 10)
        .await
        .unwrap();
    let none = db.claim_jobs("worker-a", &[], start(), 10).await.unwrap();

    assert_eq!(calls.iter().map(|j| j.id).collect::<Vec<_>>(), [call]);
    assert!(none.is_empty());
    assert_eq!(
        db.job(queued_mail).await.unwrap().status,
        JobStatus::Pending
    );
}

async fn a_job_is_claimed_then_completed(db: TestDb) {
    let id = db.enqueue(mail(1), start()).await.unwrap();

    let claimed = db
        .claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();
    db.complete_job(id, "worker-a", start()).await.unwrap();

    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].id, claimed[0].attempts, claimed[0].status),
        (id, 1, JobStatus::Running)
    );
    assert_eq!(claimed[0].payload, serde_json::json!({ "n": 1 }));
    assert_eq!(db.job(id).await.unwrap().status, JobStatus::Done);
    assert!(
        db.claim_jobs("worker-a", &["mail"], start() + days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_job_is_not_claimed_before_it_is_due(db: TestDb) {
    let later = NewJob {
        run_at: start() + days(1),
        ..mail(1)
    };
    db.enqueue(later, start()).await.unwrap();

    assert!(
        db.claim_jobs("worker-a", &["mail"], start(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.claim_jobs("worker-a", &["mail"], start() + days(1), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_failed_attempt_is_retried_and_counted_then_fails_for_good(db: TestDb) {
    let id = db.enqueue(mail(1), start()).await.unwrap();
    db.claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();

    db.fail_job(
        id,
        "worker-a",
        "SMTP indisponible",
        Some(start() + days(1)),
        start(),
    )
    .await
    .unwrap();
    assert!(
        db.claim_jobs("worker-a", &["mail"], start(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = db
        .claim_jobs("worker-a", &["mail"], start() + days(1), 10)
        .await
        .unwrap();
    db.fail_job(id, "worker-a", "adresse refusée", None, start() + days(1))
        .await
        .unwrap();

    assert_eq!(retried[0].attempts, 2);
    assert_eq!(retried[0].last_error.as_deref(), Some("SMTP indisponible"));
    let failed = db.failed_jobs(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].id, failed[0].attempts), (id, 2));
    assert_eq!(failed[0].last_error.as_deref(), Some("adresse refusée"));
    db.retry_job(id, start() + days(2)).await.unwrap();
    assert_eq!(db.job(id).await.unwrap().status, JobStatus::Pending);
}

async fn only_the_worker_holding_a_job_settles_it(db: TestDb) {
    let id = db.enqueue(mail(1), start()).await.unwrap();
    db.claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();

    let intruder = db.complete_job(id, "worker-b", start()).await;
    let unknown = db
        .complete_job(JobId(uuid::Uuid::new_v4()), "worker-a", start())
        .await;

    assert!(
        matches!(intruder, Err(StoreError::Conflict(_))),
        "{intruder:?}"
    );
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
}

async fn a_job_whose_worker_died_is_claimed_again_after_its_lease(db: TestDb) {
    let id = db.enqueue(mail(1), start()).await.unwrap();
    db.claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();

    let during = db
        .claim_jobs(
            "worker-b",
            &["mail"],
            start() + JOB_LEASE - chrono::Duration::seconds(1),
            10,
        )
        .await
        .unwrap();
    let after = db
        .claim_jobs("worker-b", &["mail"], start() + JOB_LEASE, 10)
        .await
        .unwrap();

    assert!(during.is_empty());
    assert_eq!((after[0].id, after[0].attempts), (id, 2));
    assert!(
        db.complete_job(id, "worker-a", start() + JOB_LEASE)
            .await
            .is_err()
    );
    db.complete_job(id, "worker-b", start() + JOB_LEASE)
        .await
        .unwrap();
}

async fn two_concurrent_claimers_never_get_the_same_job(db: TestDb) {
    for n in 0..200 {
        db.enqueue(mail(n), start()).await.unwrap();
    }
    let db = std::sync::Arc::new(db);

    let workers: Vec<_> = ["worker-a", "worker-b"]
        .into_iter()
        .map(|worker| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = db.claim_jobs(worker, &["mail"], start(), 7).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    for job in batch {
                        db.complete_job(job.id, worker, start()).await.unwrap();
                        mine.push(job.id);
                    }
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }

    let distinct: BTreeSet<JobId> = all.iter().copied().collect();
    assert_eq!(all.len(), 200);
    assert_eq!(distinct.len(), 200);
}

async fn successes_recorded_together_answer_each_job_on_its_own(db: TestDb) {
    let held = db.enqueue(mail(1), start()).await.unwrap();
    let also_held = db.enqueue(mail(2), start()).await.unwrap();
    let taken_back = db
        .enqueue(
            NewJob {
                kind: "sms".to_owned(),
                ..mail(3)
            },
            start(),
        )
        .await
        .unwrap();
    db.claim_jobs("worker-a", &["mail"], start(), 10)
        .await
        .unwrap();
    // Another worker holds the third.
    db.claim_jobs("worker-b", &["sms"], start(), 10)
        .await
        .unwrap();
    let success = |id| JobSuccess {
        id,
        calls: Vec::new(),
        completion: Completion::default(),
    };

    let answers = db
        .complete_jobs_with(
            "worker-a",
            start(),
            &[
                success(held),
                success(taken_back),
                success(JobId(uuid::Uuid::new_v4())),
                success(also_held),
            ],
        )
        .await
        .unwrap();

    assert!(answers[0].is_ok() && answers[3].is_ok(), "{answers:?}");
    assert!(
        matches!(answers[1], Err(StoreError::Conflict(_))),
        "{answers:?}"
    );
    assert!(
        matches!(answers[2], Err(StoreError::NotFound(_))),
        "{answers:?}"
    );
    assert_eq!(db.job(held).await.unwrap().status, JobStatus::Done);
    assert_eq!(db.job(also_held).await.unwrap().status, JobStatus::Done);
    let other = db.job(taken_back).await.unwrap();
    assert_eq!(other.status, JobStatus::Running, "still worker-b's");
}
