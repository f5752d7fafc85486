//! The activity catalogue: school catering (cantine), before- and
//! after-school care (périscolaire) and leisure centres (centre de loisirs),
//! each open to an age range.

use serde::{Deserialize, Serialize};

use crate::search_key::search_key;

/// The kind of activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Categorie {
    /// Restauration scolaire.
    Cantine,
    /// Accueil périscolaire (matin, soir, études).
    Periscolaire,
    /// Accueil de loisirs (mercredis, vacances, séjours).
    CentreDeLoisirs,
}

/// An activity a child can be registered to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activite {
    /// Id, such as `CANT-2026`.
    pub id: String,
    /// Label.
    pub libelle: String,
    /// Kind.
    pub categorie: Categorie,
    /// Youngest age accepted on the start date, inclusive.
    pub age_min: u8,
    /// Oldest age accepted on the start date, inclusive.
    pub age_max: u8,
    /// Price, as the service words it.
    pub tarif: String,
}

/// The filter of `GET /api/activites`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Filtre {
    /// Words the label must contain (case- and accent-insensitive).
    pub q: Option<String>,
    /// Only this kind.
    pub categorie: Option<Categorie>,
}

impl Filtre {
    /// Whether `activite` passes the filter.
    pub fn accepts(&self, activite: &Activite) -> bool {
        let q = self.q.as_deref().map(search_key).unwrap_or_default();
        self.categorie
            .is_none_or(|categorie| activite.categorie == categorie)
            && search_key(&activite.libelle).contains(&q)
    }
}

impl Activite {
    /// Whether a child of `age` may be registered.
    pub fn accepts_age(&self, age: i32) -> bool {
        (i32::from(self.age_min)..=i32::from(self.age_max)).contains(&age)
    }
}

/// The demo catalogue documented in the README.
pub fn seeded() -> Vec<Activite> {
    [
        (
            "CANT-2026",
            "Restauration scolaire 2026-2027",
            Categorie::Cantine,
            3,
            11,
            "Selon quotient familial : de 0,80 € à 4,90 € le repas",
        ),
        (
            "PERI-MATIN-2026",
            "Accueil périscolaire du matin 2026-2027",
            Categorie::Periscolaire,
            3,
            11,
            "1,20 € la séance",
        ),
        (
            "PERI-SOIR-2026",
            "Accueil du soir et étude surveillée (élémentaire) 2026-2027",
            Categorie::Periscolaire,
            6,
            11,
            "2,10 € la séance",
        ),
        (
            "ALSH-MERC-2026",
            "Centre de loisirs du mercredi 2026-2027",
            Categorie::CentreDeLoisirs,
            3,
            11,
            "Selon quotient familial : de 4 € à 18 € la journée",
        ),
        (
            "ALSH-MATER-2026",
            "Centre de loisirs maternel des vacances scolaires",
            Categorie::CentreDeLoisirs,
            3,
            5,
            "Selon quotient familial : de 4 € à 18 € la journée",
        ),
        (
            "SEJ-ETE-2027",
            "Séjour d'été à la mer - Île d'Oléron (juillet 2027)",
            Categorie::CentreDeLoisirs,
            8,
            14,
            "Forfait de 180 € à 420 € selon quotient familial",
        ),
    ]
    .into_iter()
    .map(
        |(id, libelle, categorie, age_min, age_max, tarif)| Activite {
            id: id.into(),
            libelle: libelle.into(),
            categorie,
            age_min,
            age_max,
            tarif: tarif.into(),
        },
    )
    .collect()
}
