//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! The library comes from the PyPI `onnxruntime` wheel: `scripts/setup` installs it into `.venv`,
//! the Debian package (`scripts/package`) ships it as `/usr/lib/pingan/libonnxruntime.so.<version>`.
//! Search order: `ORT_DYLIB_PATH` (only that, when set); then the library installed with the
//! binary, `<exe>/../lib/pingan/libonnxruntime.so*` (`/usr/bin/pingan` → `/usr/lib/pingan/`), so an
//! installed gateway needs no environment variable and is not diverted by a checkout it happens
//! to run in; then — walking up from the executable's folder and from the current directory —
//! `.venv/lib/libonnxruntime.so` and
//! `.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*`; then
//! `/usr/lib/pingan/libonnxruntime.so*`. In a folder, the unversioned `libonnxruntime.so` comes
//! first, then versioned files newest first.
//!
//! Before loading, the library's ELF header is checked against the architecture this binary was
//! built for: a wrong-architecture library (an x86-64 wheel copied onto a Raspberry Pi) gets
//! [`ModelError::RuntimeArchitecture`], which names both, instead of the loader's vague message.
//! Loading goes through `ort::init_from`, which returns an error instead of panicking later on
//! first use.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::ModelError;

/// The environment variable that names the library explicitly.
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// The system-wide folder of packaged installs (the Debian package puts the versioned library here).
pub const SYSTEM_DIR: &str = "/usr/lib/pingan";

/// Where the library sits relative to the executable's folder in a packaged install.
pub const BESIDE_EXE: &str = "../lib/pingan";

/// The library's file name; the wheel and the package ship it versioned (`.so.1.32.0`).
const LIBRARY: &str = "libonnxruntime.so";

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
    check_architecture(&path)?;
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
    if let Some(d) = exe_dir {
        out.extend(libraries_in(&d.join(BESIDE_EXE)));
    }
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
    let system = Path::new(SYSTEM_DIR);
    out.push(system.join(LIBRARY));
    out.extend(
        libraries_in(system)
            .into_iter()
            .filter(|p| p != &system.join(LIBRARY)),
    );
    out
}

/// `libonnxruntime.so` (when present) then `libonnxruntime.so.<version>` files of `dir`, newest
/// version first (compared number by number: 1.32.0 after 1.4.0).
fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u64>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(LIBRARY)?;
            let version = match rest.strip_prefix('.') {
                None if rest.is_empty() => vec![u64::MAX],
                Some(v) => v.split('.').map(|n| n.parse().unwrap_or(0)).collect(),
                None => return None,
            };
            Some((version, e.path()))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Refuses a library built for another architecture than this binary, naming both.
fn check_architecture(path: &Path) -> Result<(), ModelError> {
    let mut header = [0u8; 20];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        f.read_exact(&mut header)
    });
    if let Err(e) = read {
        return Err(ModelError::RuntimeLoad {
            path: path.to_path_buf(),
            reason: format!("cannot read its ELF header: {e}"),
        });
    }
    match elf_architecture(&header) {
        None => Err(ModelError::RuntimeLoad {
            path: path.to_path_buf(),
            reason: "not an ELF shared library".into(),
        }),
        Some(arch) if arch == std::env::consts::ARCH => Ok(()),
        Some(arch) => Err(ModelError::RuntimeArchitecture {
            path: path.to_path_buf(),
            library: arch,
            binary: std::env::consts::ARCH,
        }),
    }
}

/// The architecture of an ELF file from its first 20 bytes, in `std::env::consts::ARCH` words
/// (`x86_64`, `aarch64`, ...); `None` when it is not ELF.
fn elf_architecture(header: &[u8; 20]) -> Option<String> {
    if header[..4] != *b"\x7fELF" {
        return None;
    }
    // e_machine is a u16 at offset 18, in the byte order named by EI_DATA (1 = little endian).
    let raw = [header[18], header[19]];
    let machine = if header[5] == 2 {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    };
    let name = match machine {
        3 => "x86",
        8 => "mips",
        20 => "powerpc",
        21 => "powerpc64",
        22 => "s390x",
        40 => "arm",
        62 => "x86_64",
        183 => "aarch64",
        243 if header[4] == 2 => "riscv64",
        243 => "riscv32",
        258 => "loongarch64",
        other => return Some(format!("ELF machine {other:#x}")),
    };
    Some(name.to_owned())
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
    fn search_walks_up_from_the_executable_and_includes_the_system_folder() {
        let c = candidates(None, Some(Path::new("/w/target/debug")), None);
        assert!(c.contains(&PathBuf::from(
            "/w/target/debug/.venv/lib/libonnxruntime.so"
        )));
        assert!(c.contains(&PathBuf::from("/w/.venv/lib/libonnxruntime.so")));
        assert!(c.contains(&Path::new(SYSTEM_DIR).join(LIBRARY)));
    }

    #[test]
    fn packaged_library_beside_the_executable_comes_before_any_venv() {
        // The Debian package's layout: /usr/bin/pingan and /usr/lib/pingan/libonnxruntime.so.1.32.0.
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("usr/bin");
        let lib = root.path().join("usr/lib/pingan");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::create_dir_all(root.path().join("usr/.venv/lib")).unwrap();
        std::fs::write(root.path().join("usr/.venv/lib/libonnxruntime.so"), b"").unwrap();
        std::fs::write(lib.join("libonnxruntime.so.1.32.0"), b"").unwrap();
        let c = candidates(None, Some(&bin), None);
        let first = c.iter().find(|p| p.is_file());
        assert_eq!(
            first,
            Some(&bin.join(BESIDE_EXE).join("libonnxruntime.so.1.32.0"))
        );
    }

    #[test]
    fn versioned_libraries_are_tried_newest_first_after_the_unversioned_one() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "libonnxruntime.so.1.4.0",
            "libonnxruntime.so.1.32.0",
            "libonnxruntime.so",
            "libonnxruntime_providers_shared.so",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let names: Vec<String> = libraries_in(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "libonnxruntime.so",
                "libonnxruntime.so.1.32.0",
                "libonnxruntime.so.1.4.0"
            ]
        );
    }

    /// The first 20 bytes of an ELF file: 64-bit little endian, the given e_machine.
    fn elf_header(machine: u16) -> [u8; 20] {
        let mut h = [0u8; 20];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    #[test]
    fn elf_header_names_the_architecture() {
        assert_eq!(elf_architecture(&elf_header(62)).as_deref(), Some("x86_64"));
        assert_eq!(
            elf_architecture(&elf_header(183)).as_deref(),
            Some("aarch64")
        );
        assert_eq!(
            elf_architecture(&elf_header(0x1234)).as_deref(),
            Some("ELF machine 0x1234")
        );
        assert_eq!(elf_architecture(&[b'#'; 20]), None);
    }

    #[test]
    fn library_of_another_architecture_is_refused_naming_both() {
        let other = if std::env::consts::ARCH == "aarch64" {
            62
        } else {
            183
        };
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), elf_header(other)).unwrap();
        let e = check_architecture(file.path()).unwrap_err();
        assert!(matches!(e, ModelError::RuntimeArchitecture { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains(std::env::consts::ARCH), "{msg}");
        assert!(
            msg.contains(if other == 62 { "x86_64" } else { "aarch64" }),
            "{msg}"
        );
        assert!(msg.contains(&file.path().display().to_string()), "{msg}");
    }

    #[test]
    fn library_of_this_architecture_passes_the_check() {
        let machine = match std::env::consts::ARCH {
            "x86_64" => 62,
            "aarch64" => 183,
            _ => return,
        };
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), elf_header(machine)).unwrap();
        assert!(check_architecture(file.path()).is_ok());
    }

    #[test]
    fn a_file_that_is_not_elf_is_a_load_error() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"this is a text file, not a library").unwrap();
        let e = check_architecture(file.path()).unwrap_err();
        assert!(e.to_string().contains("not an ELF shared library"), "{e}");
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
