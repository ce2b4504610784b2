//! One read of every point of a profile, for `pingan modbus probe` and commissioning.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::config::Parity;
use super::health::{PollOutcome, inter_frame_gap};
use super::plan::{PointValues, plan};
use super::poll::{DeviceCounters, Link, PollSpec, poll_device};
use super::profile::Profile;
use crate::reading::DeviceId;

/// Where the device to probe is.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeTarget {
    /// Modbus TCP at `HOST:PORT`.
    Tcp(String),
    /// Modbus RTU on a serial port.
    Rtu {
        /// Serial device.
        path: PathBuf,
        /// Baud rate.
        baud: u32,
        /// Parity.
        parity: Parity,
        /// Stop bits (1 or 2).
        stop_bits: u8,
    },
}

/// Why a probe failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No usable answer (timeout, link failure, garbage).
    #[error("no answer from unit {unit}: {reason}")]
    NoAnswer {
        /// The unit probed.
        unit: u8,
        /// Why.
        reason: String,
    },
    /// The device answered some requests with exceptions or short responses.
    #[error("unit {unit} answered with errors: {}", problems.join("; "))]
    Device {
        /// The unit probed.
        unit: u8,
        /// Each problem.
        problems: Vec<String>,
    },
}

/// Reads every point of `profile` from `unit` once (no retries).
pub async fn probe(
    target: &ProbeTarget,
    unit: u8,
    profile: &Profile,
    timeout: Duration,
) -> Result<PointValues, ProbeError> {
    let mut link = match target {
        ProbeTarget::Tcp(host) => Link::Tcp {
            host: host.clone(),
            ctx: None,
        },
        ProbeTarget::Rtu {
            path,
            baud,
            parity,
            stop_bits,
        } => Link::Rtu {
            path: path.clone(),
            baud: *baud,
            parity: *parity,
            stop_bits: *stop_bits,
            gap: inter_frame_gap(*baud),
            ctx: None,
        },
    };
    let blocks = plan(&profile.points, profile.max_gap);
    let counters = Arc::new(DeviceCounters::default());
    let device = DeviceId::new("probe");
    let spec = PollSpec {
        device: &device,
        unit,
        profile,
        blocks: &blocks,
        timeout,
        retries: 0,
    };
    let polled = poll_device(&mut link, spec, &counters).await;
    match polled.outcome {
        PollOutcome::Failed { reason } => Err(ProbeError::NoAnswer { unit, reason }),
        PollOutcome::Answered { problems } if !problems.is_empty() => {
            Err(ProbeError::Device { unit, problems })
        }
        PollOutcome::Answered { .. } => Ok(polled.values),
    }
}
