//! The running NEWS2 rule: keeps each resident's latest vitals with their times, scores them with
//! [`news2::score`] whenever a vital arrives, and raises `vitals` events per the chart:
//! a single 3 (ward) → Medium to the nurse; 5–6 (urgent) → High; ≥ 7 (emergency) → High and the
//! green channel. Back to routine clears.
//!
//! Sources: pulse from wearables and the bed mat, SpO2 from wearables and oximeters, respiration
//! rate from the bed mat while in bed, systolic BP from cuffs, temperature from wearables and
//! thermometers. Air or oxygen and the SpO2 scale come from the care plan. Consciousness is never
//! measured, so every running score is partial.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use pingan_drivers::{Measurement, Timestamp};
use serde_json::json;

use super::emit::{self, Pacer, Place};
use super::news2::observe::{self, Measured, Sample};
use super::news2::{self, Parameter, Response, SpO2Scale};
use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Priority, Subject};

/// Readings of one parameter within the smoothing window, oldest first, and the same values
/// sorted, so the median is read, not computed, on every push (a resident's window holds
/// minutes of readings; sorting it per reading was the rule's main cost).
#[derive(Debug, Default)]
struct Series {
    samples: VecDeque<(Timestamp, f32)>,
    sorted: Vec<f32>,
}

impl Series {
    fn push(&mut self, at: Timestamp, v: f32, smoothing: Duration) {
        // Readings may arrive slightly out of order from different devices; keep time order.
        let pos = self.samples.partition_point(|(t, _)| *t <= at);
        self.samples.insert(pos, (at, v));
        let i = self.sorted.partition_point(|x| x.total_cmp(&v).is_lt());
        self.sorted.insert(i, v);
        if let Some(&(latest, _)) = self.samples.back() {
            while let Some(&(t, old)) = self.samples.front() {
                if latest.since(t) <= smoothing {
                    break;
                }
                self.samples.pop_front();
                let i = self.sorted.partition_point(|x| x.total_cmp(&old).is_lt());
                if self
                    .sorted
                    .get(i)
                    .is_some_and(|x| x.total_cmp(&old).is_eq())
                {
                    self.sorted.remove(i);
                }
            }
        }
    }

    /// The median of the window (the mean of the middle two for an even count).
    fn median(&self) -> Option<f32> {
        let n = self.sorted.len();
        let mid = n / 2;
        match n {
            0 => None,
            _ if n % 2 == 1 => self.sorted.get(mid).copied(),
            _ => Some((self.sorted.get(mid - 1)? + self.sorted.get(mid)?) / 2.0),
        }
    }

    /// The median of the window, timed at its latest reading.
    fn sample(&self) -> Option<Sample> {
        let &(at, _) = self.samples.back()?;
        Some(Sample {
            value: self.median()?,
            at,
        })
    }
}

#[derive(Debug, Default)]
struct Resident {
    rr: Series,
    spo2: Series,
    sbp: Series,
    pulse: Series,
    temp: Series,
    response: Option<Response>,
    pacer: Pacer,
}

/// The NEWS2 rule.
#[derive(Debug, Default)]
pub(crate) struct VitalsRule {
    residents: HashMap<String, Resident>,
}

/// The vitals a reading carries, as (parameter, value).
fn vitals_of(m: &Measurement) -> Vec<(Parameter, f32)> {
    match m {
        Measurement::HeartRate { bpm } => vec![(Parameter::Pulse, *bpm)],
        Measurement::SpO2 { percent } => vec![(Parameter::Spo2, *percent)],
        Measurement::RespirationRate { per_min } => vec![(Parameter::RespirationRate, *per_min)],
        Measurement::BodyTemperature { celsius } => vec![(Parameter::Temperature, *celsius)],
        Measurement::BloodPressure { systolic, .. } => vec![(Parameter::SystolicBp, *systolic)],
        Measurement::BedOccupancy {
            in_bed: true,
            heart_rate,
            respiration_rate,
        } => heart_rate
            .map(|v| (Parameter::Pulse, v))
            .into_iter()
            .chain(respiration_rate.map(|v| (Parameter::RespirationRate, v)))
            .collect(),
        _ => Vec::new(),
    }
}

impl Resident {
    fn measured(&self) -> Measured {
        Measured {
            respiration_rate: self.rr.sample(),
            spo2: self.spo2.sample(),
            systolic_bp: self.sbp.sample(),
            pulse: self.pulse.sample(),
            temperature: self.temp.sample(),
        }
    }
}

impl Rule for VitalsRule {
    fn on_reading(&mut self, n: &Normalized, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(resident_id) = &n.binding.resident else {
            return Vec::new();
        };
        let vitals = vitals_of(&n.reading.measurement);
        if vitals.is_empty() {
            return Vec::new();
        }
        let cfg = &ctx.config.news2;
        let now = n.reading.at;
        if !self.residents.contains_key(resident_id) {
            self.residents
                .insert(resident_id.clone(), Resident::default());
        }
        let Some(r) = self.residents.get_mut(resident_id) else {
            return Vec::new();
        };
        for (p, v) in vitals {
            // An implausible value is a sensor artefact: it must not score.
            let Ok(v) = news2::check(p, v) else {
                continue;
            };
            let series = match p {
                Parameter::RespirationRate => &mut r.rr,
                Parameter::Spo2 => &mut r.spo2,
                Parameter::SystolicBp => &mut r.sbp,
                Parameter::Pulse => &mut r.pulse,
                Parameter::Temperature => &mut r.temp,
                Parameter::AirOrOxygen | Parameter::Consciousness => continue,
            };
            series.push(now, v, cfg.smoothing);
        }
        let info = ctx.facility.resident(resident_id);
        let flags = info.map_or(&[][..], |i| i.care_flags.as_slice());
        let obs = observe::observations(&r.measured(), now, &cfg.freshness, flags);
        let score = news2::score(&obs);
        let changed = r.response != Some(score.response);
        let was_raised = r.response.is_some_and(|x| x != Response::Routine);
        r.response = Some(score.response);
        let subject = || Subject::Resident(resident_id.clone());
        let location = info.map_or(&n.binding.location, |i| &i.location);
        let priority = match score.response {
            Response::Routine => {
                r.pacer.reset();
                return if changed && was_raised {
                    vec![Finding::Event(emit::clear(
                        AlertKind::Vitals,
                        subject(),
                        now,
                        location,
                        format!("NEWS2 {} (routine)", score.total),
                    ))]
                } else {
                    Vec::new()
                };
            }
            Response::Ward => Priority::Medium,
            Response::Urgent | Response::Emergency => Priority::High,
        };
        if !r.pacer.due(now, changed, cfg.repeat) {
            return Vec::new();
        }
        let values = json!({
            "respiration_rate": obs.respiration_rate,
            "spo2": obs.spo2,
            "systolic_bp": obs.systolic_bp,
            "pulse": obs.pulse,
            "temperature": obs.temperature,
        });
        let missing: Vec<&str> = score.missing.iter().map(|p| p.as_str()).collect();
        let detail = format!(
            "NEWS2 {}{} ({}); missing: {}",
            score.total,
            if score.partial() { " (partial)" } else { "" },
            score.response.as_str(),
            missing.join(", ")
        );
        let evidence = json!({
            "news2": score,
            "values": values,
            "scale": if obs.scale == SpO2Scale::Two { 2 } else { 1 },
            "consciousness": "not measured",
        });
        let mut ev = emit::raise(
            (AlertKind::Vitals, subject(), priority),
            now,
            Place {
                location,
                device: Some(&n.reading.device),
            },
            detail,
            evidence,
        );
        ev.green_channel = score.response == Response::Emergency;
        vec![Finding::Event(ev)]
    }
}

#[cfg(test)]
mod tests;
