//! The connector contract behind one seam: the versions of the WIT package
//! `guichet:connector` the host loads, and the binding of a component to the
//! version it implements.
//!
//! Each supported version has one bindings module under `contract/`
//! (`v0_1_0`, `v0_2_0`), generated from its frozen folder under `wit/` and
//! converting to and from the host's [`model`](super::model); the world
//! `plugin` they share is written once (`conversions.rs`). Nothing outside
//! this module names a version: the runtime links every version's imports
//! ([`add_to_linker`]), binds a component to the first version whose world
//! it implements ([`bind`]), and calls it through the [`Bound`] it got,
//! which also says which operations that world exports ([`Bound::serves`]:
//! a `plugin` has no `send_sms`, an `sms-gateway` only `check` and
//! `send_sms`).
//!
//! | version | worlds |
//! |---|---|
//! | `guichet:connector@0.2.0` | `plugin` (as 0.1.0), `sms-gateway` (`gateway` + `sms`) |
//! | `guichet:connector@0.1.0` | `plugin` |
//!
//! # Adding a version
//! 1. Release its WIT in a new folder `wit/connector@0.3.0/` and freeze it:
//!    add its digest to `wit/frozen.sha256` (see `wit/README.md`).
//! 2. Add `contract/v0_3_0.rs`, implementing [`Version`] for a unit struct
//!    and [`World`] for each generated `…Pre` type (start from `v0_2_0.rs`;
//!    the world `plugin` expands `conversions::plugin_world!` while its
//!    shapes stay those of 0.1.0), and convert any new type into
//!    [`model`](super::model).
//! 3. Put it first in [`SUPPORTED`].
//! 4. Commit a component built against it under
//!    `tests/fixtures/connector@0.3.0/` (see `tests/fixtures/README.md`).
//!
//! The tests below check that every supported version is frozen, and the
//! `connectors` suite that each has a committed component that loads.

use futures::future::BoxFuture;
use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use super::error::InstallError;
use super::host::CallState;
use super::model::{ConnectorError, Operation, Request, Response};

mod conversions;
mod v0_1_0;
mod v0_2_0;

/// Every contract version the host loads, newest first: a component is
/// bound to the first whose world it implements.
const SUPPORTED: &[&dyn Version] = &[&v0_2_0::V0_2_0, &v0_1_0::V0_1_0];

/// What a call of a component's export gives: a trap or host error outside,
/// the connector's own error inside.
type Answer = wasmtime::Result<Result<Response, ConnectorError>>;

/// One released version of the contract, as the host supports it.
trait Version: Sync {
    /// The contract id, e.g. `guichet:connector@0.1.0`.
    fn id(&self) -> &'static str;

    /// Adds this version's host imports to the linker.
    ///
    /// # Errors
    /// When an import is already defined.
    fn add_to_linker(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()>;

    /// Binds a pre-instantiated component to the world of this version it
    /// implements.
    ///
    /// # Errors
    /// When the component implements none of this version's worlds.
    fn bind(&self, pre: InstancePre<CallState>) -> wasmtime::Result<Box<dyn World>>;
}

/// A component pre-instantiated against the world of one contract version.
trait World: Send + Sync {
    /// Whether the world exports `operation` (`describe` always).
    fn serves(&self, operation: Operation) -> bool;

    /// Instantiates the component in `store` and runs `request` on it.
    fn call<'a>(
        &'a self,
        store: &'a mut Store<CallState>,
        request: &'a Request,
    ) -> BoxFuture<'a, Answer>;

    /// Only instantiates the component in `store` (the fixed cost of a call).
    fn instantiate<'a>(
        &'a self,
        store: &'a mut Store<CallState>,
    ) -> BoxFuture<'a, wasmtime::Result<()>>;
}

/// The ids of the supported contract versions, newest first
/// (`guichet:connector@0.1.0`, …).
pub fn supported() -> impl Iterator<Item = &'static str> {
    SUPPORTED.iter().map(|version| version.id())
}

/// The folder of a contract version under `wit/`: `connector@0.1.0` for
/// `guichet:connector@0.1.0`.
pub fn wit_folder(id: &str) -> &str {
    id.strip_prefix("guichet:").unwrap_or(id)
}

/// The supported ids in one line, for messages.
pub(super) fn supported_list() -> String {
    supported().collect::<Vec<_>>().join(", ")
}

/// Adds the host imports of every supported version to the linker.
///
/// # Errors
/// When an import is already defined.
pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    SUPPORTED
        .iter()
        .try_for_each(|version| version.add_to_linker(linker))
}

/// Binds a pre-instantiated component to the newest supported version whose
/// world it implements.
///
/// # Errors
/// [`InstallError::World`] with each version's reason when it implements
/// none.
pub(super) fn bind(pre: InstancePre<CallState>) -> Result<Bound, InstallError> {
    let mut reasons = Vec::new();
    for version in SUPPORTED {
        match version.bind(pre.clone()) {
            Ok(world) => return Ok(Bound(world)),
            Err(e) => reasons.push(format!("{e:#}")),
        }
    }
    Err(InstallError::World {
        supported: supported_list(),
        reason: reasons.join(" ; "),
    })
}

/// A component bound to the contract version it implements, ready to be
/// instantiated for each call.
pub(super) struct Bound(Box<dyn World>);

impl Bound {
    /// Whether the world the component implements exports `operation`:
    /// what a component declares in its description must be.
    pub(super) fn serves(&self, operation: Operation) -> bool {
        self.0.serves(operation)
    }

    /// Instantiates the component in `store` and runs `request` on it.
    ///
    /// # Errors
    /// A trap or host error as `wasmtime::Error`; a connector error inside
    /// `Ok`.
    pub(super) async fn call(&self, store: &mut Store<CallState>, request: &Request) -> Answer {
        self.0.call(store, request).await
    }

    /// Only instantiates the component in `store`.
    ///
    /// # Errors
    /// A trap or host error while instantiating.
    pub(super) async fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<()> {
        self.0.instantiate(store).await
    }
}

#[cfg(test)]
mod tests {
    //! The freeze rule of `wit/README.md`, enforced: a released contract
    //! folder hashes to the digest committed in `wit/frozen.sha256`.

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use sha2::{Digest, Sha256};

    use super::*;

    fn wit_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
    }

    /// `wit/frozen.sha256`: folder → digest, `#` lines being comments.
    fn frozen() -> BTreeMap<String, String> {
        let path = wit_dir().join("frozen.sha256");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (digest, folder) = line
                    .split_once("  ")
                    .unwrap_or_else(|| panic!("not `<digest>  <folder>`: {line}"));
                (folder.trim().to_owned(), digest.to_owned())
            })
            .collect()
    }

    /// Every file under `dir`, as `./relative/path`, sorted bytewise.
    fn files(dir: &Path) -> Vec<(String, PathBuf)> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
            let entries =
                std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for entry in entries {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let relative = path.strip_prefix(root).expect("under the root");
                    let name = relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    out.push((format!("./{name}"), path));
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        out
    }

    /// The digest of a folder, as `wit/README.md` computes it by hand: the
    /// SHA-256 of the `sha256sum` listing of its files in bytewise order.
    fn folder_digest(dir: &Path) -> String {
        let mut listing = String::new();
        for (name, path) in files(dir) {
            let content = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            listing.push_str(&format!(
                "{}  {name}\n",
                hex::encode(Sha256::digest(content))
            ));
        }
        hex::encode(Sha256::digest(listing.as_bytes()))
    }

    #[test]
    fn released_contracts_are_byte_for_byte_as_frozen() {
        let frozen = frozen();
        assert!(!frozen.is_empty(), "wit/frozen.sha256 lists no version");
        for (folder, digest) in frozen {
            assert_eq!(
                folder_digest(&wit_dir().join(&folder)),
                digest,
                "wit/{folder} changed after its release: released versions are \
                 frozen; make the change in a new version beside it"
            );
        }
    }

    #[test]
    fn every_supported_contract_is_released_and_frozen() {
        let frozen = frozen();
        for id in supported() {
            let folder = wit_folder(id);
            assert!(
                frozen.contains_key(folder),
                "{id} is loaded by the host but wit/{folder} has no digest in \
                 wit/frozen.sha256"
            );
        }
    }

    #[test]
    fn the_digest_of_a_folder_changes_with_any_byte() {
        let dir = std::env::temp_dir().join(format!("guichet-wit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("deps")).expect("temporary folder");
        std::fs::write(dir.join("types.wit"), "package guichet:connector@9.9.9;\n").expect("write");
        std::fs::write(dir.join("deps/other.wit"), "// other\n").expect("write");
        let before = folder_digest(&dir);

        std::fs::write(dir.join("types.wit"), "package guichet:connector@9.9.9; \n")
            .expect("write");
        let edited = folder_digest(&dir);
        std::fs::write(dir.join("types.wit"), "package guichet:connector@9.9.9;\n").expect("write");
        std::fs::write(dir.join("deps/added.wit"), "").expect("write");
        let added = folder_digest(&dir);
        std::fs::remove_dir_all(&dir).expect("cleaned");

        assert_ne!(before, edited, "an edited file changes the digest");
        assert_ne!(before, added, "an added file changes the digest");
    }
}
