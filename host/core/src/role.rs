//! Roles and rights, as in the collectivité's table.
//!
//! | level | role | group prefix | rights |
//! |---|---|---|---|
//! | 0 | Agent | `Agent` | back office |
//! | 1 | Observateur | `Obs` | + read the demande and the agents' history |
//! | 2 | Consultant | `Cons` | + comment in the agents' history |
//! | – | Saisie BO | `Saisie` | back office + file on behalf of an usager |
//! | 6 | Gestionnaire | `Gest` | read, comment, process (accept, refuse, close, processing table), file on behalf |
//! | 8 | Qualité | `Qual` | every right but administration, + statistics |
//! | 9 | Administrateur | `Admin` | every right, + administration |
//!
//! People are members of groups named `Role_Collectivité_Direction_Service`
//! ([`GroupName`], e.g. `Gest_SVL_DACT_Mobilités`): the first part says the
//! role, the rest the **service** (`SVL_DACT_Mobilités`). A [`Grant`] gives a
//! group its role on one démarche (or on all). The rights of a person on a
//! démarche are the union of the roles of their groups granted on it
//! ([`rights`]).
//!
//! ## Rights on a demande follow its service
//! The seed: « la demande arrive à l'agent suivant les droits définis », and a
//! complex demande « peut être redirigée vers un autre service ». A demande
//! belongs to its current service and its joint services
//! ([`crate::demande::Services`]). The rights of a person on **one demande**
//! ([`rights_on_demande`]) are the union, over their groups granted on the
//! demande's démarche, of:
//! - the whole role's rights when the role looks across services
//!   ([`Role::spans_services`]: Observateur, Qualité, Administrateur — the
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

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::demande::{Demande, Services, UserId};
use crate::demarche::Slug;

/// A role of the table.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Level 0: access to the back office.
    Agent,
    /// Level 1: reads demandes and their processing history.
    Observateur,
    /// Level 2: writes comments in the processing history.
    Consultant,
    /// Files demandes on behalf of usagers.
    SaisieBo,
    /// Level 6: processes demandes.
    Gestionnaire,
    /// Level 8: every right but administration; statistics.
    Qualite,
    /// Level 9: builds démarches and runs the system.
    Administrateur,
}

impl Role {
    /// Every role, in the table's order.
    pub const ALL: [Role; 7] = [
        Role::Agent,
        Role::Observateur,
        Role::Consultant,
        Role::SaisieBo,
        Role::Gestionnaire,
        Role::Qualite,
        Role::Administrateur,
    ];

    /// The level of the table (`None` for Saisie BO, which has none).
    pub fn level(self) -> Option<u8> {
        match self {
            Role::Agent => Some(0),
            Role::Observateur => Some(1),
            Role::Consultant => Some(2),
            Role::SaisieBo => None,
            Role::Gestionnaire => Some(6),
            Role::Qualite => Some(8),
            Role::Administrateur => Some(9),
        }
    }

    /// The prefix of the groups holding this role.
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Agent => "Agent",
            Role::Observateur => "Obs",
            Role::Consultant => "Cons",
            Role::SaisieBo => "Saisie",
            Role::Gestionnaire => "Gest",
            Role::Qualite => "Qual",
            Role::Administrateur => "Admin",
        }
    }

    /// The role's name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Agent => "Agent",
            Role::Observateur => "Observateur",
            Role::Consultant => "Consultant",
            Role::SaisieBo => "Saisie BO",
            Role::Gestionnaire => "Gestionnaire",
            Role::Qualite => "Qualité",
            Role::Administrateur => "Administrateur",
        }
    }

    /// The rights the role gives on a démarche it is granted on.
    pub fn rights(self) -> Rights {
        use Right::*;
        let rights: &[Right] = match self {
            Role::Agent => &[BackOffice],
            Role::Observateur => &[BackOffice, Read],
            Role::Consultant => &[BackOffice, Read, Comment],
            Role::SaisieBo => &[BackOffice, FileOnBehalf],
            Role::Gestionnaire => &[BackOffice, Read, Comment, FileOnBehalf, Process],
            Role::Qualite => &[BackOffice, Read, Comment, FileOnBehalf, Process, Statistics],
            Role::Administrateur => &Right::ALL,
        };
        rights.iter().copied().collect()
    }

    /// Whether the role looks across services: its rights hold on every
    /// demande of the démarches it is granted on, whatever their service
    /// (Observateur, Qualité, Administrateur). The other roles act only on
    /// the demandes of their own service.
    pub fn spans_services(self) -> bool {
        matches!(
            self,
            Role::Observateur | Role::Qualite | Role::Administrateur
        )
    }

    fn from_prefix(prefix: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.prefix() == prefix)
    }
}

/// A right on a démarche.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    /// Open the back office and see the démarche there.
    BackOffice,
    /// Read demandes and the agents' history.
    Read,
    /// Write internal comments in the agents' history.
    Comment,
    /// File a demande on behalf of an usager (*saisie au nom de l'usager*).
    FileOnBehalf,
    /// Process: take, accept, refuse, close, exchange with the usager, work
    /// the processing table, fill the *cadre réservé à l'administration*.
    Process,
    /// Create and use statistics.
    Statistics,
    /// Administration: back to *transmise*, trash, démarches, roles.
    Administration,
}

impl Right {
    /// Every right.
    pub const ALL: [Right; 7] = [
        Right::BackOffice,
        Right::Read,
        Right::Comment,
        Right::FileOnBehalf,
        Right::Process,
        Right::Statistics,
        Right::Administration,
    ];

    /// The right's name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Right::BackOffice => "accès au back office",
            Right::Read => "lecture des demandes",
            Right::Comment => "commentaire interne",
            Right::FileOnBehalf => "saisie au nom de l'usager",
            Right::Process => "traitement des demandes",
            Right::Statistics => "statistiques",
            Right::Administration => "administration",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(from = "Vec<Right>", into = "Vec<Right>")]
pub struct Rights(u8);

impl Rights {
    /// No right.
    pub const NONE: Rights = Rights(0);

    /// Whether the set holds `right`.
    pub fn contains(self, right: Right) -> bool {
        self.0 & right.bit() != 0
    }

    /// Both sets together.
    pub fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rights held, in [`Right::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Right> {
        Right::ALL
            .into_iter()
            .filter(move |right| self.contains(*right))
    }
}

impl FromIterator<Right> for Rights {
    fn from_iter<I: IntoIterator<Item = Right>>(iter: I) -> Self {
        Rights(iter.into_iter().fold(0, |bits, right| bits | right.bit()))
    }
}

impl From<Vec<Right>> for Rights {
    fn from(rights: Vec<Right>) -> Self {
        rights.into_iter().collect()
    }
}

impl From<Rights> for Vec<Right> {
    fn from(rights: Rights) -> Self {
        rights.iter().collect()
    }
}

/// A group name of the shape `Role_Collectivité_Direction_Service`
/// (`Gest_SVL_DACT_Mobilités`), in Unicode NFC.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupName(String);

/// Why a group name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupNameError {
    /// Not four parts separated by `_`.
    #[error(
        "le nom de groupe « {0} » doit suivre la forme Rôle_Collectivité_Direction_Service (ex. Gest_SVL_DACT_Mobilités)"
    )]
    Shape(String),
    /// The first part is not a role prefix.
    #[error(
        "le nom de groupe « {name} » commence par « {prefix} », qui n'est pas un rôle (Agent, Obs, Cons, Saisie, Gest, Qual, Admin)"
    )]
    UnknownRole {
        /// The refused name.
        name: String,
        /// Its first part.
        prefix: String,
    },
}

impl GroupName {
    /// Checks and normalises a group name.
    ///
    /// # Errors
    /// [`GroupNameError`] when the name does not have four non-empty parts of
    /// letters, digits or `-` separated by `_`, or its first part is not a
    /// role prefix.
    pub fn parse(name: &str) -> Result<GroupName, GroupNameError> {
        let name: String = name.trim().nfc().collect();
        let parts: Vec<&str> = name.split('_').collect();
        let part_ok =
            |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-');
        if parts.len() != 4 || !parts.iter().all(part_ok) {
            return Err(GroupNameError::Shape(name));
        }
        if Role::from_prefix(parts[0]).is_none() {
            let prefix = parts[0].to_owned();
            return Err(GroupNameError::UnknownRole { name, prefix });
        }
        Ok(GroupName(name))
    }

    /// The role the group holds, read from its first part.
    pub fn role(&self) -> Role {
        self.0
            .split('_')
            .next()
            .and_then(Role::from_prefix)
            .unwrap_or(Role::Agent)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The service the group belongs to, `Collectivité_Direction_Service`
    /// (`SVL_DACT_Mobilités` for `Gest_SVL_DACT_Mobilités`).
    pub fn service(&self) -> &str {
        self.0
            .split_once('_')
            .map(|(_, unit)| unit)
            .unwrap_or_default()
    }

    /// Whether both groups belong to the same service, whatever their roles.
    pub fn same_service(&self, other: &GroupName) -> bool {
        self.service() == other.service()
    }

    /// The same organisation unit (`Collectivité_Direction_Service`) with
    /// another role: the Qualité group of a Gestionnaire group is its manager.
    pub fn with_role(&self, role: Role) -> GroupName {
        let unit = self
            .0
            .split_once('_')
            .map(|(_, unit)| unit)
            .unwrap_or_default();
        GroupName(format!("{}_{unit}", role.prefix()))
    }
}

impl TryFrom<String> for GroupName {
    type Error = GroupNameError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        GroupName::parse(&name)
    }
}

impl From<GroupName> for String {
    fn from(name: GroupName) -> Self {
        name.0
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for GroupName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GroupName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A group named Role_Collectivité_Direction_Service, e.g. Gest_SVL_DACT_Mobilités.",
            "type": "string",
            "pattern": "^(Agent|Obs|Cons|Saisie|Gest|Qual|Admin)_[\\p{L}\\p{N}-]+_[\\p{L}\\p{N}-]+_[\\p{L}\\p{N}-]+$"
        })
    }
}

/// Which démarches a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every démarche (for administrators and quality staff).
    All,
    /// One démarche, by slug (every version).
    Demarche(Slug),
}

/// A group's role granted on démarches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Grant {
    /// The group; its name carries the role.
    pub group: GroupName,
    /// The démarches covered.
    pub scope: Scope,
}

impl Grant {
    /// Whether the grant covers the démarche.
    pub fn covers(&self, demarche: &Slug) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Demarche(slug) => slug == demarche,
        }
    }
}

/// The rights of a person, member of `groups`, on a démarche.
pub fn rights(groups: &[GroupName], grants: &[Grant], demarche: &Slug) -> Rights {
    grants
        .iter()
        .filter(|grant| grant.covers(demarche) && groups.contains(&grant.group))
        .fold(Rights::NONE, |acc, grant| {
            acc.union(grant.group.role().rights())
        })
}

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

    fn group(name: &str) -> GroupName {
        GroupName::parse(name).unwrap()
    }

    /// The table of the seed, row by row: (role, [back office, read, comment,
    /// file on behalf, process, statistics, administration]).
    const MATRIX: [(Role, [bool; 7]); 7] = [
        (
            Role::Agent,
            [true, false, false, false, false, false, false],
        ),
        (
            Role::Observateur,
            [true, true, false, false, false, false, false],
        ),
        (
            Role::Consultant,
            [true, true, true, false, false, false, false],
        ),
        (
            Role::SaisieBo,
            [true, false, false, true, false, false, false],
        ),
        (
            Role::Gestionnaire,
            [true, true, true, true, true, false, false],
        ),
        (Role::Qualite, [true, true, true, true, true, true, false]),
        (
            Role::Administrateur,
            [true, true, true, true, true, true, true],
        ),
    ];

    #[test]
    fn every_role_has_exactly_the_rights_of_the_table() {
        for (role, expected) in MATRIX {
            for (right, held) in Right::ALL.into_iter().zip(expected) {
                assert_eq!(
                    role.rights().contains(right),
                    held,
                    "{} / {}",
                    role.label(),
                    right.label()
                );
            }
        }
    }

    #[test]
    fn levels_follow_the_table() {
        let levels: Vec<Option<u8>> = Role::ALL.iter().map(|r| r.level()).collect();
        assert_eq!(
            levels,
            [Some(0), Some(1), Some(2), None, Some(6), Some(8), Some(9)]
        );
    }

    #[test]
    fn group_names_follow_the_organisation_chart() {
        let name = group("Gest_SVL_DACT_Mobilités");
        assert_eq!(name.role(), Role::Gestionnaire);
        assert_eq!(
            name.with_role(Role::Qualite).as_str(),
            "Qual_SVL_DACT_Mobilités"
        );
        for bad in [
            "Gest_SVL_DACT",
            "Gest_SVL__Mobilités",
            "Chef_SVL_DACT_Mobilités",
            "Gest SVL DACT Mobilités",
            "",
        ] {
            assert!(GroupName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_names_are_compared_in_nfc() {
        let composed = group("Gest_SVL_DACT_Mobilit\u{e9}s");
        let decomposed = group("Gest_SVL_DACT_Mobilite\u{301}s");
        assert_eq!(composed, decomposed);
    }

    #[test]
    fn rights_come_from_grants_on_the_demarche_only() {
        let velo = Slug("aide-reparation-velo".into());
        let voirie = Slug("signalement-voie-publique".into());
        let grants = [
            Grant {
                group: group("Gest_SVL_DACT_Mobilités"),
                scope: Scope::Demarche(velo.clone()),
            },
            Grant {
                group: group("Obs_SVL_DGS_GRU"),
                scope: Scope::All,
            },
        ];
        let member_of = [group("Gest_SVL_DACT_Mobilités"), group("Obs_SVL_DGS_GRU")];

        assert!(rights(&member_of, &grants, &velo).contains(Right::Process));
        assert!(!rights(&member_of, &grants, &voirie).contains(Right::Process));
        assert!(rights(&member_of, &grants, &voirie).contains(Right::Read));
        assert!(rights(&[group("Gest_SVL_DTE_Voirie")], &grants, &velo).is_empty());
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
        let voirie = Slug("signalement-voie-publique".into());
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
        let voirie = Slug("signalement-voie-publique".into());
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

    #[test]
    fn rights_serialise_as_a_list() {
        let json = serde_json::to_value(Role::Consultant.rights()).unwrap();
        assert_eq!(json, serde_json::json!(["back_office", "read", "comment"]));
    }
}
