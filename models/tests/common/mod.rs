//! Helpers the models' reference tests share: raw little-endian f32 files exchanged with the
//! Python references, and the largest difference between two score lists.

use std::path::Path;

/// Little-endian f32 bytes of `v`.
pub(crate) fn to_le_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The f32 values a Python reference wrote to `path`.
pub(crate) fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .expect("python output")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// max |rust − python| over paired values (printed for the benchmark notes).
pub(crate) fn max_abs_diff(rust: &[f32], py: &[f32], what: &str) -> f32 {
    assert_eq!(py.len(), rust.len(), "same {what} on both sides");
    let max_diff = rust
        .iter()
        .zip(py)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    eprintln!(
        "max |rust - python| = {max_diff} over {} {what}",
        rust.len()
    );
    max_diff
}
