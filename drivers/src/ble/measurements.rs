//! From decoded BLE values to the gateway's [`Measurement`]s. Special values (NaN, NRes, ±INF),
//! values the device itself flags as unfit (demo, test, invalid, sensor off) and intermediate
//! results yield nothing: a rule must never fire on a number the device did not stand behind.

use super::adv::bthome::BtHome;
use super::gatt::Decoded;
use super::gatt::blood_pressure::PressureUnit;
use super::gatt::pulse_oximeter::unfit;
use crate::reading::{ButtonKind, Measurement};

/// mmHg per kPa.
const MMHG_PER_KPA: f32 = 7.500_617;

/// Measurements of a decoded characteristic value.
pub fn from_decoded(d: &Decoded) -> Vec<Measurement> {
    let mut out = Vec::new();
    match d {
        Decoded::HeartRate(m) => {
            // No skin contact: the number is not a heart rate.
            if m.sensor_contact != Some(false) && m.heart_rate_bpm > 0 {
                out.push(Measurement::HeartRate {
                    bpm: f32::from(m.heart_rate_bpm),
                });
            }
        }
        Decoded::BloodPressure(m) => {
            let k = match m.unit {
                PressureUnit::MmHg => 1.0,
                PressureUnit::KPa => MMHG_PER_KPA,
            };
            if let (Some(s), Some(dia)) = (m.systolic.to_f32(), m.diastolic.to_f32()) {
                out.push(Measurement::BloodPressure {
                    systolic: s * k,
                    diastolic: dia * k,
                    map: m.mean_arterial_pressure.to_f32().map(|v| v * k),
                });
            }
            if let Some(bpm) = m.pulse_rate_bpm.and_then(|p| p.to_f32()) {
                out.push(Measurement::HeartRate { bpm });
            }
        }
        Decoded::Temperature(m) => {
            #[allow(clippy::cast_possible_truncation)]
            if let Some(c) = m.celsius().map(|c| c as f32).filter(|c| c.is_finite()) {
                out.push(Measurement::BodyTemperature { celsius: c });
            }
        }
        Decoded::PlxSpotCheck(m) => {
            if !unfit(
                m.measurement_status.as_deref(),
                m.device_and_sensor_status.as_deref(),
            ) {
                push_spo2(&mut out, m.spo2_percent.to_f32(), m.pulse_rate_bpm.to_f32());
            }
        }
        Decoded::PlxContinuous(m) => {
            if !unfit(
                m.measurement_status.as_deref(),
                m.device_and_sensor_status.as_deref(),
            ) {
                push_spo2(&mut out, m.spo2_percent.to_f32(), m.pulse_rate_bpm.to_f32());
            }
        }
        Decoded::Battery(b) => out.push(Measurement::Battery {
            percent: f32::from(b.battery_percent),
        }),
        Decoded::Accelerometer(a) => out.push(Measurement::Motion {
            samples: a.samples_g.clone(),
            hz: f32::from(a.sample_rate_hz),
        }),
        Decoded::Button(b) => out.push(Measurement::Button { button: b.button }),
        // An intermediate cuff pressure is not a result; weight and glucose have no
        // Measurement variant yet (they are still decoded, stored by `pingan decode`).
        Decoded::IntermediateCuffPressure(_) | Decoded::Weight(_) | Decoded::Glucose(_) => {}
    }
    out
}

fn push_spo2(out: &mut Vec<Measurement>, spo2: Option<f32>, pr: Option<f32>) {
    if let Some(percent) = spo2.filter(|p| (0.0..=100.0).contains(p)) {
        out.push(Measurement::SpO2 { percent });
    }
    if let Some(bpm) = pr.filter(|b| *b > 0.0) {
        out.push(Measurement::HeartRate { bpm });
    }
}

/// Measurements of a BTHome frame.
///
/// Button events: `double_press` cancels, every other press (press, long, triple, hold) is SOS —
/// an elder in trouble should not have to remember which press means help.
pub fn from_bthome(frame: &BtHome) -> Vec<Measurement> {
    let mut out = Vec::new();
    for event in frame.buttons() {
        match event {
            "none" => {}
            "double_press" => out.push(Measurement::Button {
                button: ButtonKind::Cancel,
            }),
            _ => out.push(Measurement::Button {
                button: ButtonKind::Sos,
            }),
        }
    }
    let num = |name: &str| {
        #[allow(clippy::cast_possible_truncation)]
        frame.number(name).map(|v| v as f32)
    };
    if let Some(open) = frame.flag("door").or_else(|| frame.flag("opening")) {
        out.push(Measurement::Door { open });
    }
    if let Some(alarm) = frame.flag("smoke") {
        out.push(Measurement::Smoke { alarm });
    }
    if let Some(alarm) = frame.flag("gas") {
        out.push(Measurement::Gas { alarm, ppm: None });
    }
    if let Some(wet) = frame.flag("moisture_detected") {
        out.push(Measurement::WaterLeak { wet });
    }
    if let (Some(temperature), Some(humidity)) = (num("temperature"), num("humidity")) {
        out.push(Measurement::Environment {
            temperature,
            humidity,
            co2: num("co2"),
        });
    }
    if let Some(percent) = num("battery") {
        out.push(Measurement::Battery { percent });
    }
    out
}
