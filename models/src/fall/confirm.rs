//! Confirmation of fall candidates: a pure state machine, time passed in as stream seconds.
//!
//! A window whose score reaches the lower of the two thresholds makes a candidate at the impact
//! (the largest |a| in the window's impact segment; candidates closer than `merge_s` are one).
//! `confirm_after_s` seconds after the impact (≤ [`MAX_DECISION_S`]) the aftermath is judged from
//! the samples since `settle_s` after it, cut into 1 s stretches:
//! - [`Aftermath::Down`]: the person stayed down — at the waist the trunk turned by at least
//!   `min_orientation_change_deg` from its direction before the impact and a share of the
//!   stretches is quiet; at the wrist (whose orientation says little about the body's, and whose
//!   arm keeps moving while the body lies) enough stretches are quiet. Raised at `threshold`.
//! - [`Aftermath::Recovered`]: up and about at once. Still a fall when the impact alone is
//!   convincing: raised at the higher `recovered_threshold`, at a lower priority (docs/ALERTS.md).
//! - [`Aftermath::Unknown`]: the recording ended too soon after the impact to tell (offline only);
//!   judged like a recovery.
//!
//! The cancel window, priorities and escalation are the gateway's.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::aftermath::{self, FEATURE_NAMES};
use super::spec::{IMPACT_SEGMENT, MODEL_HZ, Placement};
use crate::trees::Forest;

/// The decision comes at the latest this long after the impact (s).
pub const MAX_DECISION_S: f64 = 15.0;

/// Post-impact evidence shorter than this (s) leaves the aftermath unknown.
pub const MIN_EVIDENCE_S: f64 = 2.0;

/// Thresholds of the confirmation rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmerConfig {
    /// Minimum model score for a fall after which the person stays down.
    pub threshold: f32,
    /// Minimum model score for a fall after which the person got up at once, or whose aftermath is
    /// unknown (at least `threshold`).
    pub recovered_threshold: f32,
    /// Seconds after the impact before deciding (at most [`MAX_DECISION_S`]).
    pub confirm_after_s: f64,
    /// Post-impact samples from this many seconds after the impact count as the aftermath.
    pub settle_s: f64,
    /// Minimum angle (degrees) between the gravity direction before and after for "down"; 0
    /// disables the posture rule (the wrist).
    pub min_orientation_change_deg: f32,
    /// A 1 s stretch whose standard deviation of |a| (g) is at most this is quiet.
    pub quiet_g: f32,
    /// "Down" needs at least this share of quiet 1 s stretches in the aftermath.
    pub min_quiet_share: f32,
    /// Standard deviation of |a| (g) over the aftermath below which the person did not move at all.
    pub motionless_g: f32,
    /// Candidates closer than this (s) are one event.
    pub merge_s: f64,
}

/// Operating thresholds chosen in training (models/fall_detector.metrics.json, `thresholds`):
/// (down, recovered) per placement.
pub const WRIST_THRESHOLDS: (f32, f32) = (0.93, 0.99);
/// See [`WRIST_THRESHOLDS`].
pub const WAIST_THRESHOLDS: (f32, f32) = (0.98, 0.98);

impl ConfirmerConfig {
    /// Defaults for a placement.
    pub fn for_placement(placement: Placement) -> Self {
        let (threshold, recovered_threshold) = match placement {
            Placement::Wrist => WRIST_THRESHOLDS,
            Placement::Waist => WAIST_THRESHOLDS,
        };
        Self {
            threshold,
            recovered_threshold,
            confirm_after_s: 10.0,
            settle_s: 1.5,
            // real falls at the waist end with the trunk 60–90° from standing; sitting down turns
            // a hip-worn device by less (MODEL_CARD.md, aftermath statistics)
            min_orientation_change_deg: match placement {
                Placement::Waist => 40.0,
                Placement::Wrist => 0.0,
            },
            // lying still reads 0.005–0.02 g; a gesture, a step or a struggle > 0.05 g
            quiet_g: 0.04,
            // an arm that moves one second in three still leaves a third of the stretches quiet;
            // walking leaves none
            min_quiet_share: match placement {
                Placement::Waist => 0.2,
                Placement::Wrist => 0.3,
            },
            motionless_g: 0.03,
            merge_s: 3.0,
        }
    }

    /// The lowest score that makes a candidate.
    fn candidate_threshold(&self) -> f32 {
        self.threshold.min(self.recovered_threshold)
    }
}

/// What the person did after the impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aftermath {
    /// Stayed down (lying, or on the floor moving an arm): needs help now.
    Down,
    /// Got up and moved on at once.
    Recovered,
    /// Too little recording after the impact to tell.
    Unknown,
}

/// A fall that passed confirmation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfirmedFall {
    /// Impact time in stream seconds (Unix seconds in the gateway, file seconds in the CLI).
    pub t: f64,
    /// The model's score (0..1), the highest of the merged candidate windows.
    pub score: f32,
    /// What the person did afterwards.
    pub aftermath: Aftermath,
    /// Angle between the gravity direction before and after the fall (degrees).
    pub orientation_change_deg: f32,
    /// Standard deviation of |a| over the aftermath (g).
    pub activity_g: f32,
    /// Share of quiet 1 s stretches in the aftermath (0..1).
    pub quiet_share: f32,
    /// No movement at all after the fall.
    pub motionless: bool,
    /// Time (stream seconds) of the first evidence sample.
    pub evidence_start: f64,
    /// Evidence sample rate (Hz).
    pub evidence_hz: f32,
    /// Accelerometer samples (g) around the fall, for the dashboard's plot.
    pub evidence: Vec<[f32; 3]>,
    /// The candidate's second-stage features ([`aftermath::features`]), for training and
    /// diagnosis; not part of any payload.
    #[serde(skip)]
    pub features: [f64; FEATURE_NAMES.len()],
    /// The second stage's probability of a fall, when one is in force.
    #[serde(skip)]
    pub confirm_probability: Option<f64>,
}

/// A learned second stage in force: the forest of the placement and the probability it must reach.
#[derive(Debug, Clone)]
pub struct SecondStageRule {
    /// The placement's boosted trees.
    pub forest: Arc<Forest>,
    /// Minimum probability to raise the alarm (chosen on training folds).
    pub threshold: f64,
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
    history: History,
    pending: Vec<Candidate>,
    last_confirmed: Option<f64>,
    second: Option<SecondStageRule>,
}

/// Seconds of evidence kept before the impact.
const PRE_S: f64 = 4.0;

/// The last seconds of samples, times and values in two deques: a `(f64, [f32; 3])` pair pads to
/// 24 bytes where the two take 20, and the deques are sized for the window once instead of
/// doubling past it (a wearable keeps ~1 000 samples; docs/BENCHMARKS_PEERS.md).
#[derive(Debug, Clone)]
struct History {
    times: VecDeque<f64>,
    samples: VecDeque<[f32; 3]>,
    keep_s: f64,
}

impl History {
    fn new(keep_s: f64) -> Self {
        // one more than the window holds: a sample is pushed before the oldest is dropped
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let slots = (keep_s * f64::from(MODEL_HZ)).ceil() as usize + 2;
        Self {
            times: VecDeque::with_capacity(slots),
            samples: VecDeque::with_capacity(slots),
            keep_s,
        }
    }

    fn push(&mut self, t: f64, s: [f32; 3]) {
        self.times.push_back(t);
        self.samples.push_back(s);
        while self.times.front().is_some_and(|t0| t - t0 > self.keep_s) {
            self.times.pop_front();
            self.samples.pop_front();
        }
    }

    fn last_t(&self) -> Option<f64> {
        self.times.back().copied()
    }

    /// The samples taken in `[a, b)`, oldest first.
    fn range(&self, a: f64, b: f64) -> impl Iterator<Item = (f64, [f32; 3])> + '_ {
        self.times
            .iter()
            .copied()
            .zip(self.samples.iter().copied())
            .filter(move |(t, _)| *t >= a && *t < b)
    }
}

impl FallConfirmer {
    /// A confirmer with no history. `confirm_after_s` is capped at [`MAX_DECISION_S`].
    pub fn new(mut cfg: ConfirmerConfig) -> Self {
        cfg.confirm_after_s = cfg.confirm_after_s.min(MAX_DECISION_S);
        Self {
            history: History::new(PRE_S + 4.0 + cfg.confirm_after_s + 2.0),
            cfg,
            pending: Vec::new(),
            last_confirmed: None,
            second: None,
        }
    }

    /// A confirmer whose decision is the second stage's: a candidate (score at least the lower
    /// threshold of `cfg`) is a fall when the forest's probability reaches `rule.threshold`; the
    /// aftermath rules then only say whether the person stayed down (the alert's priority).
    pub fn with_second_stage(cfg: ConfirmerConfig, rule: SecondStageRule) -> Self {
        Self {
            second: Some(rule),
            ..Self::new(cfg)
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ConfirmerConfig {
        &self.cfg
    }

    /// Records one 50 Hz sample at `t` (s).
    pub fn push_sample(&mut self, t: f64, s: [f32; 3]) {
        self.history.push(t, s);
    }

    /// A scored window starting at `t_start` (s); `window` is the flattened window.
    pub fn on_score(&mut self, t_start: f64, window: &[f32], score: f32) {
        // NaN scores never make a candidate
        if score.is_nan() || score < self.cfg.candidate_threshold() {
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
        let now = self.now();
        self.decide(|c, cfg| now >= c.t + cfg.confirm_after_s)
    }

    /// End of a recording: decides the remaining candidates with the samples there are (the
    /// aftermath is [`Aftermath::Unknown`] when fewer than [`MIN_EVIDENCE_S`] follow the settling).
    pub fn finish(&mut self) -> Vec<ConfirmedFall> {
        let mut out = self.decide(|_, _| true);
        self.pending.clear();
        out.sort_by(|a, b| a.t.total_cmp(&b.t));
        out
    }

    fn now(&self) -> f64 {
        self.history.last_t().unwrap_or(f64::NEG_INFINITY)
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
        let in_range = |a: f64, b: f64| self.history.range(a, b);
        let pre = mean_vector(in_range(c.t - 3.0, c.t - 1.0).map(|(_, s)| s))
            .or_else(|| mean_vector(in_range(f64::NEG_INFINITY, c.t - 0.5).map(|(_, s)| s)));
        let after: Vec<[f32; 3]> = in_range(c.t + cfg.settle_s, c.t + cfg.confirm_after_s + 1e-6)
            .map(|(_, s)| s)
            .collect();
        let post = mean_vector(after.iter().copied());
        let angle = match (pre, post) {
            #[allow(clippy::cast_possible_truncation)]
            (Some(a), Some(b)) => aftermath::angle_deg(a.map(f64::from), b.map(f64::from)) as f32,
            _ => 0.0,
        };
        let activity = magnitude_std(&after);
        let quiet_share = quiet_share(&after, cfg.quiet_g);
        #[allow(clippy::cast_precision_loss)]
        let evidence_s = after.len() as f64 / f64::from(MODEL_HZ);
        let aftermath = if evidence_s < MIN_EVIDENCE_S {
            Aftermath::Unknown
        } else if angle >= cfg.min_orientation_change_deg && quiet_share >= cfg.min_quiet_share {
            Aftermath::Down
        } else {
            Aftermath::Recovered
        };
        let pre_samples: Vec<[f32; 3]> = in_range(c.t - 3.0, c.t - 1.0).map(|(_, s)| s).collect();
        let impact: Vec<[f32; 3]> = in_range(c.t - 0.5, c.t + 0.5).map(|(_, s)| s).collect();
        let features = aftermath::features(c.score, &pre_samples, &impact, &after);
        let (raise, confirm_probability) = match &self.second {
            Some(r) => {
                let p = r.forest.predict(&features);
                (p >= r.threshold, Some(p))
            }
            None => {
                let needed = match aftermath {
                    Aftermath::Down => cfg.threshold,
                    Aftermath::Recovered | Aftermath::Unknown => cfg.recovered_threshold,
                };
                (c.score >= needed, None)
            }
        };
        if !raise {
            return None;
        }
        let evidence: Vec<(f64, [f32; 3])> =
            in_range(c.t - PRE_S, c.t + cfg.confirm_after_s + 1e-6).collect();
        Some(ConfirmedFall {
            t: c.t,
            score: c.score,
            aftermath,
            orientation_change_deg: angle,
            activity_g: activity,
            quiet_share,
            motionless: aftermath == Aftermath::Down && activity <= cfg.motionless_g,
            evidence_start: evidence.first().map_or(c.t, |(t, _)| *t),
            evidence_hz: MODEL_HZ,
            evidence: evidence.into_iter().map(|(_, s)| s).collect(),
            features,
            confirm_probability,
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

/// Share of the whole 1 s stretches whose |a| varies by at most `quiet_g` (std).
fn quiet_share(samples: &[[f32; 3]], quiet_g: f32) -> f32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let per = MODEL_HZ as usize;
    let stretches: Vec<&[[f32; 3]]> = samples.chunks_exact(per).collect();
    if stretches.is_empty() {
        return 0.0;
    }
    let quiet = stretches
        .iter()
        .filter(|s| magnitude_std(s) <= quiet_g)
        .count();
    #[allow(clippy::cast_precision_loss)]
    let share = quiet as f32 / stretches.len() as f32;
    share
}

#[cfg(test)]
#[path = "confirm_tests.rs"]
mod tests;
