//! Anonymisation erases every personal value and keeps what statistics need.
use guichet_core::actor::Actor;
use guichet_core::id::FileId;

use guichet_core::file::MediaType;
use guichet_core::value::Value;
use guichet_core::workflow::Action;
use guichet_core::workflow::anonymise::retained_fields;
use guichet_core::workflow::deadline::TimerKind;

use crate::support::*;

const PERSONAL: [&str; 12] = [
    "Camille",
    "Martin",
    "camille.martin@exemple.fr",
    "06 12 34 56 78",
    "République",
    "Marseille",
    "Lampadaire éteint",
    "devant l'école",
    "pair ou impair",
    "devant le 12",
    "Lampe remplacée",
    "piece-30",
];

#[test]
fn after_anonymisation_no_personal_value_remains() {
    let mut store = Store::signalement();
    store
        .act(Action::new("receptionner"), &gestionnaire())
        .unwrap();
    store
        .act(
            Action::new("echanger").message("Le lampadaire est-il côté pair ou impair ?"),
            &gestionnaire(),
        )
        .unwrap();
    store
        .act(
            Action::new("repondre")
                .message("Côté pair, devant le 12.")
                .attachment(file(30, MediaType::Jpeg, 5000)),
            &Actor::Usager(USAGER),
        )
        .unwrap();
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(
            Action::new("cloturer")
                .closing_comment("Lampe remplacée par l'équipe Éclairage.")
                .confirmed(),
            &gestionnaire(),
        )
        .unwrap();

    // Two calendar years: 731 days from March 2026, 2028 being a leap year.
    store.advance(days(731));

    assert_eq!(store.status(), "anonymisee");
    let everything = serde_json::to_string(&(&store.demande, &store.history, &store.jobs)).unwrap();
    for personal in PERSONAL {
        assert!(
            !everything.contains(personal),
            "« {personal} » survived in {everything}"
        );
    }
    assert_eq!(store.demande.usager, None);
    let mut deleted = store.deleted_files.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            FileId::from_uuid(id(1002)),
            FileId::from_uuid(id(1003)),
            FileId::from_uuid(id(1030))
        ]
    );
}

#[test]
fn anonymisation_keeps_what_statistics_need() {
    let mut store = Store::signalement();
    store
        .act(Action::new("receptionner"), &gestionnaire())
        .unwrap();
    store.act(Action::new("accepter"), &gestionnaire()).unwrap();
    store
        .act(
            Action::new("cloturer").closing_comment("Fait.").confirmed(),
            &gestionnaire(),
        )
        .unwrap();

    assert_eq!(
        store.advance(days(731)),
        [TimerKind::Archive, TimerKind::Anonymise]
    );

    let kept: Vec<(&str, &Value)> = store
        .demande
        .answers
        .iter()
        .map(|(id, v)| (id.as_str(), v))
        .collect();
    assert_eq!(
        kept,
        [
            ("categorie", &choice("20")),
            ("rappel_souhaite", &Value::Checkbox(true))
        ]
    );
    assert_eq!(store.demande.departement.as_deref(), Some("13"));
    assert_eq!(store.demande.numero, "2026-000042");
    assert_eq!(
        store.demande.demarche.slug.as_str(),
        "signalement-voie-publique"
    );
    let path: Vec<&str> = store
        .demande
        .path
        .iter()
        .map(|c| c.status.as_str())
        .collect();
    assert_eq!(
        path,
        [
            "transmise",
            "en_cours_analyse",
            "acceptee",
            "traitee",
            "archivee",
            "anonymisee"
        ]
    );
    assert_eq!(store.demande.dates.submitted_at, start());
    assert!(store.demande.dates.closed_at.is_some());
    assert!(
        store
            .history
            .iter()
            .all(|h| h.message.is_none() && h.attachment.is_none())
    );
    assert!(store.history.iter().any(|h| h.text == "Demande traitée"));
}

#[test]
fn a_refused_demande_keeps_its_refusal_type_but_not_its_justification() {
    let mut store = Store::velo();
    store
        .act(Action::new("prendre_en_compte"), &gestionnaire())
        .unwrap();
    let refusal = Action::new("refuser")
        .refusal(
            guichet_core::demande::RefusalType::Annulee,
            "Doublon de la demande de M. Martin.",
        )
        .confirmed();
    store.act(refusal, &gestionnaire()).unwrap();

    assert_eq!(
        store.advance(days(365)),
        [TimerKind::Archive, TimerKind::Anonymise]
    );

    let refusal = store.demande.refusal.clone().unwrap();
    assert_eq!(refusal.kind, guichet_core::demande::RefusalType::Annulee);
    assert!(refusal.justification.is_empty());
    assert!(
        !serde_json::to_string(&store.history)
            .unwrap()
            .contains("Martin")
    );
}

#[test]
fn retained_fields_are_static_choices_and_checkboxes_not_from_the_profile() {
    let cantine = example("inscription-restauration-scolaire");
    let kept: Vec<String> = retained_fields(&cantine)
        .iter()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(
        kept,
        [
            "lien_enfant",
            "ecole",
            "classe",
            "jours",
            "regime",
            "allergie",
            "allergenes",
            "pai",
            "tarif",
            "inscrit_espace_famille"
        ]
    );
    assert!(
        !kept.contains(&"enfant".to_owned()),
        "a child chosen from a data source is personal"
    );
}

#[test]
fn a_demande_keeps_the_labels_of_its_chosen_source_options_until_anonymisation() {
    use guichet_core::field::Choice;
    use guichet_core::id::FieldId;
    use guichet_core::submission::source_choices;
    use guichet_core::value::Answers;

    let cantine = example("inscription-restauration-scolaire");
    let choice = |value: &str, label: &str| Choice {
        value: value.into(),
        label: label.into(),
    };
    let options = std::collections::BTreeMap::from([(
        FieldId::from("enfant"),
        vec![
            choice("E-0003", "Chloé Martin"),
            choice("E-0004", "Léo Martin"),
        ],
    )]);
    let mut answers = Answers::default();
    answers.insert("enfant".into(), Value::Choice("E-0003".into()));
    answers.insert("ecole".into(), Value::Choice("les-tilleuls".into()));
    let kept = source_choices(&cantine, &answers, &options);
    assert_eq!(
        kept,
        std::collections::BTreeMap::from([(
            FieldId::from("enfant"),
            vec![choice("E-0003", "Chloé Martin")]
        )]),
        "only the chosen option of the data-source field, not the static `ecole`"
    );
    let mut unlisted = answers.clone();
    unlisted.insert("enfant".into(), Value::Choice("E-0009".into()));
    assert!(source_choices(&cantine, &unlisted, &options).is_empty());

    let mut demande = Store::velo().demande;
    demande.source_choices = kept;
    guichet_core::workflow::anonymise::anonymise_demande(&mut demande, &[]);
    assert!(
        demande.source_choices.is_empty(),
        "a child's name is personal"
    );
}
