//! The on-disk cache of precompiled components.
//!
//! Compiling a component with Cranelift takes tens of milliseconds; loading
//! its precompiled form takes tens of microseconds. Each component is compiled
//! once and stored as `<sha256 of the bytes>-<engine compatibility hash>.cwasm`,
//! so a new wasmtime build or different engine settings never read a stale
//! artifact. Files are written atomically (temporary file, then rename).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The cache directory of one engine.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    engine_hash: String,
    /// One lock per component digest, so concurrent loads of the same
    /// component compile it once.
    loading: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// Distinguishes temporary files of concurrent writers in one process.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl Cache {
    /// A cache in `dir` (created when missing) for `engine`.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir: dir.to_path_buf(),
            engine_hash: format!("{:016x}", hasher.finish()),
            loading: Mutex::new(HashMap::new()),
        })
    }

    /// The SHA-256 of component bytes, hex.
    pub fn digest(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn path(&self, digest: &str) -> PathBuf {
        self.dir
            .join(format!("{digest}-{}.cwasm", self.engine_hash))
    }

    /// The component for `bytes`: read back precompiled when cached, otherwise
    /// compiled and stored.
    ///
    /// # Errors
    /// A compilation error, or an I/O error writing the cache.
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &str,
    ) -> Result<Component, CacheError> {
        let lock = {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            loading.entry(digest.to_string()).or_default().clone()
        };
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.path(digest);
        if path.exists() {
            match deserialize(engine, &path) {
                Ok(component) => return Ok(component),
                // The file was compiled for this engine (its directory is
                // keyed by the engine's compatibility hash) and is whole
                // (written atomically): the engine refuses the component
                // itself — more core instances, memories or tables than
                // the pooling allocator's slots hold. Compiling it again
                // would take seconds and end in the same refusal.
                Err(e) if is_component_artifact(&path) => {
                    return Err(CacheError::Compile(format!("{e:#}")));
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "stale precompiled component, recompiling")
                }
            }
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| CacheError::Compile(format!("{e:#}")))?;
        let tmp = path.with_extension(format!(
            "tmp-{}-{}",
            std::process::id(),
            TEMPORARY.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&tmp, &compiled).map_err(|e| CacheError::Io(e.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|e| CacheError::Io(e.to_string()))?;
        deserialize(engine, &path).map_err(|e| CacheError::Compile(format!("{e:#}")))
    }
}

/// Why the cache could not give a component.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The component does not compile.
    #[error("{0}")]
    Compile(String),
    /// Reading or writing the cache failed.
    #[error("{0}")]
    Io(String),
}

/// Whether `path` holds a precompiled component (a Wasmtime artifact, not
/// a truncated or foreign file).
fn is_component_artifact(path: &Path) -> bool {
    matches!(
        Engine::detect_precompiled_file(path),
        Ok(Some(wasmtime::Precompiled::Component))
    )
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was produced by `Engine::precompile_component` of an
    // engine with the same compatibility hash (it is in the file name), in a
    // directory only this process writes; wasmtime re-checks the header and
    // refuses an incompatible artifact.
    unsafe { Component::deserialize_file(engine, path) }
}
