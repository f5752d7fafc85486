//! ATAL's reference data as the simulator seeds it: the thematics (request
//! types) and the third parties (requesting and recipient services).
//!
//! Ids are strings, as ATAL returns them. The seeded values are listed in
//! `examples/vendors/README.md`; tests and the demo rely on them.

use serde::{Serialize, Serializer};

/// A request type, answered by `GET /api/Thematics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Thematic {
    /// The id a works request names in `RequestType`.
    pub id: String,
    /// The label shown to the usager.
    pub label: String,
}

/// Which side of a works request a third party stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThirdPartyKind {
    /// `Type` 1: a technical team that carries out the work.
    Recipient,
    /// `Type` 2: a service that files requests on behalf of usagers.
    Requesting,
}

impl ThirdPartyKind {
    /// The kind for ATAL's numeric `type` parameter.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim() {
            "1" => Some(Self::Recipient),
            "2" => Some(Self::Requesting),
            _ => None,
        }
    }

    /// ATAL's numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Recipient => 1,
            Self::Requesting => 2,
        }
    }
}

impl Serialize for ThirdPartyKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

/// A service, answered by `GET /api/ThirdParties?type=1|2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ThirdParty {
    /// The id a works request names in `RequesterId`, `RecipientId` or
    /// `RequestingDepartmentId`.
    pub id: String,
    /// The service's name.
    pub name: String,
    /// Requesting or recipient.
    #[serde(rename = "Type")]
    pub kind: ThirdPartyKind,
}

/// The thematics and third parties of one simulated ATAL.
#[derive(Debug, Clone)]
pub struct Referential {
    /// All request types.
    pub thematics: Vec<Thematic>,
    /// All services, both kinds.
    pub third_parties: Vec<ThirdParty>,
}

impl Referential {
    /// The demo data documented in the README.
    pub fn seeded() -> Self {
        let thematics = [
            ("12", "Voirie - nid de poule"),
            ("13", "Voirie - trottoir dégradé"),
            ("20", "Éclairage public - lampadaire en panne"),
            ("30", "Propreté - corbeille de rue pleine"),
            ("31", "Propreté - dépôt sauvage"),
            ("32", "Propreté - graffitis et tags"),
            ("40", "Espaces verts - élagage et entretien"),
            ("50", "Mobilier urbain - banc ou abribus endommagé"),
            ("60", "Signalisation - panneau manquant ou abîmé"),
        ]
        .into_iter()
        .map(|(id, label)| Thematic {
            id: id.to_owned(),
            label: label.to_owned(),
        })
        .collect();
        let third_parties = [
            (
                "101",
                "Hôtel de Ville - accueil",
                ThirdPartyKind::Requesting,
            ),
            ("105", "Mairie annexe Nord", ThirdPartyKind::Requesting),
            ("106", "Mairie annexe Sud", ThirdPartyKind::Requesting),
            (
                "110",
                "Portail citoyen (téléservices)",
                ThirdPartyKind::Requesting,
            ),
            (
                "201",
                "Centre technique municipal - voirie",
                ThirdPartyKind::Recipient,
            ),
            ("202", "Régie éclairage public", ThirdPartyKind::Recipient),
            ("203", "Service propreté urbaine", ThirdPartyKind::Recipient),
            ("204", "Service espaces verts", ThirdPartyKind::Recipient),
            (
                "205",
                "Atelier signalisation et mobilier urbain",
                ThirdPartyKind::Recipient,
            ),
        ]
        .into_iter()
        .map(|(id, name, kind)| ThirdParty {
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
        })
        .collect();
        Self {
            thematics,
            third_parties,
        }
    }

    /// Whether `id` names a thematic.
    pub fn has_thematic(&self, id: &str) -> bool {
        self.thematics.iter().any(|thematic| thematic.id == id)
    }

    /// The third party with `id`.
    pub fn third_party(&self, id: &str) -> Option<&ThirdParty> {
        self.third_parties.iter().find(|party| party.id == id)
    }

    /// The third parties of one kind.
    pub fn third_parties_of(&self, kind: ThirdPartyKind) -> Vec<ThirdParty> {
        self.third_parties
            .iter()
            .filter(|party| party.kind == kind)
            .cloned()
            .collect()
    }
}
