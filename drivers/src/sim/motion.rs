//! Accelerometer synthesis: gravity in the device frame for each posture, gait oscillation, sensor
//! noise, and the fall sequence (free-fall dip, impact, lying, stillness).

use rand::Rng;
use rand::rngs::SmallRng;

/// The sample rate of simulated wearables.
pub const MOTION_HZ: f32 = 50.0;

/// What the wearer is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posture {
    /// Upright and walking.
    Walking,
    /// Upright, seated.
    Sitting,
    /// Lying awake (in bed or on a sofa).
    Lying,
    /// Asleep in bed: lying, nearly still, turning now and then.
    Sleeping,
    /// On the floor after a fall: lying orientation, nearly still.
    Floor,
}

impl Posture {
    /// Gravity as the device sees it, in g; a wrist device upright points z down its forearm.
    fn gravity(self) -> [f32; 3] {
        match self {
            Self::Walking | Self::Sitting => [0.05, 0.1, 0.99],
            Self::Lying | Self::Sleeping => [0.97, 0.15, 0.1],
            Self::Floor => [0.1, 0.98, 0.12],
        }
    }
}

/// Generates accelerometer samples for one wearer, continuing its phase across batches.
#[derive(Debug, Clone)]
pub(crate) struct MotionSynth {
    /// Gait phase in radians.
    phase: f32,
    /// Samples still to play from a scripted sequence (a fall) before returning to the posture.
    script: Vec<[f32; 3]>,
    /// Step frequency of this wearer in Hz (elderly gait: slower and more variable).
    cadence_hz: f32,
}

impl MotionSynth {
    /// A synthesizer with this wearer's cadence.
    pub(crate) fn new(rng: &mut SmallRng) -> Self {
        Self {
            phase: 0.0,
            script: Vec::new(),
            cadence_hz: rng.gen_range(1.3..1.9),
        }
    }

    /// Queues a fall: one second of walking, a 0.3 s free-fall dip, an impact spike, then the
    /// orientation of someone on the floor.
    pub(crate) fn script_fall(&mut self, rng: &mut SmallRng) {
        let mut seq = Vec::with_capacity(150);
        for _ in 0..15 {
            seq.push(self.sample(Posture::Walking, rng));
        }
        for i in 0..15 {
            // Free fall: |a| drops towards 0 g as the body accelerates with gravity.
            let k = 1.0 - 0.8 * (i as f32 / 14.0);
            seq.push(scale(Posture::Walking.gravity(), k));
        }
        let peak = rng.gen_range(2.8..5.5);
        for (i, w) in [0.4_f32, 1.0, 0.7, 0.35].iter().enumerate() {
            let dir = if i % 2 == 0 {
                [0.6, 0.7, -0.4]
            } else {
                [-0.3, 0.9, 0.3]
            };
            seq.push(scale(dir, peak * w));
        }
        for _ in 0..10 {
            // Settling bounce.
            let g = Posture::Floor.gravity();
            seq.push(add(g, jitter(rng, 0.3)));
        }
        self.script = seq;
        self.script.reverse();
    }

    /// `n` samples for a wearer in `posture`.
    pub(crate) fn batch(
        &mut self,
        posture: Posture,
        n: usize,
        rng: &mut SmallRng,
    ) -> Vec<[f32; 3]> {
        (0..n)
            .map(|_| match self.script.pop() {
                Some(s) => s,
                None => self.sample(posture, rng),
            })
            .collect()
    }

    fn sample(&mut self, posture: Posture, rng: &mut SmallRng) -> [f32; 3] {
        let g = posture.gravity();
        let noise = match posture {
            Posture::Sleeping | Posture::Floor => 0.008,
            Posture::Lying | Posture::Sitting => 0.02,
            Posture::Walking => 0.05,
        };
        let mut s = add(g, jitter(rng, noise));
        if posture == Posture::Walking {
            self.phase += std::f32::consts::TAU * self.cadence_hz / MOTION_HZ;
            let step = self.phase.sin();
            s[2] += 0.25 * step;
            s[0] += 0.12 * (self.phase * 0.5).cos();
        }
        // ±8 g range of common wearable accelerometers.
        s.map(|v| v.clamp(-8.0, 8.0))
    }
}

fn jitter(rng: &mut SmallRng, sd: f32) -> [f32; 3] {
    [
        rng.gen_range(-sd..sd),
        rng.gen_range(-sd..sd),
        rng.gen_range(-sd..sd),
    ]
}

fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn scale(a: [f32; 3], k: f32) -> [f32; 3] {
    a.map(|v| v * k)
}

/// Magnitude of an acceleration vector in g.
pub fn magnitude(s: [f32; 3]) -> f32 {
    (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn resting_magnitude_is_one_g() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut m = MotionSynth::new(&mut rng);
        for p in [
            Posture::Sitting,
            Posture::Lying,
            Posture::Sleeping,
            Posture::Floor,
        ] {
            let b = m.batch(p, 50, &mut rng);
            let mean = b.iter().map(|s| magnitude(*s)).sum::<f32>() / 50.0;
            assert!((mean - 1.0).abs() < 0.05, "{p:?}: {mean}");
        }
    }

    #[test]
    fn fall_has_free_fall_dip_and_impact_peak() {
        let mut rng = SmallRng::seed_from_u64(2);
        let mut m = MotionSynth::new(&mut rng);
        m.script_fall(&mut rng);
        let b = m.batch(Posture::Floor, 100, &mut rng);
        let mags: Vec<f32> = b.iter().map(|s| magnitude(*s)).collect();
        let min = mags.iter().copied().fold(f32::MAX, f32::min);
        let max = mags.iter().copied().fold(0.0, f32::max);
        assert!(min < 0.4, "free-fall minimum {min}");
        assert!(max > 2.5, "impact peak {max}");
    }
}
