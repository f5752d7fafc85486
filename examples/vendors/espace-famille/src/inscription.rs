//! Registrations (inscriptions) of a child to an activity: the record, its
//! status as the family service moves it, and the body that creates one
//! with its validation.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    activite::Activite,
    error::ApiError,
    famille::{Famille, parse_date},
};

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CodeStatut {
    /// Waiting for the family service.
    EnAttente,
    /// Accepted (final).
    Validee,
    /// Refused (final).
    Refusee,
    /// Cancelled (final).
    Annulee,
}

impl CodeStatut {
    /// The French label.
    pub fn libelle(self) -> &'static str {
        match self {
            Self::EnAttente => "En attente de validation",
            Self::Validee => "Validée",
            Self::Refusee => "Refusée",
            Self::Annulee => "Annulée",
        }
    }

    /// Whether the registration will not move any more.
    pub fn definitif(self) -> bool {
        !matches!(self, Self::EnAttente)
    }

    /// Whether the registration still holds the child's place, so that a
    /// new request for the same activity returns it instead of a new one.
    pub fn holds_place(self) -> bool {
        matches!(self, Self::EnAttente | Self::Validee)
    }
}

/// `statut` as returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Statut {
    /// The code.
    pub code: CodeStatut,
    /// The French label.
    pub libelle: &'static str,
    /// Whether it is final.
    pub definitif: bool,
}

impl From<CodeStatut> for Statut {
    fn from(code: CodeStatut) -> Self {
        Self {
            code,
            libelle: code.libelle(),
            definitif: code.definitif(),
        }
    }
}

/// A day of the week the child attends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jour {
    /// Lundi.
    Lundi,
    /// Mardi.
    Mardi,
    /// Mercredi.
    Mercredi,
    /// Jeudi.
    Jeudi,
    /// Vendredi.
    Vendredi,
    /// Samedi.
    Samedi,
    /// Dimanche.
    Dimanche,
}

/// A comment by the family service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commentaire {
    /// When it was written.
    pub date: DateTime<Utc>,
    /// The agent or service.
    pub auteur: String,
    /// The text.
    pub texte: String,
}

/// A comment to add, as tests and `POST /_sim/inscriptions/{id}/statut` give it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewCommentaire {
    /// The agent or service.
    pub auteur: String,
    /// The text.
    pub texte: String,
}

impl NewCommentaire {
    /// A comment by `auteur`.
    pub fn new(auteur: impl Into<String>, texte: impl Into<String>) -> Self {
        Self {
            auteur: auteur.into(),
            texte: texte.into(),
        }
    }

    /// The comment, dated now.
    pub fn written_now(self) -> Commentaire {
        Commentaire {
            date: Utc::now(),
            auteur: self.auteur,
            texte: self.texte,
        }
    }
}

/// A registration as stored; `GET /api/inscriptions/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inscription {
    /// Id.
    pub id: Uuid,
    /// Number shown to people, `INS-<year>-<4 digits>`.
    pub numero: String,
    /// Family code.
    pub id_famille: String,
    /// Child id.
    pub id_enfant: String,
    /// Activity id.
    pub id_activite: String,
    /// First day.
    pub date_debut: NaiveDate,
    /// Days of attendance, empty when the activity has no weekly rhythm.
    pub jours: Vec<Jour>,
    /// The family's comment, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commentaire: Option<String>,
    /// Where it stands.
    pub statut: Statut,
    /// The family service's comments.
    pub commentaires: Vec<Commentaire>,
}

/// The body of `POST /api/inscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewInscription {
    /// Family code.
    pub id_famille: String,
    /// Child id; the child must belong to the family.
    pub id_enfant: String,
    /// Activity id; the child's age on `date_debut` must be in its range.
    pub id_activite: String,
    /// First day, `YYYY-MM-DD`.
    pub date_debut: String,
    /// Days of attendance.
    #[serde(default)]
    pub jours: Vec<Jour>,
    /// The family's comment.
    #[serde(default)]
    pub commentaire: Option<String>,
}

impl NewInscription {
    /// Checks the body against the families and the catalogue, then builds
    /// the record, waiting for validation.
    ///
    /// # Errors
    /// 400 with a stable code when the date is invalid, the family, child or
    /// activity is unknown, the child is not of the family, or the child's
    /// age is out of the activity's range.
    pub fn into_inscription(
        self,
        familles: &[Famille],
        activites: &[Activite],
        numero: String,
    ) -> Result<Inscription, ApiError> {
        let date_debut = parse_date("date_debut", &self.date_debut)?;
        let famille = familles
            .iter()
            .find(|famille| famille.id_famille == self.id_famille)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "famille_inconnue",
                    format!("Famille {} inconnue", self.id_famille),
                )
            })?;
        let enfant = famille.enfant(&self.id_enfant).ok_or_else(|| {
            if familles
                .iter()
                .any(|other| other.enfant(&self.id_enfant).is_some())
            {
                ApiError::bad_request(
                    "enfant_hors_famille",
                    format!(
                        "L'enfant {} n'appartient pas à la famille {}",
                        self.id_enfant, self.id_famille
                    ),
                )
            } else {
                ApiError::bad_request(
                    "enfant_inconnu",
                    format!("Enfant {} inconnu", self.id_enfant),
                )
            }
        })?;
        let activite = activites
            .iter()
            .find(|activite| activite.id == self.id_activite)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "activite_inconnue",
                    format!("Activité {} inconnue", self.id_activite),
                )
            })?;
        let age = enfant.age_on(date_debut);
        if !activite.accepts_age(age) {
            return Err(ApiError::bad_request(
                "age_hors_tranche",
                format!(
                    "{} {} aura {age} ans le {date_debut} ; « {} » est ouverte de {} à {} ans",
                    enfant.prenom, enfant.nom, activite.libelle, activite.age_min, activite.age_max
                ),
            ));
        }
        Ok(Inscription {
            id: Uuid::new_v4(),
            numero,
            id_famille: self.id_famille,
            id_enfant: self.id_enfant,
            id_activite: self.id_activite,
            date_debut,
            jours: self.jours,
            commentaire: self.commentaire.filter(|text| !text.trim().is_empty()),
            statut: CodeStatut::EnAttente.into(),
            commentaires: Vec::new(),
        })
    }
}
