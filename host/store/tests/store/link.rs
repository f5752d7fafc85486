//! Account links: one per account and instance, replaced by a new link,
//! removed by the usager, gone with the account; and how the platform uses
//! an instance, kept apart from the instance's rewrites.

use guichet_core::id::UserId;
use guichet_store::account::UserKind;
use guichet_store::link::AccountLink;
use guichet_store::registry::{InstanceUse, LinkSource};
use sqlx::Connection;

use crate::support::*;

on_both_backends!(
    a_link_is_kept_per_account_and_instance_and_replaced_by_a_new_one,
    a_removed_link_is_gone_and_removing_it_again_says_so,
    links_are_gone_with_the_account,
    a_link_to_an_unknown_account_is_refused,
    an_instance_use_is_read_back_and_defaults_to_nothing,
);

const FAMILLE: &str = "espace-famille-ville";

fn link(account: UserId, instance: &str, remote_id: &str) -> AccountLink {
    AccountLink {
        account,
        instance: instance.to_owned(),
        remote_id: remote_id.to_owned(),
        label: format!("Famille {remote_id}"),
        linked_by: None,
        created_at: start(),
    }
}

async fn a_link_is_kept_per_account_and_instance_and_replaced_by_a_new_one(db: TestDb) {
    let camille = usager(&db).await;
    let other = usager(&db).await;
    let agent = account(&db, "agent@ville.test", UserKind::Agent).await;

    db.save_account_link(&link(camille, FAMILLE, "F-0001"))
        .await
        .unwrap();
    db.save_account_link(&link(camille, "atal-ville", "T-1"))
        .await
        .unwrap();
    db.save_account_link(&link(other, FAMILLE, "F-0003"))
        .await
        .unwrap();
    let by_agent = AccountLink {
        linked_by: Some(agent),
        ..link(camille, FAMILLE, "F-0002")
    };
    db.save_account_link(&by_agent).await.unwrap();

    let mine = db.account_links(camille).await.unwrap();
    assert_eq!(
        mine,
        vec![link(camille, "atal-ville", "T-1"), by_agent.clone()]
    );
    assert_eq!(
        db.account_link(camille, FAMILLE).await.unwrap(),
        Some(by_agent)
    );
    assert_eq!(
        db.account_link(other, FAMILLE)
            .await
            .unwrap()
            .unwrap()
            .remote_id,
        "F-0003"
    );
}

async fn a_removed_link_is_gone_and_removing_it_again_says_so(db: TestDb) {
    let camille = usager(&db).await;
    db.save_account_link(&link(camille, FAMILLE, "F-0002"))
        .await
        .unwrap();

    assert!(db.delete_account_link(camille, FAMILLE).await.unwrap());
    assert!(!db.delete_account_link(camille, FAMILLE).await.unwrap());
    assert_eq!(db.account_link(camille, FAMILLE).await.unwrap(), None);
    assert!(db.account_links(camille).await.unwrap().is_empty());
}

async fn links_are_gone_with_the_account(db: TestDb) {
    let camille = usager(&db).await;
    let agent = account(&db, "agent@ville.test", UserKind::Agent).await;
    let other = usager(&db).await;
    db.save_account_link(&link(camille, FAMILLE, "F-0002"))
        .await
        .unwrap();
    db.save_account_link(&AccountLink {
        linked_by: Some(agent),
        ..link(other, FAMILLE, "F-0003")
    })
    .await
    .unwrap();

    // No use case deletes an account yet: the database's own rule is
    // what removes the links with it.
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    for id in [camille, agent] {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();

    assert!(db.account_links(camille).await.unwrap().is_empty());
    let kept = db.account_link(other, FAMILLE).await.unwrap().unwrap();
    assert_eq!(kept.linked_by, None, "the agent's account is gone");
    assert!(
        every_stored_text(&db)
            .await
            .iter()
            .all(|(_, text)| !text.contains("F-0002")),
        "nothing of the link remains"
    );
}

async fn a_link_to_an_unknown_account_is_refused(db: TestDb) {
    let nobody = UserId::from_uuid(uuid::Uuid::new_v4());
    let refused = db.save_account_link(&link(nobody, FAMILLE, "F-0002")).await;
    assert!(
        matches!(refused, Err(guichet_store::StoreError::Invalid(_))),
        "{refused:?}"
    );
}

async fn an_instance_use_is_read_back_and_defaults_to_nothing(db: TestDb) {
    assert_eq!(
        db.instance_use(FAMILLE).await.unwrap(),
        InstanceUse::default()
    );
    let uses = InstanceUse {
        link: Some(LinkSource {
            source: "family-link".to_owned(),
            usager_params: vec!["family-code".to_owned(), "secret".to_owned()],
        }),
        sync_every_minutes: Some(5),
    };
    db.save_instance_use(FAMILLE, &uses, start()).await.unwrap();
    assert_eq!(db.instance_use(FAMILLE).await.unwrap(), uses);

    db.save_instance_use(FAMILLE, &InstanceUse::default(), start())
        .await
        .unwrap();
    assert_eq!(
        db.instance_use(FAMILLE).await.unwrap(),
        InstanceUse::default()
    );
    assert_eq!(
        db.instance_use("atal-ville").await.unwrap(),
        InstanceUse::default()
    );
}
