//! Démarche definitions: what an usager fills in, who processes it, and how.
//!
//! A definition is a YAML file (see `examples/demarches/`) read by
//! [`Definition::from_yaml`]. Reading happens in two passes: serde first (the
//! shape: unknown keys, wrong types — reported with their path), then
//! [`check`] (the meaning: duplicate ids, conditions on unknown fields, choice
//! fields without choices, unknown notification placeholders…), which lists
//! every problem at once, each with its path and a French message:
//!
//! ```text
//! pages[1].fields[3].choices : un champ de choix doit avoir une liste de choix ou une source de données
//! ```
//!
//! The JSON Schema of the format is [`definition_schema`]; the published copy
//! `examples/demarches/demarche.schema.json` is compared with it by a test.
//!
//! Versions: the store keeps every version of a definition and a demande keeps
//! the version it was filed on. [`classify_change`] says whether an edit only
//! touches texts and dates (updated in place) or needs a new version.

mod check;
mod satisfaction;
mod version;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::id::{FieldId, StatusId};
use crate::id::{PageId, Slug};
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calendar::Zone;
use crate::condition::Condition;
use crate::demande::RefusalType;
use crate::field::Field;
use crate::notification::{self, MessageText};
use crate::role::GroupName;
use crate::workflow::{TransitionId, Workflow, WorkflowChoice};

pub use check::check;
pub use satisfaction::{Satisfaction, SurveyQuestion};
pub use version::{Change, classify_change};

/// Who can find and file the démarche.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemarcheVisibility {
    /// Only agents see it (back-office démarche, *saisie* only).
    Agents,
    /// Listed on the usager portal.
    Everyone,
    /// Not listed; reachable by direct link only.
    Hidden,
}

/// The kind of démarche, which picks the standard workflow and its delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemarcheKind {
    /// *Parcours standard simple*.
    Simple,
    /// *Parcours standard complexe* (also démarches interfaced with a business application).
    Complexe,
}

/// The period during which usagers can file demandes (both days included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPeriod {
    /// First day open, from local midnight in the collectivité's time zone;
    /// open since go-live when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last day open, until local midnight at its end; open with no end
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

/// The presentation page shown before the form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Presentation {
    /// A short introduction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    /// The steps of the démarche, shown numbered.
    #[serde(default)]
    pub steps: Vec<String>,
    /// The documents to have at hand.
    #[serde(default)]
    pub documents: Vec<String>,
    /// Average time to fill the form, in minutes.
    pub average_minutes: u32,
    /// Practical information (opening hours, contacts…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practical_info: Option<String>,
    /// Useful links.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// A useful link of the presentation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The text of the link.
    pub label: String,
    /// The address (`https://…`).
    pub url: String,
}

/// One page of the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Unique identifier (drafts are saved page by page).
    pub id: PageId,
    /// Short title.
    pub title: String,
    /// Subtitle, sparingly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The page is shown only when this condition holds (conditional sub-page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// The fields, in order.
    pub fields: Vec<Field>,
}

/// The RGPD page: the legal context and the box the usager must tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rgpd {
    /// The legal context: controller, purpose, retention, rights.
    pub text: String,
    /// The label of the consent box.
    pub consent_label: String,
}

/// The link to a business connector: a demande is transmitted to the
/// instance when it enters `transmit_on` ([`Definition::transmission`]),
/// then, with `sync`, its record at the vendor is read back periodically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorLink {
    /// The connector instance configured by the SI (e.g. `atal-ville`).
    pub instance: String,
    /// The status on entering which the demande is transmitted.
    pub transmit_on: StatusId,
    /// How the vendor's status is read back and what it does to the
    /// demande; without it the record is never read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<StatusSync>,
}

/// The synchronisation of a transmitted demande with its record at the
/// vendor: the record's status and card are read every `every_minutes`
/// (or the instance's interval) until the vendor says it is final, and a
/// status listed in `on` runs the workflow's transitions it names, on
/// behalf of the vendor's agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusSync {
    /// Minutes between two readings (default 15, at least 1), for
    /// instances that set no interval of their own (an instance's
    /// `sync_every_minutes` wins: the polling of a vendor is the
    /// instance's matter).
    #[serde(default = "default_sync_minutes")]
    pub every_minutes: u32,
    /// Vendor status code (`DONE`) → what the demande does.
    #[serde(default)]
    pub on: BTreeMap<String, RemoteTransitions>,
}

fn default_sync_minutes() -> u32 {
    15
}

/// What a vendor status does to the demande: the agents' transitions of
/// the workflow to run, in order, each only when the demande's status
/// allows it (so `[accepter, cloturer]` closes a demande in analysis as
/// well as an accepted one). Their inputs come from the vendor: the
/// closing comment, message or justification is the vendor agents' last
/// comment; the refusal type is `refusal_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteTransitions {
    /// The transitions, in order.
    pub transitions: Vec<TransitionId>,
    /// The refusal type, for a transition that asks one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_type: Option<RefusalType>,
}

/// A démarche definition, one version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Identifier in URLs (`aide-reparation-velo`).
    pub slug: Slug,
    /// Title, starting with a verb (*Demander une aide…*).
    pub title: String,
    /// Thematic category on both portals.
    pub category: String,
    /// Search keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Who can find and file it.
    pub visibility: DemarcheVisibility,
    /// Simple or complexe.
    pub kind: DemarcheKind,
    /// When usagers can file; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_period: Option<OpenPeriod>,
    /// The processing service: a group such as `Gest_SVL_DACT_Mobilités`.
    pub service: GroupName,
    /// The presentation page.
    pub presentation: Presentation,
    /// The pages of fields, in order.
    pub pages: Vec<Page>,
    /// The RGPD page.
    pub rgpd: Rgpd,
    /// The workflow: a standard one with parameters, or a custom one.
    #[serde(default)]
    pub workflow: WorkflowChoice,
    /// Notification texts replacing the defaults, by template key
    /// (`refusee_usager`…), with `{placeholders}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notifications: BTreeMap<String, MessageText>,
    /// The business connector, if the démarche is interfaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<ConnectorLink>,
    /// The satisfaction survey's own questions and the Observatoire's
    /// *Je donne mon avis* page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
    /// The workflow resolved from this definition, kept with it
    /// ([`Definition::workflow`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub resolved: ResolvedWorkflow,
}

/// The workflow of a definition, resolved at its first use and kept with
/// the definition ([`Definition::workflow`]), with what it was resolved
/// from. Never serialised, ignored by equality, and empty in a clone.
#[derive(Debug, Default)]
pub struct ResolvedWorkflow(OnceLock<(WorkflowInputs, Arc<Workflow>)>);

/// What a definition's workflow is resolved from: its kind, its workflow
/// choice and the answers kept at anonymisation.
#[derive(Debug, PartialEq)]
struct WorkflowInputs {
    kind: DemarcheKind,
    choice: WorkflowChoice,
    retained: Vec<FieldId>,
}

impl Clone for ResolvedWorkflow {
    fn clone(&self) -> Self {
        ResolvedWorkflow::default()
    }
}

impl PartialEq for ResolvedWorkflow {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `pages[1].fields[3].choices`.
    pub path: String,
    /// What, in French.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{} : {}", self.path, self.message)
        }
    }
}

/// A definition that cannot be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("définition de démarche invalide :{}", list(.problems))]
pub struct DefinitionError {
    /// The problems, in the order of the file.
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n- {p}")).collect()
}

impl Definition {
    /// The connector link to transmit on, when a demande of this démarche
    /// moving from `before` (`None` at filing) to `after` enters the
    /// status its connector transmits on (`connector.transmit_on`).
    /// Staying in that status transmits nothing again.
    pub fn transmission(
        &self,
        before: Option<&StatusId>,
        after: &StatusId,
    ) -> Option<&ConnectorLink> {
        self.connector
            .as_ref()
            .filter(|link| link.transmit_on == *after && before != Some(after))
    }

    /// Reads and checks a YAML definition.
    ///
    /// # Errors
    /// A [`DefinitionError`] with the shape error (one, with its path) or
    /// every problem of meaning found by [`check`].
    pub fn from_yaml(yaml: &str) -> Result<Definition, DefinitionError> {
        let json = crate::yaml::to_json(yaml).map_err(|error| DefinitionError {
            problems: vec![Problem {
                path: String::new(),
                message: error.to_string(),
            }],
        })?;
        let definition: Definition = serde_path_to_error::deserialize(json).map_err(shape_error)?;
        definition.checked()
    }

    /// Reads and checks a JSON definition (same format as YAML).
    ///
    /// # Errors
    /// As [`Definition::from_yaml`].
    pub fn from_json(json: &str) -> Result<Definition, DefinitionError> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let definition: Definition =
            serde_path_to_error::deserialize(&mut deserializer).map_err(shape_error)?;
        definition.checked()
    }

    fn checked(self) -> Result<Definition, DefinitionError> {
        let problems = check(&self);
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(DefinitionError { problems })
        }
    }

    /// The definition as YAML.
    ///
    /// # Errors
    /// Only if serialisation fails, which a checked definition never does.
    pub fn to_yaml(&self) -> Result<String, crate::yaml::YamlError> {
        crate::yaml::to_string(self)
    }

    /// Every field of every page, in form order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.pages.iter().flat_map(|page| page.fields.iter())
    }

    /// The field with this id.
    pub fn field(&self, id: &FieldId) -> Option<&Field> {
        self.fields().find(|field| &field.id == id)
    }

    /// The page with this id.
    pub fn page(&self, id: &PageId) -> Option<&Page> {
        self.pages.iter().find(|page| &page.id == id)
    }

    /// Whether usagers can file a demande at `now`: the open period's days
    /// are both included, each from local midnight to local midnight in the
    /// collectivité's `zone`.
    pub fn is_open(&self, now: DateTime<Utc>, zone: Zone) -> bool {
        self.is_open_on(zone.today(now))
    }

    /// Whether usagers can file a demande on this local date.
    pub fn is_open_on(&self, today: NaiveDate) -> bool {
        match &self.open_period {
            None => true,
            Some(period) => {
                period.from.is_none_or(|from| from <= today)
                    && period.until.is_none_or(|until| today <= until)
            }
        }
    }

    /// The workflow of this definition: the standard template of its kind
    /// with its parameters, or its custom workflow.
    ///
    /// Resolved once and kept with the definition (a filing used to build
    /// it twice, 4 % of a submission's CPU, `BENCHMARKS.md` §2); resolved
    /// again, and not kept, when the definition was changed since in what
    /// it depends on (its kind, workflow or fields kept at anonymisation).
    pub fn workflow(&self) -> Arc<Workflow> {
        let retained = crate::workflow::anonymise::retained_fields(self);
        if let Some((inputs, workflow)) = self.resolved.0.get() {
            if inputs.kind == self.kind
                && inputs.choice == self.workflow
                && inputs.retained == retained
            {
                return Arc::clone(workflow);
            }
            return Arc::new(crate::workflow::resolve(self));
        }
        let workflow = Arc::new(crate::workflow::resolve(self));
        let inputs = WorkflowInputs {
            kind: self.kind,
            choice: self.workflow.clone(),
            retained,
        };
        let _ = self.resolved.0.set((inputs, Arc::clone(&workflow)));
        workflow
    }

    /// The text of a notification: the definition's own, or the default one.
    pub fn message(&self, template: &str) -> Option<MessageText> {
        self.notifications
            .get(template)
            .cloned()
            .or_else(|| notification::default_text(template))
    }
}

fn shape_error<E: std::fmt::Display>(error: serde_path_to_error::Error<E>) -> DefinitionError {
    let path = error.path().to_string();
    let path = if path == "." { String::new() } else { path };
    DefinitionError {
        problems: vec![Problem {
            path,
            message: french_serde_message(&error.inner().to_string()),
        }],
    }
}

/// Serde speaks English; people read French. The usual messages are
/// translated, the rest is kept after a French prefix.
fn french_serde_message(message: &str) -> String {
    let quoted = |rest: &str| rest.split('`').nth(1).unwrap_or_default().to_owned();
    let location = message
        .find(" at line ")
        .map(|at| &message[at..])
        .unwrap_or_default();
    let location = location
        .replace(" at line ", " (ligne ")
        .replace(" column ", ", colonne ");
    let location = if location.is_empty() {
        location
    } else {
        format!("{location})")
    };
    let text = if let Some(rest) = message.strip_prefix("unknown field ") {
        format!("propriété inconnue « {} »", quoted(rest))
    } else if let Some(rest) = message.strip_prefix("missing field ") {
        format!("propriété obligatoire manquante « {} »", quoted(rest))
    } else if let Some(rest) = message.strip_prefix("unknown variant ") {
        let expected = rest
            .split_once("expected ")
            .map(|(_, e)| e)
            .unwrap_or_default();
        let expected = expected
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .replace('`', "");
        format!(
            "valeur inconnue « {} » (valeurs possibles : {expected})",
            quoted(rest)
        )
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        let rest = rest.split(" at line ").next().unwrap_or_default();
        format!(
            "type invalide : {}",
            rest.replace(", expected ", ", attendu : ")
        )
    } else if let Some(rest) = message.strip_prefix("duplicate field ") {
        format!("propriété en double « {} »", quoted(rest))
    } else {
        return format!("format invalide : {message}");
    };
    format!("{text}{location}")
}

/// The JSON Schema of the definition format, as published in
/// `examples/demarches/demarche.schema.json`.
pub fn definition_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Definition);
    schema.to_value()
}
