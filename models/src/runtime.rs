//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! The library comes from the PyPI `onnxruntime` wheel that `scripts/setup` installs into `.venv`.
//! Search order: `ORT_DYLIB_PATH` (only that, when set), then — walking up from the executable's
//! folder and from the current directory — `.venv/lib/libonnxruntime.so` and
//! `.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*`, then
//! `/usr/lib/pingan/libonnxruntime.so`. Loading goes through `ort::init_from`, which returns an
//! error instead of panicking later on first use.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::ModelError;

/// The environment variable that names the library explicitly.
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// The system-wide location used by packaged installs.
pub const SYSTEM_PATH: &str = "/usr/lib/pingan/libonnxruntime.so";

/// A loaded ONNX Runtime: sessions are created from it.
#[derive(Debug, Clone)]
pub struct Runtime {
    env: ort::environment::Environment,
    path: PathBuf,
}

impl Runtime {
    /// The library that was loaded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn environment(&self) -> &ort::environment::Environment {
        &self.env
    }
}

// The library can be loaded once per process; later calls reuse it.
static LOADED: Mutex<Option<Runtime>> = Mutex::new(None);

/// Finds and loads ONNX Runtime (see the module docs for the search order).
///
/// # Errors
/// [`ModelError::RuntimeMissing`] when no candidate exists, [`ModelError::RuntimeLoad`] when the
/// library found cannot be loaded.
pub fn load() -> Result<Runtime, ModelError> {
    let mut guard = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(rt) = guard.as_ref() {
        return Ok(rt.clone());
    }
    let path = locate()?;
    let builder = ort::init_from(&path).map_err(|e| ModelError::RuntimeLoad {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let env = builder
        .with_name("pingan")
        .build()
        .map_err(|e| ModelError::RuntimeLoad {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let rt = Runtime { env, path };
    *guard = Some(rt.clone());
    Ok(rt)
}

/// The library path that [`load`] would use, without loading it.
///
/// # Errors
/// [`ModelError::RuntimeMissing`] with every path searched.
pub fn locate() -> Result<PathBuf, ModelError> {
    let explicit = std::env::var_os(ORT_DYLIB_PATH).map(PathBuf::from);
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let cwd = std::env::current_dir().ok();
    let candidates = candidates(explicit, exe_dir.as_deref(), cwd.as_deref());
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(ModelError::RuntimeMissing {
            searched: candidates,
        })
}

/// Candidate paths in search order. An explicit path is the only candidate: a typo in
/// `ORT_DYLIB_PATH` must be reported, not silently replaced by another library.
fn candidates(
    explicit: Option<PathBuf>,
    exe_dir: Option<&Path>,
    cwd: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        let p = if p.is_relative() {
            exe_dir.map_or(p.clone(), |d| d.join(&p))
        } else {
            p
        };
        return vec![p];
    }
    let mut out = Vec::new();
    for start in [exe_dir, cwd].into_iter().flatten() {
        for dir in start.ancestors() {
            let venv = dir.join(".venv");
            let direct = venv.join("lib").join("libonnxruntime.so");
            if !out.contains(&direct) {
                out.push(direct);
                out.extend(wheel_libraries(&venv));
            }
        }
    }
    out.push(PathBuf::from(SYSTEM_PATH));
    out
}

/// `onnxruntime/capi/libonnxruntime.so*` inside any `python3*` site-packages of a venv.
fn wheel_libraries(venv: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(venv.join("lib")) else {
        return found;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("python3") {
            continue;
        }
        let capi = entry.path().join("site-packages/onnxruntime/capi");
        let Ok(libs) = std::fs::read_dir(&capi) else {
            continue;
        };
        let mut libs: Vec<PathBuf> = libs
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so"))
            })
            .collect();
        libs.sort();
        found.extend(libs);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_is_the_only_candidate() {
        let c = candidates(
            Some(PathBuf::from("/nope/lib.so")),
            Some(Path::new("/a/b")),
            None,
        );
        assert_eq!(c, vec![PathBuf::from("/nope/lib.so")]);
    }

    #[test]
    fn relative_explicit_path_resolves_against_the_executable_folder() {
        let c = candidates(
            Some(PathBuf::from("lib/x.so")),
            Some(Path::new("/opt/pingan")),
            None,
        );
        assert_eq!(c, vec![PathBuf::from("/opt/pingan/lib/x.so")]);
    }

    #[test]
    fn search_walks_up_from_the_executable_and_ends_with_the_system_path() {
        let c = candidates(None, Some(Path::new("/w/target/debug")), None);
        assert!(c.contains(&PathBuf::from(
            "/w/target/debug/.venv/lib/libonnxruntime.so"
        )));
        assert!(c.contains(&PathBuf::from("/w/.venv/lib/libonnxruntime.so")));
        assert_eq!(c.last(), Some(&PathBuf::from(SYSTEM_PATH)));
    }

    #[test]
    fn missing_runtime_error_tells_what_to_do() {
        let e = ModelError::RuntimeMissing {
            searched: vec![PathBuf::from("/x/libonnxruntime.so")],
        };
        let msg = e.to_string();
        assert!(msg.contains("/x/libonnxruntime.so"));
        assert!(msg.contains("scripts/setup"));
        assert!(msg.contains("ORT_DYLIB_PATH"));
    }
}
