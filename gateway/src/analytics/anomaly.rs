//! Per-resident daily-pattern anomalies. Each care day (closing at `anomaly.day_close` local
//! time) yields the features of [`baseline`](super::baseline); after `learning_days` complete
//! days, each new day's robust z-scores against the resident's own history go through the
//! one-class SVM (`pingan_models::anomaly`, plain Rust), and an anomalous day raises a Low `vitals` event (awareness:
//! look at the resident on the next round) that names the features that deviated and by how much.
//!
//! Without the model (a configured file that does not load) the rule says so once and falls back to the
//! baselines alone: a day is anomalous when any feature reaches `fallback_z`.
//!
//! Anomaly events are one-shot (no clear): a person resolves them after looking.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::{Measurement, Timestamp};
use pingan_models::anomaly::{AnomalyError, AnomalyModel};
use serde_json::json;

use super::baseline::{Baseline, DayAccumulator, FEATURES, NAMES};
use super::emit::{self, Place};
use super::inactivity::motion_sd;
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Priority, Subject};
use crate::config::window::{local_date, utc_ms};

/// How often day boundaries are checked on ticks.
const CHECK_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Resident {
    /// The care day being accumulated (`None` until the first reading).
    day: Option<chrono::NaiveDate>,
    /// When that day closes (UTC); readings before it need no calendar maths.
    closes_at: Option<Timestamp>,
    /// The first day started mid-way: it is not a complete day.
    partial: bool,
    acc: DayAccumulator,
    baseline: Baseline,
    in_bed: Option<bool>,
}

/// Daily-pattern anomalies.
#[derive(Debug)]
pub(crate) struct AnomalyRule {
    model: Result<AnomalyModel, String>,
    residents: HashMap<String, Resident>,
    next_check: Option<Timestamp>,
}

impl AnomalyRule {
    /// The rule with `model`, or baselines only with the reason the model is missing (logged
    /// once, here).
    pub(crate) fn new(model: Result<AnomalyModel, AnomalyError>) -> Self {
        let model = model.map_err(|e| {
            if matches!(e, AnomalyError::NotNeeded) {
                tracing::info!("{e}");
            } else {
                tracing::warn!(error = %e, "anomaly model unavailable; daily anomalies use baselines only");
            }
            e.to_string()
        });
        Self {
            model,
            residents: HashMap::new(),
            next_check: None,
        }
    }

    /// The care day `at` belongs to: the local date of `at` minus the day-close time.
    fn care_day(at: Timestamp, ctx: &Context<'_>) -> Option<chrono::NaiveDate> {
        let shift = i64::from(ctx.config.anomaly.day_close.seconds()) * 1000;
        local_date(Timestamp(at.millis() - shift), ctx.timezone)
    }

    /// Closes the resident's day if `at` is in a later one; returns a finding for an anomaly.
    fn roll(&mut self, resident: &str, at: Timestamp, ctx: &Context<'_>) -> Option<Finding> {
        let r = self.residents.entry(resident.to_owned()).or_default();
        if r.closes_at.is_some_and(|t| at < t) {
            return None;
        }
        let today = Self::care_day(at, ctx)?;
        let close = ctx.config.anomaly.day_close.time();
        r.closes_at = today
            .succ_opt()
            .and_then(|d| utc_ms(d, close, ctx.timezone))
            .map(Timestamp);
        let Some(day) = r.day else {
            r.day = Some(today);
            r.partial = true;
            return None;
        };
        if today <= day {
            return None;
        }
        let features = std::mem::take(&mut r.acc).features();
        let was_partial = std::mem::replace(&mut r.partial, false);
        r.day = Some(today);
        if was_partial {
            return None;
        }
        let cfg = &ctx.config.anomaly;
        let learning = cfg.learning_days as usize;
        let finding = if r.baseline.len() >= learning {
            let z = r.baseline.z(&features, learning);
            let stats: Vec<_> = (0..FEATURES).map(|i| r.baseline.stat(i)).collect();
            let verdict = match &mut self.model {
                Ok(m) => {
                    let input = z.map(|v| v.unwrap_or(0.0));
                    match m.score(&input) {
                        Ok(s) => Ok((s.anomalous, Some(s.score))),
                        Err(e) => Err(e.to_string()),
                    }
                }
                Err(why) => Err(why.clone()),
            };
            let (anomalous, score, model_note) = match verdict {
                Ok((a, s)) => (a, s, "anomaly.json".to_owned()),
                Err(why) => {
                    let a = z.iter().flatten().any(|v| v.abs() >= cfg.fallback_z);
                    (a, None, format!("unavailable ({why}); baselines only"))
                }
            };
            anomalous.then(|| {
                explain(
                    resident,
                    at,
                    &Judged {
                        features: &features,
                        z: &z,
                        stats: &stats,
                        score,
                        model: model_note,
                        days: r.baseline.len(),
                    },
                    ctx,
                )
            })
        } else {
            None
        };
        r.baseline.push(features, cfg.history_days as usize);
        finding
    }

    fn observe(r: &mut Resident, n: &Normalized, ctx: &Context<'_>) {
        let at = n.reading.at;
        let night = ctx.config.night.window.contains(at, ctx.timezone);
        match &n.reading.measurement {
            Measurement::BedOccupancy {
                in_bed,
                heart_rate,
                respiration_rate,
            } => {
                let was = r.in_bed.replace(*in_bed);
                if night {
                    if *in_bed {
                        r.acc.night_rates(*heart_rate, *respiration_rate);
                    } else if was == Some(true) {
                        r.acc.bed_exit();
                    } else {
                        r.acc.night_bed_seen();
                    }
                }
            }
            Measurement::Motion { samples, .. } => {
                let sd = motion_sd(samples);
                if night && r.in_bed != Some(false) {
                    r.acc.night_motion(sd);
                } else if ctx.config.inactivity.daytime.contains(at, ctx.timezone) {
                    r.acc
                        .day_motion(sd >= ctx.config.inactivity.motion_threshold_g);
                }
            }
            _ => {}
        }
    }
}

/// One judged day: its features, their z-scores and the baseline behind them.
#[derive(Debug)]
struct Judged<'a> {
    features: &'a [Option<f32>; FEATURES],
    z: &'a [Option<f32>; FEATURES],
    stats: &'a [Option<super::baseline::Stat>],
    score: Option<f32>,
    model: String,
    days: usize,
}

/// The event for an anomalous day: every feature with |z| ≥ `explain_z`, largest first.
fn explain(resident: &str, at: Timestamp, j: &Judged<'_>, ctx: &Context<'_>) -> Finding {
    let Judged {
        features,
        z,
        stats,
        score,
        days,
        ..
    } = *j;
    let model = j.model.clone();
    let mut deviated: Vec<(usize, f32)> = z
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .filter(|(_, v)| v.abs() >= ctx.config.anomaly.explain_z)
        .collect();
    deviated.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let parts: Vec<String> = deviated
        .iter()
        .map(|&(i, v)| {
            let name = NAMES.get(i).copied().unwrap_or("?");
            let value = features.get(i).copied().flatten().unwrap_or(f32::NAN);
            let med = stats
                .get(i)
                .copied()
                .flatten()
                .map_or(f32::NAN, |s| s.median);
            // Rates read best with one decimal, shares with two.
            let prec = if med.abs() < 10.0 { 2 } else { 1 };
            format!("{name} {value:.prec$} (usual {med:.prec$}, z {v:+.1})")
        })
        .collect();
    let per_feature: serde_json::Map<String, serde_json::Value> = (0..FEATURES)
        .map(|i| {
            let s = stats.get(i).copied().flatten();
            (
                NAMES.get(i).copied().unwrap_or("?").to_owned(),
                json!({
                    "value": features.get(i).copied().flatten(),
                    "median": s.map(|s| s.median),
                    "scale": s.map(|s| s.scale),
                    "z": z.get(i).copied().flatten().map(|v| (v * 100.0).round() / 100.0),
                }),
            )
        })
        .collect();
    let location = ctx
        .facility
        .resident(resident)
        .map(|r| r.location.clone())
        .unwrap_or_default();
    let detail = if parts.is_empty() {
        format!(
            "unusual day for this resident (model score {score:?}); no single feature stands out"
        )
    } else {
        format!(
            "unusual day vs own {days}-day baseline: {}",
            parts.join("; ")
        )
    };
    Finding::Event(emit::raise(
        (
            AlertKind::Vitals,
            Subject::Resident(resident.to_owned()),
            Priority::Low,
        ),
        at,
        Place {
            location: &location,
            device: None,
        },
        detail,
        json!({
            "anomaly": {
                "score": score,
                "model": model,
                "baseline_days": days,
                "features": per_feature,
                "deviated": deviated.iter().map(|(i, _)| NAMES.get(*i).copied().unwrap_or("?")).collect::<Vec<_>>(),
            }
        }),
    ))
}

impl Rule for AnomalyRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(resident) = &n.binding.resident else {
            return Vec::new();
        };
        if !matches!(
            n.reading.measurement,
            Measurement::BedOccupancy { .. } | Measurement::Motion { .. }
        ) {
            return Vec::new();
        }
        let out: Vec<Finding> = self.roll(resident, n.reading.at, ctx).into_iter().collect();
        if let Some(r) = self.residents.get_mut(resident) {
            Self::observe(r, n, ctx);
        }
        out
    }

    fn on_tick(&mut self, now: Timestamp, ctx: &Context<'_>) -> Vec<Finding> {
        if self.next_check.is_some_and(|t| now < t) {
            return Vec::new();
        }
        self.next_check = Some(now.plus(CHECK_EVERY));
        let mut ids: Vec<String> = self.residents.keys().cloned().collect();
        ids.sort();
        ids.iter().filter_map(|r| self.roll(r, now, ctx)).collect()
    }
}

#[cfg(test)]
mod tests;
