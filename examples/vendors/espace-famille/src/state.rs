//! The in-memory Espace famille: families, catalogue, registrations, their
//! numbering and the idempotency ledger, behind one lock.
//!
//! Routes and the test [`crate::Handle`] both go through [`State`]; nothing
//! else touches the records.

use std::{fmt, sync::Arc};

use chrono::Utc;
use uuid::Uuid;
use vendor_sim::{Claim, Ledger, ModeSwitch, Numbering, Outcome, Shared};

use crate::{
    DEFAULT_TOKEN,
    activite::{self, Activite, Filtre},
    error::ApiError,
    famille::{self, Famille, FamilleResume, Rattachement},
    inscription::{CodeStatut, Inscription, NewCommentaire, NewInscription},
};

/// The simulator's state: cheap to clone, every clone sees the same records.
#[derive(Clone)]
pub struct State {
    token: Arc<str>,
    mode: ModeSwitch,
    store: Shared<Store>,
}

#[derive(Debug)]
struct Store {
    familles: Vec<Famille>,
    activites: Vec<Activite>,
    inscriptions: Vec<Inscription>,
    numbering: Numbering,
    inscription_keys: Ledger<Uuid>,
}

impl Default for State {
    fn default() -> Self {
        Self::new(DEFAULT_TOKEN)
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("mode", &self.mode.get())
            .field(
                "inscriptions",
                &self.store.with(|store| store.inscriptions.len()),
            )
            .finish_non_exhaustive()
    }
}

/// The 404 for an unknown family in a path.
pub(crate) fn unknown_famille(id: &str) -> ApiError {
    ApiError::not_found("famille_introuvable", format!("Famille {id} introuvable"))
}

/// The 404 for an unknown registration in a path.
pub(crate) fn unknown_inscription(id: impl fmt::Display) -> ApiError {
    ApiError::not_found(
        "inscription_introuvable",
        format!("Inscription {id} introuvable"),
    )
}

impl State {
    /// A simulator seeded with the README's families and catalogue and no
    /// registration, accepting `token` as bearer token.
    pub fn new(token: impl Into<String>) -> Self {
        let store = Store {
            familles: famille::seeded(),
            activites: activite::seeded(),
            inscriptions: Vec::new(),
            numbering: Numbering::new("INS", 4),
            inscription_keys: Ledger::default(),
        };
        Self {
            token: token.into().into(),
            mode: ModeSwitch::new(),
            store: Shared::new(store),
        }
    }

    /// The accepted bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The failure switch the router and the listener share.
    pub fn mode_switch(&self) -> &ModeSwitch {
        &self.mode
    }

    /// Finds the family an usager may be linked to.
    ///
    /// # Errors
    /// 404 when no family matches; 403 when the secret is wrong; 409 when
    /// the identity is found in several families.
    pub fn rattacher(&self, rattachement: &Rattachement) -> Result<FamilleResume, ApiError> {
        self.store.with(|store| match rattachement {
            Rattachement::ParCode {
                code_famille,
                secret,
            } => {
                let famille = store
                    .famille(code_famille)
                    .ok_or_else(|| unknown_famille(code_famille))?;
                if famille.secret == *secret {
                    Ok(FamilleResume::from(famille))
                } else {
                    Err(ApiError::forbidden(
                        "secret_invalide",
                        "Code secret incorrect pour cette famille",
                    ))
                }
            }
            Rattachement::ParIdentite {
                nom,
                prenom,
                date_naissance,
            } => {
                let found: Vec<&Famille> = store
                    .familles
                    .iter()
                    .filter(|famille| famille.has_member(nom, prenom, *date_naissance))
                    .collect();
                match found.as_slice() {
                    [famille] => Ok(FamilleResume::from(*famille)),
                    [] => Err(ApiError::not_found(
                        "famille_introuvable",
                        "Aucune famille ne correspond à cette identité",
                    )),
                    _ => Err(ApiError::conflict(
                        "rattachement_ambigu",
                        "Plusieurs familles correspondent à cette identité : utiliser le code famille",
                    )),
                }
            }
        })
    }

    /// One family.
    pub fn famille(&self, id: &str) -> Option<Famille> {
        self.store.with(|store| store.famille(id).cloned())
    }

    /// Adds a family beyond the seeded ones.
    ///
    /// # Errors
    /// 409 when the family id is taken.
    pub fn add_famille(&self, famille: Famille) -> Result<(), ApiError> {
        self.store.with(|store| {
            if store.famille(&famille.id_famille).is_some() {
                return Err(ApiError::conflict(
                    "famille_existante",
                    format!("La famille {} existe déjà", famille.id_famille),
                ));
            }
            store.familles.push(famille);
            Ok(())
        })
    }

    /// The catalogue entries passing `filtre`.
    pub fn activites(&self, filtre: &Filtre) -> Vec<Activite> {
        self.store.with(|store| {
            store
                .activites
                .iter()
                .filter(|activite| filtre.accepts(activite))
                .cloned()
                .collect()
        })
    }

    /// One catalogue entry.
    pub fn activite(&self, id: &str) -> Option<Activite> {
        self.store
            .with(|store| store.activites.iter().find(|a| a.id == id).cloned())
    }

    /// Registers a child, or returns the registration already holding the
    /// child's place in that activity, or the one an earlier request with
    /// the same idempotency claim created.
    ///
    /// # Errors
    /// 400 when the body breaks the rules; 409 when the key was used with
    /// another body.
    pub fn inscrire(
        &self,
        demande: NewInscription,
        claim: Option<Claim>,
    ) -> Result<Outcome<Inscription>, ApiError> {
        self.store.with(|store| {
            if let Some(id) = store.inscription_keys.replay(claim.as_ref())? {
                return store.inscription(id).cloned().map(Outcome::Existing);
            }
            let numero = store.numbering.peek(Utc::now());
            let inscription =
                demande.into_inscription(&store.familles, &store.activites, numero.to_string())?;
            let existing = store.inscriptions.iter().find(|other| {
                other.id_enfant == inscription.id_enfant
                    && other.id_activite == inscription.id_activite
                    && other.statut.code.holds_place()
            });
            if let Some(existing) = existing.cloned() {
                store.inscription_keys.record(claim, existing.id);
                return Ok(Outcome::Existing(existing));
            }
            store.numbering.take(&numero);
            store.inscription_keys.record(claim, inscription.id);
            store.inscriptions.push(inscription.clone());
            Ok(Outcome::Created(inscription))
        })
    }

    /// One registration.
    pub fn inscription(&self, id: Uuid) -> Option<Inscription> {
        self.store.with(|store| store.inscription(id).ok().cloned())
    }

    /// All registrations, oldest first.
    pub fn inscriptions(&self) -> Vec<Inscription> {
        self.store.with(|store| store.inscriptions.clone())
    }

    /// Moves a registration to `code`, optionally adding a comment.
    ///
    /// # Errors
    /// 404 when the registration is unknown.
    pub fn set_statut(
        &self,
        id: Uuid,
        code: CodeStatut,
        commentaire: Option<NewCommentaire>,
    ) -> Result<Inscription, ApiError> {
        self.store.with(|store| {
            let inscription = store.inscription_mut(id)?;
            inscription.statut = code.into();
            if let Some(commentaire) = commentaire {
                inscription.commentaires.push(commentaire.written_now());
            }
            Ok(inscription.clone())
        })
    }

    /// Adds a comment without changing the status.
    ///
    /// # Errors
    /// 404 when the registration is unknown.
    pub fn add_commentaire(
        &self,
        id: Uuid,
        commentaire: NewCommentaire,
    ) -> Result<Inscription, ApiError> {
        self.store.with(|store| {
            let inscription = store.inscription_mut(id)?;
            inscription.commentaires.push(commentaire.written_now());
            Ok(inscription.clone())
        })
    }
}

impl Store {
    fn famille(&self, id: &str) -> Option<&Famille> {
        self.familles
            .iter()
            .find(|famille| famille.id_famille == id)
    }

    fn inscription(&self, id: Uuid) -> Result<&Inscription, ApiError> {
        self.inscriptions
            .iter()
            .find(|inscription| inscription.id == id)
            .ok_or_else(|| unknown_inscription(id))
    }

    fn inscription_mut(&mut self, id: Uuid) -> Result<&mut Inscription, ApiError> {
        self.inscriptions
            .iter_mut()
            .find(|inscription| inscription.id == id)
            .ok_or_else(|| unknown_inscription(id))
    }
}
