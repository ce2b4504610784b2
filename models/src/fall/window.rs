//! Sliding windows over the 50 Hz stream: [`WINDOW`] samples every [`HOP`] samples.

use std::collections::VecDeque;

use super::spec::{HOP, WINDOW};

/// Cuts a 50 Hz stream into overlapping windows, flattened as `[x0, y0, z0, x1, …]` (600 values).
#[derive(Debug, Clone, Default)]
pub struct Windower {
    buf: VecDeque<[f32; 3]>,
    /// Time (s) of the first buffered sample.
    t_first: f64,
    /// Samples pushed since the start (or the last reset).
    pushed: usize,
}

impl Windower {
    /// An empty windower.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample taken at `t` seconds; returns a window `(t_start, values)` when one is due.
    pub fn push(&mut self, t: f64, sample: [f32; 3]) -> Option<(f64, Vec<f32>)> {
        if self.buf.is_empty() {
            self.t_first = t;
            self.pushed = 0;
        }
        self.pushed += 1;
        self.buf.push_back(sample);
        if self.buf.len() > WINDOW {
            self.buf.pop_front();
            self.t_first += 1.0 / f64::from(super::MODEL_HZ);
        }
        if self.buf.len() < WINDOW || (self.pushed - WINDOW) % HOP != 0 {
            return None;
        }
        Some((self.t_first, self.buf.iter().flatten().copied().collect()))
    }

    /// Forgets the stream (after a gap).
    pub fn reset(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_every_hop_once_full() {
        let mut w = Windower::new();
        let starts: Vec<f64> = (0..300)
            .filter_map(|i| w.push(f64::from(i) / 50.0, [i as f32, 0.0, 0.0]))
            .map(|(t, v)| {
                assert_eq!(v.len(), WINDOW * 3);
                assert!((f64::from(v[0]) / 50.0 - t).abs() < 1e-6);
                t
            })
            .collect();
        assert_eq!(starts.len(), 5);
        for (k, t) in starts.iter().enumerate() {
            assert!((t - k as f64 * 0.5).abs() < 1e-6, "{starts:?}");
        }
    }
}
