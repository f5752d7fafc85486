//! The example démarches and the published JSON Schema.

use guichet_core::demarche::{Definition, DemarcheKind, definition_schema};
use guichet_core::workflow::{AtDeadline, StandardParameters, Workflow, check_workflow, template};

use crate::support::{example, examples_dir};

const EXAMPLES: [&str; 3] = [
    "aide-reparation-velo",
    "signalement-voie-publique",
    "inscription-restauration-scolaire",
];

#[test]
fn the_three_examples_parse_and_pass_every_check() {
    for name in EXAMPLES {
        let definition = example(name);
        assert_eq!(definition.slug.as_str(), name);
        let problems = check_workflow(&definition.workflow(), &|key| {
            definition.message(key).is_some()
        });
        assert!(problems.is_empty(), "{name}: {problems:?}");
    }
}

#[test]
fn the_published_schema_is_the_generated_one() {
    let path = examples_dir().join("demarche.schema.json");
    let generated = serde_json::to_string_pretty(&definition_schema()).unwrap() + "\n";
    if std::env::var_os("GUICHET_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap();
    assert!(
        published == generated,
        "examples/demarches/demarche.schema.json is stale: rerun the tests with GUICHET_WRITE_SCHEMA=1"
    );
}

#[test]
fn the_bike_repair_demarche_is_simple_and_processed_by_mobilites() {
    let velo = example("aide-reparation-velo");
    assert_eq!(velo.kind, DemarcheKind::Simple);
    assert_eq!(velo.service.as_str(), "Gest_SVL_DACT_Mobilités");
    assert!(
        velo.fields()
            .filter(|f| f.has_value() && !f.agent_only)
            .count()
            >= 10
    );
    assert!(velo.fields().any(|f| f.prefill.is_some()));
    let workflow = velo.workflow();
    assert_eq!(workflow.timing.archive_after_days, 7);
    assert_eq!(workflow.timing.anonymise_after_months, Some(12));
}

#[test]
fn the_complexe_examples_take_the_complexe_delays() {
    for name in [
        "signalement-voie-publique",
        "inscription-restauration-scolaire",
    ] {
        let workflow = example(name).workflow();
        assert_eq!(workflow.timing.archive_after_days, 27, "{name}");
        assert_eq!(workflow.timing.anonymise_after_months, Some(24), "{name}");
        assert!(workflow.status(&"en_attente".into()).is_some(), "{name}");
    }
}

#[test]
fn both_templates_pass_the_checks_of_custom_workflows_with_every_option() {
    let every_option = StandardParameters {
        hold_max_days: Some(30),
        no_answer_days: Some(15),
        at_deadline: Some(AtDeadline::Escalate),
        ..StandardParameters::default()
    };
    let cases = [
        (DemarcheKind::Simple, StandardParameters::default()),
        (DemarcheKind::Complexe, StandardParameters::default()),
        (DemarcheKind::Complexe, every_option),
        (
            DemarcheKind::Simple,
            StandardParameters {
                at_deadline: Some(AtDeadline::Escalate),
                ..Default::default()
            },
        ),
    ];
    for (kind, parameters) in cases {
        let workflow = template::standard(kind, &parameters);
        let problems = check_workflow(&workflow, &|key| {
            guichet_core::notification::default_text(key).is_some()
        });
        assert!(problems.is_empty(), "{kind:?}: {problems:?}");
    }
}

#[test]
fn a_template_written_as_yaml_reads_back_as_the_same_workflow() {
    let workflow = template::standard(DemarcheKind::Complexe, &StandardParameters::default());
    let yaml = guichet_core::yaml::to_string(&workflow).unwrap();
    let back: Workflow = guichet_core::yaml::from_str(&yaml).unwrap();
    assert_eq!(back, workflow);
}

#[test]
fn an_example_written_back_as_yaml_or_json_reads_the_same() {
    for name in EXAMPLES {
        let definition = example(name);
        let yaml = definition.to_yaml().unwrap();
        assert_eq!(Definition::from_yaml(&yaml).unwrap(), definition, "{name}");
        let json = serde_json::to_string(&definition).unwrap();
        assert_eq!(Definition::from_json(&json).unwrap(), definition, "{name}");
    }
}

#[test]
fn the_examples_validate_against_the_published_schema() {
    let schema = definition_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for name in EXAMPLES {
        let text = std::fs::read_to_string(examples_dir().join(format!("{name}.yaml"))).unwrap();
        let instance = guichet_core::yaml::to_json(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    let misspelt = guichet_core::yaml::to_json(
        "slug: x\npages: [{ id: p, title: P, fields: [{ id: a, kind: texte }] }]",
    )
    .unwrap();
    assert!(
        !validator.is_valid(&misspelt),
        "the schema catches what editors should underline"
    );
}
