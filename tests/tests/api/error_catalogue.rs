//! The error catalogue is a contract: every code with its status, and every
//! code of a field problem, as the OpenAPI document lists them, is written
//! and compared with the committed `error_catalogue.snap`. Renaming a code
//! or changing its status fails here until the snapshot is updated on
//! purpose (`GUICHET_UPDATE_SNAPSHOTS=1 cargo test -p guichet-tests --test
//! api error_catalogue`), so clients can rely on the codes.

use std::path::PathBuf;

use guichet_host::http::{ErrorCode, api, openapi};
use serde_json::Value;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/error_catalogue.snap")
}

/// The codes a schema of the document lists (`oneOf` of `const`s).
fn listed(schema: &Value) -> Vec<&str> {
    schema["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["const"].as_str())
        .collect()
}

#[test]
fn the_error_catalogue_matches_its_snapshot_and_the_document() {
    let document = openapi::document(api().routes());
    let schemas = &document["components"]["schemas"];
    let api_codes = listed(&schemas["ErrorCode"]);
    let field_codes = listed(&schemas["FieldCode"]);
    assert_eq!(
        api_codes,
        ErrorCode::ALL
            .iter()
            .map(|code| code.as_str())
            .collect::<Vec<_>>(),
        "the document lists every code of the catalogue"
    );
    assert!(
        !field_codes.is_empty(),
        "the document lists the field codes"
    );

    let mut written = String::from("# code status (top-level `code` of an error)\n");
    for code in ErrorCode::ALL {
        written.push_str(&format!("{} {}\n", code.as_str(), code.status().as_u16()));
    }
    written.push_str("\n# field codes (`errors[].code`)\n");
    for code in &field_codes {
        written.push_str(&format!("{code}\n"));
    }

    let path = snapshot_path();
    if std::env::var("GUICHET_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &written).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == written,
        "the error catalogue changed: check that clients can follow, then update \
         {} with GUICHET_UPDATE_SNAPSHOTS=1\n--- committed\n{committed}\n--- now\n{written}",
        path.display()
    );
}

#[test]
fn every_code_is_snake_case_and_unique() {
    let mut seen = std::collections::BTreeSet::new();
    for code in ErrorCode::ALL {
        let text = code.as_str();
        assert!(
            text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{text} is snake_case"
        );
        assert!(seen.insert(text), "{text} appears once");
    }
}
