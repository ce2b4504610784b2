//! Fall detection at the edge: motion batches from wearables go to a dedicated thread that runs
//! the fall pipeline (`pingan-models`, plain Rust); confirmed falls come back as fall events. When
//! it cannot start (its threads cannot be spawned), fall detection is marked unavailable, a
//! technical alert is raised, and everything else keeps running.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pingan_drivers::{Measurement, Reading, Timestamp};
use pingan_models::fall::{Aftermath, FallDetector, FallPipeline, InferenceWorker, Placement};
use serde_json::json;
use tokio::sync::mpsc;

use crate::alert::{AlertKind, Event, Priority};
use crate::analytics::Finding;
use crate::config::DeviceModel;
use crate::facility::Binding;
use crate::metrics::Metrics;

/// One motion batch for the fall thread.
#[derive(Debug)]
pub(crate) struct MotionBatch {
    reading: Reading,
    binding: Binding,
}

/// The pipeline's handle to fall detection.
#[derive(Debug, Clone)]
pub(crate) struct FallInput {
    // Boxed: the bounded channel allocates and initialises every slot up front, so 4096 slots of
    // 8 bytes cost 64 KiB where the batches themselves would take 0.8 MiB (docs/BENCHMARKS_PEERS.md).
    tx: Option<std::sync::mpsc::SyncSender<Box<MotionBatch>>>,
    /// Batches not scored because the fall thread was behind (counted, never blocking ingest).
    pub dropped: Arc<AtomicU64>,
    /// Whether fall detection runs.
    pub available: Arc<AtomicBool>,
}

impl FallInput {
    /// Fall detection switched off (tests, tools).
    pub(crate) fn disabled() -> Self {
        Self {
            tx: None,
            dropped: Arc::default(),
            available: Arc::default(),
        }
    }

    /// Offers a reading; only accelerometer batches of wearables are taken.
    pub(crate) fn offer(&self, reading: &Reading, binding: &Binding) {
        let Some(tx) = &self.tx else { return };
        if !matches!(reading.measurement, Measurement::Motion { .. }) {
            return;
        }
        if !binding.model.is_wearable() {
            return;
        }
        let batch = Box::new(MotionBatch {
            reading: reading.clone(),
            binding: binding.clone(),
        });
        if tx.try_send(batch).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Starts fall detection. On failure returns a disabled input and the technical event to raise.
pub(crate) fn start(
    findings: mpsc::Sender<Finding>,
    metrics: Arc<Metrics>,
    now: Timestamp,
) -> (FallInput, Option<Event>) {
    let dropped = Arc::new(AtomicU64::new(0));
    let available = Arc::new(AtomicBool::new(false));
    let pipeline = FallDetector::new()
        .and_then(|d| InferenceWorker::spawn(d, 64))
        .map(|(worker, _join)| FallPipeline::new(worker));
    let pipeline = match pipeline {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "fall detection unavailable; everything else keeps running");
            let ev = Event::technical(
                "fall-detection",
                Some(format!("fall detection unavailable: {e}")),
                now,
            );
            return (
                FallInput {
                    tx: None,
                    dropped,
                    available,
                },
                Some(ev),
            );
        }
    };
    available.store(true, Ordering::Relaxed);
    // A few seconds of 50 Hz batches for a large home; beyond that the thread is hopelessly behind.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Box<MotionBatch>>(4096);
    let spawned = std::thread::Builder::new()
        .name("fall-detection".into())
        .spawn(move || run(pipeline, rx, findings, &metrics));
    if let Err(e) = spawned {
        available.store(false, Ordering::Relaxed);
        let ev = Event::technical(
            "fall-detection",
            Some(format!(
                "fall detection unavailable: cannot start its thread: {e}"
            )),
            now,
        );
        return (
            FallInput {
                tx: None,
                dropped,
                available,
            },
            Some(ev),
        );
    }
    (
        FallInput {
            tx: Some(tx),
            dropped,
            available,
        },
        None,
    )
}

fn run(
    mut pipeline: FallPipeline,
    rx: std::sync::mpsc::Receiver<Box<MotionBatch>>,
    findings: mpsc::Sender<Finding>,
    metrics: &Metrics,
) {
    while let Ok(b) = rx.recv() {
        let Measurement::Motion { samples, hz } = &b.reading.measurement else {
            continue;
        };
        let placement = if b.binding.model == DeviceModel::Pendant {
            Placement::Waist
        } else {
            Placement::Wrist
        };
        let started = std::time::Instant::now();
        let pushed = pipeline.push(
            b.reading.device.as_str(),
            placement,
            samples,
            *hz,
            b.reading.at.millis(),
        );
        metrics.inference("fall", started.elapsed());
        let falls = match pushed {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(device = %b.reading.device, error = %e, "fall inference failed for a batch");
                continue;
            }
        };
        for f in falls {
            let at = Timestamp((f.t * 1000.0).round() as i64);
            let (priority, en, zh) = aftermath_text(f.aftermath);
            let mut ev = Event::raise(AlertKind::Fall, b.binding.subject(), priority, at);
            ev.location = b.binding.location.clone();
            ev.device = Some(b.reading.device.clone());
            ev.detail = format!(
                "{zh} / fall detected on {}: {en} (score {:.2})",
                b.reading.device, f.score
            );
            ev.evidence = json!({
                "score": f.score,
                "aftermath": f.aftermath,
                "orientation_change_deg": f.orientation_change_deg,
                "activity_g": f.activity_g,
                "quiet_share": f.quiet_share,
                "motionless": f.motionless,
                "start": f.evidence_start,
                "hz": f.evidence_hz,
                "samples": f.evidence,
            });
            if findings.blocking_send(Finding::Event(ev)).is_err() {
                return;
            }
        }
    }
}

/// Priority and texts (English, Chinese) of a fall by what the resident did afterwards: still down
/// needs someone now (High); a resident who got up at once still fell and is checked on (Medium),
/// as is a fall whose aftermath could not be seen.
fn aftermath_text(a: Aftermath) -> (Priority, &'static str, &'static str) {
    match a {
        Aftermath::Down => (Priority::High, "still down afterwards", "跌倒后未起身"),
        Aftermath::Recovered => (
            Priority::Medium,
            "got up at once, check on the resident",
            "跌倒后已起身，请查看",
        ),
        Aftermath::Unknown => (
            Priority::Medium,
            "aftermath not seen, check on the resident",
            "跌倒后情况未知，请查看",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fall_with_no_recovery_outranks_one_after_which_the_resident_got_up() {
        let (down, _, _) = aftermath_text(Aftermath::Down);
        let (up, _, _) = aftermath_text(Aftermath::Recovered);
        let (unknown, _, _) = aftermath_text(Aftermath::Unknown);
        assert_eq!(down, Priority::High);
        assert!(up < down && unknown < down);
        assert_ne!(up, Priority::Low, "a fall is never only for awareness");
    }
}
