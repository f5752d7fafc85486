//! Fixtures and a tiny in-memory store.

#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use guichet_core::actor::Actor;
use guichet_core::calendar::Zone;
use guichet_core::clock::{Clock, ManualClock};
use guichet_core::demande::Demande;
use guichet_core::demarche::Definition;
use guichet_core::field::Choice;
use guichet_core::file::{FileRef, MediaType};
use guichet_core::history::HistoryEntry;
use guichet_core::id::{DemandeId, FieldId, FileId, UserId};
use guichet_core::notification::NotificationJob;
use guichet_core::role::{GroupName, Role};
use guichet_core::submission::{self, Filer, Filing};
use guichet_core::value::{Address, Answers, Value};
use guichet_core::workflow::deadline::{self, Timer, TimerChange, TimerKind};
use guichet_core::workflow::{self, Action, Outcome, Workflow, WorkflowError};
use uuid::Uuid;

/// Reads an example definition from `examples/demarches/`.
pub fn example(name: &str) -> Definition {
    let text = std::fs::read_to_string(examples_dir().join(format!("{name}.yaml"))).unwrap();
    Definition::from_yaml(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demarches")
}

/// The collectivité's time zone of these tests.
pub const ZONE: Zone = Zone::PARIS;

/// Monday 2 March 2026, 9:00 UTC.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// `n` calendar days after [`start`] in [`ZONE`], at the same local time
/// (10:00 in Paris, 09:00 UTC before the end of March, 08:00 UTC after).
pub fn day(n: u32) -> DateTime<Utc> {
    ZONE.add_days(start(), n)
}

pub fn today() -> NaiveDate {
    start().date_naive()
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub const USAGER: UserId = UserId::from_uuid(Uuid::from_u128(1));
pub const OTHER_USAGER: UserId = UserId::from_uuid(Uuid::from_u128(2));
pub const AGENT: UserId = UserId::from_uuid(Uuid::from_u128(10));

pub fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

pub fn agent(role: Role) -> Actor {
    Actor::Agent {
        id: AGENT,
        rights: role.rights(),
    }
}

pub fn gestionnaire() -> Actor {
    agent(Role::Gestionnaire)
}

pub fn admin() -> Actor {
    agent(Role::Administrateur)
}

/// The choices the connectors' data sources would list: the signalement's
/// categories are ATAL's request types (its `thematics` source); nothing
/// for the other sources.
pub fn source_options() -> BTreeMap<FieldId, Vec<Choice>> {
    BTreeMap::from([(
        FieldId::from("categorie"),
        vec![Choice {
            value: "20".to_owned(),
            label: "Éclairage public - lampadaire en panne".to_owned(),
        }],
    )])
}

pub fn file(n: u128, media_type: MediaType, size: u64) -> FileRef {
    FileRef {
        id: FileId::from_uuid(id(1000 + n)),
        name: format!("piece-{n}.{}", media_type.extension()),
        media_type,
        size,
    }
}

pub fn answers(pairs: Vec<(&str, Value)>) -> Answers {
    pairs
        .into_iter()
        .map(|(id, value)| (FieldId::from(id), value))
        .collect()
}

pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

pub fn choice(s: &str) -> Value {
    Value::Choice(s.to_owned())
}

pub fn date(y: i32, m: u32, d: u32) -> Value {
    Value::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
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

/// A complete, valid set of answers for the bike repair démarche.
pub fn velo_answers() -> Answers {
    answers(vec![
        ("prenom", text("Camille")),
        ("nom", text("Martin")),
        ("courriel", text("camille.martin@exemple.fr")),
        ("telephone", text("0612345678")),
        ("adresse", Value::Address(home())),
        ("type_velo", choice("electrique")),
        ("date_reparation", date(2026, 2, 20)),
        ("reparateur", text("Cycles du Vieux-Port")),
        ("montant", Value::Number(86.5)),
        (
            "facture",
            Value::Files(vec![file(1, MediaType::Pdf, 48_213)]),
        ),
        ("titulaire_compte", text("Camille Martin")),
        ("iban", text("FR7630006000011234567890189")),
        ("attestation", Value::Checkbox(true)),
    ])
}

/// A complete, valid set of answers for the signalement démarche.
pub fn signalement_answers() -> Answers {
    answers(vec![
        ("objet", text("Lampadaire éteint")),
        ("categorie", choice("20")),
        (
            "description",
            text("Le lampadaire devant l'école est éteint depuis une semaine."),
        ),
        ("localisation", Value::Address(home())),
        (
            "photos",
            Value::Files(vec![
                file(2, MediaType::Jpeg, 2_000_000),
                file(3, MediaType::Png, 900_000),
            ]),
        ),
        ("prenom", text("Camille")),
        ("nom", text("Martin")),
        ("courriel", text("camille.martin@exemple.fr")),
        ("telephone", text("+33 6 12 34 56 78")),
        ("rappel_souhaite", Value::Checkbox(true)),
    ])
}

/// One demande as the store would hold it, with its histories, jobs and
/// timers; outcomes are applied one at a time.
pub struct Store {
    pub definition: Definition,
    pub workflow: Workflow,
    pub demande: Demande,
    pub history: Vec<HistoryEntry>,
    pub jobs: Vec<NotificationJob>,
    pub timers: BTreeMap<TimerKind, Timer>,
    pub deleted_files: Vec<FileId>,
    pub clock: ManualClock,
}

impl Store {
    /// Files a demande by the usager at [`start`].
    pub fn file(definition: Definition, answers: Answers) -> Store {
        let clock = ManualClock::new(start());
        let filing = Filing {
            version: 1,
            id: DemandeId::from_uuid(id(42)),
            numero: "2026-000042".into(),
            answers,
            consent: true,
            filer: Filer::Usager(USAGER),
        };
        let outcome =
            submission::submit(&definition, filing, &source_options(), clock.now(), ZONE).unwrap();
        let workflow = (*definition.workflow()).clone();
        let mut store = Store {
            definition,
            workflow,
            demande: outcome.demande.clone(),
            history: Vec::new(),
            jobs: Vec::new(),
            timers: BTreeMap::new(),
            deleted_files: Vec::new(),
            clock,
        };
        store.commit(outcome);
        store
    }

    pub fn velo() -> Store {
        Store::file(example("aide-reparation-velo"), velo_answers())
    }

    pub fn signalement() -> Store {
        Store::file(example("signalement-voie-publique"), signalement_answers())
    }

    /// Writes an outcome, as the store does in one transaction. An
    /// anonymisation first redacts the earlier history and drops pending jobs.
    pub fn commit(&mut self, outcome: Outcome) {
        if outcome.erase_personal_data {
            let files = guichet_core::workflow::anonymise::redact_history(&mut self.history);
            self.deleted_files.extend(files);
            self.jobs.clear();
        }
        self.demande = outcome.demande;
        self.history.extend(outcome.history);
        self.jobs.extend(outcome.notifications);
        for change in outcome.timers {
            match change {
                TimerChange::Schedule(timer) => {
                    self.timers.insert(timer.kind, timer);
                }
                TimerChange::Cancel { kind, .. } => {
                    self.timers.remove(&kind);
                }
            }
        }
        self.deleted_files.extend(outcome.files_to_delete);
    }

    /// Runs an action now; commits it when it succeeds.
    pub fn act(&mut self, action: Action, actor: &Actor) -> Result<(), WorkflowError> {
        let outcome = workflow::apply(
            &self.workflow,
            &self.demande,
            action,
            actor,
            self.clock.now(),
            ZONE,
        )?;
        self.commit(outcome);
        Ok(())
    }

    /// Moves the clock and fires every due timer in due order, like the
    /// scheduler; returns the kinds fired (stale ones dropped).
    pub fn advance(&mut self, by: Duration) -> Vec<TimerKind> {
        self.clock.advance(by);
        let mut fired = Vec::new();
        loop {
            let now = self.clock.now();
            let Some(timer) = self
                .timers
                .values()
                .filter(|t| t.due_at <= now)
                .min_by_key(|t| t.due_at)
                .copied()
            else {
                break;
            };
            self.timers.remove(&timer.kind);
            match deadline::fire(&self.workflow, &self.demande, timer.kind, now, ZONE) {
                Ok(outcome) => {
                    self.commit(outcome);
                    fired.push(timer.kind);
                }
                Err(WorkflowError::NothingToFire(_)) => {}
                Err(other) => panic!("timer {}: {other}", timer.kind),
            }
        }
        fired
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn status(&self) -> &str {
        self.demande.status.as_str()
    }

    /// The templates of the jobs enqueued so far, with their channel.
    pub fn job_templates(&self) -> Vec<String> {
        self.jobs
            .iter()
            .map(|j| format!("{}:{:?}", j.template, j.channel).to_lowercase())
            .collect()
    }

    pub fn clear_jobs(&mut self) {
        self.jobs.clear();
    }

    pub fn due_at(&self, kind: TimerKind) -> Option<DateTime<Utc>> {
        self.timers.get(&kind).map(|t| t.due_at)
    }
}

/// The number [`assert_renumbering`] gives.
pub const RENUMBERED: &str = "ARV-2026-000042";

/// Files `answers` on `definition` as `filer` twice, with the number
/// [`RENUMBERED`] and with a placeholder then renumbered
/// (`Outcome::renumber`, as the store does), checks that both outcomes
/// are the same (and differ before renumbering), and returns the first.
pub fn assert_renumbering(definition: &Definition, answers: &Answers, filer: Filer) -> Outcome {
    let submit = |numero: &str| {
        let filing = Filing {
            version: 1,
            id: DemandeId::from_uuid(id(9)),
            numero: numero.to_owned(),
            answers: answers.clone(),
            consent: true,
            filer,
        };
        submission::submit(definition, filing, &source_options(), start(), ZONE).unwrap()
    };
    let numbered = submit(RENUMBERED);
    let mut renumbered = submit("numero-00000000-0000-0000-0000-000000000009");
    assert_ne!(renumbered, numbered, "the number is in the outcome");
    renumbered.renumber(RENUMBERED);
    assert_eq!(renumbered, numbered, "{}", definition.slug);
    numbered
}
