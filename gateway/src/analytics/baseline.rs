//! Per-resident baselines: one care day's features, and robust statistics (median and MAD) of
//! the previous days to say how far a day deviates, as z-scores.
//!
//! Features, in the anomaly model's order (`pingan_models::anomaly::FEATURES`):
//! 0. `resting_hr` — median in-bed heart rate at night (bed mat), bpm;
//! 1. `resting_rr` — median in-bed respiration rate at night, per minute;
//! 2. `bed_exits` — times the resident left the bed during the night window;
//! 3. `restlessness` — mean wrist movement (sd of |a|, milli-g) while in bed at night;
//! 4. `daytime_activity` — share of daytime wrist batches that moved (0–1).
//!
//! A feature without enough data that day is `None` and is neither scored nor learned.

use std::collections::VecDeque;

/// Number of features.
pub(crate) const FEATURES: usize = 5;
/// Feature names (same order as the model's input).
pub(crate) const NAMES: [&str; FEATURES] = pingan_models::anomaly::FEATURES;
/// Smallest robust spread per feature: a very regular resident must not turn every small change
/// into a huge z (the same floors as `models/training/anomaly/train.py`).
pub(crate) const FLOORS: [f32; FEATURES] = [2.0, 1.0, 0.75, 1.5, 0.03];
/// MAD → standard deviation for normal data.
const MAD_TO_SD: f32 = 1.4826;
/// Fewest samples for a median rate to count.
const MIN_RATE_SAMPLES: usize = 30;
/// Fewest wrist batches for a movement feature to count.
const MIN_BATCHES: u32 = 100;
/// Cap on stored rate samples per night (a mat reporting every second fills 8 h with 28 800).
const MAX_RATE_SAMPLES: usize = 40_000;

/// One day's feature values.
pub(crate) type Day = [Option<f32>; FEATURES];

/// Median of `v` (sorted in place); `None` when empty.
pub(crate) fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v.get(mid).copied()
    } else {
        Some((v.get(mid - 1)? + v.get(mid)?) / 2.0)
    }
}

/// Robust centre and spread of one feature over the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stat {
    /// Median.
    pub(crate) median: f32,
    /// max(1.4826 × MAD, floor).
    pub(crate) scale: f32,
    /// Days the statistic rests on.
    pub(crate) days: usize,
}

/// The last `max_days` complete days of one resident.
#[derive(Debug, Clone, Default)]
pub(crate) struct Baseline {
    days: VecDeque<Day>,
}

impl Baseline {
    /// Adds a complete day, keeping at most `max_days`.
    pub(crate) fn push(&mut self, day: Day, max_days: usize) {
        self.days.push_back(day);
        while self.days.len() > max_days.max(1) {
            self.days.pop_front();
        }
    }

    /// Complete days held.
    pub(crate) fn len(&self) -> usize {
        self.days.len()
    }

    /// Median and spread of feature `i` over the days that have it.
    pub(crate) fn stat(&self, i: usize) -> Option<Stat> {
        let mut v: Vec<f32> = self
            .days
            .iter()
            .filter_map(|d| d.get(i).copied().flatten())
            .collect();
        let days = v.len();
        let med = median(&mut v)?;
        let mut dev: Vec<f32> = v.iter().map(|x| (x - med).abs()).collect();
        let mad = median(&mut dev)?;
        Some(Stat {
            median: med,
            scale: (MAD_TO_SD * mad).max(FLOORS.get(i).copied().unwrap_or(1.0)),
            days,
        })
    }

    /// Robust z-scores of `day` against features with at least `min_days` days of history.
    pub(crate) fn z(&self, day: &Day, min_days: usize) -> [Option<f32>; FEATURES] {
        let mut z = [None; FEATURES];
        for (i, slot) in z.iter_mut().enumerate() {
            let (Some(x), Some(s)) = (day.get(i).copied().flatten(), self.stat(i)) else {
                continue;
            };
            if s.days >= min_days {
                *slot = Some((x - s.median) / s.scale);
            }
        }
        z
    }
}

/// What one care day has seen so far for one resident.
#[derive(Debug, Clone, Default)]
pub(crate) struct DayAccumulator {
    night_hr: Vec<f32>,
    night_rr: Vec<f32>,
    exits: u32,
    saw_night_bed: bool,
    restless_sum: f32,
    restless_n: u32,
    day_active: u32,
    day_batches: u32,
}

impl DayAccumulator {
    /// An in-bed heart/respiration rate at night.
    pub(crate) fn night_rates(&mut self, hr: Option<f32>, rr: Option<f32>) {
        self.saw_night_bed = true;
        if self.night_hr.len() < MAX_RATE_SAMPLES {
            self.night_hr.extend(hr.filter(|v| v.is_finite()));
            self.night_rr.extend(rr.filter(|v| v.is_finite()));
        }
    }

    /// A bed-mat report at night (in or out of bed).
    pub(crate) fn night_bed_seen(&mut self) {
        self.saw_night_bed = true;
    }

    /// The resident left the bed during the night.
    pub(crate) fn bed_exit(&mut self) {
        self.saw_night_bed = true;
        self.exits += 1;
    }

    /// A wrist batch while in bed at night, with its movement in g.
    pub(crate) fn night_motion(&mut self, sd_g: f32) {
        self.restless_sum += sd_g * 1000.0;
        self.restless_n += 1;
    }

    /// A wrist batch in the daytime; `moved` when it reached the motion threshold.
    pub(crate) fn day_motion(&mut self, moved: bool) {
        self.day_batches += 1;
        self.day_active += u32::from(moved);
    }

    /// The day's features.
    pub(crate) fn features(&mut self) -> Day {
        let rate = |v: &mut Vec<f32>| {
            if v.len() >= MIN_RATE_SAMPLES {
                median(v)
            } else {
                None
            }
        };
        [
            rate(&mut self.night_hr),
            rate(&mut self.night_rr),
            self.saw_night_bed.then_some(self.exits as f32),
            (self.restless_n >= MIN_BATCHES).then(|| self.restless_sum / self.restless_n as f32),
            (self.day_batches >= MIN_BATCHES)
                .then(|| self.day_active as f32 / self.day_batches as f32),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(hr: f32, exits: f32) -> Day {
        [Some(hr), Some(15.0), Some(exits), Some(10.0), Some(0.25)]
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn z_uses_median_and_mad_with_a_floor() {
        let mut b = Baseline::default();
        for hr in [60.0, 62.0, 61.0, 63.0, 59.0, 61.0, 62.0] {
            b.push(day(hr, 1.0), 28);
        }
        let s = b.stat(0).unwrap();
        assert_eq!(s.median, 61.0);
        // MAD 1 → 1.48 < floor 2.
        assert_eq!(s.scale, 2.0);
        let z = b.z(&day(71.0, 1.0), 7);
        assert_eq!(z[0], Some(5.0));
        assert_eq!(z[2], Some(0.0));
        // Not enough history: no z.
        assert_eq!(b.z(&day(71.0, 1.0), 8)[0], None);
    }

    #[test]
    fn one_wild_day_does_not_move_the_baseline() {
        let mut b = Baseline::default();
        for hr in [60.0, 61.0, 62.0, 60.0, 61.0, 120.0, 61.0] {
            b.push(day(hr, 1.0), 28);
        }
        assert_eq!(b.stat(0).unwrap().median, 61.0);
    }

    #[test]
    fn history_is_bounded() {
        let mut b = Baseline::default();
        for i in 0..40 {
            b.push(day(60.0 + i as f32, 1.0), 28);
        }
        assert_eq!(b.len(), 28);
        assert_eq!(b.stat(0).unwrap().median, 85.5);
    }

    #[test]
    fn features_need_enough_data_and_missing_ones_stay_missing() {
        let mut a = DayAccumulator::default();
        for _ in 0..10 {
            a.night_rates(Some(60.0), Some(14.0));
        }
        let f = a.features();
        assert_eq!((f[0], f[1]), (None, None));
        assert_eq!(f[2], Some(0.0));
        let mut a = DayAccumulator::default();
        for i in 0..200 {
            a.night_rates(Some(60.0 + (i % 3) as f32), None);
            a.day_motion(i % 4 == 0);
        }
        a.bed_exit();
        let f = a.features();
        assert_eq!(f[0], Some(61.0));
        assert_eq!(f[1], None);
        assert_eq!(f[2], Some(1.0));
        assert_eq!(f[3], None);
        assert_eq!(f[4], Some(0.25));
    }
}
