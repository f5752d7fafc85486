//! Inputs that were accepted but wrong, or refused but right: invisible
//! characters, IBANs of the wrong length, overseas phone numbers, dates
//! out of any plausible range, birth dates in the future. Each reported
//! input goes through the plain-JSON reading and the page validation, as
//! the API does.
use guichet_core::actor::ActorKind;

use guichet_core::id::{FieldId, PageId};
use std::collections::BTreeMap;

use guichet_core::demarche::Definition;
use guichet_core::field::Choice;
use guichet_core::file::MediaType;
use guichet_core::validation::{
    Context, ErrorCode, read_answers, validate_page, validate_submission,
};
use guichet_core::value::Value;
use serde_json::{Value as Json, json};

use crate::support::*;

fn context(options: &BTreeMap<FieldId, Vec<Choice>>) -> Context<'_> {
    Context {
        filler: ActorKind::Usager,
        today: today(),
        options,
    }
}

/// The errors of one page for plain JSON answers, as `field:code`.
fn page_errors(definition: &Definition, page: &str, posted: Json) -> Vec<String> {
    // The family the usager's account is linked to (restauration).
    let options = BTreeMap::from([(
        FieldId::from("famille"),
        vec![Choice {
            value: "F-0002".into(),
            label: "Famille MARTIN".into(),
        }],
    )]);
    match read_answers(definition, &posted) {
        Err(errors) => errors,
        Ok(answers) => validate_page(
            definition,
            &PageId::from(page),
            &answers,
            &context(&options),
        ),
    }
    .into_iter()
    .map(|e| format!("{}:{}", e.field, e.code.as_str()))
    .collect()
}

/// The cleaned value of one field once the whole vélo form is submitted
/// with `field` answered as posted.
fn cleaned_velo(field: &str, posted: Json) -> Value {
    let velo = example("aide-reparation-velo");
    let mut answers = velo_answers();
    let read = read_answers(&velo, &json!({ field: posted })).unwrap();
    answers.merge(read);
    let options = source_options();
    let cleaned = validate_submission(&velo, &answers, true, &context(&options)).unwrap();
    cleaned.get(&FieldId::from(field)).unwrap().clone()
}

fn repair_page(extra: Json) -> Json {
    let mut page = json!({
        "type_velo": "electrique",
        "date_reparation": "2026-02-20",
        "reparateur": "Cycles du Vieux-Port",
        "montant": "86,50",
        "facture": serde_json::to_value(file(1, MediaType::Pdf, 48_213)).unwrap(),
    });
    for (k, v) in extra.as_object().unwrap() {
        page[k] = v.clone();
    }
    page
}

#[test]
fn invisible_characters_do_not_answer_a_required_field() {
    let velo = example("aide-reparation-velo");
    for invisible in [
        "\u{200b}",
        "\u{200c}\u{200d}",
        "\u{2060}",
        "\u{feff}",
        " \u{00ad} ",
        "\u{200e}",
        "\u{3164}",
        "\u{a0}\u{202f}\t",
    ] {
        let errors = page_errors(
            &velo,
            "reparation",
            repair_page(json!({ "reparateur": invisible })),
        );
        assert_eq!(errors, ["reparateur:requis"], "{invisible:?}");
    }
}

#[test]
fn accepted_texts_are_stored_in_nfc_without_invisible_ends() {
    assert_eq!(
        cleaned_velo("reparateur", json!("\u{feff}Cycles du Vieux-Port\u{200b} ")),
        text("Cycles du Vieux-Port")
    );
    assert_eq!(
        cleaned_velo("titulaire_compte", json!("Ce\u{301}line Martin")),
        text("Céline Martin")
    );
    assert_eq!(
        cleaned_velo("courriel", json!("\u{200b}camille.martin@exemple.fr")),
        text("camille.martin@exemple.fr")
    );
}

#[test]
fn an_iban_of_the_wrong_length_for_its_country_is_refused() {
    let velo = example("aide-reparation-velo");
    for bad in [
        "FR04300060000112345678901",
        "FR76 3000 6000 0112 3456 7890 18",
        "DE89 3704 0044 0532 0130 0",
    ] {
        let errors = page_errors(
            &velo,
            "versement",
            json!({ "titulaire_compte": "Camille Martin", "iban": bad, "attestation": true }),
        );
        assert_eq!(errors, ["iban:format_iban"], "{bad}");
    }
    assert_eq!(
        cleaned_velo("iban", json!("fr76 3000 6000 0112 3456 7890 189")),
        text("FR7630006000011234567890189")
    );
}

#[test]
fn overseas_phone_numbers_are_accepted_in_both_forms_and_stored_in_e164() {
    for (posted, stored) in [
        ("+262 692 12 34 56", "+262692123456"),
        ("0692 12 34 56", "+262692123456"),
        ("+590 690 00 12 34", "+590690001234"),
        ("0596 30 12 34", "+596596301234"),
        ("+594 694 20 12 34", "+594694201234"),
        ("+262 639 01 23 45", "+262639012345"),
        ("+508 41 12 34", "+508411234"),
        ("+689 87 12 34 56", "+68987123456"),
        ("+687 75 12 34", "+687751234"),
        ("+681 72 12 34", "+681721234"),
        ("06 12 34 56 78", "+33612345678"),
    ] {
        assert_eq!(
            cleaned_velo("telephone", json!(posted)),
            text(stored),
            "{posted}"
        );
    }
    let velo = example("aide-reparation-velo");
    for bad in ["+44 20 7946 0958", "06 12 34 56 7a", "0692 12 34 5"] {
        let mut page = json!({
            "prenom": "Camille", "nom": "Martin", "courriel": "camille.martin@exemple.fr",

            "adresse": { "street": "12 rue de la République", "postcode": "13001", "city": "Marseille" },
        });
        page["telephone"] = json!(bad);
        let errors = page_errors(&velo, "identite", page);
        assert_eq!(errors, ["telephone:format_telephone"], "{bad}");
    }
}

#[test]
fn dates_need_a_four_digit_plausible_year() {
    let resto = example("inscription-restauration-scolaire");
    let responsable = |birth: &str| {
        json!({
            "lien_enfant": "parent", "prenom": "Camille", "nom": "Martin",
            "date_naissance": birth, "courriel": "camille.martin@exemple.fr",
            "famille": "F-0002", "telephone": "0612345678",
        })
    };
    for bad in [
        "0000-01-01",
        "1899-12-31",
        "26-01-01",
        "+1988-04-12",
        "12/04/88",
    ] {
        let errors = page_errors(&resto, "responsable", responsable(bad));
        assert_eq!(errors, ["date_naissance:format_date"], "{bad}");
    }
    assert!(page_errors(&resto, "responsable", responsable("1988-04-12")).is_empty());
    assert!(page_errors(&resto, "responsable", responsable("12/04/1988")).is_empty());
}

#[test]
fn a_birth_date_is_never_in_the_future() {
    let resto = example("inscription-restauration-scolaire");
    let tomorrow = (today() + days(1)).format("%Y-%m-%d").to_string();
    let errors = page_errors(
        &resto,
        "responsable",
        json!({
            "lien_enfant": "parent", "prenom": "Camille", "nom": "Martin",
            "date_naissance": tomorrow, "courriel": "camille.martin@exemple.fr",
            "famille": "F-0002", "telephone": "0612345678",
        }),
    );
    assert_eq!(errors, ["date_naissance:date_trop_tard"]);

    // Without `max: today` in the definition, the profile prefill says it
    // is a birth date, and the rule holds all the same.
    let yaml =
        std::fs::read_to_string(examples_dir().join("inscription-restauration-scolaire.yaml"))
            .unwrap()
            .replacen(
                "        max: today\n        prefill: profile.birth_date",
                "        prefill: profile.birth_date",
                1,
            );
    let without_max = Definition::from_yaml(&yaml).unwrap();
    let errors = page_errors(
        &without_max,
        "responsable",
        json!({
            "lien_enfant": "parent", "prenom": "Camille", "nom": "Martin",
            "date_naissance": (today() + days(400)).format("%d/%m/%Y").to_string(),
            "courriel": "camille.martin@exemple.fr",
            "famille": "F-0002", "telephone": "0612345678",
        }),
    );
    assert_eq!(errors, ["date_naissance:date_trop_tard"]);
    assert_eq!(ErrorCode::DateTropTard.as_str(), "date_trop_tard");
}
