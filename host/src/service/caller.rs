//! Who calls a use case: an account with its groups and grants and how it
//! proved who it is, and the rights that gives on a démarche or on one
//! demande (the rule is `guichet_core::access`'s). The HTTP layer builds
//! it from a session cookie or an API token; the scheduler acts as the
//! platform and needs none.

use guichet_core::access::Perimeter;
use guichet_core::actor::ActorKind;
use guichet_core::demande::Demande;
use guichet_core::id::Slug;
use guichet_core::role::{Right, Rights, Scope};
use guichet_store::account::{User, UserKind};
use guichet_store::group::Access as GroupAccess;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session cookie.
    Session,
    /// An API token with these scopes.
    Token(Rights),
}

/// The person (or machine) calling, with their groups and grants.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub user: User,
    /// Their groups and grants (empty for usagers).
    pub access: GroupAccess,
    /// How they authenticated.
    pub credential: Credential,
}

impl Caller {
    /// The kind of actor the caller is when filling a form: an usager, or
    /// an agent (a machine acts for the account of its token).
    pub fn kind(&self) -> ActorKind {
        if self.is_usager() {
            ActorKind::Usager
        } else {
            ActorKind::Agent
        }
    }

    /// Whether the account is an usager's.
    pub fn is_usager(&self) -> bool {
        self.user.kind == UserKind::Usager
    }

    fn cap(&self, rights: Rights) -> Rights {
        match self.credential {
            Credential::Session => rights,
            Credential::Token(scopes) => rights.iter().filter(|r| scopes.contains(*r)).collect(),
        }
    }

    /// The rights on a démarche (none for usagers).
    pub fn rights(&self, demarche: &Slug) -> Rights {
        if self.is_usager() {
            return Rights::NONE;
        }
        self.cap(self.access.rights(demarche))
    }

    /// The rights on one demande: those of its démarche that its services
    /// allow ([`guichet_core::access::rights_on_demande`]; none for usagers).
    pub fn rights_on_demande(&self, demande: &Demande) -> Rights {
        if self.is_usager() {
            return Rights::NONE;
        }
        self.cap(guichet_core::access::rights_on_demande(
            &self.access.groups,
            &self.access.grants,
            &demande.demarche.slug,
            &demande.services,
        ))
    }

    /// The demandes of a démarche on which the caller holds `right`
    /// ([`guichet_core::access::read_perimeter`]).
    pub fn perimeter(&self, demarche: &Slug, right: Right) -> Perimeter {
        if !self.rights(demarche).contains(right) {
            return Perimeter::Nothing;
        }
        guichet_core::access::read_perimeter(
            &self.access.groups,
            &self.access.grants,
            demarche,
            right,
        )
    }

    /// The rights granted on every démarche at once (`Scope::All` grants).
    pub fn global_rights(&self) -> Rights {
        if self.is_usager() {
            return Rights::NONE;
        }
        let rights = self
            .access
            .grants
            .iter()
            .filter(|grant| grant.scope == Scope::All && self.access.groups.contains(&grant.group))
            .fold(Rights::NONE, |acc, grant| {
                acc.union(grant.group.role().rights())
            });
        self.cap(rights)
    }
}
