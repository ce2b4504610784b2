//! Resampling accelerometer samples to the model rate by linear interpolation.
//!
//! The output grid starts at the first input sample and steps by 1/50 s; each output sample
//! interpolates between the two input samples around it (the training pipeline's algorithm).

use super::spec::MODEL_HZ;

/// Streaming resampler for a device that sends batches at a nominal rate.
///
/// Input times are derived from the batch start time and the declared rate; a gap or overlap
/// between batches larger than one second restarts the grid (the old samples are not bridged).
#[derive(Debug, Clone, Default)]
pub struct Resampler {
    /// Last input sample (time in s, value).
    last: Option<(f64, [f32; 3])>,
    /// Time of the next output sample (s).
    next_out: f64,
}

impl Resampler {
    /// A resampler with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one batch: `samples` at `hz`, the first one at `t0` seconds. Returns the new output
    /// samples with the time (s) of the first one, or `None` when none is due yet.
    pub fn push(&mut self, samples: &[[f32; 3]], hz: f32, t0: f64) -> Vec<(f64, [f32; 3])> {
        let mut out = Vec::new();
        if !(hz.is_finite() && hz > 0.0) {
            return out;
        }
        let dt_in = 1.0 / f64::from(hz);
        let dt_out = 1.0 / f64::from(MODEL_HZ);
        if let Some((t_last, _)) = self.last
            && (t0 - t_last - dt_in).abs() > 1.0
        {
            self.last = None;
        }
        for (i, s) in samples.iter().enumerate() {
            if !s.iter().all(|v| v.is_finite()) {
                continue;
            }
            #[allow(clippy::cast_precision_loss)]
            let t = t0 + i as f64 * dt_in;
            match self.last {
                None => {
                    out.push((t, *s));
                    self.next_out = t + dt_out;
                }
                Some((tp, p)) => {
                    if t <= tp {
                        continue;
                    }
                    while self.next_out <= t + 1e-9 {
                        let a = ((self.next_out - tp) / (t - tp)) as f32;
                        out.push((self.next_out, lerp(p, *s, a)));
                        self.next_out += dt_out;
                    }
                }
            }
            self.last = Some((t, *s));
        }
        out
    }
}

fn lerp(a: [f32; 3], b: [f32; 3], w: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * w,
        a[1] + (b[1] - a[1]) * w,
        a[2] + (b[2] - a[2]) * w,
    ]
}

/// Resamples a recording with its own timestamps (seconds, strictly increasing) onto a 50 Hz grid
/// starting at `t[0]`. Returns the samples; the grid time of sample k is `t[0] + k / 50`.
pub fn resample_irregular(t: &[f64], samples: &[[f32; 3]]) -> Vec<[f32; 3]> {
    let n = t.len().min(samples.len());
    let (Some(&t0), Some(&t_end)) = (t.first(), t.get(n.wrapping_sub(1))) else {
        return Vec::new();
    };
    let dt = 1.0 / f64::from(MODEL_HZ);
    let count = ((t_end - t0) * f64::from(MODEL_HZ) + 1e-9).floor();
    if !(count.is_finite() && count >= 0.0) {
        return Vec::new();
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let count = count as usize + 1;
    let mut out = Vec::with_capacity(count);
    let mut j = 0usize;
    for k in 0..count {
        #[allow(clippy::cast_precision_loss)]
        let tk = t0 + k as f64 * dt;
        while j + 1 < n && t[j + 1] < tk {
            j += 1;
        }
        let (ta, tb) = (t[j], t[(j + 1).min(n - 1)]);
        let (a, b) = (samples[j], samples[(j + 1).min(n - 1)]);
        let w = if tb > ta {
            ((tk - ta) / (tb - ta)).clamp(0.0, 1.0) as f32
        } else {
            0.0
        };
        out.push(lerp(a, b, w));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_a_50hz_stream_is_the_identity() {
        let s: Vec<[f32; 3]> = (0..100).map(|i| [i as f32, 0.0, 1.0]).collect();
        let mut r = Resampler::new();
        let out = r.push(&s, 50.0, 10.0);
        assert_eq!(out.len(), 100);
        for (i, (t, v)) in out.iter().enumerate() {
            assert!((t - (10.0 + i as f64 / 50.0)).abs() < 1e-9);
            assert!((v[0] - i as f32).abs() < 1e-3);
        }
    }

    #[test]
    fn upsampling_25hz_interpolates_midpoints_across_batches() {
        let mut r = Resampler::new();
        let a = r.push(&[[0.0, 0.0, 1.0], [2.0, 0.0, 1.0]], 25.0, 0.0);
        let b = r.push(&[[4.0, 0.0, 1.0]], 25.0, 0.08);
        let xs: Vec<f32> = a.iter().chain(b.iter()).map(|(_, v)| v[0]).collect();
        assert_eq!(xs.len(), 5);
        for (x, want) in xs.iter().zip([0.0, 1.0, 2.0, 3.0, 4.0]) {
            assert!((x - want).abs() < 1e-4, "{xs:?}");
        }
    }

    #[test]
    fn irregular_timestamps_land_on_a_50hz_grid() {
        let t = [0.0, 0.013, 0.05, 0.07, 0.1];
        let s = [
            [0.0, 0.0, 0.0],
            [1.3, 0.0, 0.0],
            [5.0, 0.0, 0.0],
            [7.0, 0.0, 0.0],
            [10.0, 0.0, 0.0],
        ];
        let out = resample_irregular(&t, &s);
        assert_eq!(out.len(), 6);
        for (k, v) in out.iter().enumerate() {
            assert!((v[0] - 2.0 * k as f32).abs() < 1e-4, "{out:?}");
        }
    }

    #[test]
    fn non_finite_samples_and_bad_rates_are_ignored() {
        let mut r = Resampler::new();
        assert!(r.push(&[[1.0, 1.0, 1.0]], f32::NAN, 0.0).is_empty());
        let out = r.push(&[[f32::NAN, 0.0, 0.0], [1.0, 0.0, 0.0]], 50.0, 0.0);
        assert_eq!(out.len(), 1);
    }
}
