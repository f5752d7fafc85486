//! Reading definitions: every bad input gives a French problem with its
//! path; versioning says which edits need a new version.

use chrono::NaiveDate;
use guichet_core::demarche::{Change, Definition, DefinitionError, OpenPeriod, classify_change};
use guichet_core::field::{Choice, FieldKind};
use guichet_core::notification::MessageText;
use guichet_core::workflow::{StandardParameters, WorkflowChoice};

use crate::support::{ZONE, example, examples_dir, group};

/// A named edit of a definition.
type Edit = Box<dyn Fn(&mut Definition)>;

const BASE: &str = "\
slug: test-demarche
title: Tester une démarche
category: Test
visibility: everyone
kind: simple
service: Gest_SVL_DACT_Mobilités
presentation: { average_minutes: 5 }
rgpd: { text: Texte légal, consent_label: J'accepte }
";

fn with_fields(fields: &str) -> String {
    format!("{BASE}pages:\n  - id: p1\n    title: Page\n    fields:\n{fields}")
}

fn with(extra: &str) -> String {
    format!(
        "{}{extra}",
        with_fields("      - { id: nom, kind: text, label: Nom }\n")
    )
}

fn problems(yaml: &str) -> DefinitionError {
    match Definition::from_yaml(yaml) {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(error) => error,
    }
}

#[test]
fn the_minimal_definition_is_accepted() {
    let definition = Definition::from_yaml(&with("")).unwrap();
    assert_eq!(definition.title, "Tester une démarche");
}

#[test]
fn each_bad_definition_is_refused_with_its_path_and_a_french_message() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "duplicate field ids",
            with_fields(
                "      - { id: nom, kind: text, label: Nom }\n      - { id: nom, kind: email, label: Courriel }\n",
            ),
            "pages[0].fields[1].id",
            "champ « nom » défini deux fois",
        ),
        (
            "condition on an unknown field",
            with_fields(
                "      - { id: nom, kind: text, label: Nom, condition: { checked: fantome } }\n",
            ),
            "pages[0].fields[0].condition",
            "champ inconnu « fantome »",
        ),
        (
            "condition on a later field",
            with_fields(
                "      - { id: nom, kind: text, label: Nom, condition: { checked: accord } }\n      - { id: accord, kind: checkbox, label: Accord }\n",
            ),
            "pages[0].fields[0].condition",
            "placé après",
        ),
        (
            "choice without choices or source",
            with_fields("      - { id: jour, kind: choice, label: Jour }\n"),
            "pages[0].fields[0].choices",
            "liste de choix ou une source de données",
        ),
        (
            "choice with both choices and source",
            with_fields(
                "      - { id: jour, kind: choice, label: Jour, choices: [{ value: a, label: A }], source: { connector: c, name: n } }\n",
            ),
            "pages[0].fields[0].source",
            "pas les deux",
        ),
        (
            "duplicate choice values",
            with_fields(
                "      - { id: jour, kind: choice, label: Jour, choices: [{ value: a, label: A }, { value: a, label: B }] }\n",
            ),
            "pages[0].fields[0].choices[1].value",
            "en double",
        ),
        (
            "bad slug",
            with("").replace("slug: test-demarche", "slug: Test_Demarche"),
            "slug",
            "identifiant « Test_Demarche » invalide",
        ),
        (
            "unknown placeholder in a notification",
            with(
                "notifications:\n  acceptee_usager: { subject: 'Demande {numero}', body: 'Bonjour {prenom}' }\n",
            ),
            "notifications.acceptee_usager.body",
            "paramètre de modèle inconnu {prenom}",
        ),
        (
            "unknown notification template",
            with("notifications:\n  bonjour: { subject: S, body: B }\n"),
            "notifications.bonjour",
            "modèle de notification inconnu « bonjour »",
        ),
        (
            "hold on a simple démarche",
            with("workflow:\n  standard: { hold: true }\n"),
            "workflow.standard.hold",
            "parcours standard complexe",
        ),
        (
            "reminder after the deadline",
            with("workflow:\n  standard: { processing_days: 20, reminder_days: [15, 21] }\n"),
            "workflow.standard.reminder_days[1]",
            "doit précéder l'échéance de 20 jours",
        ),
        (
            "unknown property",
            with_fields("      - { id: nom, kind: text, label: Nom, requierd: true }\n"),
            "pages[0].fields[0]",
            "propriété inconnue « requierd »",
        ),
        (
            "unknown field kind",
            with_fields("      - { id: nom, kind: texte, label: Nom }\n"),
            "pages[0].fields[0]",
            "valeur inconnue « texte »",
        ),
        (
            "bad service name",
            with("").replace("Gest_SVL_DACT_Mobilités", "Mobilités"),
            "service",
            "Rôle_Collectivité_Direction_Service",
        ),
        (
            "connector on an unknown status",
            with("connector: { instance: atal-ville, transmit_on: envoyee }\n"),
            "connector.transmit_on",
            "pas de statut « envoyee »",
        ),
        (
            "vendor status running an unknown transition",
            with(
                "connector:\n  instance: atal-ville\n  transmit_on: en_cours_analyse\n  sync: { on: { DONE: { transitions: [terminer] } } }\n",
            ),
            "connector.sync.on.DONE",
            "pas de transition « terminer »",
        ),
        (
            "vendor status running the usager's transition",
            with(
                "connector:\n  instance: atal-ville\n  transmit_on: en_cours_analyse\n  sync: { on: { DONE: { transitions: [abandonner] } } }\n",
            ),
            "connector.sync.on.DONE",
            "« abandonner » n'est pas une action des agents",
        ),
        (
            "vendor refusal without its type",
            with(
                "connector:\n  instance: atal-ville\n  transmit_on: en_cours_analyse\n  sync: { on: { REJECTED: { transitions: [refuser] } } }\n",
            ),
            "connector.sync.on.REJECTED",
            "« refuser » demande : type de refus",
        ),
        (
            "vendor status read every 0 minutes",
            with(
                "connector:\n  instance: atal-ville\n  transmit_on: en_cours_analyse\n  sync: { every_minutes: 0 }\n",
            ),
            "connector.sync.every_minutes",
            "au moins une minute",
        ),
        (
            "checked on a text field",
            with_fields(
                "      - { id: nom, kind: text, label: Nom }\n      - { id: age, kind: number, label: Âge, condition: { checked: nom } }\n",
            ),
            "pages[0].fields[1].condition",
            "« checked » ne s'applique pas au champ « nom » de type text",
        ),
        (
            "condition on a value outside the choices",
            with_fields(
                "      - { id: jour, kind: choice, label: Jour, choices: [{ value: lundi, label: Lundi }] }\n      - { id: age, kind: number, label: Âge, condition: { equals: { field: jour, value: dimanche } } }\n",
            ),
            "pages[0].fields[1].condition",
            "« dimanche » n'est pas une valeur de choix",
        ),
        (
            "prefill of the wrong kind",
            with_fields(
                "      - { id: naissance, kind: number, label: Naissance, prefill: profile.birth_date }\n",
            ),
            "pages[0].fields[0].prefill",
            "ne convient pas à un champ de type number",
        ),
        (
            "usager field conditioned on an agent-only field",
            with_fields(
                "      - { id: avis, kind: checkbox, label: Avis, agent_only: true }\n      - { id: nom, kind: text, label: Nom, condition: { checked: avis } }\n",
            ),
            "pages[0].fields[1].condition",
            "réservé à l'administration",
        ),
        (
            "reversed open period",
            with("open_period: { from: 2026-12-31, until: 2026-01-01 }\n"),
            "open_period",
            "finit (2026-01-01) avant de commencer",
        ),
        (
            "date bound outside any plausible year",
            with_fields(
                "      - { id: naissance, kind: date, label: Naissance, min: 0000-01-01 }\n",
            ),
            "pages[0].fields[0].min",
            "une année de 1900 à 2100",
        ),
        (
            "number with min above max",
            with_fields("      - { id: montant, kind: number, label: Montant, min: 10, max: 5 }\n"),
            "pages[0].fields[0].min",
            "le minimum (10) dépasse le maximum (5)",
        ),
        (
            "required title block",
            with_fields("      - { id: titre, kind: title, label: Titre, required: true }\n"),
            "pages[0].fields[0].required",
            "ne peut pas être obligatoire",
        ),
        (
            "source parameter from an unknown field",
            with_fields(
                "      - { id: enfant, kind: choice, label: Enfant, source: { connector: ef, name: children, params: { last-name: fantome } } }\n",
            ),
            "pages[0].fields[0].source.params.last-name",
            "champ inconnu « fantome »",
        ),
        (
            "source parameter from the account link and from an answer",
            with_fields(
                "      - { id: enfant, kind: choice, label: Enfant, source: { connector: ef, name: children, link: family-id, params: { family-id: fantome } } }\n",
            ),
            "pages[0].fields[0].source.link",
            "vient du rattachement du compte",
        ),
        (
            "blank parameter of the account link",
            with_fields(
                "      - { id: enfant, kind: choice, label: Enfant, source: { connector: ef, name: children, link: ' ' } }\n",
            ),
            "pages[0].fields[0].source.link",
            "identifiant du rattachement",
        ),
        (
            "source parameter from the same page",
            with_fields(
                "      - { id: nom, kind: text, label: Nom }\n      - { id: enfant, kind: choice, label: Enfant, source: { connector: ef, name: children, params: { last-name: nom } } }\n",
            ),
            "pages[0].fields[1].source.params.last-name",
            "d'une page précédente",
        ),
        (
            "file field with an oversized cap",
            with_fields("      - { id: piece, kind: file, label: Pièce, max_size_mb: 500 }\n"),
            "pages[0].fields[0].max_size_mb",
            "entre 1 et 100 Mo",
        ),
    ];
    for (case, yaml, path, fragment) in cases {
        let error = problems(&yaml);
        let found = error
            .problems
            .iter()
            .any(|p| p.path == path && p.message.contains(fragment));
        assert!(
            found,
            "{case}: expected `{path}: …{fragment}…`, got {:#?}",
            error.problems
        );
    }
}

#[test]
fn source_parameters_from_an_earlier_page_are_accepted() {
    let yaml = format!(
        "{BASE}pages:\n  - id: p1\n    title: Vous\n    fields:\n      - {{ id: nom, kind: text, label: Nom }}\n  - id: p2\n    title: Enfant\n    fields:\n      - {{ id: enfant, kind: choice, label: Enfant, source: {{ connector: ef, name: children, params: {{ last-name: nom }} }} }}\n"
    );
    let definition = Definition::from_yaml(&yaml).unwrap();
    let enfant = definition.fields().nth(1).unwrap();
    let Some((_, Some(source))) = enfant.kind.choice_list() else {
        panic!("a data source");
    };
    assert_eq!(source.params["last-name"].as_str(), "nom");
}

#[test]
fn every_problem_is_listed_at_once() {
    let yaml = with_fields(
        "      - { id: nom, kind: text, label: Nom }\n      - { id: nom, kind: text, label: Nom }\n      - { id: jour, kind: choice, label: Jour }\n      - { id: age, kind: number, label: Âge, condition: { checked: fantome } }\n",
    )
    .replace("slug: test-demarche", "slug: x");
    let error = problems(&yaml);
    assert_eq!(error.problems.len(), 4, "{:#?}", error.problems);
    let text = error.to_string();
    assert!(
        text.starts_with("définition de démarche invalide :"),
        "{text}"
    );
    assert!(
        text.contains("\n- slug : identifiant « x » invalide"),
        "{text}"
    );
}

#[test]
fn a_definition_is_open_only_during_its_period() {
    let velo = example("aide-reparation-velo");
    let at = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
    };
    assert!(!velo.is_open(at(2025, 12, 31), ZONE));
    assert!(velo.is_open(at(2026, 1, 1), ZONE));
    assert!(velo.is_open(at(2026, 12, 31), ZONE));
    assert!(velo.is_open(at(2027, 12, 31), ZONE));
    assert!(!velo.is_open(at(2028, 1, 1), ZONE));
    assert!(example("signalement-voie-publique").is_open(at(2040, 1, 1), ZONE));
}

#[test]
fn the_same_definition_is_identical() {
    // An administrator imports the same file again: the store compares it
    // with the version it kept as JSON. One letter more is a change.
    let files: Vec<_> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    assert!(files.len() >= 3, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let kept = Definition::from_yaml(&text).unwrap();
        let stored: Definition =
            serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
        let again = Definition::from_yaml(&text).unwrap();
        let mut edited = Definition::from_yaml(&text).unwrap();
        edited.title.push('.');

        assert_eq!(
            classify_change(&stored, &again),
            Change::Identical,
            "{}",
            path.display()
        );
        assert_ne!(
            classify_change(&stored, &edited),
            Change::Identical,
            "{}",
            path.display()
        );
    }
}

#[test]
fn texts_and_dates_are_updated_in_place() {
    let current = example("aide-reparation-velo");
    let edits: Vec<(&str, Edit)> = vec![
        (
            "title",
            Box::new(|d| d.title = "Obtenir une aide pour réparer son vélo".into()),
        ),
        ("category", Box::new(|d| d.category = "Transports".into())),
        (
            "keywords",
            Box::new(|d| d.keywords.push("bicyclette".into())),
        ),
        (
            "open period",
            Box::new(|d| {
                d.open_period = Some(OpenPeriod {
                    from: None,
                    until: NaiveDate::from_ymd_opt(2027, 6, 30),
                })
            }),
        ),
        (
            "presentation",
            Box::new(|d| d.presentation.average_minutes = 12),
        ),
        ("page title", Box::new(|d| d.pages[0].title = "Vous".into())),
        (
            "field label",
            Box::new(|d| d.pages[0].fields[0].label = "Prénom usuel".into()),
        ),
        (
            "help text",
            Box::new(|d| {
                d.pages[0].fields[0].help = Some("Comme sur votre pièce d'identité.".into())
            }),
        ),
        (
            "choice label",
            Box::new(|d| set_choices(d, |c| c[0].label = "Vélo mécanique".into())),
        ),
        (
            "rgpd text",
            Box::new(|d| d.rgpd.text.push_str(" Mise à jour 2026.")),
        ),
        (
            "notification text",
            Box::new(|d| {
                d.notifications.insert(
                    "traitee_usager".into(),
                    MessageText {
                        subject: "Aide versée ({numero})".into(),
                        body: "Bonjour.".into(),
                        sms: None,
                    },
                );
            }),
        ),
    ];
    for (what, edit) in edits {
        let mut new = current.clone();
        edit(&mut new);
        assert_eq!(classify_change(&current, &new), Change::TextsOnly, "{what}");
    }
}

#[test]
fn structural_edits_need_a_new_version() {
    let current = example("aide-reparation-velo");
    let mut edits: Vec<(&str, Edit)> = vec![
        (
            "new field",
            Box::new(|d| {
                let copy = guichet_core::field::Field {
                    id: "reparateur_bis".into(),
                    ..d.pages[1].fields[2].clone()
                };
                d.pages[1].fields.push(copy);
            }),
        ),
        (
            "required flag",
            Box::new(|d| d.pages[0].fields[3].required = true),
        ),
        (
            "choice value",
            Box::new(|d| set_choices(d, |c| c[0].value = "mecanique".into())),
        ),
        (
            "field kind",
            Box::new(|d| d.pages[1].fields[2].kind = FieldKind::LongText { max_length: None }),
        ),
        (
            "condition",
            Box::new(|d| {
                d.pages[2].condition = Some(guichet_core::condition::Condition::NotEmpty(
                    "montant".into(),
                ))
            }),
        ),
        (
            "service",
            Box::new(|d| d.service = group("Gest_SVL_DACT_Vélo")),
        ),
    ];
    edits.extend(workflow_edits());
    for (what, edit) in edits {
        let mut new = current.clone();
        edit(&mut new);
        assert_eq!(
            classify_change(&current, &new),
            Change::Structural,
            "{what}"
        );
    }
}

fn set_choices(definition: &mut Definition, edit: impl Fn(&mut Vec<Choice>)) {
    let field = &mut definition.pages[1].fields[0];
    if let FieldKind::Choice { choices, .. } = &mut field.kind {
        edit(choices);
    }
}

/// A definition's workflow is resolved once and shared; a definition
/// changed since in what it depends on (kind, workflow, fields kept at
/// anonymisation) gets its own, never the one kept.
#[test]
fn the_workflow_is_resolved_once_and_again_after_a_change() {
    let mut definition = example("aide-reparation-velo");
    let first = definition.workflow();
    assert!(std::sync::Arc::ptr_eq(&first, &definition.workflow()));
    assert_eq!(*first, guichet_core::workflow::resolve(&definition));

    let mut edits = workflow_edits();
    edits.extend::<Vec<(&str, Edit)>>(vec![(
        "field kept",
        Box::new(|d| {
            for page in &mut d.pages {
                page.fields
                    .retain(|field| field.id != guichet_core::id::FieldId::from("attestation"));
            }
        }),
    )]);
    for (what, edit) in edits {
        edit(&mut definition);
        let resolved = guichet_core::workflow::resolve(&definition);
        assert_eq!(*definition.workflow(), resolved, "{what}");
        let copy = definition.clone();
        assert_eq!(*copy.workflow(), resolved, "{what}, a clone");
    }
    assert_ne!(*first, *definition.workflow());
}

/// Edits of what a definition's workflow is resolved from.
fn workflow_edits() -> Vec<(&'static str, Edit)> {
    vec![
        (
            "workflow parameter",
            Box::new(|d| {
                d.workflow = WorkflowChoice::Standard(StandardParameters {
                    processing_days: Some(20),
                    ..Default::default()
                })
            }),
        ),
        (
            "kind",
            Box::new(|d| d.kind = guichet_core::demarche::DemarcheKind::Complexe),
        ),
    ]
}
