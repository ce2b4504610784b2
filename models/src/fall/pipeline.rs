//! The per-device streaming fall pipeline of the gateway (the offline analysis is `offline.rs`).

use std::collections::HashMap;

use super::confirm::{ConfirmedFall, ConfirmerConfig, FallConfirmer};
use super::resample::Resampler;
use super::spec::Placement;
use super::window::Windower;
use super::worker::InferenceWorker;
use crate::ModelError;

#[derive(Debug)]
struct DeviceStream {
    placement: Placement,
    resampler: Resampler,
    windower: Windower,
    confirmer: FallConfirmer,
    /// Time (s) of the last resampled sample, to notice gaps.
    last_t: Option<f64>,
}

/// Fall detection for every wearable of a site.
///
/// The gateway calls [`FallPipeline::push`] with each `Measurement::Motion` batch; inference runs
/// on the [`InferenceWorker`] thread (the call blocks while it runs, a few milliseconds: call it
/// from `tokio::task::spawn_blocking` or a dedicated thread). Confirmed falls come back with their
/// impact time in Unix seconds (`t`), score, aftermath and evidence samples.
#[derive(Debug)]
pub struct FallPipeline {
    worker: InferenceWorker,
    devices: HashMap<String, DeviceStream>,
    configs: HashMap<Placement, ConfirmerConfig>,
}

impl FallPipeline {
    /// A pipeline scoring through `worker`, with the default confirmation rules.
    pub fn new(worker: InferenceWorker) -> Self {
        let configs = [Placement::Wrist, Placement::Waist]
            .into_iter()
            .map(|p| (p, ConfirmerConfig::for_placement(p)))
            .collect();
        Self {
            worker,
            devices: HashMap::new(),
            configs,
        }
    }

    /// Replaces the confirmation rules for one placement (devices seen later use them).
    pub fn set_config(&mut self, placement: Placement, cfg: ConfirmerConfig) {
        self.configs.insert(placement, cfg);
    }

    /// Feeds one batch of accelerometer samples (g) at `hz`, the first taken at `t_ms` (Unix ms).
    ///
    /// # Errors
    /// [`ModelError::WorkerStopped`] or an inference error; the device's state is kept, so the
    /// next batch continues the stream.
    pub fn push(
        &mut self,
        device: &str,
        placement: Placement,
        samples: &[[f32; 3]],
        hz: f32,
        t_ms: i64,
    ) -> Result<Vec<ConfirmedFall>, ModelError> {
        let stream = self
            .devices
            .entry(device.to_owned())
            .or_insert_with(|| DeviceStream {
                placement,
                resampler: Resampler::new(),
                windower: Windower::new(),
                confirmer: FallConfirmer::new(
                    self.configs
                        .get(&placement)
                        .cloned()
                        .unwrap_or_else(|| ConfirmerConfig::for_placement(placement)),
                ),
                last_t: None,
            });
        #[allow(clippy::cast_precision_loss)]
        let t0 = t_ms as f64 / 1000.0;
        let resampled = stream.resampler.push(samples, hz, t0);
        // samples are recorded first so a window's confirmation sees them; windows are scored in
        // one batch, then fed to the confirmer in time order
        let mut windows = Vec::new();
        for (t, s) in &resampled {
            // a window must not straddle a gap in the stream (the resampler restarted its grid)
            if stream.last_t.is_some_and(|last| t - last > 0.5) {
                stream.windower.reset();
            }
            stream.last_t = Some(*t);
            stream.confirmer.push_sample(*t, *s);
            if let Some(w) = stream.windower.push(*t, *s) {
                windows.push(w);
            }
        }
        if !windows.is_empty() {
            let flat: Vec<f32> = windows
                .iter()
                .flat_map(|(_, w)| w.iter().copied())
                .collect();
            let scores = self
                .worker
                .score(flat, vec![stream.placement.model_input(); windows.len()])?;
            for ((t_start, w), score) in windows.iter().zip(scores) {
                stream.confirmer.on_score(*t_start, w, score);
            }
        }
        Ok(stream.confirmer.poll())
    }

    /// Forgets a device (removed from the site, or moved to another resident).
    pub fn forget(&mut self, device: &str) {
        self.devices.remove(device);
    }
}
