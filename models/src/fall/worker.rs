//! The dedicated inference thread: requests arrive over a bounded channel and are scored in batches.
//!
//! Inference is CPU-bound and must stay off the async reactor. Requests queued while the
//! thread is busy are merged into one batch (up to [`MAX_BATCH`] windows), which amortizes the
//! per-call overhead when many wearables report at once.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::detector::FallDetector;
use super::spec::WINDOW;
use crate::ModelError;

/// The largest batch the thread runs at once (windows).
pub const MAX_BATCH: usize = 256;

struct Job {
    windows: Vec<f32>,
    placements: Vec<f32>,
    reply: mpsc::Sender<Result<Vec<f32>, ModelError>>,
}

/// A handle to the inference thread; cloning shares the thread.
#[derive(Debug, Clone)]
pub struct InferenceWorker {
    tx: SyncSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("windows", &self.placements.len())
            .finish()
    }
}

impl InferenceWorker {
    /// Starts the thread, which owns the detector. `queue` bounds the pending requests: when it
    /// is full, [`InferenceWorker::score`] blocks (backpressure on the callers).
    ///
    /// # Errors
    /// [`ModelError::Worker`] when the thread cannot be spawned.
    pub fn spawn(
        detector: FallDetector,
        queue: usize,
    ) -> Result<(Self, JoinHandle<()>), ModelError> {
        let (tx, rx) = mpsc::sync_channel::<Job>(queue.max(1));
        let handle = std::thread::Builder::new()
            .name("pingan-fall-inference".into())
            .spawn(move || run(detector, &rx))
            .map_err(|e| ModelError::Worker(format!("cannot start: {e}")))?;
        Ok((Self { tx }, handle))
    }

    /// Scores windows (flattened, 600 values each) with one placement value per window; blocks
    /// until the thread has run them.
    ///
    /// # Errors
    /// [`ModelError::WorkerStopped`] when the thread is gone, otherwise the detector's error.
    pub fn score(&self, windows: Vec<f32>, placements: Vec<f32>) -> Result<Vec<f32>, ModelError> {
        if placements.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = mpsc::channel();
        self.tx
            .send(Job {
                windows,
                placements,
                reply,
            })
            .map_err(|_| ModelError::WorkerStopped)?;
        rx.recv().map_err(|_| ModelError::WorkerStopped)?
    }
}

fn run(mut detector: FallDetector, rx: &Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut total: usize = jobs.iter().map(|j| j.placements.len()).sum();
        while total < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.placements.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let valid = jobs
            .iter()
            .all(|j| j.windows.len() == j.placements.len() * WINDOW * 3);
        if jobs.len() == 1 || !valid {
            // a malformed request is answered on its own so it cannot fail its neighbours
            for job in jobs {
                let result = detector.score(&job.windows, &job.placements);
                let _ = job.reply.send(result);
            }
            continue;
        }
        let mut windows = Vec::with_capacity(total * WINDOW * 3);
        let mut placements = Vec::with_capacity(total);
        for job in &jobs {
            windows.extend_from_slice(&job.windows);
            placements.extend_from_slice(&job.placements);
        }
        match detector.score(&windows, &placements) {
            Ok(scores) => {
                let mut rest = scores.as_slice();
                for job in jobs {
                    let (mine, tail) = rest.split_at(job.placements.len().min(rest.len()));
                    rest = tail;
                    let _ = job.reply.send(Ok(mine.to_vec()));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(ModelError::Worker(msg.clone())));
                }
            }
        }
    }
}
