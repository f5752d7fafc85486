//! Groups, members, grants and the rights they give.
use guichet_core::id::Slug;

use guichet_core::role::{Grant, Right, Scope};
use guichet_store::StoreError;
use guichet_store::account::UserKind;

use crate::support::*;

on_both_backends!(
    rights_come_from_the_groups_granted_on_the_demarche,
    revoking_a_grant_or_a_membership_removes_the_rights,
    a_group_exists_once,
    membership_of_an_unknown_account_is_refused,
);

async fn rights_come_from_the_groups_granted_on_the_demarche(db: TestDb) {
    let agent = account(&db, "agent@ville.fr", UserKind::Agent).await;
    let velo = Slug::from("aide-reparation-velo".to_owned());
    let voirie = Slug::from("signalement-voie-publique".to_owned());
    for name in [
        "Gest_SVL_DACT_Mobilités",
        "Obs_SVL_DGS_GRU",
        "Gest_SVL_DTE_Voirie",
    ] {
        db.create_group(&group(name), start()).await.unwrap();
    }
    db.add_member(&group("Gest_SVL_DACT_Mobilités"), agent)
        .await
        .unwrap();
    db.add_member(&group("Obs_SVL_DGS_GRU"), agent)
        .await
        .unwrap();
    let grants = [
        Grant {
            group: group("Gest_SVL_DACT_Mobilités"),
            scope: Scope::Demarche(velo.clone()),
        },
        Grant {
            group: group("Obs_SVL_DGS_GRU"),
            scope: Scope::All,
        },
        Grant {
            group: group("Gest_SVL_DTE_Voirie"),
            scope: Scope::Demarche(voirie.clone()),
        },
    ];
    for grant in &grants {
        db.grant(grant, start()).await.unwrap();
    }

    let access = db.access(agent).await.unwrap();

    assert!(access.rights(&velo).contains(Right::Process));
    assert!(!access.rights(&voirie).contains(Right::Process));
    assert!(access.rights(&voirie).contains(Right::Read));
    assert_eq!(access.grants.len(), 2);
    assert_eq!(db.grants().await.unwrap().len(), 3);
}

async fn revoking_a_grant_or_a_membership_removes_the_rights(db: TestDb) {
    let agent = account(&db, "agent@ville.fr", UserKind::Agent).await;
    let velo = Slug::from("aide-reparation-velo".to_owned());
    let gest = group("Gest_SVL_DACT_Mobilités");
    db.create_group(&gest, start()).await.unwrap();
    db.add_member(&gest, agent).await.unwrap();
    db.add_member(&gest, agent).await.unwrap();
    let grant = Grant {
        group: gest.clone(),
        scope: Scope::Demarche(velo.clone()),
    };
    db.grant(&grant, start()).await.unwrap();
    db.grant(&grant, start()).await.unwrap();
    assert_eq!(db.members(&gest).await.unwrap(), [agent]);

    db.revoke(&grant).await.unwrap();

    assert!(db.access(agent).await.unwrap().rights(&velo).is_empty());
    db.remove_member(&gest, agent).await.unwrap();
    assert!(db.groups_of(agent).await.unwrap().is_empty());
    assert!(matches!(
        db.revoke(&grant).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_group_exists_once(db: TestDb) {
    db.create_group(&group("Gest_SVL_DACT_Mobilités"), start())
        .await
        .unwrap();

    let again = db
        .create_group(&group("Gest_SVL_DACT_Mobilite\u{301}s"), start())
        .await;

    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        db.groups().await.unwrap(),
        [group("Gest_SVL_DACT_Mobilités")]
    );
    db.delete_group(&group("Gest_SVL_DACT_Mobilités"))
        .await
        .unwrap();
    assert!(db.groups().await.unwrap().is_empty());
}

async fn membership_of_an_unknown_account_is_refused(db: TestDb) {
    db.create_group(&group("Gest_SVL_DACT_Mobilités"), start())
        .await
        .unwrap();

    let refused = db
        .add_member(
            &group("Gest_SVL_DACT_Mobilités"),
            guichet_core::id::UserId::from_uuid(uuid::Uuid::new_v4()),
        )
        .await;

    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
}
