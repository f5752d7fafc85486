//! A configured instance of a connector: its settings and secrets, validated
//! against the connector's schema, its allow-list, limits and HTTP client.
//!
//! One connector can have several instances (two ATAL servers, a test and a
//! production Espace famille). Secrets are the properties the schema marks
//! `"x-secret": true`: they are split from the settings at construction, served
//! to the guest only through `config.secret`, and masked wherever text leaves
//! a call (journal, errors).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::allowlist::AllowList;
use super::model::{Description, Response};
use super::outbound::{HttpPolicy, Outbound};

/// Default call deadline.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default memory cap of one call.
pub const DEFAULT_MEMORY_MIB: u64 = 64;
/// Largest memory cap an instance may ask for (the pooling allocator's slot size).
pub const MAX_MEMORY_MIB: u64 = 256;

/// What an administrator writes to configure an instance (JSON or the admin API).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceConfig {
    /// Instance id, e.g. `atal-ville`. Lowercase letters, digits and `-`.
    pub id: String,
    /// Name of the connector, e.g. `atal`.
    pub connector: String,
    /// Settings and secrets, validated against the connector's configuration schema.
    #[serde(default = "empty_object")]
    pub settings: serde_json::Value,
    /// Allowed outbound destinations, `scheme://host:port` (see `allowlist`).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Call deadline in milliseconds (default 10 000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Memory cap in MiB (default 64, at most 256).
    #[serde(default)]
    pub memory_mib: Option<u64>,
    /// Outbound HTTP limits.
    #[serde(default)]
    pub http: HttpPolicy,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

impl fmt::Debug for InstanceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Settings may hold secrets: never print them.
        f.debug_struct("InstanceConfig")
            .field("id", &self.id)
            .field("connector", &self.connector)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

/// Why an instance configuration was refused. Messages are French, for the
/// administrator; they never quote a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Bad instance id.
    #[error("identifiant d'instance invalide « {0} » (lettres minuscules, chiffres et tirets)")]
    BadId(String),
    /// Settings do not match the schema.
    #[error("configuration invalide pour le connecteur « {connector} » : {problems}")]
    Schema {
        /// Connector name.
        connector: String,
        /// Every problem, `; `-separated, with its JSON pointer.
        problems: String,
        /// The same problems one by one (none when the schema itself is
        /// broken).
        settings: Vec<SettingProblem>,
    },
    /// The instance is for another connector.
    #[error("l'instance est configurée pour « {expected} », pas pour « {found} »")]
    WrongConnector {
        /// Configured connector.
        expected: String,
        /// Connector given.
        found: String,
    },
    /// Bad allow-list.
    #[error(transparent)]
    AllowList(#[from] super::allowlist::PatternError),
    /// Limits out of range.
    #[error("limite invalide : {0}")]
    Limit(String),
    /// HTTP client could not be built.
    #[error("client HTTP impossible à construire : {0}")]
    Http(String),
}

/// One setting refused by the connector's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// JSON pointer of the value in the settings (`/base_url`; `` for the
    /// settings themselves).
    pub pointer: String,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// French message, never quoting the value (it may be a secret).
    pub message: String,
}

/// The kind of a [`SettingProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A required property is missing.
    Missing,
    /// A property the schema does not know.
    Unknown,
    /// A value of the wrong type.
    Type,
    /// A value outside the allowed list.
    Choice,
    /// Any other rule of the schema (format, length, pattern, range).
    Other,
}

/// A secret value: printed as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the guest's `config.secret`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A validated, ready-to-call instance.
#[derive(Debug)]
pub struct Instance {
    id: String,
    connector: String,
    settings: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
    timeout: Duration,
    memory_bytes: u64,
    outbound: Outbound,
}

impl Instance {
    /// Validates `config` against the connector's description and builds the
    /// instance.
    ///
    /// # Errors
    /// [`ConfigError`] for a bad id, settings that break the schema, a bad
    /// allow-list entry or limits out of range.
    pub fn new(config: InstanceConfig, description: &Description) -> Result<Self, ConfigError> {
        if !is_slug(&config.id) {
            return Err(ConfigError::BadId(config.id));
        }
        if config.connector != description.name {
            return Err(ConfigError::WrongConnector {
                expected: config.connector,
                found: description.name.clone(),
            });
        }
        validate_settings(
            &description.name,
            &description.config_schema,
            &config.settings,
        )?;
        let secret_keys = description.secret_keys();
        let mut settings = BTreeMap::new();
        let mut secrets = BTreeMap::new();
        if let serde_json::Value::Object(map) = &config.settings {
            for (key, value) in map {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if secret_keys.contains(key) {
                    secrets.insert(key.clone(), Secret(text));
                } else {
                    settings.insert(key.clone(), text);
                }
            }
        }
        let timeout = Duration::from_millis(
            config
                .timeout_ms
                .unwrap_or(DEFAULT_TIMEOUT.as_millis() as u64),
        );
        if timeout.is_zero() || timeout > Duration::from_secs(300) {
            return Err(ConfigError::Limit(
                "le délai doit être compris entre 1 ms et 300 s".into(),
            ));
        }
        let memory_mib = config.memory_mib.unwrap_or(DEFAULT_MEMORY_MIB);
        if !(1..=MAX_MEMORY_MIB).contains(&memory_mib) {
            return Err(ConfigError::Limit(format!(
                "la mémoire doit être comprise entre 1 et {MAX_MEMORY_MIB} Mio"
            )));
        }
        let allow = AllowList::parse(&config.allowed_hosts)?;
        let outbound =
            Outbound::new(allow, config.http).map_err(|e| ConfigError::Http(e.to_string()))?;
        Ok(Self {
            id: config.id,
            connector: config.connector,
            settings,
            secrets,
            timeout,
            memory_bytes: memory_mib * 1024 * 1024,
            outbound,
        })
    }

    /// An instance with no configuration and no allowed host, for `describe`
    /// at install time.
    ///
    /// # Errors
    /// [`ConfigError::Http`] when the HTTP client cannot be built.
    pub(crate) fn bare(connector: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            id: "installation".into(),
            connector: connector.into(),
            settings: BTreeMap::new(),
            secrets: BTreeMap::new(),
            timeout: DEFAULT_TIMEOUT,
            memory_bytes: DEFAULT_MEMORY_MIB * 1024 * 1024,
            outbound: Outbound::new(AllowList::default(), HttpPolicy::default())
                .map_err(|e| ConfigError::Http(e.to_string()))?,
        })
    }

    /// Instance id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Connector name.
    pub fn connector(&self) -> &str {
        &self.connector
    }

    /// A setting (strings raw, other values as JSON text).
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    /// A secret.
    pub fn secret(&self, key: &str) -> Option<&Secret> {
        self.secrets.get(key)
    }

    /// Call deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Memory cap in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// The HTTP client behind the allow-list.
    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Replaces every occurrence of every secret value in `text` with `***`
    /// (longest secrets first, so one secret inside another leaves nothing).
    pub fn mask(&self, text: &str) -> String {
        let mut secrets: Vec<&str> = self
            .secrets
            .values()
            .map(Secret::expose)
            .filter(|s| !s.is_empty())
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut masked = text.to_string();
        for secret in secrets {
            if masked.contains(secret) {
                masked = masked.replace(secret, "***");
            }
        }
        masked
    }

    /// `response` with every occurrence of a secret in its texts (keys
    /// included) replaced by `***`: an answer leaves the guest too.
    pub fn mask_response(&self, response: Response) -> Response {
        if self.longest_secret() == 0 {
            return response;
        }
        let Ok(mut value) = serde_json::to_value(&response) else {
            return response;
        };
        if !self.mask_value(&mut value) {
            return response;
        }
        // Values are rebuilt from the tree, not from text: numbers stay exact.
        serde_json::from_value(value).unwrap_or(response)
    }

    /// Masks every string and key of `value`; whether anything changed.
    fn mask_value(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(text) => {
                let masked = self.mask(text);
                let changed = masked != *text;
                *text = masked;
                changed
            }
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.mask_value(item);
                }
                changed
            }
            Value::Object(map) => {
                let entries = std::mem::take(map);
                let mut changed = false;
                for (key, mut item) in entries {
                    changed = self.mask_value(&mut item) || changed;
                    let masked = self.mask(&key);
                    changed = changed || masked != key;
                    map.insert(masked, item);
                }
                changed
            }
            _ => false,
        }
    }

    /// Length in bytes of the longest secret (0 without secrets): how far
    /// past a cut a secret may reach.
    pub fn longest_secret(&self) -> usize {
        self.secrets.values().map(|s| s.0.len()).max().unwrap_or(0)
    }
}

fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

/// Validates settings against a JSON Schema, listing every problem.
///
/// # Errors
/// [`ConfigError::Schema`].
pub fn validate_settings(
    connector: &str,
    schema: &serde_json::Value,
    settings: &serde_json::Value,
) -> Result<(), ConfigError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| ConfigError::Schema {
            connector: connector.to_string(),
            problems: format!("schéma du connecteur invalide : {e}"),
            settings: Vec::new(),
        })?;
    let problems: Vec<SettingProblem> = validator
        .iter_errors(settings)
        .map(|e| {
            let (kind, message) = describe_problem(&e);
            SettingProblem {
                pointer: e.instance_path().to_string(),
                kind,
                message,
            }
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    let text: Vec<String> = problems
        .iter()
        .map(|p| {
            // Never echo the value: it may be a secret.
            let at = if p.pointer.is_empty() {
                "/"
            } else {
                &p.pointer
            };
            format!("{at} : {}", p.message)
        })
        .collect();
    Err(ConfigError::Schema {
        connector: connector.to_string(),
        problems: text.join("; "),
        settings: problems,
    })
}

fn describe_problem(error: &jsonschema::ValidationError<'_>) -> (ProblemKind, String) {
    use jsonschema::error::ValidationErrorKind as Kind;
    match error.kind() {
        Kind::Required { property } => (
            ProblemKind::Missing,
            format!("propriété obligatoire manquante {property}"),
        ),
        Kind::AdditionalProperties { unexpected } => (
            ProblemKind::Unknown,
            format!("propriété(s) inconnue(s) : {}", unexpected.join(", ")),
        ),
        Kind::Type { .. } => (ProblemKind::Type, "type incorrect".to_string()),
        Kind::Format { format } => (ProblemKind::Other, format!("format « {format} » attendu")),
        Kind::Enum { .. } => (
            ProblemKind::Choice,
            "valeur hors de la liste permise".to_string(),
        ),
        Kind::MinLength { .. } | Kind::MaxLength { .. } => {
            (ProblemKind::Other, "longueur incorrecte".to_string())
        }
        Kind::Pattern { .. } => (ProblemKind::Other, "forme incorrecte".to_string()),
        _ => (
            ProblemKind::Other,
            "valeur refusée par le schéma".to_string(),
        ),
    }
}
