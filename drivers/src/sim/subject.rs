//! The simulated state of one subject (a resident, or a room for room devices): vitals with a
//! personal baseline and day/night drift, posture over the day, bed occupancy.

use rand::Rng;
use rand::rngs::SmallRng;

use super::motion::{MotionSynth, Posture};

/// The simulated state shared by every device of one subject.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// Resting heart rate by day, bpm.
    pub(crate) hr_base: f32,
    /// Resting SpO2, percent.
    pub(crate) spo2_base: f32,
    /// Resting respiration rate, per minute.
    pub(crate) rr_base: f32,
    /// Current posture.
    pub(crate) posture: Posture,
    /// Seconds until the next posture change.
    pub(crate) posture_left_s: f32,
    /// The resident has left the bed (scripted) and stays out until `BedReturn`.
    pub(crate) out_of_bed: bool,
    /// Scripted deterioration (fever, tachycardia, desaturation).
    pub(crate) deteriorated: bool,
    /// On the floor after a fall with no recovery scripted.
    pub(crate) fallen_until_s: Option<f32>,
    /// Accelerometer synthesis state.
    pub(crate) motion: MotionSynth,
    /// Room temperature offset of this room, °C.
    pub(crate) room_offset_c: f32,
}

impl Subject {
    /// A subject with a random personal baseline.
    pub(crate) fn new(rng: &mut SmallRng) -> Self {
        Self {
            hr_base: rng.gen_range(62.0..84.0),
            spo2_base: rng.gen_range(94.5..98.5),
            rr_base: rng.gen_range(13.0..18.0),
            posture: Posture::Sitting,
            posture_left_s: rng.gen_range(30.0..300.0),
            out_of_bed: false,
            deteriorated: false,
            fallen_until_s: None,
            motion: MotionSynth::new(rng),
            room_offset_c: rng.gen_range(-1.0..1.0),
        }
    }

    /// Whether `hour` (local, 0–23) is night time for the simulator (22:00–06:00).
    pub(crate) fn is_night(hour: u32) -> bool {
        !(6..22).contains(&hour)
    }

    /// Advances posture by `dt` seconds at local `hour`; `elapsed_s` is the run time.
    pub(crate) fn step(&mut self, dt: f32, hour: u32, elapsed_s: f32, rng: &mut SmallRng) {
        if let Some(until) = self.fallen_until_s {
            if elapsed_s < until {
                self.posture = Posture::Floor;
                return;
            }
            self.fallen_until_s = None;
            self.posture = Posture::Sitting;
        }
        self.posture_left_s -= dt;
        if self.posture_left_s > 0.0 {
            return;
        }
        self.posture_left_s = rng.gen_range(60.0..600.0);
        self.posture = if Self::is_night(hour) && !self.out_of_bed {
            if rng.gen_bool(0.9) {
                Posture::Sleeping
            } else {
                Posture::Lying
            }
        } else {
            match rng.gen_range(0..100) {
                0..60 => Posture::Sitting,
                60..85 => Posture::Walking,
                _ => Posture::Lying,
            }
        };
    }

    /// Whether the bed mat feels the resident.
    pub(crate) fn in_bed(&self) -> bool {
        !self.out_of_bed && matches!(self.posture, Posture::Sleeping | Posture::Lying)
    }

    /// Heart rate now, with day/night drift, activity and noise.
    pub(crate) fn heart_rate(&self, hour: u32, rng: &mut SmallRng) -> f32 {
        let mut hr = self.hr_base;
        if Self::is_night(hour) {
            hr -= 7.0;
        }
        hr += match self.posture {
            Posture::Walking => 18.0,
            Posture::Floor => 25.0,
            _ => 0.0,
        };
        if self.deteriorated {
            hr += 38.0;
        }
        (hr + rng.gen_range(-2.5..2.5)).round()
    }

    /// SpO2 now.
    pub(crate) fn spo2(&self, rng: &mut SmallRng) -> f32 {
        let base = if self.deteriorated {
            self.spo2_base - 8.0
        } else {
            self.spo2_base
        };
        (base + rng.gen_range(-0.8..0.8)).clamp(70.0, 100.0).round()
    }

    /// Respiration rate now.
    pub(crate) fn respiration_rate(&self, rng: &mut SmallRng) -> f32 {
        let rr = if self.deteriorated {
            self.rr_base + 9.0
        } else {
            self.rr_base
        };
        (rr + rng.gen_range(-1.0..1.0)).round()
    }

    /// Skin/body temperature now, °C.
    pub(crate) fn body_temperature(&self, rng: &mut SmallRng) -> f32 {
        let t = if self.deteriorated { 38.9 } else { 36.6 };
        ((t + rng.gen_range(-0.2..0.2)) * 10.0_f32).round() / 10.0
    }

    /// Samples of the wearable accelerometer.
    pub(crate) fn motion(&mut self, n: usize, rng: &mut SmallRng) -> Vec<[f32; 3]> {
        self.motion.batch(self.posture, n, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn night_heart_rate_is_lower_than_day() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut s = Subject::new(&mut rng);
        s.posture = Posture::Sitting;
        let day: f32 = (0..200).map(|_| s.heart_rate(14, &mut rng)).sum::<f32>() / 200.0;
        let night: f32 = (0..200).map(|_| s.heart_rate(3, &mut rng)).sum::<f32>() / 200.0;
        assert!(day - night > 5.0, "day {day} night {night}");
    }

    #[test]
    fn residents_sleep_at_night() {
        let mut rng = SmallRng::seed_from_u64(4);
        let mut s = Subject::new(&mut rng);
        s.posture_left_s = 0.0;
        s.step(1.0, 2, 0.0, &mut rng);
        assert!(s.in_bed());
    }
}
