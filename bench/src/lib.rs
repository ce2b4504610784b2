//! Shared pieces of the Pingan benchmarks (the binaries in `src/bin/`); results are in
//! `docs/BENCHMARKS.md`.
//!
//! - [`procfs`]: CPU time and memory of a process and of its whole tree, from `/proc`.

pub mod procfs;
