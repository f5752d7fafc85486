//! A fresh database per test on each backend, fixtures, and the few steps
//! the host will take (file a demande, run an action, run the scheduler).
//!
//! [`on_both_backends!`] runs each listed `async fn name(db: TestDb)` as two
//! tests, `name::sqlite` and `name::postgres`. SQLite gets a new file in
//! a temporary directory; PostgreSQL a new database `guichet_test_<uuid>`
//! created through `postgres://postgres@127.0.0.1:5432/postgres` (or
//! `GUICHET_TEST_POSTGRES`) and dropped at the end. An unreachable
//! PostgreSQL fails the test loudly, unless `GUICHET_SKIP_POSTGRES=1` says
//! to skip that half on purpose.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use futures::FutureExt;
use guichet_core::actor::Actor;
use guichet_core::calendar::Zone;
use guichet_core::demande::DemarcheRef;
use guichet_core::id::{FieldId, FileId, UserId};
use guichet_core::workflow::deadline;

use guichet_core::demarche::Definition;
use guichet_core::field::Choice;
use guichet_core::file::{FileRef, MediaType};
use guichet_core::profile::Profile;
use guichet_core::role::{GroupName, Role};
use guichet_core::submission::{self, Filer, Filing};
use guichet_core::value::{Address, Answers, Value};
use guichet_core::workflow::{self, Action, Outcome, WorkflowError};
use guichet_store::account::{NewUser, UserKind};
use guichet_store::demande::Revision;
use guichet_store::demarche::{DefinitionSource, SourceFormat};
use guichet_store::outcome::Extras;
use guichet_store::{FileStore, Store, StoreError};
use guichet_testdb::TestDatabase;
use uuid::Uuid;

/// Runs each named `async fn(TestDb)` on SQLite and on PostgreSQL, as the
/// tests `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Kind::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Kind::Postgres, super::$name).await;
            }
        }
    )+};
}
pub(crate) use on_both_backends;

/// The backend of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A store on a fresh database, with what a test needs to look underneath.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub files_dir: PathBuf,
    pub kind: Kind,
}

impl Deref for TestDb {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

/// Runs a test body on a fresh database of `kind`, then removes it (also
/// when the body panics, whose panic is then resumed).
pub async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = TestDatabase::create(kind == Kind::Postgres, "store").await else {
        return;
    };
    let url = database.url.clone();
    let files_dir = database.files_dir();
    let store = Store::connect(&url, FileStore::new(&files_dir))
        .await
        .unwrap_or_else(|e| panic!("{kind:?} store at {url}: {e}"));
    let db = TestDb {
        store: store.clone(),
        url,
        files_dir,
        kind,
    };
    let outcome = AssertUnwindSafe(body(db)).catch_unwind().await;
    store.close().await;
    database.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Every text value of every column of every table, to look for what must
/// not remain.
pub async fn every_stored_text(db: &TestDb) -> Vec<(String, String)> {
    guichet_testdb::every_stored_text(&db.url).await
}

/// The collectivité's time zone of these tests (the store's default).
pub const ZONE: Zone = Zone::PARIS;

/// Monday 2 March 2026, 9:00 UTC.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn today() -> NaiveDate {
    start().date_naive()
}

/// Reads an example definition from `examples/demarches/` with its text.
pub fn example(name: &str) -> (Definition, DefinitionSource) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/demarches")
        .join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(path).unwrap();
    let definition = Definition::from_yaml(&text).unwrap();
    let source = DefinitionSource {
        format: SourceFormat::Yaml,
        text,
    };
    (definition, source)
}

/// Imports an example and returns its definition.
pub async fn import(db: &TestDb, name: &str) -> Definition {
    let (definition, source) = example(name);
    db.import_demarche(&definition, &source, start())
        .await
        .unwrap();
    definition
}

/// Version 1 of an imported démarche.
pub fn first_version(definition: &Definition) -> guichet_core::demande::DemarcheRef {
    guichet_core::demande::DemarcheRef {
        slug: definition.slug.clone(),
        version: 1,
    }
}

/// The vélo démarche imported, a new usager, and their draft holding
/// [`velo_answers`].
pub async fn velo_draft(db: &TestDb) -> (Definition, UserId, guichet_store::draft::Draft) {
    let definition = import(db, "aide-reparation-velo").await;
    let owner = usager(db).await;
    let draft = db
        .create_draft(owner, &first_version(&definition), velo_answers(), start())
        .await
        .unwrap();
    (definition, owner, draft)
}

/// A JSON source for a definition built in a test.
pub fn json_source(definition: &Definition) -> DefinitionSource {
    DefinitionSource {
        format: SourceFormat::Json,
        text: serde_json::to_string(definition).unwrap(),
    }
}

pub fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

/// Creates an account.
pub async fn account(db: &TestDb, login: &str, kind: UserKind) -> UserId {
    db.create_user(
        NewUser {
            login: login.to_owned(),
            display_name: login.to_owned(),
            kind,
            profile: Profile::default(),
            password_hash: Some("$argon2id$v=19$fake".to_owned()),
        },
        start(),
    )
    .await
    .unwrap()
    .id
}

pub async fn usager(db: &TestDb) -> UserId {
    account(
        db,
        &format!("usager-{}@exemple.test", Uuid::new_v4()),
        UserKind::Usager,
    )
    .await
}

pub fn gestionnaire(id: UserId) -> Actor {
    Actor::Agent {
        id,
        rights: Role::Gestionnaire.rights(),
    }
}

pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

pub fn choice(s: &str) -> Value {
    Value::Choice(s.to_owned())
}

pub fn answers(pairs: Vec<(&str, Value)>) -> Answers {
    pairs
        .into_iter()
        .map(|(id, value)| (FieldId::from(id), value))
        .collect()
}

pub fn file_ref(n: u128, media_type: MediaType) -> FileRef {
    FileRef {
        id: FileId::from_uuid(Uuid::from_u128(1000 + n)),
        name: format!("piece-{n}.{}", media_type.extension()),
        media_type,
        size: 1000,
    }
}

pub fn home() -> Address {
    Address {
        street: "12 rue de la République".into(),
        complement: None,
        postcode: "13001".into(),
        city: "Marseille".into(),
        label: None,
        latitude: Some(43.2965),
        longitude: Some(5.3698),
    }
}

/// Valid answers for the bike repair démarche.
pub fn velo_answers() -> Answers {
    answers(vec![
        ("prenom", text("Camille")),
        ("nom", text("Martin")),
        ("courriel", text("camille.martin@exemple.fr")),
        ("telephone", text("0612345678")),
        ("adresse", Value::Address(home())),
        ("type_velo", choice("electrique")),
        (
            "date_reparation",
            Value::Date(NaiveDate::from_ymd_opt(2026, 2, 20).unwrap()),
        ),
        ("reparateur", text("Cycles du Vieux-Port")),
        ("montant", Value::Number(86.5)),
        ("facture", Value::Files(vec![file_ref(1, MediaType::Pdf)])),
        ("titulaire_compte", text("Camille Martin")),
        ("iban", text("FR7630006000011234567890189")),
        ("attestation", Value::Checkbox(true)),
    ])
}

/// Valid answers for the signalement démarche, with these photos.
pub fn signalement_answers(photos: Vec<FileRef>) -> Answers {
    answers(vec![
        ("objet", text("Lampadaire éteint")),
        ("categorie", choice("eclairage")),
        (
            "description",
            text("Le lampadaire devant l'école est éteint depuis une semaine."),
        ),
        ("localisation", Value::Address(home())),
        ("photos", Value::Files(photos)),
        ("prenom", text("Camille")),
        ("nom", text("Martin")),
        ("courriel", text("camille.martin@exemple.fr")),
        ("telephone", text("+33 6 12 34 56 78")),
        ("rappel_souhaite", Value::Checkbox(true)),
    ])
}

/// The choices the connectors' data sources would list at filing: the
/// signalement's categories are ATAL's request types.
pub fn source_choices() -> BTreeMap<FieldId, Vec<Choice>> {
    BTreeMap::from([(
        FieldId::from("categorie"),
        vec![Choice {
            value: "eclairage".to_owned(),
            label: "Éclairage public".to_owned(),
        }],
    )])
}

/// The outcome of filing a demande at `now`, with a reserved identity.
pub async fn submission(
    db: &TestDb,
    definition: &Definition,
    answers: Answers,
    usager: UserId,
    now: DateTime<Utc>,
) -> Outcome {
    let version = db.demarche(&definition.slug).await.unwrap().version;
    let reserved = db.reserve_demande(&definition.slug, now).await.unwrap();
    let filing = Filing {
        version,
        id: reserved.id,
        numero: reserved.numero,
        answers,
        consent: true,
        filer: Filer::Usager(usager),
    };
    submission::submit(definition, filing, &source_choices(), now, ZONE).unwrap()
}

/// Files a demande at `now` as the host does (numbered and stored in one
/// transaction) and returns its outcome.
pub async fn file_demande(
    db: &TestDb,
    definition: &Definition,
    answers: Answers,
    usager: UserId,
    now: DateTime<Utc>,
) -> Outcome {
    try_file_demande(db, definition, answers, usager, true, now)
        .await
        .unwrap()
}

/// Files a demande at `now`, with or without the RGPD consent; a refused
/// submission comes back as [`StoreError::Invalid`].
pub async fn try_file_demande(
    db: &TestDb,
    definition: &Definition,
    answers: Answers,
    usager: UserId,
    consent: bool,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let version = db.demarche(&definition.slug).await.unwrap().version;
    let options = source_choices();
    let demarche = DemarcheRef {
        slug: definition.slug.clone(),
        version,
    };
    let context = db.filing_context(&demarche, Some(usager)).await?;
    db.file_demande(
        &definition.slug,
        context,
        now,
        Extras::default(),
        |reserved| {
            let filing = Filing {
                version,
                id: reserved.id,
                numero: reserved.numero,
                answers: answers.clone(),
                consent,
                filer: Filer::Usager(usager),
            };
            submission::submit(definition, filing, &options, now, ZONE)
                .map_err(|error| StoreError::Invalid(format!("{error:?}")))
        },
    )
    .await
}

/// Runs an action on the stored demande as the host does: read, apply,
/// write with the revision read.
pub async fn act(
    db: &TestDb,
    outcome: &Outcome,
    action: Action,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Revision, StoreError> {
    let id = outcome.demande.id;
    let stored = db.demande(id).await?;
    let demarche = &stored.demande.demarche;
    let definition = db
        .demarche_version(&demarche.slug, demarche.version)
        .await?
        .definition;
    let next = workflow::apply(
        &definition.workflow(),
        &stored.demande,
        action,
        actor,
        now,
        ZONE,
    )
    .unwrap_or_else(|e| panic!("action refused: {e}"));
    db.apply_outcome(&next, stored.revision, Extras::default(), now)
        .await
}

/// Runs the scheduler once at `now` as the host does: claims the due
/// timers, fires each (deleting it with its outcome, or alone when stale).
/// Returns the kinds fired.
pub async fn run_scheduler(db: &TestDb, now: DateTime<Utc>) -> Vec<String> {
    let mut fired = Vec::new();
    loop {
        let timers = db.claim_timers("scheduler", now, 10).await.unwrap();
        if timers.is_empty() {
            return fired;
        }
        for timer in timers {
            let stored = db.demande(timer.demande).await.unwrap();
            let demarche = &stored.demande.demarche;
            let definition = db
                .demarche_version(&demarche.slug, demarche.version)
                .await
                .unwrap()
                .definition;
            match deadline::fire(
                &definition.workflow(),
                &stored.demande,
                timer.kind,
                now,
                ZONE,
            ) {
                Ok(outcome) => {
                    let extras = Extras {
                        fired_timer: Some(timer),
                        ..Extras::default()
                    };
                    db.apply_outcome(&outcome, stored.revision, extras, now)
                        .await
                        .unwrap();
                    fired.push(timer.kind.to_string());
                }
                Err(WorkflowError::NothingToFire(_)) => {
                    db.delete_timer(&timer).await.unwrap();
                }
                Err(other) => panic!("timer {}: {other}", timer.kind),
            }
        }
    }
}
