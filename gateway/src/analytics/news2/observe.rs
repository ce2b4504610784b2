//! NEWS2 observations from what the gateway measured and the resident's care plan: each value
//! counts only while it is fresh (`analytics.news2.freshness`), the SpO2 scale and air or oxygen
//! come from the care flags, and consciousness is never measured. The running vitals rule and the
//! dashboard's floor view both build their observations here, so they cannot disagree.

use pingan_drivers::Timestamp;

use super::{Observations, Oxygen, SpO2Scale};
use crate::config::CareFlag;
use crate::config::analytics::News2Freshness;

/// A measured value and when it was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The value in the parameter's unit.
    pub value: f32,
    /// When.
    pub at: Timestamp,
}

/// The latest (or smoothed) value of each measured NEWS2 parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measured {
    /// Breaths per minute.
    pub respiration_rate: Option<Sample>,
    /// SpO2, %.
    pub spo2: Option<Sample>,
    /// Systolic blood pressure, mmHg.
    pub systolic_bp: Option<Sample>,
    /// Pulse, bpm.
    pub pulse: Option<Sample>,
    /// Body temperature, °C.
    pub temperature: Option<Sample>,
}

/// The observations NEWS2 scores at `now`.
pub fn observations(
    m: &Measured,
    now: Timestamp,
    freshness: &News2Freshness,
    flags: &[CareFlag],
) -> Observations {
    let fresh =
        |s: Option<Sample>, within| s.filter(|s| now.since(s.at) <= within).map(|s| s.value);
    Observations {
        respiration_rate: fresh(m.respiration_rate, freshness.respiration_rate),
        spo2: fresh(m.spo2, freshness.spo2),
        scale: if flags.contains(&CareFlag::Hypercapnic) {
            SpO2Scale::Two
        } else {
            SpO2Scale::One
        },
        // The care plan is the source of truth for supplemental oxygen.
        oxygen: Some(if flags.contains(&CareFlag::SupplementalOxygen) {
            Oxygen::Oxygen
        } else {
            Oxygen::Air
        }),
        systolic_bp: fresh(m.systolic_bp, freshness.systolic_bp),
        pulse: fresh(m.pulse, freshness.pulse),
        consciousness: None,
        temperature: fresh(m.temperature, freshness.temperature),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stale_values_drop_out_and_the_care_plan_sets_scale_and_oxygen() {
        let now = Timestamp(10_000_000);
        let at = |ago_s: u64| now.minus(Duration::from_secs(ago_s));
        let m = Measured {
            pulse: Some(Sample {
                value: 120.0,
                at: at(60),
            }),
            spo2: Some(Sample {
                value: 91.0,
                at: at(20 * 60),
            }),
            temperature: Some(Sample {
                value: 38.5,
                at: at(3 * 3600),
            }),
            ..Measured::default()
        };
        let f = News2Freshness::default();
        let o = observations(
            &m,
            now,
            &f,
            &[CareFlag::Hypercapnic, CareFlag::SupplementalOxygen],
        );
        assert_eq!(o.pulse, Some(120.0));
        assert_eq!(o.spo2, None, "SpO2 older than its 15 min window");
        assert_eq!(o.temperature, Some(38.5), "temperature is fresh for 4 h");
        assert_eq!((o.scale, o.oxygen), (SpO2Scale::Two, Some(Oxygen::Oxygen)));
        assert_eq!(o.consciousness, None);
        let o = observations(&m, now, &f, &[]);
        assert_eq!((o.scale, o.oxygen), (SpO2Scale::One, Some(Oxygen::Air)));
    }
}
