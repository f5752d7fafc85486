//! Rights on one demande: what a person's groups give on a demande of a
//! démarche, which depends on the demande's services (the roles, groups
//! and grants themselves are in [`crate::role`]).
//!
//! # Rights on a demande follow its service
//! The seed: « la demande arrive à l'agent suivant les droits définis », and a
//! complex demande « peut être redirigée vers un autre service ». A demande
//! belongs to its current service and its joint services
//! ([`crate::demande::Services`]). The rights of a person on **one demande**
//! ([`rights_on_demande`]) are the union, over their groups granted on the
//! demande's démarche, of:
//! - the whole role's rights when the role looks across services
//!   ([`crate::role::Role::spans_services`]: Observateur, Qualité, Administrateur — the
//!   GRU's groups hold these roles), whatever the demande's service;
//! - the whole role's rights when the group belongs to one of the demande's
//!   services (same `Collectivité_Direction_Service`: `Cons_SVL_DACT_Mobilités`
//!   belongs to the service `Gest_SVL_DACT_Mobilités`);
//! - otherwise only the démarche-level rights ([`Right::BackOffice`],
//!   [`Right::FileOnBehalf`]): no reading, commenting or processing.
//!
//! A transfer moves the demande: the former service keeps nothing on it but
//! what a cross-service group gives. The processing table lists, per
//! démarche, every demande for a cross-service reader and only the demandes
//! of the reader's services otherwise ([`read_perimeter`]).
//!
//! Usagers have no role: they see only their own demandes
//! ([`usager_may_read`]) and only the usager-visible history and statuses
//! ([`crate::history`]).

use crate::demande::{Demande, Services};
use crate::id::{Slug, UserId};
use crate::role::{Grant, GroupName, Right, Rights};

/// The rights a role gives on a demande outside its service: those that
/// concern the démarche, not its demandes.
const OUTSIDE_SERVICE: [Right; 2] = [Right::BackOffice, Right::FileOnBehalf];

/// The rights of a person, member of `groups`, on one demande of `demarche`
/// processed by `services` (the rule of the module docs).
pub fn rights_on_demande(
    groups: &[GroupName],
    grants: &[Grant],
    demarche: &Slug,
    services: &Services,
) -> Rights {
    grants
        .iter()
        .filter(|grant| grant.covers(demarche) && groups.contains(&grant.group))
        .fold(Rights::NONE, |acc, grant| {
            let role = grant.group.role();
            let rights =
                if role.spans_services() || services.all().any(|s| s.same_service(&grant.group)) {
                    role.rights()
                } else {
                    role.rights()
                        .iter()
                        .filter(|right| OUTSIDE_SERVICE.contains(right))
                        .collect()
                };
            acc.union(rights)
        })
}

/// Which demandes of one démarche a person may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Perimeter {
    /// None.
    Nothing,
    /// Every demande (a cross-service group holds the right).
    Everything,
    /// The demandes whose current or joint service is one of these services
    /// (one group name per service, any role: compare with
    /// [`GroupName::same_service`]).
    Services(Vec<GroupName>),
}

/// The demandes of `demarche` on which a member of `groups` holds `right`
/// (the rule of the module docs, as [`rights_on_demande`] applies it to one
/// demande).
pub fn read_perimeter(
    groups: &[GroupName],
    grants: &[Grant],
    demarche: &Slug,
    right: Right,
) -> Perimeter {
    let mut services: Vec<GroupName> = Vec::new();
    for grant in grants
        .iter()
        .filter(|grant| grant.covers(demarche) && groups.contains(&grant.group))
        .filter(|grant| grant.group.role().rights().contains(right))
    {
        if grant.group.role().spans_services() || OUTSIDE_SERVICE.contains(&right) {
            return Perimeter::Everything;
        }
        if !services.iter().any(|s| s.same_service(&grant.group)) {
            services.push(grant.group.clone());
        }
    }
    if services.is_empty() {
        Perimeter::Nothing
    } else {
        Perimeter::Services(services)
    }
}

/// Whether an usager may read a demande: only their own.
pub fn usager_may_read(usager: UserId, demande: &Demande) -> bool {
    demande.usager == Some(usager)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Scope;

    fn group(name: &str) -> GroupName {
        GroupName::parse(name).unwrap()
    }

    fn grant_on(demarche: &Slug, name: &str) -> Grant {
        Grant {
            group: group(name),
            scope: Scope::Demarche(demarche.clone()),
        }
    }

    fn services(primary: &str, joint: &[&str]) -> Services {
        Services {
            primary: group(primary),
            joint: joint.iter().map(|g| group(g)).collect(),
        }
    }

    #[test]
    fn rights_on_a_demande_follow_its_service() {
        let voirie = Slug::from("signalement-voie-publique");
        let on = |name: &str| grant_on(&voirie, name);
        let grants = [
            on("Gest_SVL_DTE_Voirie"),
            on("Gest_SVL_DTE_Éclairage"),
            on("Cons_SVL_DTE_Voirie"),
            on("Obs_SVL_DGS_GRU"),
        ];
        let eclairage = [group("Gest_SVL_DTE_Éclairage")];
        let at_voirie = services("Gest_SVL_DTE_Voirie", &[]);
        let rights = rights_on_demande(&eclairage, &grants, &voirie, &at_voirie);
        assert_eq!(
            rights.iter().collect::<Vec<_>>(),
            [Right::BackOffice, Right::FileOnBehalf]
        );
        let joint = services("Gest_SVL_DTE_Voirie", &["Gest_SVL_DTE_Éclairage"]);
        assert!(rights_on_demande(&eclairage, &grants, &voirie, &joint).contains(Right::Process));
        let transferred = services("Gest_SVL_DTE_Éclairage", &[]);
        assert!(
            rights_on_demande(&eclairage, &grants, &voirie, &transferred).contains(Right::Process)
        );
        let former = [group("Gest_SVL_DTE_Voirie")];
        assert!(!rights_on_demande(&former, &grants, &voirie, &transferred).contains(Right::Read));
        let consultant = [group("Cons_SVL_DTE_Voirie")];
        assert!(
            rights_on_demande(&consultant, &grants, &voirie, &at_voirie).contains(Right::Comment)
        );
        let gru = [group("Obs_SVL_DGS_GRU")];
        assert!(rights_on_demande(&gru, &grants, &voirie, &transferred).contains(Right::Read));
    }

    #[test]
    fn the_read_perimeter_is_the_services_unless_a_group_spans_them() {
        let voirie = Slug::from("signalement-voie-publique");
        let on = |name: &str| grant_on(&voirie, name);
        let grants = [
            on("Gest_SVL_DTE_Voirie"),
            on("Cons_SVL_DTE_Voirie"),
            on("Obs_SVL_DGS_GRU"),
            on("Agent_SVL_DGS_Accueil"),
        ];
        let members = [group("Gest_SVL_DTE_Voirie"), group("Cons_SVL_DTE_Voirie")];
        assert_eq!(
            read_perimeter(&members, &grants, &voirie, Right::Read),
            Perimeter::Services(vec![group("Gest_SVL_DTE_Voirie")])
        );
        let gru = [group("Obs_SVL_DGS_GRU"), group("Gest_SVL_DTE_Voirie")];
        assert_eq!(
            read_perimeter(&gru, &grants, &voirie, Right::Read),
            Perimeter::Everything
        );
        let accueil = [group("Agent_SVL_DGS_Accueil")];
        assert_eq!(
            read_perimeter(&accueil, &grants, &voirie, Right::Read),
            Perimeter::Nothing
        );
    }
}
