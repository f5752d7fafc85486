//! Accounts, sessions and API tokens.

use guichet_store::StoreError;
use guichet_store::account::{NewUser, UserKind};
use guichet_store::session::Secret;

use crate::support::*;

fn agent_named(login: &str) -> NewUser {
    NewUser {
        login: login.to_owned(),
        display_name: "Alex Agent".to_owned(),
        kind: UserKind::Agent,
        profile: Default::default(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$hash".to_owned()),
    }
}

on_both_backends!(
    logins_are_unique_whatever_their_case,
    credentials_give_the_stored_password_hash,
    sessions_expire,
    logout_ends_the_session,
    a_disabled_account_loses_its_sessions,
    profiles_are_kept_for_prefill,
    api_tokens_are_stored_hashed_and_record_their_use,
);

async fn logins_are_unique_whatever_their_case(db: TestDb) {
    db.create_user(agent_named("Alex@Ville.fr"), start())
        .await
        .unwrap();

    let again = db
        .create_user(agent_named(" alex@ville.FR "), start())
        .await;

    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let found = db.user_by_login("ALEX@ville.fr").await.unwrap();
    assert_eq!(found.login, "alex@ville.fr");
    assert_eq!(found.kind, UserKind::Agent);
}

async fn credentials_give_the_stored_password_hash(db: TestDb) {
    let user = db
        .create_user(agent_named("alex@ville.fr"), start())
        .await
        .unwrap();
    db.set_password_hash(user.id, "$argon2id$new")
        .await
        .unwrap();

    let (found, hash) = db.credentials("alex@ville.fr").await.unwrap();

    assert_eq!(found.id, user.id);
    assert_eq!(hash.as_deref(), Some("$argon2id$new"));
    assert!(matches!(
        db.credentials("nobody").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn sessions_expire(db: TestDb) {
    let user = usager(&db).await;
    let session = db.create_session(user, start(), days(1)).await.unwrap();

    let before = db
        .session_user(
            &session.token,
            start() + days(1) - chrono::Duration::seconds(1),
        )
        .await;
    let at_expiry = db.session_user(&session.token, start() + days(1)).await;
    let purged = db.delete_expired_sessions(start() + days(1)).await.unwrap();

    assert_eq!(before.unwrap().id, user);
    assert!(matches!(at_expiry, Err(StoreError::NotFound(_))));
    assert_eq!(purged, 1);
}

async fn logout_ends_the_session(db: TestDb) {
    let user = usager(&db).await;
    let session = db.create_session(user, start(), days(1)).await.unwrap();

    db.delete_session(&session.token).await.unwrap();

    assert!(db.session_user(&session.token, start()).await.is_err());
    assert!(
        db.session_user(&Secret::from_client("forged"), start())
            .await
            .is_err()
    );
}

async fn a_disabled_account_loses_its_sessions(db: TestDb) {
    let user = usager(&db).await;
    let session = db.create_session(user, start(), days(1)).await.unwrap();

    db.set_active(user, false, start()).await.unwrap();

    assert!(db.session_user(&session.token, start()).await.is_err());
    assert!(!db.user(user).await.unwrap().active);
}

async fn profiles_are_kept_for_prefill(db: TestDb) {
    let user = usager(&db).await;
    let profile = guichet_core::profile::Profile {
        first_name: Some("Camille".to_owned()),
        address: Some(home()),
        ..Default::default()
    };

    db.update_profile(user, "Camille", &profile).await.unwrap();

    assert_eq!(db.user(user).await.unwrap().profile, profile);
}

async fn api_tokens_are_stored_hashed_and_record_their_use(db: TestDb) {
    let user = db
        .create_user(agent_named("robot@ville.fr"), start())
        .await
        .unwrap();
    let scopes = vec!["demarches:import".to_owned()];

    let (token, secret) = db
        .create_api_token(user.id, "import", &scopes, start())
        .await
        .unwrap();
    let (owner, used) = db.api_token_user(&secret, start() + days(1)).await.unwrap();

    assert_eq!(owner.id, user.id);
    assert_eq!(used.scopes, scopes);
    assert_eq!(used.last_used_at, Some(start() + days(1)));
    let stored = every_stored_text(&db).await;
    assert!(
        !stored
            .iter()
            .any(|(_, value)| value.contains(secret.expose()))
    );
    db.revoke_api_token(token.id).await.unwrap();
    assert!(db.api_token_user(&secret, start()).await.is_err());
    assert!(db.api_tokens(user.id).await.unwrap().is_empty());
}
