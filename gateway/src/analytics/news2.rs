//! NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017): the chart as a
//! pure function from observations to points, total, and clinical response.
//!
//! A parameter that was not observed is listed in [`Score::missing`] and scores nothing: NEWS2 is
//! never imputed, so a partial total is a lower bound of the real one. The gateway does not
//! measure consciousness (ACVPU), so scores computed from sensors are always partial.
//!
//! Integer parameters (respiration rate, SpO2, systolic BP, pulse) are rounded to the nearest
//! whole number and temperature to 0.1 °C before the chart is applied, as a nurse would record
//! them.

use std::fmt;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

/// A NEWS2 parameter; `as_str` is its name in JSON and in `missing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Parameter {
    /// Respiration rate, breaths per minute.
    RespirationRate,
    /// SpO2 on scale 1 or 2, %.
    Spo2,
    /// Breathing air or on supplemental oxygen.
    AirOrOxygen,
    /// Systolic blood pressure, mmHg.
    SystolicBp,
    /// Pulse, beats per minute.
    Pulse,
    /// Consciousness on the ACVPU scale.
    Consciousness,
    /// Temperature, °C.
    Temperature,
}

impl Parameter {
    /// Every parameter in chart order.
    pub const ALL: [Parameter; 7] = [
        Self::RespirationRate,
        Self::Spo2,
        Self::AirOrOxygen,
        Self::SystolicBp,
        Self::Pulse,
        Self::Consciousness,
        Self::Temperature,
    ];

    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RespirationRate => "respiration_rate",
            Self::Spo2 => "spo2",
            Self::AirOrOxygen => "air_or_oxygen",
            Self::SystolicBp => "systolic_bp",
            Self::Pulse => "pulse",
            Self::Consciousness => "consciousness",
            Self::Temperature => "temperature",
        }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Parameter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which SpO2 scale applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SpO2Scale {
    /// Scale 1: everyone not on scale 2.
    #[default]
    One,
    /// Scale 2: hypercapnic respiratory failure with a prescribed target of 88–92 %.
    Two,
}

/// Breathing room air or on supplemental oxygen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oxygen {
    /// Room air.
    Air,
    /// Supplemental oxygen.
    Oxygen,
}

/// Consciousness on the ACVPU scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acvpu {
    /// Alert.
    Alert,
    /// New confusion.
    Confusion,
    /// Responds to voice.
    Voice,
    /// Responds to pain.
    Pain,
    /// Unresponsive.
    Unresponsive,
}

/// One set of observations; `None` = not observed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Observations {
    /// Breaths per minute.
    pub respiration_rate: Option<f32>,
    /// SpO2 in %.
    pub spo2: Option<f32>,
    /// The SpO2 scale of this resident.
    pub scale: SpO2Scale,
    /// Air or oxygen.
    pub oxygen: Option<Oxygen>,
    /// Systolic blood pressure, mmHg.
    pub systolic_bp: Option<f32>,
    /// Pulse, bpm.
    pub pulse: Option<f32>,
    /// ACVPU.
    pub consciousness: Option<Acvpu>,
    /// Temperature, °C.
    pub temperature: Option<f32>,
}

/// The clinical response the chart asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Response {
    /// Total 0–4 with no single parameter scoring 3: routine monitoring.
    Routine,
    /// A single parameter scores 3 (total below 5): urgent ward-based response (nurse).
    Ward,
    /// Total 5–6: urgent response (key threshold).
    Urgent,
    /// Total 7 or more: emergency response.
    Emergency,
}

impl Response {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Routine => "routine",
            Self::Ward => "ward",
            Self::Urgent => "urgent",
            Self::Emergency => "emergency",
        }
    }
}

/// A NEWS2 result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// Sum of the points of the observed parameters.
    pub total: u8,
    /// Points of each scored parameter, in chart order.
    pub points: Vec<(Parameter, u8)>,
    /// Parameters that could not be scored, in chart order.
    pub missing: Vec<Parameter>,
    /// The response for `total` and the points.
    pub response: Response,
}

impl Score {
    /// Some parameter is missing: the total is a lower bound.
    pub fn partial(&self) -> bool {
        !self.missing.is_empty()
    }

    /// The points of `p`, if it was scored.
    pub fn points_of(&self, p: Parameter) -> Option<u8> {
        self.points.iter().find(|(q, _)| *q == p).map(|(_, n)| *n)
    }
}

/// The CLI's JSON: `{"score", "partial", "missing", "points", "response"}`.
impl Serialize for Score {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Points<'a>(&'a [(Parameter, u8)]);
        impl Serialize for Points<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (p, n) in self.0 {
                    m.serialize_entry(p.as_str(), n)?;
                }
                m.end()
            }
        }
        let mut st = s.serialize_struct("Score", 5)?;
        st.serialize_field("score", &self.total)?;
        st.serialize_field("partial", &self.partial())?;
        st.serialize_field("missing", &self.missing)?;
        st.serialize_field("points", &Points(&self.points))?;
        st.serialize_field("response", self.response.as_str())?;
        st.end()
    }
}

/// An observation outside what a living person can show (a typo or a sensor artefact).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{parameter} = {value} is outside the plausible range {min}–{max}")]
pub struct OutOfRange {
    /// Which parameter.
    pub parameter: Parameter,
    /// The value given.
    pub value: f32,
    /// Lowest accepted.
    pub min: f32,
    /// Highest accepted.
    pub max: f32,
}

/// Plausible range of each measured parameter; values outside are rejected, not scored.
pub fn plausible_range(p: Parameter) -> Option<(f32, f32)> {
    match p {
        Parameter::RespirationRate => Some((0.0, 80.0)),
        Parameter::Spo2 => Some((40.0, 100.0)),
        Parameter::SystolicBp => Some((40.0, 300.0)),
        Parameter::Pulse => Some((10.0, 300.0)),
        Parameter::Temperature => Some((25.0, 45.0)),
        Parameter::AirOrOxygen | Parameter::Consciousness => None,
    }
}

/// Checks `value` of `p` against [`plausible_range`].
pub fn check(p: Parameter, value: f32) -> Result<f32, OutOfRange> {
    match plausible_range(p) {
        Some((min, max)) if !(min..=max).contains(&value) => Err(OutOfRange {
            parameter: p,
            value,
            min,
            max,
        }),
        _ => Ok(value),
    }
}

/// Rejects implausible observations.
pub fn validate(o: &Observations) -> Result<(), OutOfRange> {
    let measured = [
        (Parameter::RespirationRate, o.respiration_rate),
        (Parameter::Spo2, o.spo2),
        (Parameter::SystolicBp, o.systolic_bp),
        (Parameter::Pulse, o.pulse),
        (Parameter::Temperature, o.temperature),
    ];
    for (p, v) in measured {
        if let Some(v) = v {
            check(p, v)?;
        }
    }
    Ok(())
}

fn whole(v: f32) -> i32 {
    // Inputs are range-checked or come from sensors within f32 range; `as` saturates anyway.
    v.round() as i32
}

/// Respiration rate: ≤8 → 3, 9–11 → 1, 12–20 → 0, 21–24 → 2, ≥25 → 3.
pub fn respiration_points(per_min: f32) -> u8 {
    match whole(per_min) {
        ..=8 => 3,
        9..=11 => 1,
        12..=20 => 0,
        21..=24 => 2,
        _ => 3,
    }
}

/// SpO2. Scale 1: ≤91 → 3, 92–93 → 2, 94–95 → 1, ≥96 → 0. Scale 2: ≤83 → 3, 84–85 → 2,
/// 86–87 → 1, 88–92 (or ≥93 on air) → 0, on oxygen 93–94 → 1, 95–96 → 2, ≥97 → 3.
/// `None` when scale 2 needs to know air or oxygen and it is unknown.
pub fn spo2_points(percent: f32, scale: SpO2Scale, oxygen: Option<Oxygen>) -> Option<u8> {
    let p = whole(percent);
    Some(match scale {
        SpO2Scale::One => match p {
            ..=91 => 3,
            92..=93 => 2,
            94..=95 => 1,
            _ => 0,
        },
        SpO2Scale::Two => match (p, oxygen) {
            (..=83, _) => 3,
            (84..=85, _) => 2,
            (86..=87, _) => 1,
            (88..=92, _) => 0,
            (_, Some(Oxygen::Air)) => 0,
            (93..=94, Some(Oxygen::Oxygen)) => 1,
            (95..=96, Some(Oxygen::Oxygen)) => 2,
            (_, Some(Oxygen::Oxygen)) => 3,
            (_, None) => return None,
        },
    })
}

/// Air → 0, oxygen → 2.
pub fn oxygen_points(o: Oxygen) -> u8 {
    match o {
        Oxygen::Air => 0,
        Oxygen::Oxygen => 2,
    }
}

/// Systolic BP: ≤90 → 3, 91–100 → 2, 101–110 → 1, 111–219 → 0, ≥220 → 3.
pub fn systolic_points(mmhg: f32) -> u8 {
    match whole(mmhg) {
        ..=90 => 3,
        91..=100 => 2,
        101..=110 => 1,
        111..=219 => 0,
        _ => 3,
    }
}

/// Pulse: ≤40 → 3, 41–50 → 1, 51–90 → 0, 91–110 → 1, 111–130 → 2, ≥131 → 3.
pub fn pulse_points(bpm: f32) -> u8 {
    match whole(bpm) {
        ..=40 => 3,
        41..=50 => 1,
        51..=90 => 0,
        91..=110 => 1,
        111..=130 => 2,
        _ => 3,
    }
}

/// Alert → 0; new confusion, voice, pain, unresponsive → 3.
pub fn consciousness_points(c: Acvpu) -> u8 {
    match c {
        Acvpu::Alert => 0,
        _ => 3,
    }
}

/// Temperature: ≤35.0 → 3, 35.1–36.0 → 1, 36.1–38.0 → 0, 38.1–39.0 → 1, ≥39.1 → 2.
pub fn temperature_points(celsius: f32) -> u8 {
    match (celsius * 10.0).round() as i32 {
        ..=350 => 3,
        351..=360 => 1,
        361..=380 => 0,
        381..=390 => 1,
        _ => 2,
    }
}

/// The response for a total and the highest single-parameter points.
pub fn response(total: u8, max_single: u8) -> Response {
    match total {
        7.. => Response::Emergency,
        5..=6 => Response::Urgent,
        _ if max_single >= 3 => Response::Ward,
        _ => Response::Routine,
    }
}

/// Scores a set of observations. Unobserved parameters are listed as missing, never imputed.
pub fn score(o: &Observations) -> Score {
    let mut points = Vec::with_capacity(7);
    let mut missing = Vec::new();
    let mut put = |p: Parameter, v: Option<u8>| match v {
        Some(n) => points.push((p, n)),
        None => missing.push(p),
    };
    put(
        Parameter::RespirationRate,
        o.respiration_rate.map(respiration_points),
    );
    put(
        Parameter::Spo2,
        o.spo2.and_then(|s| spo2_points(s, o.scale, o.oxygen)),
    );
    put(Parameter::AirOrOxygen, o.oxygen.map(oxygen_points));
    put(Parameter::SystolicBp, o.systolic_bp.map(systolic_points));
    put(Parameter::Pulse, o.pulse.map(pulse_points));
    put(
        Parameter::Consciousness,
        o.consciousness.map(consciousness_points),
    );
    put(
        Parameter::Temperature,
        o.temperature.map(temperature_points),
    );
    let total = points.iter().map(|(_, n)| *n).sum();
    let max_single = points.iter().map(|(_, n)| *n).max().unwrap_or(0);
    Score {
        total,
        points,
        missing,
        response: response(total, max_single),
    }
}

pub mod observe;
#[cfg(test)]
mod tests;
