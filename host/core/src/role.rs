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
//! What this gives on one demande, which follows its service, is in
//! [`crate::access`].

use std::fmt;

use crate::id::Slug;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

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
        let velo = Slug::from("aide-reparation-velo");
        let voirie = Slug::from("signalement-voie-publique");
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

    #[test]
    fn rights_serialise_as_a_list() {
        let json = serde_json::to_value(Role::Consultant.rights()).unwrap();
        assert_eq!(json, serde_json::json!(["back_office", "read", "comment"]));
    }
}
