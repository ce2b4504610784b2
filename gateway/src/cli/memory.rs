//! One malloc arena for the long-running commands.
//!
//! glibc gives threads that allocate at the same time arenas of their own (up to eight per
//! core), and each keeps the memory freed into it. The gateway has a dozen threads (async
//! workers, the broker's router and its runtime, the store's flusher, inference), none of which
//! allocates hard enough to contend: one arena keeps a Modbus-only site's RSS at 24.4 MB instead
//! of 26.9 MB at the same CPU per value (docs/BENCHMARKS.md). glibc reads `MALLOC_ARENA_MAX` from
//! the environment only when the process starts, so `pingan run` and `pingan demo` execute
//! themselves once more with it set, unless it is set already (an operator's own value wins; the
//! systemd unit sets it). Other C libraries ignore the variable.

use std::os::unix::process::CommandExt;

/// The variable glibc reads.
const VAR: &str = "MALLOC_ARENA_MAX";

/// Replaces the process with itself under `MALLOC_ARENA_MAX=1` when the variable is unset; the
/// PID, arguments, open files and signal dispositions stay. Returns (and the process goes on as
/// it is) when it is set or the executable cannot be run again (e.g. replaced by an upgrade).
pub fn one_arena() {
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(VAR, "1")
        .exec();
    // Only reached when exec failed: run as we are, with glibc's default arenas.
    eprintln!("pingan: running with glibc's default malloc arenas ({error})");
}
