//! Battery warnings with the days remaining estimated from the trend: a least-squares line through
//! the device's battery history (`battery.trend_window`) gives the discharge rate; the charge
//! divided by it is the days remaining.
//!
//! `low_battery` is raised when the charge is at or below `low_percent`, or when the trend
//! predicts an empty battery within `forecast_days` — so the first warning comes while at least
//! 28 days remain. It is Low while at least `medium_below_days` remain, Medium when fewer (or at
//! or below `critical_percent`). A jump up (battery replaced or charged) restarts the history.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use pingan_drivers::{DeviceId, Measurement, Timestamp};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Priority, Subject};
use crate::config::analytics::BatteryConfig;

/// Battery history keeps at most one sample per this interval.
const SAMPLE_EVERY: Duration = Duration::from_secs(600);
/// A rise of this many points means a new or charged battery.
const REPLACED_JUMP: f32 = 10.0;
/// While low, the event repeats at most this often.
const REPEAT: Duration = Duration::from_secs(3600);
const DAY_MS: f64 = 86_400_000.0;

#[derive(Debug, Default)]
struct History {
    samples: VecDeque<(Timestamp, f32)>,
    alerted: Option<(Priority, Pacer)>,
}

/// Battery warnings.
#[derive(Debug, Default)]
pub(crate) struct BatteryRule {
    devices: HashMap<DeviceId, History>,
}

/// Discharge rate in percent per day (positive while discharging) by least squares, if the
/// samples span at least `min_span`.
pub(crate) fn discharge_per_day(
    samples: &VecDeque<(Timestamp, f32)>,
    min_span: Duration,
) -> Option<f64> {
    let (&(first, _), &(last, _)) = (samples.front()?, samples.back()?);
    if last.since(first) < min_span || samples.len() < 3 {
        return None;
    }
    let n = samples.len() as f64;
    let xs = samples
        .iter()
        .map(|(t, _)| (t.millis() - first.millis()) as f64 / DAY_MS);
    let mean_x = xs.clone().sum::<f64>() / n;
    let mean_y = samples.iter().map(|(_, v)| f64::from(*v)).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, (_, y)) in xs.zip(samples) {
        sxy += (x - mean_x) * (f64::from(*y) - mean_y);
        sxx += (x - mean_x).powi(2);
    }
    (sxx > 0.0).then(|| -sxy / sxx)
}

/// Days until empty at `rate` %/day from `percent`; `None` when not discharging.
pub(crate) fn days_remaining(percent: f32, rate: Option<f64>) -> Option<f64> {
    rate.filter(|r| *r > 1e-3)
        .map(|r| f64::from(percent.max(0.0)) / r)
}

/// Whether to warn and how urgently.
pub(crate) fn assess(c: &BatteryConfig, percent: f32, days: Option<f64>) -> Option<Priority> {
    let forecast = days.is_some_and(|d| d <= f64::from(c.forecast_days));
    if percent > c.low_percent && !forecast {
        return None;
    }
    let urgent =
        percent <= c.critical_percent || days.is_some_and(|d| d < f64::from(c.medium_below_days));
    Some(if urgent {
        Priority::Medium
    } else {
        Priority::Low
    })
}

impl Rule for BatteryRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        let Measurement::Battery { percent } = n.reading.measurement else {
            return Vec::new();
        };
        if !(0.0..=100.0).contains(&percent) {
            return Vec::new();
        }
        let c = &ctx.config.battery;
        let at = n.reading.at;
        let h = self.devices.entry(n.reading.device.clone()).or_default();
        if h.samples
            .back()
            .is_some_and(|(_, v)| percent - v >= REPLACED_JUMP)
        {
            h.samples.clear();
        }
        if h.samples
            .back()
            .is_none_or(|(t, _)| at.since(*t) >= SAMPLE_EVERY)
        {
            h.samples.push_back((at, percent));
        }
        while h
            .samples
            .front()
            .is_some_and(|(t, _)| at.since(*t) > c.trend_window)
        {
            h.samples.pop_front();
        }
        let rate = discharge_per_day(&h.samples, c.min_trend_span);
        let days = days_remaining(percent, rate);
        let subject = Subject::Device(n.reading.device.clone());
        let Some(priority) = assess(c, percent, days) else {
            return match h.alerted.take() {
                Some(_) => vec![Finding::Event(emit::clear(
                    AlertKind::LowBattery,
                    subject,
                    at,
                    &n.binding.location,
                    format!("battery {percent:.0} %"),
                ))],
                None => Vec::new(),
            };
        };
        let changed = h.alerted.as_ref().is_none_or(|(p, _)| *p != priority);
        let (p, pacer) = h.alerted.get_or_insert((priority, Pacer::default()));
        *p = priority;
        if !pacer.due(at, changed, REPEAT) {
            return Vec::new();
        }
        let days_text = days.map_or_else(|| "unknown".to_owned(), |d| format!("{d:.0}"));
        vec![Finding::Event(emit::raise(
            (AlertKind::LowBattery, subject, priority),
            at,
            Place {
                location: &n.binding.location,
                device: Some(&n.reading.device),
            },
            format!("battery {percent:.0} %, about {days_text} days remaining"),
            json!({
                "percent": percent,
                "days_remaining": days.map(|d| (d * 10.0).round() / 10.0),
                "discharge_per_day": rate.map(|r| (r * 100.0).round() / 100.0),
                "resident": n.binding.resident,
            }),
        ))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::testkit::{Kit, local, summary};

    fn series(days: &[(f64, f32)]) -> VecDeque<(Timestamp, f32)> {
        days.iter()
            .map(|(d, v)| (Timestamp((d * DAY_MS) as i64), *v))
            .collect()
    }

    #[test]
    fn the_trend_is_a_least_squares_line() {
        let s = series(&[(0.0, 80.0), (1.0, 79.0), (2.0, 78.0), (3.0, 77.0)]);
        let r = discharge_per_day(&s, Duration::from_secs(86_400)).unwrap();
        assert!((r - 1.0).abs() < 1e-9, "{r}");
        assert_eq!(days_remaining(77.0, Some(r)).map(|d| d.round()), Some(77.0));
        // Too short a span predicts nothing.
        assert_eq!(
            discharge_per_day(&s, Duration::from_secs(10 * 86_400)),
            None
        );
        // Charging is not discharging.
        assert_eq!(days_remaining(50.0, Some(-2.0)), None);
    }

    #[test]
    fn warnings_are_low_while_28_days_remain_and_medium_after() {
        let c = BatteryConfig::default();
        let table = [
            (80.0, None, None),
            (80.0, Some(200.0), None),
            (50.0, Some(55.0), Some(Priority::Low)),
            (30.0, Some(28.0), Some(Priority::Low)),
            (28.0, Some(27.9), Some(Priority::Medium)),
            (24.0, None, Some(Priority::Low)),
            (24.0, Some(90.0), Some(Priority::Low)),
            (9.0, None, Some(Priority::Medium)),
        ];
        for (pct, days, want) in table {
            assert_eq!(assess(&c, pct, days), want, "{pct} % {days:?} days");
        }
    }

    #[test]
    fn a_discharging_wristband_warns_early_then_urgently_and_replacement_clears() {
        let kit = Kit::new();
        let mut rule = BatteryRule::default();
        let ctx = kit.ctx();
        let t0 = local(0, 0);
        let mut seen = Vec::new();
        // 2 % a day from 100 %: the first warning comes once a day of trend exists (98 % → 49
        // days, inside the 60-day forecast); Medium once fewer than 28 days remain (below 56 %).
        for hour in 0..(30 * 24) {
            let pct = 100.0 - 2.0 * hour as f32 / 24.0;
            let at = Timestamp(t0.0 + hour * 3_600_000);
            let out = summary(rule.on_reading(
                &kit.reading("w1", at, Measurement::Battery { percent: pct }),
                &ctx,
            ));
            seen.extend(out.into_iter().map(|e| (hour / 24, e.2, e.3)));
        }
        assert_eq!(seen.first().map(|e| (e.0, e.1)), Some((1, Priority::Low)));
        let medium = seen.iter().find(|e| e.1 == Priority::Medium).unwrap();
        assert_eq!(medium.0, 22);
        let at = Timestamp(t0.0 + 31 * 86_400_000);
        let out = summary(rule.on_reading(
            &kit.reading("w1", at, Measurement::Battery { percent: 100.0 }),
            &ctx,
        ));
        assert_eq!(out.iter().map(|e| e.3).collect::<Vec<_>>(), vec![false]);
    }
}
