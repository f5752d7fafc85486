//! The rules of a draft (`guichet_core::draft`): who may open one, a page
//! merged into the answers, a file within its field's limit, a data
//! source's parameters.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use guichet_core::actor::ActorKind;
use guichet_core::demarche::DemarcheVisibility;
use guichet_core::draft::{
    OpenError, add_file, foreign_fields, lookup_params, may_open, merge_page, usager_pages,
};
use guichet_core::field::DataSource;
use guichet_core::file::{FileRef, MediaType};
use guichet_core::id::{FieldId, FileId, PageId};
use guichet_core::role::{Right, Rights, Role};
use guichet_core::validation::ErrorCode;
use guichet_core::value::{Answers, Value};

use crate::support::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn who_may_open_a_draft_and_when() {
    let mut velo = example("aide-reparation-velo");
    let open = day(2026, 3, 2);
    let none = Rights::NONE;
    let saisie = Role::SaisieBo.rights();
    assert!(saisie.contains(Right::FileOnBehalf));
    assert_eq!(
        may_open(&velo, ActorKind::Usager, none, false, open),
        Ok(())
    );
    assert_eq!(
        may_open(&velo, ActorKind::Usager, none, true, open),
        Err(OpenError::OnBehalfByUsager)
    );
    assert_eq!(
        may_open(
            &velo,
            ActorKind::Agent,
            Role::Observateur.rights(),
            true,
            open
        ),
        Err(OpenError::RightMissing)
    );
    assert_eq!(
        may_open(&velo, ActorKind::Agent, saisie, true, open),
        Ok(())
    );
    // Opens on 1 January 2026: the day before, nobody files.
    assert_eq!(
        may_open(&velo, ActorKind::Usager, none, false, day(2025, 12, 31)),
        Err(OpenError::Closed)
    );
    velo.visibility = DemarcheVisibility::Agents;
    assert_eq!(
        may_open(&velo, ActorKind::Usager, none, false, open),
        Err(OpenError::NotListed)
    );
    assert_eq!(
        may_open(&velo, ActorKind::Agent, saisie, false, open),
        Ok(())
    );
}

#[test]
fn a_saved_page_replaces_its_answers_and_keeps_uploaded_files() {
    let signalement = example("signalement-voie-publique");
    let page = signalement.page(&PageId::from("photos")).unwrap();
    let photos = FieldId::from("photos");
    let file = FileRef {
        id: FileId::from_uuid(id(1)),
        name: "photo.jpg".into(),
        media_type: MediaType::Jpeg,
        size: 10,
    };
    let mut saved = Answers::default();
    saved.insert(photos.clone(), Value::Files(vec![file.clone()]));
    saved.insert(FieldId::from("precision_lieu"), Value::Text("école".into()));
    let merged = merge_page(&saved, page, Answers::default());
    assert_eq!(merged.get(&photos), Some(&Value::Files(vec![file])));
    assert_eq!(
        merged.get(&FieldId::from("precision_lieu")),
        Some(&Value::Text("école".into())),
        "other pages' answers stay"
    );
    let mut stray = Answers::default();
    stray.insert(FieldId::from("precision_lieu"), Value::Text("x".into()));
    let problems = foreign_fields(page, &stray);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code, ErrorCode::ChampHorsPage);
}

#[test]
fn files_join_their_field_up_to_its_limit() {
    let signalement = example("signalement-voie-publique");
    let field = signalement.field(&FieldId::from("photos")).unwrap();
    let file = |n: u128| FileRef {
        id: FileId::from_uuid(id(n)),
        name: format!("photo-{n}.jpg"),
        media_type: MediaType::Jpeg,
        size: 10,
    };
    let mut answers = Answers::default();
    for n in 1..=3 {
        answers = add_file(&answers, field, file(n)).unwrap();
    }
    let refused = add_file(&answers, field, file(4)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::FichiersTropNombreux);
    let velo = example("aide-reparation-velo");
    let facture = velo.field(&FieldId::from("facture")).unwrap();
    let once = add_file(&Answers::default(), facture, file(1)).unwrap();
    let again = add_file(&once, facture, file(2)).unwrap();
    assert_eq!(
        again.get(&facture.id),
        Some(&Value::Files(vec![file(2)])),
        "a single-file field keeps the last one"
    );
}

#[test]
fn a_source_is_asked_once_its_parameters_are_answered() {
    let source = DataSource {
        connector: "espace-famille-ville".into(),
        name: "family-link".into(),
        params: BTreeMap::from([
            ("family-code".into(), FieldId::from("code_famille")),
            ("secret".into(), FieldId::from("code_secret")),
        ]),
        personal: true,
        cache_seconds: None,
        link: None,
    };
    let mut answers = Answers::default();
    answers.insert(
        FieldId::from("code_famille"),
        Value::Text(" F-0002 ".into()),
    );
    assert_eq!(lookup_params(&source, &answers), None);
    answers.insert(FieldId::from("code_secret"), Value::Text("s3cret".into()));
    let params = lookup_params(&source, &answers).unwrap();
    assert_eq!(params["family-code"], "F-0002");
    assert_eq!(params["secret"], "s3cret");
    answers.insert(FieldId::from("code_secret"), Value::Text("   ".into()));
    assert_eq!(
        lookup_params(&source, &answers),
        None,
        "blank is unanswered"
    );
}

#[test]
fn the_restauration_children_come_from_the_account_link_not_from_answers() {
    let restauration = example("inscription-restauration-scolaire");
    for id in ["famille", "enfant"] {
        let field = restauration.field(&FieldId::from(id)).unwrap();
        let (_, source) = field.kind.choice_list().unwrap();
        let source = source.unwrap();
        assert_eq!(source.link.as_deref(), Some("family-id"), "{id}");
        assert!(source.params.is_empty(), "{id}: no answer feeds it");
        assert_eq!(
            lookup_params(source, &Answers::default()),
            Some(BTreeMap::new())
        );
    }
    assert!(restauration.field(&FieldId::from("code_secret")).is_none());
}

#[test]
fn usagers_see_no_agent_only_field() {
    for name in ["aide-reparation-velo", "signalement-voie-publique"] {
        let definition = example(name);
        assert!(definition.fields().any(|f| f.agent_only), "{name} has some");
        for page in usager_pages(&definition) {
            assert!(!page.fields.is_empty());
            assert!(page.fields.iter().all(|f| !f.agent_only), "{name}");
        }
    }
}
