//! The SDK as a vendor takes it: it carries the WIT it binds, `cargo
//! package -p guichet-sdk` succeeds (building the packaged crate on its
//! own), and a connector project outside this repository — the source of
//! `examples/hello-connector`, with a `Cargo.toml` of its own — runs its
//! native tests with the mock host and builds its component for
//! `wasm32-wasip2`, against the packaged crate, against a plain copy of
//! `sdk/`, and by `git` from this repository's committed `HEAD`.
//!
//! These cargo runs use their own target directory (`<target>/vendor-kit`),
//! so that they never wait for the lock of the suite's build; its
//! dependencies stay compiled from one run to the next.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the repository")
        .to_path_buf()
}

/// `<target>/vendor-kit`, beside this build's profile directory.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test>
    exe.ancestors()
        .nth(3)
        .expect("target directory")
        .join("vendor-kit")
}

/// A fresh directory outside the repository.
fn scratch(purpose: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("guichet-{purpose}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Runs `command` and fails the test with its output if it fails.
fn run(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `cargo` with the vendor kit's target directory, in `dir`.
fn cargo(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    command
}

/// The files under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// The SDK's version, read from its manifest.
fn sdk_version() -> String {
    let manifest = std::fs::read_to_string(root().join("sdk/Cargo.toml")).expect("sdk manifest");
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("a version line")
        .to_owned()
}

/// Writes a vendor's connector project `name` in `dir`, depending on the
/// SDK at `sdk`, with the source of `examples/hello-connector`.
fn vendor_project(dir: &Path, name: &str, sdk: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("project directory");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n\
             [dependencies]\nguichet-sdk = {{ path = {:?} }}\nserde_json = \"1\"\n\n\
             [profile.release]\nopt-level = \"s\"\nlto = true\nstrip = true\n",
            sdk.display().to_string(),
        ),
    )
    .expect("manifest written");
    std::fs::copy(
        root().join("examples/hello-connector/src/lib.rs"),
        dir.join("src/lib.rs"),
    )
    .expect("source copied");
}

/// Tests the project `name` in `dir` natively, builds its component, and
/// checks that the file is a component (not a core module).
fn test_and_build(dir: &Path, name: &str) {
    run(cargo(dir).args(["test", "-q"]));
    run(cargo(dir).args(["build", "-q", "--release", "--target", "wasm32-wasip2"]));
    let wasm = target_dir().join(format!(
        "wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    ));
    let bytes = std::fs::read(&wasm).expect("the component is built");
    assert_eq!(
        &bytes[..8],
        b"\0asm\x0d\x00\x01\x00",
        "{} is a WebAssembly component",
        wasm.display()
    );
}

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
