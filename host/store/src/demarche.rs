//! Démarches and their versions; the catalogues of both portals.
//!
//! [`Store::import_demarche`] keeps every version of a definition with its
//! source text. The first import is version 1; later imports are compared
//! with the latest version by [`classify_change`]: identical → nothing
//! written; texts and dates only → the latest version is updated in place
//! (usagers always read reliable information); anything structural → a new
//! version n+1. A demande reads the version it was filed on
//! ([`Store::demarche_version`]); the catalogues list the latest versions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError};

use chrono::{DateTime, Utc};
use guichet_core::demarche::{Change, Definition, DemarcheVisibility, classify_change};
use guichet_core::id::{Slug, StatusId};
use guichet_core::workflow::Phase;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::search;
use crate::sql::{RowExt, Sql, date_text, like_escape, millis, to_json};

/// The language a definition was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// YAML (the files of `examples/demarches/`).
    Yaml,
    /// JSON (the admin API).
    Json,
}

impl SourceFormat {
    fn key(self) -> &'static str {
        match self {
            SourceFormat::Yaml => "yaml",
            SourceFormat::Json => "json",
        }
    }

    fn from_key(key: &str) -> Result<SourceFormat> {
        match key {
            "yaml" => Ok(SourceFormat::Yaml),
            "json" => Ok(SourceFormat::Json),
            other => Err(StoreError::Corrupt(format!("format de source « {other} »"))),
        }
    }
}

/// The text a definition was read from, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionSource {
    /// YAML or JSON.
    pub format: SourceFormat,
    /// The text.
    pub text: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// First import: version 1.
    Created,
    /// Identical to the latest version: nothing written.
    Unchanged,
    /// Texts and dates only: the latest version updated in place.
    UpdatedInPlace,
    /// Structural change: a new version.
    NewVersion,
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The démarche.
    pub slug: Slug,
    /// The version now current.
    pub version: u32,
    /// What was done.
    pub kind: ImportKind,
}

/// One stored version of a démarche.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDefinition {
    /// The version number.
    pub version: u32,
    /// The definition.
    pub definition: Definition,
    /// The text it was imported from.
    pub source: DefinitionSource,
    /// When the version was created.
    pub created_at: DateTime<Utc>,
    /// When it was last updated in place.
    pub updated_at: DateTime<Utc>,
}

/// A line of a catalogue: the latest version of a démarche.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The démarche.
    pub slug: Slug,
    /// Its latest version.
    pub version: u32,
    /// Its title.
    pub title: String,
    /// Its thematic category.
    pub category: String,
    /// Its keywords.
    pub keywords: Vec<String>,
    /// Who can find it.
    pub visibility: DemarcheVisibility,
}

/// Filters of a catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueQuery {
    /// Only this category (exact).
    pub category: Option<String>,
    /// Words that must all appear in the title, category or keywords,
    /// ignoring case and accents.
    pub search: Option<String>,
}

/// The structural facts of a version the demande columns are computed from
/// (status phases, processing delay). They never change for a version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VersionFacts {
    /// Days from *en cours d'analyse* to the processing deadline.
    pub processing_days: u32,
    /// The phase of each status.
    pub phases: BTreeMap<StatusId, Phase>,
    /// The closing statuses an usager's transition enters (*abandonnée*):
    /// a closing there is an abandon in the statistics.
    pub usager_closings: BTreeSet<StatusId>,
}

fn visibility_key(visibility: DemarcheVisibility) -> &'static str {
    match visibility {
        DemarcheVisibility::Agents => "agents",
        DemarcheVisibility::Everyone => "everyone",
        DemarcheVisibility::Hidden => "hidden",
    }
}

fn visibility_from_key(key: &str) -> Result<DemarcheVisibility> {
    match key {
        "agents" => Ok(DemarcheVisibility::Agents),
        "everyone" => Ok(DemarcheVisibility::Everyone),
        "hidden" => Ok(DemarcheVisibility::Hidden),
        other => Err(StoreError::Corrupt(format!("visibilité « {other} »"))),
    }
}

/// The default prefix of demande numbers: the initials of the slug's words
/// (`aide-reparation-velo` → `ARV`), or the first four letters of a
/// one-word slug (`velo` → `VELO`).
pub(crate) fn default_numero_prefix(slug: &Slug) -> String {
    let words: Vec<&str> = slug.as_str().split('-').filter(|w| !w.is_empty()).collect();
    let prefix: String = match words.as_slice() {
        [one] => one.chars().take(4).collect(),
        many => many
            .iter()
            .filter_map(|w| w.chars().next())
            .take(6)
            .collect(),
    };
    prefix.to_uppercase()
}

fn version_number(n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("numéro de version {n}")))
}

impl Store {
    /// Imports a definition: version 1 the first time, then in place or as a
    /// new version depending on [`classify_change`] against the latest.
    ///
    /// # Errors
    /// A database error; nothing is written then. Concurrent imports of the
    /// same démarche are serialised on its row.
    pub async fn import_demarche(
        &self,
        definition: &Definition,
        source: &DefinitionSource,
        now: DateTime<Utc>,
    ) -> Result<Imported> {
        let slug = definition.slug.as_str().to_owned();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO demarches (slug, numero_prefix, latest_version, created_at, updated_at) \
             VALUES ($1, $2, 0, $3, $4) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(slug.clone())
        .bind(default_numero_prefix(&definition.slug))
        .bind(millis(now))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        // A no-op update takes the row lock on PostgreSQL: concurrent
        // imports of this démarche wait here.
        let latest: i64 = sqlx::query(
            "UPDATE demarches SET updated_at = updated_at WHERE slug = $1 RETURNING latest_version",
        )
        .bind(slug.clone())
        .fetch_one(&mut *tx)
        .await?
        .int("latest_version")?;
        let latest = version_number(latest)?;
        let (version, kind) = if latest == 0 {
            insert_version(&mut tx, definition, source, 1, now).await?;
            (1, ImportKind::Created)
        } else {
            let current = load_version(&mut tx, &slug, latest).await?;
            match classify_change(&current.definition, definition) {
                Change::Identical => (latest, ImportKind::Unchanged),
                Change::TextsOnly => {
                    update_version_texts(&mut tx, definition, source, latest, now).await?;
                    (latest, ImportKind::UpdatedInPlace)
                }
                Change::Structural => {
                    insert_version(&mut tx, definition, source, latest + 1, now).await?;
                    (latest + 1, ImportKind::NewVersion)
                }
            }
        };
        tx.commit().await?;
        self.drafts.forget_stamps();
        if kind == ImportKind::UpdatedInPlace {
            // The same millisecond may stamp two updates (a frozen clock):
            // this host forgets its parsed copy at once.
            self.definitions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&(slug.clone(), version));
        }
        tracing::info!(slug, version, ?kind, "démarche importée");
        Ok(Imported {
            slug: definition.slug.clone(),
            version,
            kind,
        })
    }

    /// The latest version of a démarche.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the démarche was never imported.
    pub async fn demarche(&self, slug: &Slug) -> Result<StoredDefinition> {
        let row = sqlx::query("SELECT latest_version FROM demarches WHERE slug = $1")
            .bind(slug.as_str().to_owned())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("démarche"))?;
        let version = version_number(row.int("latest_version")?)?;
        self.demarche_version(slug, version).await
    }

    /// The latest version of a démarche and its definition, parsed once per
    /// version and update ([`Store::definition_at`]): one query when the
    /// definition is in memory.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown démarche; a database error.
    pub async fn current_definition(&self, slug: &Slug) -> Result<(u32, Arc<Definition>)> {
        let query = || {
            sqlx::query(
                "SELECT d.latest_version, v.updated_at FROM demarches d \
                 JOIN demarche_versions v ON v.slug = d.slug AND v.version = d.latest_version \
                 WHERE d.slug = $1",
            )
            .bind(slug.as_str().to_owned())
        };
        let row = self
            .fetch_kept(query)
            .await?
            .ok_or(StoreError::NotFound("démarche"))?;
        let version = version_number(row.int("latest_version")?)?;
        let definition = self
            .definition_at(slug.as_str(), version, row.int("updated_at")?)
            .await?;
        Ok((version, definition))
    }

    /// A given version of a démarche (the one a demande was filed on).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such version.
    pub async fn demarche_version(&self, slug: &Slug, version: u32) -> Result<StoredDefinition> {
        let mut conn = self.read.acquire().await?;
        load_version(&mut conn, slug.as_str(), version).await
    }

    /// Every version number of a démarche, oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn demarche_versions(&self, slug: &Slug) -> Result<Vec<u32>> {
        sqlx::query("SELECT version FROM demarche_versions WHERE slug = $1 ORDER BY version")
            .bind(slug.as_str().to_owned())
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| version_number(row.int("version")?))
            .collect()
    }

    /// The usager portal's catalogue: démarches visible to everyone and
    /// open at `now` (the local date in the store's zone), by title.
    ///
    /// # Errors
    /// A database error.
    pub async fn catalogue(
        &self,
        query: &CatalogueQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<CatalogueEntry>> {
        let today = date_text(self.zone().today(now));
        let mut sql = catalogue_sql(query);
        sql.push(" AND v.visibility = ")
            .bind(visibility_key(DemarcheVisibility::Everyone).to_owned())
            .push(" AND (v.open_from IS NULL OR v.open_from <= ")
            .bind(today.clone())
            .push(") AND (v.open_until IS NULL OR v.open_until >= ")
            .bind(today)
            .push(")");
        self.catalogue_rows(sql).await
    }

    /// The démarches with the most demandes filed since `since`, most first
    /// (ties by slug), at most `limit`, each with its count.
    ///
    /// # Errors
    /// A database error.
    pub async fn most_filed(&self, since: DateTime<Utc>, limit: u32) -> Result<Vec<(Slug, u64)>> {
        let rows = sqlx::query(
            "SELECT slug, COUNT(*) AS filed FROM demandes WHERE submitted_at >= $1 \
             GROUP BY slug ORDER BY filed DESC, slug LIMIT $2",
        )
        .bind(millis(since))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    Slug::from(row.text("slug")?),
                    u64::try_from(row.int("filed")?).unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// The back office's catalogue: every démarche whatever its visibility
    /// and open period, by title.
    ///
    /// # Errors
    /// A database error.
    pub async fn agent_catalogue(&self, query: &CatalogueQuery) -> Result<Vec<CatalogueEntry>> {
        self.catalogue_rows(catalogue_sql(query)).await
    }

    async fn catalogue_rows(&self, mut sql: Sql) -> Result<Vec<CatalogueEntry>> {
        sql.push(" ORDER BY v.title, v.slug");
        let (text, args) = sql.finish()?;
        let rows = sqlx::query_with(&text, args).fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| {
                Ok(CatalogueEntry {
                    slug: Slug::from(row.text("slug")?),
                    version: version_number(row.int("version")?)?,
                    title: row.text("title")?,
                    category: row.text("category")?,
                    keywords: row.json("keywords")?,
                    visibility: visibility_from_key(&row.text("visibility")?)?,
                })
            })
            .collect()
    }

    /// The prefix of the démarche's demande numbers.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown démarche.
    pub async fn numero_prefix(&self, slug: &Slug) -> Result<String> {
        sqlx::query("SELECT numero_prefix FROM demarches WHERE slug = $1")
            .bind(slug.as_str().to_owned())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("démarche"))?
            .text("numero_prefix")
    }

    /// Changes the prefix of the démarche's future demande numbers
    /// (1 to 12 capital letters or digits).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad prefix, [`StoreError::NotFound`]
    /// for an unknown démarche.
    pub async fn set_numero_prefix(&self, slug: &Slug, prefix: &str) -> Result<()> {
        let well_formed = (1..=12).contains(&prefix.len())
            && prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !well_formed {
            return Err(StoreError::Invalid(format!(
                "préfixe de numéro « {prefix} » : 1 à 12 majuscules ou chiffres"
            )));
        }
        let done = sqlx::query("UPDATE demarches SET numero_prefix = $1 WHERE slug = $2")
            .bind(prefix.to_owned())
            .bind(slug.as_str().to_owned())
            .execute(&self.write)
            .await?;
        self.drafts.forget_stamps();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("démarche"));
        }
        Ok(())
    }

    /// The definition of a version as last updated at `updated_at` (ms
    /// since the epoch, the version row's `updated_at`), parsed once and
    /// then shared from memory until the version is updated in place.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown version; a database error.
    pub(crate) async fn definition_at(
        &self,
        slug: &str,
        version: u32,
        updated_at: i64,
    ) -> Result<Arc<Definition>> {
        let key = (slug.to_owned(), version);
        {
            let cache = self
                .definitions
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((at, definition)) = cache.get(&key)
                && *at == updated_at
            {
                return Ok(definition.clone());
            }
        }
        let mut conn = self.read.acquire().await?;
        self.load_definition(&mut conn, slug, version).await
    }

    /// The definition of a version for its **structure** only (fields,
    /// workflow): any parsed copy will do, since an update in place changes
    /// only texts and dates.
    ///
    /// # Errors
    /// As [`Store::definition_at`].
    pub(crate) async fn structure_of(
        &self,
        conn: &mut AnyConnection,
        slug: &str,
        version: u32,
    ) -> Result<Arc<Definition>> {
        let key = (slug.to_owned(), version);
        if let Some((_, definition)) = self
            .definitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(definition.clone());
        }
        self.load_definition(conn, slug, version).await
    }

    /// Reads and parses a version's definition, and keeps it in memory
    /// with the `updated_at` it was read at.
    async fn load_definition(
        &self,
        conn: &mut AnyConnection,
        slug: &str,
        version: u32,
    ) -> Result<Arc<Definition>> {
        let stored = load_version(conn, slug, version).await?;
        let definition = Arc::new(stored.definition);
        self.definitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (slug.to_owned(), version),
                (millis(stored.updated_at), definition.clone()),
            );
        Ok(definition)
    }

    /// The structural facts of a version, from the cache or the database.
    pub(crate) async fn version_facts(
        &self,
        conn: &mut AnyConnection,
        slug: &str,
        version: u32,
    ) -> Result<Arc<VersionFacts>> {
        if let Some(facts) = self.cached_facts(slug, version) {
            return Ok(facts);
        }
        let workflow = self.structure_of(conn, slug, version).await?.workflow();
        let facts = Arc::new(VersionFacts {
            processing_days: workflow.timing.processing_days,
            phases: workflow
                .statuses
                .iter()
                .map(|status| (status.id.clone(), status.phase))
                .collect(),
            usager_closings: crate::statistics::usager_closings(&workflow),
        });
        self.cache_facts(slug, version, facts.clone());
        Ok(facts)
    }
}

fn catalogue_sql(query: &CatalogueQuery) -> Sql {
    let mut sql = Sql::new(
        "SELECT v.slug, v.version, v.title, v.category, v.keywords, v.visibility \
         FROM demarche_versions v JOIN demarches d \
         ON d.slug = v.slug AND d.latest_version = v.version WHERE 1 = 1",
    );
    if let Some(category) = &query.category {
        sql.push(" AND v.category = ").bind(category.clone());
    }
    for word in query
        .search
        .as_deref()
        .map(search::words)
        .unwrap_or_default()
    {
        sql.push(" AND v.search_text LIKE ")
            .bind(format!("%{}%", like_escape(&word)))
            .push(" ESCAPE '\\'");
    }
    sql
}

/// The folded text searched by keywords: title, category, keywords.
fn search_text(definition: &Definition) -> String {
    let mut text = format!("{} {}", definition.title, definition.category);
    for keyword in &definition.keywords {
        text.push(' ');
        text.push_str(keyword);
    }
    format!(" {} ", search::fold(&text))
}

/// The columns of a version that describe it in the catalogue.
struct Described {
    keywords: String,
    open_from: Option<String>,
    open_until: Option<String>,
    definition: String,
}

fn describe(definition: &Definition) -> Result<Described> {
    let period = definition.open_period.as_ref();
    Ok(Described {
        keywords: to_json(&definition.keywords)?,
        open_from: period.and_then(|p| p.from).map(date_text),
        open_until: period.and_then(|p| p.until).map(date_text),
        definition: to_json(definition)?,
    })
}

async fn insert_version(
    conn: &mut AnyConnection,
    definition: &Definition,
    source: &DefinitionSource,
    version: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    let described = describe(definition)?;
    let slug = definition.slug.as_str().to_owned();
    sqlx::query(
        "INSERT INTO demarche_versions (slug, version, title, category, keywords, visibility, \
         open_from, open_until, search_text, definition, source, source_format, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(slug.clone())
    .bind(i64::from(version))
    .bind(definition.title.clone())
    .bind(definition.category.clone())
    .bind(described.keywords)
    .bind(visibility_key(definition.visibility).to_owned())
    .bind(described.open_from)
    .bind(described.open_until)
    .bind(search_text(definition))
    .bind(described.definition)
    .bind(source.text.clone())
    .bind(source.format.key().to_owned())
    .bind(millis(now))
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE demarches SET latest_version = $1, updated_at = $2 WHERE slug = $3")
        .bind(i64::from(version))
        .bind(millis(now))
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn update_version_texts(
    conn: &mut AnyConnection,
    definition: &Definition,
    source: &DefinitionSource,
    version: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    let described = describe(definition)?;
    sqlx::query(
        "UPDATE demarche_versions SET title = $1, category = $2, keywords = $3, open_from = $4, \
         open_until = $5, search_text = $6, definition = $7, source = $8, source_format = $9, \
         updated_at = $10 WHERE slug = $11 AND version = $12",
    )
    .bind(definition.title.clone())
    .bind(definition.category.clone())
    .bind(described.keywords)
    .bind(described.open_from)
    .bind(described.open_until)
    .bind(search_text(definition))
    .bind(described.definition)
    .bind(source.text.clone())
    .bind(source.format.key().to_owned())
    .bind(millis(now))
    .bind(definition.slug.as_str().to_owned())
    .bind(i64::from(version))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn load_version(
    conn: &mut AnyConnection,
    slug: &str,
    version: u32,
) -> Result<StoredDefinition> {
    let row: AnyRow = sqlx::query(
        "SELECT definition, source, source_format, created_at, updated_at \
         FROM demarche_versions WHERE slug = $1 AND version = $2",
    )
    .bind(slug.to_owned())
    .bind(i64::from(version))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound("version de démarche"))?;
    let definition: String = row.try_get("definition")?;
    Ok(StoredDefinition {
        version,
        definition: crate::sql::from_json(&definition)?,
        source: DefinitionSource {
            format: SourceFormat::from_key(&row.text("source_format")?)?,
            text: row.text("source")?,
        },
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numero_prefixes_come_from_the_slug() {
        let prefix = |s: &str| default_numero_prefix(&Slug::from(s));
        assert_eq!(prefix("aide-reparation-velo"), "ARV");
        assert_eq!(prefix("velo"), "VELO");
        assert_eq!(prefix("signalement-voie-publique"), "SVP");
    }
}
