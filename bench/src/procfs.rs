//! CPU time and resident memory of a process, or of a process and all its descendants, read from
//! `/proc` (Linux). Benchmarks measure the gateway under test this way so that a peer that runs
//! helpers in child processes is charged for them too.

use std::collections::{HashMap, HashSet};

/// Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on every Linux we run).
const USER_HZ: f64 = 100.0;

/// The fields of `/proc/{pid}/stat` after the command name (field 3 onwards).
fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// CPU time (user + system, all threads, in seconds) of process `pid` (`"self"` for this one);
/// 0 when it is gone.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let Some(fields) = stat_fields(pid) else {
        return 0.0;
    };
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15; the remainder after `)` starts at field 3.
    (ticks(11) + ticks(12)) / USER_HZ
}

/// Resident memory of process `pid` in bytes (VmRSS); 0 when it is gone.
pub fn rss_bytes_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// `root` and every living descendant of it.
pub fn tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // ppid is field 4, the second after the command name.
            let ppid = stat_fields(&pid.to_string())
                .and_then(|f| f.get(1).and_then(|p| p.parse::<u32>().ok()));
            if let Some(ppid) = ppid {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = vec![root];
    let mut seen: HashSet<u32> = out.iter().copied().collect();
    let mut i = 0;
    while let Some(&pid) = out.get(i) {
        for &c in children.get(&pid).into_iter().flatten() {
            if seen.insert(c) {
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

/// CPU seconds of `root`'s tree as it is now (children that already exited and were reaped are
/// included through their parent's `cutime`/`cstime` only if it waited for them: not counted).
pub fn tree_cpu_seconds(root: u32) -> f64 {
    tree(root)
        .into_iter()
        .map(|p| cpu_seconds_of(&p.to_string()))
        .sum()
}

/// Resident memory of `root`'s tree in bytes (pages shared between the processes counted
/// once per process, as `ps` does).
pub fn tree_rss_bytes(root: u32) -> u64 {
    tree(root).into_iter().map(rss_bytes_of).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_memory_and_is_its_own_tree() {
        let me = std::process::id();
        // Burn a little CPU so that at least one tick is charged.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert_ne!(x, 1);
        assert!(cpu_seconds_of("self") > 0.0);
        assert!(rss_bytes_of(me) > 1 << 20);
        assert_eq!(tree(me).first(), Some(&me));
        assert!(tree_rss_bytes(me) >= rss_bytes_of(me));
    }

    #[test]
    fn a_child_process_belongs_to_the_tree() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep");
        let pid = child.id();
        let found = tree(std::process::id()).contains(&pid);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found);
        assert_eq!(rss_bytes_of(pid), 0, "gone once reaped");
    }
}
