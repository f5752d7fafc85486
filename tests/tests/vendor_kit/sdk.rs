//! The SDK outside this repository: its WIT copy, the packaged crate, a
//! copy of its folder and the repository by git; the JSON Schemas it
//! publishes.

use super::*;

#[test]
fn the_sdk_carries_the_wit_it_binds() {
    let ours = root().join("sdk/wit/connector@0.1.0");
    let theirs = root().join("wit/connector@0.1.0");
    assert_eq!(files(&root().join("sdk/wit")).len(), files(&ours).len());
    assert_eq!(files(&ours), files(&theirs));
    for file in files(&theirs) {
        assert_eq!(
            std::fs::read(ours.join(&file)).expect("the SDK's copy"),
            std::fs::read(theirs.join(&file)).expect("the repository's WIT"),
            "sdk/wit/connector@0.1.0/{} differs from wit/connector@0.1.0/{0}: copy it again",
            file.display()
        );
    }
}

#[test]
fn a_vendor_project_builds_against_the_packaged_sdk() {
    run(cargo(&root()).args(["package", "-q", "-p", "guichet-sdk", "--allow-dirty"]));
    let name = format!("guichet-sdk-{}", sdk_version());
    let packaged = target_dir().join(format!("package/{name}.crate"));
    let outside = scratch("vendor-packaged");
    run(Command::new("tar")
        .arg("xzf")
        .arg(&packaged)
        .arg("-C")
        .arg(&outside));
    let project = outside.join("bibliotheque");
    vendor_project(&project, "bibliotheque-packaged", &outside.join(&name));
    test_and_build(&project, "bibliotheque-packaged");
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn a_vendor_project_builds_against_a_copy_of_the_sdk_directory() {
    let outside = scratch("vendor-copy");
    let sdk = outside.join("guichet-sdk");
    for file in files(&root().join("sdk")) {
        let to = sdk.join(&file);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("directory");
        std::fs::copy(root().join("sdk").join(&file), &to).expect("file copied");
    }
    let project = outside.join("bibliotheque");
    vendor_project(&project, "bibliotheque-copied", &sdk);
    test_and_build(&project, "bibliotheque-copied");
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn a_vendor_project_builds_against_the_sdk_by_git() {
    let url = format!("file://{}", root().display());
    let outside = scratch("vendor-git");
    let project = outside.join("bibliotheque");
    vendor_project(&project, "bibliotheque-git", &outside);
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let by_path = format!(
        "guichet-sdk = {{ path = {:?} }}",
        outside.display().to_string()
    );
    assert!(text.contains(&by_path));
    std::fs::write(
        &manifest,
        text.replace(&by_path, &format!("guichet-sdk = {{ git = {url:?} }}")),
    )
    .expect("manifest rewritten");
    test_and_build(&project, "bibliotheque-git");
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn the_published_schemas_are_those_the_host_derives() {
    let dir = root().join("sdk/schemas");
    let update = std::env::var_os("GUICHET_UPDATE_SNAPSHOTS").is_some();
    let schemas = guichet_host::connectors::model::schemas();
    if update {
        std::fs::create_dir_all(&dir).expect("sdk/schemas");
    }
    for (name, schema) in &schemas {
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(schema).expect("JSON") + "\n";
        if update {
            std::fs::write(&path, &text).expect("schema written");
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            text,
            "{} differs from what the host derives: GUICHET_UPDATE_SNAPSHOTS=1 cargo test -p guichet-tests --test vendor_kit",
            path.display()
        );
    }
    assert_eq!(
        files(&dir).len(),
        schemas.len(),
        "a schema in sdk/schemas/ is no call's"
    );
}
