//! Confirmation of fall candidates: a pure state machine, time passed in as stream seconds.
//!
//! A window whose score reaches the threshold makes a candidate at the impact (the largest |a| in
//! the window's impact segment). `confirm_after_s` seconds later the candidate is confirmed when
//! the body is lying (orientation changed from before the fall) and activity stayed low; a
//! confirmed fall with almost no movement is flagged `motionless` (the gateway raises it High).
//! The cancel window and escalation are the gateway's.

use std::collections::VecDeque;

use serde::Serialize;

use super::{IMPACT_SEGMENT, MODEL_HZ, Placement};

/// Thresholds of the confirmation rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfirmerConfig {
    /// Minimum model score for a candidate (chosen on validation data; see MODEL_CARD.md).
    pub threshold: f32,
    /// N: seconds after the impact before deciding.
    pub confirm_after_s: f64,
    /// Post-impact samples from this many seconds after the impact count as "after".
    pub settle_s: f64,
    /// Minimum angle (degrees) between the gravity direction before and after; 0 disables the
    /// rule (a wrist's orientation says little about the body's).
    pub min_orientation_change_deg: f32,
    /// Maximum standard deviation of |a| (g) after the impact: above it the person is up and about.
    pub max_activity_g: f32,
    /// Standard deviation of |a| (g) below which the person is considered not moving at all.
    pub motionless_g: f32,
    /// Candidates closer than this (s) are one event.
    pub merge_s: f64,
}

/// The model's operating threshold, from models/fall_detector.metrics.json.
pub const DEFAULT_THRESHOLD: f32 = 0.61;

impl ConfirmerConfig {
    /// Defaults for a placement.
    pub fn for_placement(placement: Placement) -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
            confirm_after_s: 10.0,
            settle_s: 1.5,
            // set on generated validation recordings (seeds apart from the test's): falls end
            // ≥ 59° from upright in 95 % of cases, sitting down hard ends ~14° (median) away
            min_orientation_change_deg: match placement {
                Placement::Waist => 45.0,
                Placement::Wrist => 0.0,
            },
            // struggling on the floor reaches 0.27 g; at the waist posture already rules out
            // walking, at the wrist activity is the only guard against walking away
            max_activity_g: match placement {
                Placement::Waist => 0.3,
                Placement::Wrist => 0.2,
            },
            motionless_g: 0.03,
            merge_s: 3.0,
        }
    }
}

/// A fall that passed confirmation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfirmedFall {
    /// Impact time in stream seconds (Unix seconds in the gateway, file seconds in the CLI).
    pub t: f64,
    /// The model's score (0..1), the highest of the merged candidate windows.
    pub score: f32,
    /// Angle between the gravity direction before and after the fall (degrees).
    pub orientation_change_deg: f32,
    /// Standard deviation of |a| after the impact (g).
    pub activity_g: f32,
    /// No movement after the fall: the gateway raises the alert High.
    pub motionless: bool,
    /// Time (stream seconds) of the first evidence sample.
    pub evidence_start: f64,
    /// Evidence sample rate (Hz).
    pub evidence_hz: f32,
    /// Accelerometer samples (g) around the fall, for the dashboard's plot.
    pub evidence: Vec<[f32; 3]>,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    t: f64,
    score: f32,
}

/// The confirmation state machine of one device.
#[derive(Debug, Clone)]
pub struct FallConfirmer {
    cfg: ConfirmerConfig,
    history: VecDeque<(f64, [f32; 3])>,
    pending: Vec<Candidate>,
    last_confirmed: Option<f64>,
}

/// Seconds of evidence kept before the impact.
const PRE_S: f64 = 4.0;

impl FallConfirmer {
    /// A confirmer with no history.
    pub fn new(cfg: ConfirmerConfig) -> Self {
        Self {
            cfg,
            history: VecDeque::new(),
            pending: Vec::new(),
            last_confirmed: None,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ConfirmerConfig {
        &self.cfg
    }

    /// Records one 50 Hz sample at `t` (s).
    pub fn push_sample(&mut self, t: f64, s: [f32; 3]) {
        self.history.push_back((t, s));
        let keep = PRE_S + 4.0 + self.cfg.confirm_after_s + 2.0;
        while self.history.front().is_some_and(|(t0, _)| t - t0 > keep) {
            self.history.pop_front();
        }
    }

    /// A scored window starting at `t_start` (s); `window` is the flattened window.
    pub fn on_score(&mut self, t_start: f64, window: &[f32], score: f32) {
        // NaN scores never make a candidate
        if score.is_nan() || score < self.cfg.threshold {
            return;
        }
        let peak = window
            .chunks_exact(3)
            .enumerate()
            .skip(IMPACT_SEGMENT.start)
            .take(IMPACT_SEGMENT.len())
            .map(|(i, v)| (i, v.iter().map(|x| x * x).sum::<f32>()))
            .fold(None, |best: Option<(usize, f32)>, (i, m)| match best {
                Some((_, bm)) if bm >= m => best,
                _ => Some((i, m)),
            });
        let Some((i, _)) = peak else { return };
        #[allow(clippy::cast_precision_loss)]
        let t = t_start + i as f64 / f64::from(MODEL_HZ);
        if self
            .last_confirmed
            .is_some_and(|c| (t - c).abs() < self.cfg.confirm_after_s)
        {
            return;
        }
        if let Some(c) = self
            .pending
            .iter_mut()
            .find(|c| (c.t - t).abs() < self.cfg.merge_s)
        {
            if score > c.score {
                *c = Candidate { t, score };
            }
            return;
        }
        self.pending.push(Candidate { t, score });
    }

    /// Decides every candidate whose confirmation time has passed, given the samples so far.
    pub fn poll(&mut self) -> Vec<ConfirmedFall> {
        let now = self.history.back().map_or(f64::NEG_INFINITY, |(t, _)| *t);
        self.decide(|c, cfg| now >= c.t + cfg.confirm_after_s)
    }

    /// End of a recording: decides the remaining candidates with the samples there are, when at
    /// least 3 s of them follow the impact.
    pub fn finish(&mut self) -> Vec<ConfirmedFall> {
        let now = self.history.back().map_or(f64::NEG_INFINITY, |(t, _)| *t);
        let mut out = self.decide(|c, cfg| now >= c.t + cfg.settle_s + 3.0);
        self.pending.clear();
        out.sort_by(|a, b| a.t.total_cmp(&b.t));
        out
    }

    fn decide(&mut self, due: impl Fn(&Candidate, &ConfirmerConfig) -> bool) -> Vec<ConfirmedFall> {
        let mut out = Vec::new();
        self.pending.sort_by(|a, b| a.t.total_cmp(&b.t));
        let pending = std::mem::take(&mut self.pending);
        for c in pending {
            if !due(&c, &self.cfg) {
                self.pending.push(c);
                continue;
            }
            if self
                .last_confirmed
                .is_some_and(|t| (c.t - t).abs() < self.cfg.confirm_after_s)
            {
                continue;
            }
            if let Some(fall) = self.evaluate(c) {
                self.last_confirmed = Some(fall.t);
                out.push(fall);
            }
        }
        out
    }

    fn evaluate(&self, c: Candidate) -> Option<ConfirmedFall> {
        let cfg = &self.cfg;
        let in_range = |a: f64, b: f64| self.history.iter().filter(move |(t, _)| *t >= a && *t < b);
        let pre = mean_vector(in_range(c.t - 3.0, c.t - 1.0).map(|(_, s)| *s))
            .or_else(|| mean_vector(in_range(f64::NEG_INFINITY, c.t - 0.5).map(|(_, s)| *s)))?;
        let after: Vec<[f32; 3]> = in_range(c.t + cfg.settle_s, c.t + cfg.confirm_after_s + 1e-6)
            .map(|(_, s)| *s)
            .collect();
        let post = mean_vector(after.iter().copied())?;
        let angle = angle_deg(pre, post);
        let activity = magnitude_std(&after);
        let lying = angle >= cfg.min_orientation_change_deg;
        let quiet = activity <= cfg.max_activity_g;
        if !(lying && quiet) {
            return None;
        }
        let evidence: Vec<(f64, [f32; 3])> =
            in_range(c.t - PRE_S, c.t + cfg.confirm_after_s + 1e-6)
                .copied()
                .collect();
        Some(ConfirmedFall {
            t: c.t,
            score: c.score,
            orientation_change_deg: angle,
            activity_g: activity,
            motionless: activity <= cfg.motionless_g,
            evidence_start: evidence.first().map_or(c.t, |(t, _)| *t),
            evidence_hz: MODEL_HZ,
            evidence: evidence.into_iter().map(|(_, s)| s).collect(),
        })
    }
}

fn mean_vector(samples: impl Iterator<Item = [f32; 3]>) -> Option<[f32; 3]> {
    let mut sum = [0.0f64; 3];
    let mut n = 0u32;
    for s in samples {
        for (acc, v) in sum.iter_mut().zip(s) {
            *acc += f64::from(v);
        }
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let n = f64::from(n);
    #[allow(clippy::cast_possible_truncation)]
    Some(sum.map(|v| (v / n) as f32))
}

fn angle_deg(a: [f32; 3], b: [f32; 3]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na < 1e-6 || nb < 1e-6 {
        return 0.0;
    }
    (dot / (na * nb)).clamp(-1.0, 1.0).acos().to_degrees()
}

fn magnitude_std(samples: &[[f32; 3]]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let mags: Vec<f64> = samples
        .iter()
        .map(|s| f64::from(s.iter().map(|x| x * x).sum::<f32>().sqrt()))
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let n = mags.len() as f64;
    let mean = mags.iter().sum::<f64>() / n;
    let var = mags.iter().map(|m| (m - mean) * (m - mean)).sum::<f64>() / n;
    #[allow(clippy::cast_possible_truncation)]
    let std = var.sqrt() as f32;
    std
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fall::WINDOW;

    const HZ: f64 = 50.0;

    /// Upright until `t_fall`, an impact there, then `after` (g, in the sensor frame).
    fn feed(
        c: &mut FallConfirmer,
        seconds: f64,
        t_fall: f64,
        after: impl Fn(f64) -> [f32; 3],
    ) -> Vec<ConfirmedFall> {
        let mut out = Vec::new();
        let n = (seconds * HZ) as usize;
        let sample = |i: usize| {
            let t = i as f64 / HZ;
            if (t - t_fall).abs() < 0.011 {
                [0.0, 0.0, 4.0]
            } else if t < t_fall {
                [0.0, 0.0, 1.0]
            } else {
                after(t)
            }
        };
        for i in 0..n {
            let t = i as f64 / HZ;
            c.push_sample(t, sample(i));
            // a window whose impact segment holds the fall scores high
            if i >= WINDOW && (i - WINDOW) % 25 == 0 {
                let start = i - WINDOW;
                let w: Vec<f32> = (start..i).flat_map(sample).collect();
                let t0 = start as f64 / HZ;
                let score = if t_fall >= t0 + 1.5 && t_fall < t0 + 2.5 {
                    0.9
                } else {
                    0.1
                };
                c.on_score(t0, &w, score);
            }
            out.extend(c.poll());
        }
        out
    }

    #[test]
    fn impact_then_lying_still_is_a_motionless_fall() {
        let mut c = FallConfirmer::new(ConfirmerConfig::for_placement(Placement::Waist));
        let falls = feed(&mut c, 30.0, 8.0, |_| [1.0, 0.0, 0.02]);
        assert_eq!(falls.len(), 1, "{falls:?}");
        let f = &falls[0];
        assert!((f.t - 8.0).abs() < 0.05);
        assert!(f.motionless);
        assert!(f.orientation_change_deg > 80.0);
        assert!(!f.evidence.is_empty());
    }

    #[test]
    fn impact_then_walking_away_upright_is_not_a_fall() {
        let mut c = FallConfirmer::new(ConfirmerConfig::for_placement(Placement::Waist));
        let walking = |t: f64| {
            [
                0.0,
                0.0,
                1.0 + 0.4 * (2.0 * std::f64::consts::PI * 1.6 * t).sin() as f32,
            ]
        };
        assert!(feed(&mut c, 30.0, 8.0, walking).is_empty());
    }

    #[test]
    fn impact_without_orientation_change_is_not_a_fall_at_the_waist() {
        let mut c = FallConfirmer::new(ConfirmerConfig::for_placement(Placement::Waist));
        assert!(feed(&mut c, 30.0, 8.0, |_| [0.0, 0.05, 1.0]).is_empty());
    }

    #[test]
    fn lying_but_moving_on_the_floor_is_a_fall_that_is_not_motionless() {
        let mut c = FallConfirmer::new(ConfirmerConfig::for_placement(Placement::Waist));
        let struggling = |t: f64| {
            [
                1.0 + 0.1 * (2.0 * std::f64::consts::PI * 0.7 * t).sin() as f32,
                0.0,
                0.0,
            ]
        };
        let falls = feed(&mut c, 30.0, 8.0, struggling);
        assert_eq!(falls.len(), 1);
        assert!(!falls[0].motionless);
    }

    #[test]
    fn a_recording_ending_soon_after_the_fall_is_decided_at_finish() {
        let mut c = FallConfirmer::new(ConfirmerConfig::for_placement(Placement::Waist));
        assert!(feed(&mut c, 14.0, 8.0, |_| [1.0, 0.0, 0.0]).is_empty());
        assert_eq!(c.finish().len(), 1);
    }
}
