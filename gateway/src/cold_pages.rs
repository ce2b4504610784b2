//! Giving back memory that start-up touched and the steady state never uses again.
//!
//! Start-up runs code that runs once — configuration parsing, the store's recovery, TLS set-up,
//! the models' parsing — and the kernel maps the pages of such code (64 KiB around each page
//! touched) into the process for the rest of its life. They are clean file pages: the kernel could
//! read them again from the binary at any time, but until memory runs short they stay counted in
//! the gateway's RSS, the figure a site sizes its box by (docs/BENCHMARKS.md: 11 MB of the demo's
//! RSS were once the binary's own code). The same holds for heap memory freed after start-up that
//! glibc keeps in its arena.
//!
//! [`release`] unmaps the clean, read-only file-backed mappings (`MADV_DONTNEED`: the pages stay
//! in the page cache, so the code still needed faults back in from memory, not from the SD card)
//! and returns the free heap to the system (`malloc_trim`). A mapping that can be written, or that
//! holds a private copy of any page (relocated data), is never touched: dropping it would lose the
//! copy. What runs steadily comes back within a poll; what ran once stays out.

// The only module with unsafe code (Cargo.toml's lints): two calls with no safe wrapper.
#![allow(unsafe_code)]

use std::fmt;

/// One mapping of `/proc/self/smaps` that matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: usize,
    /// One past the last address.
    pub end: usize,
    /// The permissions field, e.g. `r-xp`.
    pub perms: String,
    /// The file, `[heap]`-style names, or empty for anonymous memory.
    pub path: String,
    /// Resident bytes.
    pub rss: u64,
    /// Bytes of private copies (anonymous pages) inside the mapping.
    pub anonymous: u64,
}

impl Mapping {
    /// Whether unmapping the resident pages loses nothing: a file-backed, private, read-only
    /// mapping without a private copy of any page.
    pub fn is_clean_file_code_or_data(&self) -> bool {
        let p = self.perms.as_bytes();
        self.path.starts_with('/')
            && p.len() == 4
            && p[1] == b'-'
            && p[3] == b'p'
            && self.anonymous == 0
            && self.rss > 0
    }
}

/// What a release gave back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Released {
    /// Resident bytes of the clean file mappings before the release.
    pub file_bytes: u64,
    /// Mappings unmapped.
    pub mappings: usize,
    /// Whether `malloc_trim` gave heap memory back.
    pub heap_trimmed: bool,
}

impl fmt::Display for Released {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} KiB of clean file pages in {} mappings released, heap trimmed: {}",
            self.file_bytes / 1024,
            self.mappings,
            self.heap_trimmed
        )
    }
}

/// Parses `/proc/PID/smaps` text; lines it does not know are skipped, so a kernel with more
/// fields parses the same.
pub fn parse_smaps(text: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        if let Some(m) = header(line) {
            out.push(m);
            continue;
        }
        let Some(last) = out.last_mut() else { continue };
        let mut words = line.split_whitespace();
        let (Some(key), Some(kb)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(kb) = kb.parse::<u64>() else { continue };
        match key {
            "Rss:" => last.rss = kb * 1024,
            "Anonymous:" => last.anonymous = kb * 1024,
            _ => {}
        }
    }
    out
}

/// `start-end perms offset dev inode [path]`, or `None` for a field line.
fn header(line: &str) -> Option<Mapping> {
    let mut words = line.split_whitespace();
    let (range, perms) = (words.next()?, words.next()?);
    let (start, end) = range.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    let (_offset, _dev, _inode) = (words.next()?, words.next()?, words.next()?);
    Some(Mapping {
        start,
        end,
        perms: perms.to_owned(),
        path: words.collect::<Vec<_>>().join(" "),
        rss: 0,
        anonymous: 0,
    })
}

/// Releases the clean file pages and the free heap of this process (see the module docs).
/// Never fails: a mapping that cannot be released is left as it is.
pub fn release() -> Released {
    let mut done = Released::default();
    #[cfg(target_os = "linux")]
    if let Ok(text) = std::fs::read_to_string("/proc/self/smaps") {
        for m in parse_smaps(&text) {
            if !m.is_clean_file_code_or_data() {
                continue;
            }
            // SAFETY: the range is a whole mapping of this process that cannot be written and
            // holds no private page, so MADV_DONTNEED only drops page-table entries of clean
            // file pages; the next access reads the same bytes from the page cache or the file.
            let r = unsafe {
                rustix::mm::madvise(
                    m.start as *mut std::ffi::c_void,
                    m.end - m.start,
                    rustix::mm::Advice::LinuxDontNeed,
                )
            };
            if r.is_ok() {
                done.file_bytes += m.rss;
                done.mappings += 1;
            }
        }
    }
    done.heap_trimmed = trim_heap();
    done
}

/// Returns the free heap to the system (`malloc_trim`); whether any was given back. Also run on
/// its own between releases: the store's writes leave freed pages inside glibc's heap that it
/// keeps (21 minutes into the demo, one trim gave back 5.7 of the heap's 27.9 MiB).
pub fn trim_heap() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only returns free memory of glibc's arenas to the system.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0c0000000-55d0c0100000 r--p 00000000 fd:01 123 /usr/bin/pingan
Size:               1024 kB
Rss:                 512 kB
Anonymous:             0 kB
55d0c0100000-55d0c0900000 r-xp 00100000 fd:01 123 /usr/bin/pingan
Rss:                4096 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
55d0c0900000-55d0c0a00000 r--p 00900000 fd:01 123 /usr/bin/pingan
Rss:                 256 kB
Anonymous:           256 kB
55d0c0a00000-55d0c0a10000 rw-p 00a00000 fd:01 123 /usr/bin/pingan
Rss:                  64 kB
Anonymous:             0 kB
55d0c1000000-55d0c2000000 rw-p 00000000 00:00 0 [heap]
Rss:                8192 kB
Anonymous:          8192 kB
7f0000000000-7f0000001000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
Anonymous:             0 kB
7f0000100000-7f0000200000 r-xs 00000000 fd:01 9 /dev/shm/shared code
Rss:                  40 kB
Anonymous:             0 kB
7f0000300000-7f0000400000 r-xp 00000000 fd:01 7 /usr/lib/pingan/libonnxruntime.so.1.32.0
Rss:                   0 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_private_file_mappings_are_released() {
        let maps = parse_smaps(SMAPS);
        assert_eq!(maps.len(), 8);
        assert_eq!(maps[6].path, "/dev/shm/shared code", "a path with a space");
        let chosen: Vec<_> = maps
            .iter()
            .filter(|m| m.is_clean_file_code_or_data())
            .map(|m| (m.perms.as_str(), m.rss / 1024))
            .collect();
        // Not: relocated read-only data (private copies), writable data, the heap, the vDSO,
        // a shared mapping, a mapping with nothing resident.
        assert_eq!(chosen, [("r--p", 512), ("r-xp", 4096)]);
        assert_eq!(maps[1].start, 0x55d0_c010_0000);
        assert_eq!(maps[1].end, 0x55d0_c090_0000);
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let maps = parse_smaps("Rss: 4 kB\nnot a mapping\n\n00-zz r-xp 0 0 0 /x\n");
        assert!(maps.is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_release_unmaps_this_process_code_and_the_code_still_runs() {
        let resident = || -> u64 {
            let text = std::fs::read_to_string("/proc/self/smaps").unwrap();
            parse_smaps(&text)
                .iter()
                .filter(|m| m.is_clean_file_code_or_data())
                .map(|m| m.rss)
                .sum()
        };
        let before = resident();
        assert!(before > 0, "the test binary's code is resident");
        let done = release();
        assert!(done.mappings > 0 && done.file_bytes > 0, "{done}");
        // Only the pages touched since (this function, the allocator, the file read) came back.
        let after = resident();
        assert!(after < before, "before {before} B, after {after} B");
        // Code that was released runs again (it faults back in).
        assert_eq!(parse_smaps(SMAPS).len(), 8);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_trim_gives_freed_heap_pages_back() {
        let rss = || -> u64 {
            let text = std::fs::read_to_string("/proc/self/smaps").unwrap();
            parse_smaps(&text).iter().map(|m| m.rss).sum()
        };
        // 48 MiB in blocks below the mmap threshold, written so they are resident; the last one
        // stays allocated, so the freed pages sit inside the heap and free() keeps them.
        let mut blocks: Vec<Vec<u8>> = (0..12_288).map(|_| vec![1u8; 4096]).collect();
        let last = blocks.pop();
        let before = rss();
        drop(blocks);
        assert!(trim_heap(), "malloc_trim gave nothing back");
        let after = rss();
        // other tests allocate meanwhile: half of the freed 48 MiB is a safe margin
        assert!(
            after + (24 << 20) < before,
            "before {before} B, after {after} B"
        );
        drop(last);
    }
}
