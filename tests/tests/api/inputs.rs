//! Inputs that were accepted but wrong, or refused but right, through the
//! API: a required answer made only of a zero-width space, a French IBAN
//! two characters short with a valid key, a Réunion mobile in
//! international form, a birth date in year 0000 or in the future. Refused
//! inputs write nothing; accepted ones are filed in their stored form
//! (E.164 phones, electronic IBANs, NFC texts).

use chrono::{Duration, TimeZone, Utc};
use guichet_core::id::{DemandeId, FieldId};

use guichet_core::value::Value;
use guichet_tests::app::{Client, TestApp, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value as Json, json};

on_both_backends!(
    a_zero_width_space_does_not_answer_a_required_field,
    an_iban_two_characters_short_is_refused_and_a_valid_one_is_filed_compact,
    a_reunion_mobile_is_accepted_in_both_forms_and_filed_in_e164,
    a_birth_date_in_year_0000_or_in_the_future_is_refused,
);

async fn usager(app: &TestApp) -> Client {
    app.import(VELO).await;
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await
}

/// The answer of a filed demande, as stored.
async fn filed_answer(app: &TestApp, demande: &str, field: &str) -> Option<Value> {
    let id = DemandeId::from_uuid(demande.parse().unwrap());
    let stored = app.store.demande(id).await.unwrap();
    stored.demande.answers.get(&FieldId::from(field)).cloned()
}

async fn refused(usager: &Client, draft: &str, page: &str, answers: Json, expected: &str) {
    let reply = usager
        .put(&format!("/api/drafts/{draft}/pages/{page}"), answers)
        .await;
    assert_eq!(reply.status, 422, "{expected}: {}", reply.body);
    assert_eq!(reply.field_errors(), [expected], "{}", reply.body);
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

async fn a_zero_width_space_does_not_answer_a_required_field(app: TestApp) {
    let usager = usager(&app).await;
    let draft = fill_velo(&usager, pdf("facture")).await;
    let before = usager.get(&format!("/api/drafts/{draft}")).await.body["answers"].clone();
    for invisible in ["\u{200b}", "\u{feff}\u{2060}", " \u{200d} "] {
        let mut page = velo_repair();
        page["reparateur"] = json!(invisible);
        refused(&usager, &draft, "reparation", page, "reparateur:requis").await;
    }
    let after = usager.get(&format!("/api/drafts/{draft}")).await.body["answers"].clone();
    assert_eq!(after, before, "the refused pages changed nothing");

    let mut page = velo_repair();
    page["reparateur"] = json!("\u{feff}Cycles du Vieux-Port\u{200b}");
    save_page(&usager, &draft, "reparation", page).await;
    let demande = submit(&usager, &draft).await;
    assert_eq!(
        filed_answer(&app, &demande, "reparateur").await,
        Some(Value::Text("Cycles du Vieux-Port".into())),
        "filed without the invisible characters"
    );
}

async fn an_iban_two_characters_short_is_refused_and_a_valid_one_is_filed_compact(app: TestApp) {
    let usager = usager(&app).await;
    let draft = fill_velo(&usager, pdf("facture")).await;
    for short in [
        "FR04300060000112345678901",
        "FR76 3000 6000 0112 3456 7890 18",
    ] {
        refused(
            &usager,
            &draft,
            "versement",
            json!({ "titulaire_compte": "Camille Martin", "iban": short, "attestation": true }),
            "iban:format_iban",
        )
        .await;
    }
    // `fill_velo` saved `FR76 3000 6000 0112 3456 7890 189`.
    let demande = submit(&usager, &draft).await;
    assert_eq!(
        filed_answer(&app, &demande, "iban").await,
        Some(Value::Text("FR7630006000011234567890189".into()))
    );
}

async fn a_reunion_mobile_is_accepted_in_both_forms_and_filed_in_e164(app: TestApp) {
    let usager = usager(&app).await;
    let identity = |phone: &str| {
        json!({
            "prenom": "Camille", "nom": "Martin", "courriel": "camille.martin@exemple.test",
            "telephone": phone,
            "adresse": { "street": "12 rue de la République", "postcode": "97400", "city": "Saint-Denis" },
        })
    };
    for phone in ["+262 692 12 34 56", "0692 12 34 56", "+262692123456"] {
        let draft = fill_velo(&usager, pdf("facture")).await;
        let saved = save_page(&usager, &draft, "identite", identity(phone)).await;
        assert_eq!(
            saved["answers"]["telephone"]["value"], "+262692123456",
            "the draft holds it in E.164 too"
        );
        let demande = submit(&usager, &draft).await;
        assert_eq!(
            filed_answer(&app, &demande, "telephone").await,
            Some(Value::Text("+262692123456".into())),
            "{phone}"
        );
        let view = usager_view(&usager, &demande).await;
        assert!(
            view.to_string().contains("+262 692 12 34 56"),
            "shown in international form: {view}"
        );
    }
    let draft = fill_velo(&usager, pdf("facture")).await;
    for wrong in ["+44 20 7946 0958", "06 12 34 56 7a", "+33 692 12 34 56"] {
        refused(
            &usager,
            &draft,
            "identite",
            identity(wrong),
            "telephone:format_telephone",
        )
        .await;
    }
}

async fn a_birth_date_in_year_0000_or_in_the_future_is_refused(app: TestApp) {
    let _famille = app.connect_famille().await;
    app.import(RESTAURATION).await;
    // Registrations open on 1 May 2026.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap());
    app.log_everyone_in_again().await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    link_family(&usager, MARTIN).await.expect(200);
    let draft = open_draft(&usager, RESTAURATION).await;
    let responsable = |birth: &str| {
        json!({
            "lien_enfant": "parent", "prenom": "Camille", "nom": "Martin",
            "date_naissance": birth, "courriel": "camille.martin@exemple.test",
            "famille": "F-0002", "telephone": "0612345678",
        })
    };
    let before = app.count("drafts").await;
    for (birth, expected) in [
        ("0000-01-01", "date_naissance:format_date"),
        ("01/01/0000", "date_naissance:format_date"),
        ("88-04-12", "date_naissance:format_date"),
        ("2026-05-05", "date_naissance:date_trop_tard"),
    ] {
        refused(&usager, &draft, "responsable", responsable(birth), expected).await;
    }
    let shown = usager.get(&format!("/api/drafts/{draft}")).await;
    assert_eq!(
        shown.body["answers"]["date_naissance"]["value"],
        json!("1988-04-12"),
        "the prefilled birth date is kept: {}",
        shown.body
    );
    assert_eq!(app.count("drafts").await, before);
    let today = (app.clock_now() - Duration::hours(1))
        .format("%Y-%m-%d")
        .to_string();
    save_page(&usager, &draft, "responsable", responsable(&today)).await;
}
