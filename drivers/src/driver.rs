//! The contract between drivers and the gateway: the [`Driver`] trait, the [`ReadingSink`] drivers
//! write into, and [`DriverError`] split by what the caller does next.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::reading::{DeviceId, Reading, Timestamp};

/// A device's link state as its driver sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Answering normally.
    Online,
    /// Answering with errors (exceptions, garbage, gaps).
    Degraded,
    /// Not answering.
    Offline,
}

/// What a driver sends into the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverEvent {
    /// A measurement.
    Reading(Reading),
    /// A change in a device's link health, with a human-readable reason.
    Health {
        device: DeviceId,
        at: Timestamp,
        state: HealthState,
        detail: String,
    },
    /// A poll of `device` is complete: the readings sent since belong together (uplinks send
    /// them as one batch now instead of waiting for the end of their interval).
    PollEnd { device: DeviceId },
}

/// Counters of what a sink refused, shared by every clone of the sink.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Telemetry readings dropped because the pipeline was full.
    pub dropped_telemetry: AtomicU64,
}

/// Where drivers put readings. Cloneable; one per driver task.
///
/// Durability is chosen per data class: a critical reading (SOS, alarm states, doors, beds) waits
/// for room in the channel and is never dropped; routine telemetry is dropped and counted when the
/// pipeline is full, so a flooding device cannot stall the others.
#[derive(Debug, Clone)]
pub struct ReadingSink {
    tx: mpsc::Sender<DriverEvent>,
    stats: Arc<SinkStats>,
}

/// The pipeline is gone (the gateway is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline is closed")]
pub struct SinkClosed;

impl ReadingSink {
    /// A sink and the receiving end the pipeline reads from, with room for `capacity` events.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<DriverEvent>) {
        let (tx, rx) = mpsc::channel(capacity);
        (
            Self {
                tx,
                stats: Arc::default(),
            },
            rx,
        )
    }

    /// Sends a reading: critical readings wait for room, telemetry is dropped when full.
    pub async fn send(&self, reading: Reading) -> Result<(), SinkClosed> {
        if reading.measurement.is_critical() {
            return self
                .tx
                .send(DriverEvent::Reading(reading))
                .await
                .map_err(|_| SinkClosed);
        }
        match self.tx.try_send(DriverEvent::Reading(reading)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.stats.dropped_telemetry.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SinkClosed),
        }
    }

    /// Reports a device's health; health changes are rare and never dropped.
    pub async fn health(
        &self,
        device: DeviceId,
        state: HealthState,
        detail: impl Into<String>,
    ) -> Result<(), SinkClosed> {
        self.tx
            .send(DriverEvent::Health {
                device,
                at: Timestamp::now(),
                state,
                detail: detail.into(),
            })
            .await
            .map_err(|_| SinkClosed)
    }

    /// Marks the end of a poll of `device`. Only a hint for batching: never waits, and is
    /// simply not sent when the pipeline is full.
    pub fn poll_end(&self, device: DeviceId) {
        let _ = self.tx.try_send(DriverEvent::PollEnd { device });
    }

    /// Shared counters of this sink and all its clones.
    pub fn stats(&self) -> Arc<SinkStats> {
        Arc::clone(&self.stats)
    }
}

/// Why a driver stopped, split by what the supervisor does next.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The driver's configuration cannot work; restarting will not help.
    #[error("configuration: {0}")]
    Config(String),
    /// The link (serial port, TCP connection, radio) failed; restart with backoff.
    #[error("transport: {0}")]
    Transport(String),
    /// A device answered wrongly; count it and retry.
    #[error("device {device}: {detail}")]
    Device { device: DeviceId, detail: String },
    /// The pipeline closed under the driver (shutdown).
    #[error(transparent)]
    SinkClosed(#[from] SinkClosed),
}

impl DriverError {
    /// Whether restarting the driver can help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transport(_) | Self::Device { .. })
    }
}

/// A source of readings. Runs until `shutdown` is cancelled or it fails.
///
/// Implementations report their devices' health through the sink; the gateway supervises them
/// and restarts those whose error [`DriverError::is_retryable`].
pub trait Driver: Send {
    /// Runs the driver to completion.
    fn run(
        self,
        sink: ReadingSink,
        shutdown: CancellationToken,
    ) -> impl std::future::Future<Output = Result<(), DriverError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::{ButtonKind, Measurement};

    #[tokio::test]
    async fn full_sink_drops_telemetry_but_keeps_critical() {
        let (sink, mut rx) = ReadingSink::channel(1);
        let hr = Reading::new("w", Timestamp(0), Measurement::HeartRate { bpm: 60.0 });
        sink.send(hr.clone()).await.unwrap();
        sink.send(hr).await.unwrap(); // full: dropped, counted
        assert_eq!(sink.stats().dropped_telemetry.load(Ordering::Relaxed), 1);
        let sos = Reading::new(
            "w",
            Timestamp(1),
            Measurement::Button {
                button: ButtonKind::Sos,
            },
        );
        let waiting = tokio::spawn({
            let sink = sink.clone();
            async move { sink.send(sos).await }
        });
        assert!(matches!(rx.recv().await, Some(DriverEvent::Reading(r)) if r.at == Timestamp(0)));
        waiting.await.unwrap().unwrap();
        assert!(matches!(rx.recv().await, Some(DriverEvent::Reading(r)) if r.at == Timestamp(1)));
    }
}
