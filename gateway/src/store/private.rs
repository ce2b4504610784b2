//! The data directory is private: residents' vitals, the audit trail and the session records are
//! for the gateway's user only. Opening the store makes the directory `0700` and every file in it
//! `0600` whatever the umask was, and narrows the process umask so files sled creates later
//! (segments, snapshots) are born private too.

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use rustix::fs::Mode;

/// Mode of the data directory and directories inside it.
pub(super) const DIR_MODE: u32 = 0o700;
/// Mode of every file in it.
pub(super) const FILE_MODE: u32 = 0o600;

/// Creates `dir` (mode 0700) if needed, makes it 0700 and narrows the umask to 077.
pub(super) fn prepare(dir: &Path) -> io::Result<()> {
    let old = rustix::process::umask(Mode::from_bits_truncate(0o077));
    rustix::process::umask(old | Mode::from_bits_truncate(0o077));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
}

/// Makes every file below `dir` 0600 and every directory 0700. Entries another user owns (a
/// root-run tool left them) are reported, not fatal: the directory itself is private already.
pub(super) fn tighten(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = e.metadata() else { continue };
            let mode = if meta.is_dir() {
                stack.push(path.clone());
                DIR_MODE
            } else {
                FILE_MODE
            };
            if meta.permissions().mode() & 0o777 != mode {
                if let Err(error) =
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                {
                    tracing::warn!(path = %path.display(), %error, "cannot make the file private");
                }
            }
        }
    }
}
