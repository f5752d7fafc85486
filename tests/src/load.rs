//! The démarche of the load benchmark and the crash test: 20 fields of the
//! usual kinds on three pages, no file field, the standard simple
//! workflow, open from 2025 to 2035 (`tests/benches/load-20-champs.yaml`),
//! and one usager's answers to it, by page.

use serde_json::{Value, json};

/// The definition, as `guichet demarche import` reads it.
pub const DEFINITION: &str = include_str!("../benches/load-20-champs.yaml");

/// Its slug.
pub const SLUG: &str = "charge-vingt-champs";

/// Its pages, in order.
pub const PAGES: [&str; 3] = ["porteur", "projet", "lieu"];

/// The 20 answers, by page.
pub fn answers() -> Value {
    json!({
        "porteur": {
            "prenom": "Camille",
            "nom": "Martin",
            "courriel": "camille.martin@example.fr",
            "telephone": "06 12 34 56 78",
            "date_naissance": "12/04/1988",
            "adresse": {
                "street": "12 rue de la République",
                "postcode": "13001",
                "city": "Marseille",
                "latitude": 43.2965,
                "longitude": 5.3698
            },
            "association": "Comité des fêtes du Panier"
        },
        "projet": {
            "intitule": "Fête de la place de Lenche",
            "categorie": "repas",
            "publics": ["familles", "enfants", "seniors"],
            "date_fete": "2027-06-19",
            "participants": 250,
            "budget": "2 400,50",
            "montant_demande": 800,
            "description": "Un grand repas partagé sur la place de Lenche, avec des jeux pour \
                les enfants l'après-midi et un bal le soir. Les habitants apportent les plats, \
                l'association fournit les tables, les chaises, la sonorisation et les \
                boissons. La subvention couvre la location du matériel, l'assurance et \
                l'impression des affiches distribuées dans les commerces du quartier."
        },
        "lieu": {
            "lieu": {
                "street": "Place de Lenche",
                "postcode": "13002",
                "city": "Marseille",
                "latitude": 43.2989,
                "longitude": 5.3665
            },
            "code_postal_association": "13002",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "accessible": true,
            "attestation": true
        }
    })
}
