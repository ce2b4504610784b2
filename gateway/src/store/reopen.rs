//! Opening again a database this process has just closed.
//!
//! sled lets go of its lock on the database file only when the last of its internal handles goes,
//! and some are dropped by its I/O threads and deferred reclamation a moment after the last
//! [`Store`](super::Store) is dropped. Another process never sees this (its exit closes the file),
//! but the same process opening the directory again can find it locked for a moment (a command
//! that opens the store after an earlier one in the same process: the CLI's tests failed so on a
//! loaded machine). So a directory this process closed is tried again while it is still locked, up
//! to [`LINGER`]; a lock held by another process, or by a store still open here, is reported at once
//! (the CLI then asks the running gateway).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::StoreError;

/// How long this process's own lock may linger after its last store was dropped.
const LINGER: Duration = Duration::from_secs(5);

/// Directories whose last store this process dropped and has not opened since.
static CLOSED_HERE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn closed_here() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    CLOSED_HERE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held by every clone of a store: when the last one goes, the directory is marked closed here.
#[derive(Debug)]
pub(super) struct OpenMark(PathBuf);

impl Drop for OpenMark {
    fn drop(&mut self) {
        closed_here().insert(std::mem::take(&mut self.0));
    }
}

/// Runs `open` for `dir`, again while it answers [`StoreError::Locked`] for a directory this
/// process closed (see the module docs). On success the caller gets the mark its store holds.
pub(super) fn open<T>(
    dir: &Path,
    mut open: impl FnMut() -> Result<T, StoreError>,
) -> Result<(T, OpenMark), StoreError> {
    let deadline = Instant::now() + LINGER;
    loop {
        match open() {
            Ok(store) => {
                closed_here().remove(dir);
                return Ok((store, OpenMark(dir.to_path_buf())));
            }
            Err(StoreError::Locked { .. })
                if closed_here().contains(dir) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(dir: &Path) -> StoreError {
        StoreError::Locked {
            path: dir.to_path_buf(),
        }
    }

    #[test]
    fn a_directory_closed_here_is_tried_again_while_its_lock_lingers() {
        let dir = tempfile::tempdir().unwrap();
        drop(OpenMark(dir.path().to_path_buf()));
        let mut calls = 0;
        let (opened, _mark) = open(dir.path(), || {
            calls += 1;
            if calls < 3 {
                Err(locked(dir.path()))
            } else {
                Ok(calls)
            }
        })
        .unwrap();
        assert_eq!(opened, 3);
        assert!(!closed_here().contains(dir.path()), "open again");
    }

    #[test]
    fn a_lock_held_elsewhere_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = 0;
        let started = Instant::now();
        let second = open(dir.path(), || -> Result<(), _> {
            calls += 1;
            Err(locked(dir.path()))
        });
        assert!(
            matches!(second, Err(StoreError::Locked { .. })),
            "{second:?}"
        );
        assert_eq!(calls, 1);
        assert!(started.elapsed() < LINGER, "it waited for the lock");
    }
}
