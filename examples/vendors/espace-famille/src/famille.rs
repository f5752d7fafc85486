//! Families as Espace famille knows them: their address, legal
//! representatives (responsables), children and invoices; the seeded demo
//! families; and how an usager is linked (rattaché) to one.
//!
//! The seeded values are listed in `examples/vendors/README.md`; tests and
//! the demo rely on them.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{error::ApiError, search_key::search_key};

/// Postal address of a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adresse {
    /// Number and street.
    pub ligne1: String,
    /// Code postal.
    pub code_postal: String,
    /// Commune.
    pub ville: String,
}

/// A legal representative. The birth date is only used to link an usager;
/// Espace famille does not return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Responsable {
    /// Id, `R-nnnn`.
    pub id: String,
    /// Family name, upper case as entered by the service.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Birth date (not returned).
    #[serde(skip)]
    pub date_naissance: NaiveDate,
    /// Email address.
    pub email: String,
    /// Phone number.
    pub telephone: String,
}

/// A child of a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enfant {
    /// Id, `E-nnnn`.
    pub id: String,
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// Birth date, `YYYY-MM-DD`.
    pub date_naissance: NaiveDate,
    /// School.
    pub ecole: String,
    /// Class for the current school year.
    pub classe: String,
}

impl Enfant {
    /// Age in full years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> i32 {
        let years = date.year() - self.date_naissance.year();
        let birthday_passed =
            (date.month(), date.day()) >= (self.date_naissance.month(), self.date_naissance.day());
        if birthday_passed { years } else { years - 1 }
    }
}

/// An invoice of the family account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facture {
    /// Invoice number.
    pub numero: String,
    /// Issue date.
    pub date: NaiveDate,
    /// Amount in euros.
    pub montant: f64,
    /// Whether it is paid.
    pub payee: bool,
}

/// A family record. `GET /api/familles/{id}` returns it without the secret
/// and the invoices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Famille {
    /// Family code, `F-nnnn`.
    pub id_famille: String,
    /// Label, « Famille NOM ».
    pub libelle: String,
    /// Secret printed on the family's letters, used to link an account.
    #[serde(skip)]
    pub secret: String,
    /// Address.
    pub adresse: Adresse,
    /// Legal representatives.
    pub responsables: Vec<Responsable>,
    /// Children.
    pub enfants: Vec<Enfant>,
    /// Invoices, returned by `GET /api/familles/{id}/factures`.
    #[serde(skip)]
    pub factures: Vec<Facture>,
}

/// What a successful link returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilleResume {
    /// Family code.
    pub id_famille: String,
    /// Label.
    pub libelle: String,
}

impl From<&Famille> for FamilleResume {
    fn from(famille: &Famille) -> Self {
        Self {
            id_famille: famille.id_famille.clone(),
            libelle: famille.libelle.clone(),
        }
    }
}

impl Famille {
    /// The child with `id`.
    pub fn enfant(&self, id: &str) -> Option<&Enfant> {
        self.enfants.iter().find(|enfant| enfant.id == id)
    }

    /// Whether a responsable or a child has this identity (names compared
    /// with [`search_key`]).
    pub fn has_member(&self, nom: &str, prenom: &str, date_naissance: NaiveDate) -> bool {
        let (nom, prenom) = (search_key(nom), search_key(prenom));
        let same = |n: &str, p: &str, d: NaiveDate| {
            d == date_naissance && search_key(n) == nom && search_key(p) == prenom
        };
        self.responsables
            .iter()
            .any(|r| same(&r.nom, &r.prenom, r.date_naissance))
            || self
                .enfants
                .iter()
                .any(|e| same(&e.nom, &e.prenom, e.date_naissance))
    }
}

/// The body of `POST /api/familles/rattachement`: exactly one of the two
/// shapes must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DemandeRattachement {
    /// Family code, with `secret`.
    pub code_famille: Option<String>,
    /// Secret of the family, with `code_famille`.
    pub secret: Option<String>,
    /// Family name of a responsable or child, with `prenom` and `date_naissance`.
    pub nom: Option<String>,
    /// First name.
    pub prenom: Option<String>,
    /// Birth date, `YYYY-MM-DD`.
    pub date_naissance: Option<String>,
}

/// A checked link request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rattachement {
    /// By family code and secret.
    ParCode {
        /// Family code.
        code_famille: String,
        /// Secret.
        secret: String,
    },
    /// By the identity of a responsable or child.
    ParIdentite {
        /// Family name.
        nom: String,
        /// First name.
        prenom: String,
        /// Birth date.
        date_naissance: NaiveDate,
    },
}

impl TryFrom<DemandeRattachement> for Rattachement {
    type Error = ApiError;

    fn try_from(demande: DemandeRattachement) -> Result<Self, ApiError> {
        let filled = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let par_code = demande.code_famille.is_some() || demande.secret.is_some();
        let par_identite =
            demande.nom.is_some() || demande.prenom.is_some() || demande.date_naissance.is_some();
        match (par_code, par_identite) {
            (true, false) => match (filled(demande.code_famille), filled(demande.secret)) {
                (Some(code_famille), Some(secret)) => Ok(Self::ParCode {
                    code_famille: code_famille.trim().to_owned(),
                    secret,
                }),
                _ => Err(forme_invalide(
                    "code_famille et secret sont obligatoires ensemble",
                )),
            },
            (false, true) => {
                let (Some(nom), Some(prenom), Some(date)) = (
                    filled(demande.nom),
                    filled(demande.prenom),
                    filled(demande.date_naissance),
                ) else {
                    return Err(forme_invalide(
                        "nom, prenom et date_naissance sont obligatoires ensemble",
                    ));
                };
                Ok(Self::ParIdentite {
                    nom,
                    prenom,
                    date_naissance: parse_date("date_naissance", &date)?,
                })
            }
            _ => Err(forme_invalide(
                "donner soit code_famille et secret, soit nom, prenom et date_naissance",
            )),
        }
    }
}

fn forme_invalide(detail: &str) -> ApiError {
    ApiError::bad_request(
        "rattachement_invalide",
        format!("Rattachement invalide : {detail}"),
    )
}

/// A `YYYY-MM-DD` date from the body field `field`.
///
/// # Errors
/// 400 when it is not a valid date.
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            "date_invalide",
            format!("{field} invalide (AAAA-MM-JJ attendu) : « {value} »"),
        )
    })
}

/// The demo families documented in the README.
pub fn seeded() -> Vec<Famille> {
    vec![
        Famille {
            id_famille: "F-0001".into(),
            libelle: "Famille DUPONT".into(),
            secret: "s3cret-dupont".into(),
            adresse: adresse("12 rue des Lilas", "69003", "Lyon"),
            responsables: vec![
                responsable(
                    "R-0001",
                    "DUPONT",
                    "Marc",
                    date(1984, 6, 2),
                    "marc.dupont@example.fr",
                    "06 12 34 56 78",
                ),
                responsable(
                    "R-0002",
                    "DUPONT",
                    "Sophie",
                    date(1986, 9, 21),
                    "sophie.dupont@example.fr",
                    "06 98 76 54 32",
                ),
            ],
            enfants: vec![
                enfant(
                    "E-0001",
                    "DUPONT",
                    "Léa",
                    date(2016, 4, 12),
                    "École élémentaire Jean Jaurès",
                    "CM2",
                ),
                enfant(
                    "E-0002",
                    "DUPONT",
                    "Hugo",
                    date(2019, 1, 20),
                    "École élémentaire Jean Jaurès",
                    "CE1",
                ),
            ],
            factures: vec![
                facture("FAC-2026-000412", date(2026, 8, 31), 86.40, true),
                facture("FAC-2026-000873", date(2026, 9, 30), 92.10, true),
                facture("FAC-2026-001305", date(2026, 10, 31), 78.30, false),
            ],
        },
        Famille {
            id_famille: "F-0002".into(),
            libelle: "Famille MARTIN".into(),
            secret: "s3cret-martin".into(),
            adresse: adresse("5 place Bellecour", "69002", "Lyon"),
            responsables: vec![
                responsable(
                    "R-0003",
                    "MARTIN",
                    "Élodie",
                    date(1990, 11, 3),
                    "elodie.martin@example.fr",
                    "07 11 22 33 44",
                ),
                // The usager of Guichet's demo.
                responsable(
                    "R-0006",
                    "MARTIN",
                    "Camille",
                    date(1988, 4, 12),
                    "camille.martin@example.fr",
                    "06 12 34 56 78",
                ),
            ],
            enfants: vec![enfant(
                "E-0003",
                "MARTIN",
                "Chloé",
                date(2022, 3, 8),
                "École maternelle Les Tilleuls",
                "Moyenne section",
            )],
            factures: vec![facture("FAC-2026-001306", date(2026, 10, 31), 24.00, false)],
        },
        Famille {
            id_famille: "F-0003".into(),
            libelle: "Famille BENOÎT".into(),
            secret: "s3cret-benoit".into(),
            adresse: adresse("8 chemin des Vignes", "69005", "Lyon"),
            responsables: vec![
                responsable(
                    "R-0004",
                    "BENOÎT",
                    "Thomas",
                    date(1979, 2, 14),
                    "thomas.benoit@example.fr",
                    "06 55 44 33 22",
                ),
                responsable(
                    "R-0005",
                    "BENOÎT",
                    "Nadia",
                    date(1981, 7, 30),
                    "nadia.benoit@example.fr",
                    "06 66 77 88 99",
                ),
            ],
            enfants: vec![
                enfant(
                    "E-0004",
                    "BENOÎT",
                    "Inès",
                    date(2017, 11, 30),
                    "École élémentaire Jean Jaurès",
                    "CE2",
                ),
                enfant(
                    "E-0005",
                    "BENOÎT",
                    "Noah",
                    date(2013, 5, 17),
                    "Collège Jean Moulin",
                    "4e",
                ),
            ],
            factures: vec![facture("FAC-2026-001307", date(2026, 10, 31), 131.75, true)],
        },
    ]
}

/// Seed dates are literals; an impossible one would become 1970-01-01
/// rather than panic, and `seeded_dates_are_all_valid` would fail.
fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn adresse(ligne1: &str, code_postal: &str, ville: &str) -> Adresse {
    Adresse {
        ligne1: ligne1.into(),
        code_postal: code_postal.into(),
        ville: ville.into(),
    }
}

fn responsable(
    id: &str,
    nom: &str,
    prenom: &str,
    date_naissance: NaiveDate,
    email: &str,
    telephone: &str,
) -> Responsable {
    Responsable {
        id: id.into(),
        nom: nom.into(),
        prenom: prenom.into(),
        date_naissance,
        email: email.into(),
        telephone: telephone.into(),
    }
}

fn enfant(
    id: &str,
    nom: &str,
    prenom: &str,
    date_naissance: NaiveDate,
    ecole: &str,
    classe: &str,
) -> Enfant {
    Enfant {
        id: id.into(),
        nom: nom.into(),
        prenom: prenom.into(),
        date_naissance,
        ecole: ecole.into(),
        classe: classe.into(),
    }
}

fn facture(numero: &str, date: NaiveDate, montant: f64, payee: bool) -> Facture {
    Facture {
        numero: numero.into(),
        date,
        montant,
        payee,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_full_years_only() {
        let lea = &seeded()[0].enfants[0];

        assert_eq!(lea.age_on(date(2026, 4, 11)), 9);
        assert_eq!(lea.age_on(date(2026, 4, 12)), 10);
        assert_eq!(lea.age_on(date(2026, 9, 1)), 10);
    }

    #[test]
    fn seeded_dates_are_all_valid() {
        let epoch = NaiveDate::default();
        for famille in seeded() {
            assert!(
                famille
                    .responsables
                    .iter()
                    .all(|r| r.date_naissance != epoch)
            );
            assert!(famille.enfants.iter().all(|e| e.date_naissance != epoch));
            assert!(famille.factures.iter().all(|f| f.date != epoch));
        }
    }
}
