//! `/api/demarches`: the usager portal's catalogue (by category, keyword
//! search ignoring case and accents) and the presentation page of a
//! démarche with its form (without the *cadre réservé à l'administration*).
//! Public: reading the catalogue needs no account.

use axum::Json;
use axum::extract::State;
use guichet_core::demarche::{DemarcheKind, Page, Presentation, Rgpd};
use guichet_core::draft::usager_pages;
use guichet_core::id::Slug;
use guichet_store::demarche::{CatalogueEntry, CatalogueQuery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extract::{ApiPath, ApiQuery};
use super::routes::{Access, ApiRouter, Doc};
use super::{ApiError, AppState};
use crate::service::catalogue;

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/demarches",
            list,
            Doc::new(
                "Catalogue des démarches ouvertes, par catégorie et recherche par mots-clés",
                Access::Public,
            )
            .query::<Filters>()
            .gives::<Vec<CatalogueItem>>(),
        )
        .get(
            "/api/demarches/{slug}",
            show,
            Doc::new(
                "Page de présentation d'une démarche et son formulaire",
                Access::Public,
            )
            .gives::<DemarchePage>(),
        )
}

/// Filters of the catalogue.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct Filters {
    /// Only this category.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub category: Option<String>,
    /// Words to find in titles, categories and keywords (accents ignored).
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    pub q: Option<String>,
}

/// A démarche of the catalogue.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogueItem {
    /// Identifier in URLs.
    pub slug: String,
    /// Its current version.
    pub version: u32,
    /// Title.
    pub title: String,
    /// Thematic category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
}

impl From<CatalogueEntry> for CatalogueItem {
    fn from(entry: CatalogueEntry) -> Self {
        CatalogueItem {
            slug: entry.slug.to_string(),
            version: entry.version,
            title: entry.title,
            category: entry.category,
            keywords: entry.keywords,
        }
    }
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(filters): ApiQuery<Filters>,
) -> Result<Json<Vec<CatalogueItem>>, ApiError> {
    let query = CatalogueQuery {
        category: filters.category.filter(|c| !c.trim().is_empty()),
        search: filters.q.filter(|q| !q.trim().is_empty()),
    };
    let entries = catalogue::list(&state.guichet(), &query).await?;
    Ok(Json(entries.into_iter().map(CatalogueItem::from).collect()))
}

/// The presentation page of a démarche and its form, as the usager sees it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DemarchePage {
    /// Identifier in URLs.
    pub slug: String,
    /// Current version.
    pub version: u32,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Simple or complexe.
    pub kind: DemarcheKind,
    /// Whether demandes can be filed today.
    pub open: bool,
    /// Steps, documents, average time, practical information, links.
    pub presentation: Presentation,
    /// The pages of the form, without agent-only fields.
    pub pages: Vec<Page>,
    /// The RGPD page and its consent box.
    pub rgpd: Rgpd,
    /// The *Je donne mon avis* button's address at the national
    /// Observatoire; null outside production (`guichet serve
    /// --environment`) or when the démarche has none.
    pub observatoire_url: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<DemarchePage>, ApiError> {
    let guichet = state.guichet();
    let (stored, open) = catalogue::demarche(&guichet, &Slug::from(slug)).await?;
    let observatoire_url = catalogue::observatoire_url(&guichet, &stored);
    let definition = stored.definition;
    Ok(Json(DemarchePage {
        open,
        pages: usager_pages(&definition),
        slug: definition.slug.to_string(),
        version: stored.version,
        title: definition.title,
        category: definition.category,
        keywords: definition.keywords,
        kind: definition.kind,
        presentation: definition.presentation,
        rgpd: definition.rgpd,
        observatoire_url,
    }))
}
