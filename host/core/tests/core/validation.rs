//! Filling a form: pages, submission, bad inputs, files, summary, prefill.
use guichet_core::actor::ActorKind;
use guichet_core::draft::prefill;

use guichet_core::id::{FieldId, PageId};
use std::collections::BTreeMap;

use guichet_core::demande::FilingChannel;

use guichet_core::field::Choice;
use guichet_core::file::MediaType;
use guichet_core::profile::Profile;
use guichet_core::role::Role;
use guichet_core::submission::{self, Filer, Filing, SubmitError};
use guichet_core::summary::summary;
use guichet_core::validation::{
    Context, ErrorCode, FieldError, read_answers, validate_page, validate_submission,
};
use guichet_core::value::{Answers, Value};
use serde_json::json;

use crate::support::*;

fn usager_context(options: &BTreeMap<FieldId, Vec<Choice>>) -> Context<'_> {
    Context {
        filler: ActorKind::Usager,
        today: today(),
        options,
    }
}

fn codes(errors: &[FieldError]) -> Vec<(String, ErrorCode)> {
    errors.iter().map(|e| (e.field.clone(), e.code)).collect()
}

fn submit_velo(answers: Answers, consent: bool) -> Result<Answers, Vec<FieldError>> {
    let options = source_options();
    validate_submission(
        &example("aide-reparation-velo"),
        &answers,
        consent,
        &usager_context(&options),
    )
}

#[test]
fn a_complete_bike_repair_demande_is_valid_and_cleaned() {
    let cleaned = submit_velo(velo_answers(), true).unwrap();
    assert_eq!(
        cleaned.get(&"telephone".into()),
        Some(&text("+33612345678"))
    );
    assert_eq!(
        cleaned.get(&"iban".into()),
        Some(&text("FR7630006000011234567890189"))
    );
}

#[test]
fn each_bad_input_gives_its_code_on_its_field() {
    let cases: Vec<(&str, Value, ErrorCode)> = vec![
        ("prenom", text("   "), ErrorCode::Requis),
        ("courriel", text("camille.martin"), ErrorCode::FormatEmail),
        ("telephone", text("12345"), ErrorCode::FormatTelephone),
        ("type_velo", choice("trottinette"), ErrorCode::ChoixInconnu),
        ("type_velo", Value::Number(3.0), ErrorCode::TypeInvalide),
        (
            "date_reparation",
            date(2025, 12, 31),
            ErrorCode::DateTropTot,
        ),
        ("date_reparation", date(2026, 3, 3), ErrorCode::DateTropTard),
        (
            "reparateur",
            text(&"x".repeat(121)),
            ErrorCode::TexteTropLong,
        ),
        ("montant", Value::Number(0.5), ErrorCode::NombreTropPetit),
        (
            "montant",
            Value::Number(5000.01),
            ErrorCode::NombreTropGrand,
        ),
        (
            "montant",
            Value::Number(f64::NAN),
            ErrorCode::NombreInvalide,
        ),
        (
            "facture",
            Value::Files(vec![file(9, MediaType::Pdf, 11 * 1024 * 1024)]),
            ErrorCode::FichierTropGros,
        ),
        (
            "facture",
            Value::Files(vec![
                file(8, MediaType::Pdf, 10),
                file(9, MediaType::Pdf, 10),
            ]),
            ErrorCode::FichiersTropNombreux,
        ),
        ("facture", Value::Files(vec![]), ErrorCode::Requis),
        (
            "iban",
            text("FR76 3000 6000 0112 3456 7890 188"),
            ErrorCode::FormatIban,
        ),
        ("attestation", Value::Checkbox(false), ErrorCode::Requis),
        (
            "adresse",
            Value::Address(guichet_core::value::Address {
                postcode: "1300".into(),
                ..home()
            }),
            ErrorCode::FormatCodePostal,
        ),
        (
            "adresse",
            Value::Address(guichet_core::value::Address {
                latitude: Some(91.0),
                ..home()
            }),
            ErrorCode::CoordonneesInvalides,
        ),
        ("champ_fantome", text("x"), ErrorCode::ChampInconnu),
        (
            "montant_accorde",
            Value::Number(50.0),
            ErrorCode::ChampReserveAdministration,
        ),
        (
            "cadre_administration",
            text("x"),
            ErrorCode::ChampSansSaisie,
        ),
    ];
    for (field, value, code) in cases {
        let mut answers = velo_answers();
        answers.insert(field.into(), value.clone());
        let errors = submit_velo(answers, true).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![(field.to_owned(), code)],
            "{field} = {value:?}"
        );
        assert!(!errors[0].message.is_empty());
    }
}

#[test]
fn a_missing_required_field_is_requis() {
    let mut answers = velo_answers();
    answers.remove(&"iban".into());
    let errors = submit_velo(answers, true).unwrap_err();
    assert_eq!(codes(&errors), vec![("iban".to_owned(), ErrorCode::Requis)]);
    assert_eq!(errors[0].message, "Ce champ est obligatoire.");
}

#[test]
fn submission_requires_the_rgpd_consent() {
    let errors = submit_velo(velo_answers(), false).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("rgpd".to_owned(), ErrorCode::ConsentementRequis)]
    );
    assert_eq!(
        errors[0].message,
        "Cochez la case de consentement pour que votre demande soit reçue."
    );
}

#[test]
fn a_page_is_validated_alone() {
    let options = source_options();
    let velo = example("aide-reparation-velo");
    let draft = answers(vec![
        ("prenom", text("Camille")),
        ("courriel", text("pas-un-courriel")),
    ]);
    let errors = validate_page(
        &velo,
        &PageId::from("identite"),
        &draft,
        &usager_context(&options),
    );
    assert_eq!(
        codes(&errors),
        vec![
            ("nom".to_owned(), ErrorCode::Requis),
            ("courriel".to_owned(), ErrorCode::FormatEmail),
            ("adresse".to_owned(), ErrorCode::Requis),
        ]
    );
    let errors = validate_page(
        &velo,
        &PageId::from("versement"),
        &draft,
        &usager_context(&options),
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    let errors = validate_page(
        &velo,
        &PageId::from("inconnue"),
        &draft,
        &usager_context(&options),
    );
    assert_eq!(errors[0].code, ErrorCode::PageInconnue);
}

fn cantine_answers() -> Answers {
    answers(vec![
        ("prenom", text("Camille")),
        ("nom", text("Martin")),
        ("date_naissance", date(1988, 4, 12)),
        ("courriel", text("camille.martin@exemple.fr")),
        ("telephone", text("06 12 34 56 78")),
        ("lien_enfant", choice("parent")),
        ("famille", choice("F-0002")),
        ("enfant", choice("enf-1")),
        ("ecole", choice("jules-ferry")),
        ("classe", choice("ce1")),
        (
            "jours",
            Value::Choices(vec!["lundi".into(), "jeudi".into()]),
        ),
        ("date_debut", date(2026, 9, 1)),
        ("regime", choice("standard")),
    ])
}

fn children() -> BTreeMap<FieldId, Vec<Choice>> {
    let child = |v: &str, l: &str| Choice {
        value: v.into(),
        label: l.into(),
    };
    BTreeMap::from([
        ("famille".into(), vec![child("F-0002", "Famille MARTIN")]),
        (
            "enfant".into(),
            vec![child("enf-1", "Léa Martin"), child("enf-2", "Noé Martin")],
        ),
    ])
}

#[test]
fn hidden_fields_are_not_required_and_their_values_are_dropped() {
    let cantine = example("inscription-restauration-scolaire");
    let options = children();
    let mut answers = cantine_answers();
    answers.insert("pai".into(), choice("signe"));
    answers.insert("autre_allergene".into(), text("kiwi"));

    let cleaned = validate_submission(&cantine, &answers, true, &usager_context(&options)).unwrap();

    assert_eq!(cleaned.get(&"pai".into()), None);
    assert_eq!(cleaned.get(&"autre_allergene".into()), None);
}

#[test]
fn a_conditional_page_is_required_once_shown() {
    let cantine = example("inscription-restauration-scolaire");
    let options = children();
    let mut answers = cantine_answers();
    answers.insert("allergie".into(), Value::Checkbox(true));
    answers.insert(
        "allergenes".into(),
        Value::Choices(vec!["arachide".into(), "autre".into()]),
    );
    answers.insert("pai".into(), choice("signe"));

    let errors =
        validate_submission(&cantine, &answers, true, &usager_context(&options)).unwrap_err();

    assert_eq!(
        codes(&errors),
        vec![
            ("autre_allergene".to_owned(), ErrorCode::Requis),
            ("protocole_pai".to_owned(), ErrorCode::Requis)
        ]
    );
}

#[test]
fn data_source_choices_are_checked_against_the_resolved_options() {
    let cantine = example("inscription-restauration-scolaire");
    let mut answers = cantine_answers();
    answers.insert("enfant".into(), choice("enf-9"));
    let options = children();
    let errors =
        validate_submission(&cantine, &answers, true, &usager_context(&options)).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("enfant".to_owned(), ErrorCode::ChoixInconnu)]
    );

    let none = source_options();
    let errors = validate_submission(&cantine, &cantine_answers(), true, &usager_context(&none))
        .unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![
            ("famille".to_owned(), ErrorCode::SourceIndisponible),
            ("enfant".to_owned(), ErrorCode::SourceIndisponible)
        ]
    );
}

#[test]
fn multiple_choices_respect_their_minimum() {
    let cantine = example("inscription-restauration-scolaire");
    let options = children();
    let mut answers = cantine_answers();
    answers.insert(
        "jours".into(),
        Value::Choices(vec!["lundi".into(), "samedi".into()]),
    );
    let errors =
        validate_submission(&cantine, &answers, true, &usager_context(&options)).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("jours".to_owned(), ErrorCode::ChoixInconnu)]
    );
}

#[test]
fn geolocation_is_required_for_a_signalement() {
    let signalement = example("signalement-voie-publique");
    let options = source_options();
    let mut answers = signalement_answers();
    let no_coordinates = guichet_core::value::Address {
        latitude: None,
        longitude: None,
        ..home()
    };
    answers.insert("localisation".into(), Value::Address(no_coordinates));
    let errors =
        validate_submission(&signalement, &answers, true, &usager_context(&options)).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("localisation".to_owned(), ErrorCode::CoordonneesRequises)]
    );
}

#[test]
fn a_photo_field_refuses_a_pdf() {
    let signalement = example("signalement-voie-publique");
    let options = source_options();
    let mut answers = signalement_answers();
    answers.insert(
        "photos".into(),
        Value::Files(vec![file(5, MediaType::Pdf, 100)]),
    );
    let errors =
        validate_submission(&signalement, &answers, true, &usager_context(&options)).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("photos".to_owned(), ErrorCode::TypeFichier)]
    );
    assert_eq!(errors[0].message, "Joignez un fichier au format JPEG, PNG.");
}

#[test]
fn plain_json_answers_are_read_with_the_definition() {
    let velo = example("aide-reparation-velo");
    let posted = json!({
        "prenom": "Camille",
        "montant": "86,50",
        "date_reparation": "20/02/2026",
        "attestation": "on",
        "type_velo": "cargo",
        "telephone": null
    });
    let answers = read_answers(&velo, &posted).unwrap();
    assert_eq!(answers.get(&"montant".into()), Some(&Value::Number(86.5)));
    assert_eq!(
        answers.get(&"date_reparation".into()),
        Some(&date(2026, 2, 20))
    );
    assert_eq!(
        answers.get(&"attestation".into()),
        Some(&Value::Checkbox(true))
    );
    assert_eq!(answers.get(&"telephone".into()), None);

    let errors = read_answers(
        &velo,
        &json!({"fantome": 1, "montant": "beaucoup", "date_reparation": "hier", "prenom": 3}),
    )
    .unwrap_err();
    let mut found = codes(&errors);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("date_reparation".to_owned(), ErrorCode::FormatDate),
            ("fantome".to_owned(), ErrorCode::ChampInconnu),
            ("montant".to_owned(), ErrorCode::NombreInvalide),
            ("prenom".to_owned(), ErrorCode::TypeInvalide),
        ]
    );
}

#[test]
fn the_summary_lists_shown_answers_with_their_labels() {
    let cantine = example("inscription-restauration-scolaire");
    let pages = summary(&cantine, &cantine_answers(), ActorKind::Usager, &children());
    let titles: Vec<&str> = pages.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Responsable légal",
            "Enfant à inscrire",
            "Jours et date de début"
        ]
    );
    let shown: Vec<(&str, &str)> = pages[1]
        .items
        .iter()
        .map(|i| (i.label.as_str(), i.value.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("Enfant", "Léa Martin"),
            ("École", "École élémentaire Jules-Ferry"),
            ("Classe à la rentrée", "CE1")
        ]
    );
    let days: Vec<&str> = pages[2].items.iter().map(|i| i.value.as_str()).collect();
    assert_eq!(days, ["Lundi, Jeudi", "01/09/2026", "Menu standard", "Non"]);
    assert!(
        pages[0]
            .items
            .iter()
            .any(|i| i.label == "Votre famille à l'Espace famille" && i.value == "Famille MARTIN")
    );
}

#[test]
fn the_summary_formats_numbers_files_and_addresses() {
    let velo = example("aide-reparation-velo");
    let pages = summary(&velo, &velo_answers(), ActorKind::Usager, &source_options());
    let find = |label: &str| {
        pages
            .iter()
            .flat_map(|p| &p.items)
            .find(|i| i.label == label)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(find("Montant de la facture"), "86,50 €");
    assert_eq!(find("Facture acquittée"), "piece-1.pdf");
    assert_eq!(
        find("Adresse du domicile"),
        "12 rue de la République, 13001 Marseille"
    );
    assert!(
        pages
            .iter()
            .all(|p| p.title != "Cadre réservé à l'administration")
    );
    let for_agents = summary(&velo, &velo_answers(), ActorKind::Agent, &source_options());
    assert!(
        for_agents
            .iter()
            .any(|p| p.title == "Cadre réservé à l'administration")
    );
}

#[test]
fn page_one_is_prefilled_from_the_profile() {
    let profile = Profile {
        first_name: Some("Camille".into()),
        last_name: Some("Martin".into()),
        email: Some("camille.martin@exemple.fr".into()),
        phone: None,
        address: Some(home()),
        birth_date: None,
    };
    let draft = prefill(&example("aide-reparation-velo"), &profile);
    let ids: Vec<&str> = draft.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["adresse", "courriel", "nom", "prenom"]);
}

#[test]
fn an_agent_files_on_behalf_of_an_usager_with_the_channel_recorded() {
    let filing = |rights| Filing {
        version: 3,
        id: guichet_core::id::DemandeId::from_uuid(id(7)),
        numero: "2026-000007".into(),
        answers: velo_answers(),
        consent: true,
        filer: Filer::Agent {
            id: AGENT,
            rights,
            channel: FilingChannel::Telephone,
            usager: None,
        },
    };
    let velo = example("aide-reparation-velo");
    let outcome = submission::submit(
        &velo,
        filing(Role::SaisieBo.rights()),
        &source_options(),
        start(),
        ZONE,
    )
    .unwrap();
    let filed_by = outcome.demande.filed_by.unwrap();
    assert_eq!(
        (filed_by.agent, filed_by.channel),
        (AGENT, FilingChannel::Telephone)
    );
    assert_eq!(outcome.demande.demarche.version, 3);
    assert!(
        outcome
            .history
            .iter()
            .any(|h| h.text == "Demande saisie au nom de l'usager (reçue par téléphone)")
    );

    let refused = submission::submit(
        &velo,
        filing(Role::Consultant.rights()),
        &source_options(),
        start(),
        ZONE,
    );
    assert_eq!(refused.unwrap_err(), SubmitError::RightMissing);
}

#[test]
fn an_agent_may_fill_the_cadre_reserve_when_filing_but_an_usager_may_not() {
    let velo = example("aide-reparation-velo");
    let options = source_options();
    let mut answers = velo_answers();
    answers.insert("montant_accorde".into(), Value::Number(50.0));
    let agent = Context {
        filler: ActorKind::Agent,
        today: today(),
        options: &options,
    };
    assert!(validate_submission(&velo, &answers, true, &agent).is_ok());
    assert!(validate_submission(&velo, &answers, true, &usager_context(&options)).is_err());
}

#[test]
fn nothing_is_filed_outside_the_open_period_or_with_errors() {
    let velo = example("aide-reparation-velo");
    let filing = |answers, consent| Filing {
        version: 1,
        id: guichet_core::id::DemandeId::from_uuid(id(8)),
        numero: "2026-000008".into(),
        answers,
        consent,
        filer: Filer::Usager(USAGER),
    };
    let in_2028 = start() + days(700);
    let closed = submission::submit(
        &velo,
        filing(velo_answers(), true),
        &source_options(),
        in_2028,
        ZONE,
    );
    assert_eq!(closed.unwrap_err(), SubmitError::Closed);

    let invalid = submission::submit(
        &velo,
        filing(velo_answers(), false),
        &source_options(),
        start(),
        ZONE,
    );
    assert!(
        matches!(invalid, Err(SubmitError::Invalid(errors)) if errors[0].code == ErrorCode::ConsentementRequis)
    );
}

#[test]
fn error_codes_are_stable_snake_case() {
    for (code, text) in [
        (ErrorCode::Requis, "requis"),
        (ErrorCode::FormatEmail, "format_email"),
        (ErrorCode::ChoixInconnu, "choix_inconnu"),
        (ErrorCode::ChampInconnu, "champ_inconnu"),
        (ErrorCode::TypeFichier, "type_fichier"),
        (ErrorCode::FichierTropGros, "fichier_trop_gros"),
        (ErrorCode::ConsentementRequis, "consentement_requis"),
        (
            ErrorCode::ChampReserveAdministration,
            "champ_reserve_administration",
        ),
    ] {
        assert_eq!(code.as_str(), text);
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
    }
}

/// The store builds a filing's outcome before it numbers it
/// (`Outcome::renumber`): for the seed démarches, by the usager and by an
/// agent, that gives exactly the outcome built with the number.
#[test]
fn a_submission_numbered_after_it_was_built_is_the_one_built_with_its_number() {
    let agent = Filer::Agent {
        id: AGENT,
        rights: Role::SaisieBo.rights(),
        channel: FilingChannel::Guichet,
        usager: Some(USAGER),
    };
    let velo = example("aide-reparation-velo");
    for filer in [Filer::Usager(USAGER), agent] {
        let numbered = assert_renumbering(&velo, &velo_answers(), filer);
        assert!(
            numbered
                .notifications
                .iter()
                .any(|job| job.params["numero"] == RENUMBERED),
            "a notification names the number"
        );
    }
    assert_renumbering(
        &example("signalement-voie-publique"),
        &signalement_answers(),
        Filer::Usager(USAGER),
    );
}
