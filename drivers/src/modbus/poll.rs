//! One poll of one device over a [`Link`]: every planned block, with retries. The link hides
//! the difference between a TCP connection per device and a shared RTU bus.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_modbus::client::Context;
use tracing::{debug, warn};

use super::config::Parity;
use super::health::PollOutcome;
use super::link::{self, CallError};
use super::plan::{Block, BlockData, PointValues, decode_block};
use super::profile::{Command, Profile};
use crate::reading::DeviceId;

/// Counters of one device, shared with whoever wants to watch them.
#[derive(Debug, Default)]
pub struct DeviceCounters {
    /// Polls started.
    pub polls: AtomicU64,
    /// Polls skipped because the device (or, on an RTU bus, the bus) was still busy when they
    /// were due: the schedule keeps its grid instead of catching up (`schedule`).
    pub missed_polls: AtomicU64,
    /// Polls that got no usable answer.
    pub failed_polls: AtomicU64,
    /// Requests sent (including retries).
    pub requests: AtomicU64,
    /// Exception responses received.
    pub exceptions: AtomicU64,
    /// Code of the last exception response (0 when none yet).
    pub last_exception: AtomicU64,
    /// Requests that timed out.
    pub timeouts: AtomicU64,
    /// Invalid responses (garbage).
    pub garbage: AtomicU64,
    /// Point values decoded.
    pub values: AtomicU64,
}

/// Where requests go: a TCP connection of one device (reconnected after any failure, since a
/// late answer would otherwise be read as the next one), or the serial port of an RTU bus
/// (shared; silent for the inter-frame gap after each exchange).
#[derive(Debug)]
pub(crate) enum Link {
    Tcp {
        host: String,
        ctx: Option<DebugContext>,
    },
    Rtu {
        path: PathBuf,
        baud: u32,
        parity: Parity,
        stop_bits: u8,
        gap: Duration,
        ctx: Option<DebugContext>,
    },
}

/// tokio-modbus' context does not implement Debug.
pub(crate) struct DebugContext(pub(crate) Context);

impl std::fmt::Debug for DebugContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Context")
    }
}

impl Link {
    async fn context(&mut self, timeout: Duration) -> Result<&mut Context, CallError> {
        match self {
            Self::Tcp { host, ctx } => {
                if ctx.is_none() {
                    *ctx = Some(DebugContext(link::connect_tcp(host, timeout).await?));
                }
                ctx.as_mut().map(|c| &mut c.0)
            }
            Self::Rtu {
                path,
                baud,
                parity,
                stop_bits,
                ctx,
                ..
            } => {
                if ctx.is_none() {
                    *ctx = Some(DebugContext(link::open_rtu(
                        path, *baud, *parity, *stop_bits,
                    )?));
                }
                ctx.as_mut().map(|c| &mut c.0)
            }
        }
        .ok_or_else(|| CallError::Transport("not connected".into()))
    }

    async fn after(&mut self, result: &Result<impl Sized, CallError>) {
        match self {
            Self::Tcp { ctx, .. } => {
                if matches!(result, Err(e) if !e.is_answer()) {
                    *ctx = None;
                }
            }
            Self::Rtu { ctx, gap, .. } => {
                if matches!(result, Err(CallError::Transport(_))) {
                    *ctx = None;
                }
                tokio::time::sleep(*gap).await;
            }
        }
    }

    /// Reads one block from `unit`.
    pub(crate) async fn read(
        &mut self,
        unit: u8,
        block: &Block,
        timeout: Duration,
    ) -> Result<BlockData, CallError> {
        let result = match self.context(timeout).await {
            Ok(ctx) => link::read_block(ctx, unit, block, timeout).await,
            Err(e) => Err(e),
        };
        self.after(&result).await;
        result
    }

    /// Performs a write on `unit`.
    pub(crate) async fn write(
        &mut self,
        unit: u8,
        command: &Command,
        timeout: Duration,
    ) -> Result<(), CallError> {
        let result = match self.context(timeout).await {
            Ok(ctx) => link::write(ctx, unit, command, timeout).await,
            Err(e) => Err(e),
        };
        self.after(&result).await;
        result
    }
}

/// What a poll produced.
#[derive(Debug)]
pub(crate) struct Polled {
    pub(crate) values: PointValues,
    pub(crate) outcome: PollOutcome,
}

/// What to poll and how patiently.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollSpec<'a> {
    pub(crate) device: &'a DeviceId,
    pub(crate) unit: u8,
    pub(crate) profile: &'a Profile,
    pub(crate) blocks: &'a [Block],
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
}

/// Reads every block of a device. A block that gets no answer is retried `retries` times; if it
/// still fails the poll stops there, so a silent device costs one timeout series, not one per
/// block. Exception responses are answers: logged, counted, and the poll goes on.
pub(crate) async fn poll_device(
    link: &mut Link,
    spec: PollSpec<'_>,
    counters: &Arc<DeviceCounters>,
) -> Polled {
    let PollSpec {
        device,
        unit,
        profile,
        blocks,
        timeout,
        retries,
    } = spec;
    counters.polls.fetch_add(1, Ordering::Relaxed);
    let mut values = PointValues::empty(profile.points.len());
    let mut problems = Vec::new();
    for block in blocks {
        let mut attempt = 0;
        loop {
            counters.requests.fetch_add(1, Ordering::Relaxed);
            match link.read(unit, block, timeout).await {
                Ok(data) => {
                    if let Err(e) = decode_block(&profile.points, block, &data, &mut values) {
                        counters.garbage.fetch_add(1, Ordering::Relaxed);
                        problems.push(e.to_string());
                    }
                    break;
                }
                Err(e @ CallError::Exception { code, .. }) => {
                    counters.exceptions.fetch_add(1, Ordering::Relaxed);
                    counters
                        .last_exception
                        .store(u64::from(code), Ordering::Relaxed);
                    warn!(device = %device, unit, code, table = %block.table, start = block.start,
                        count = block.count, error = %e, "exception response");
                    problems.push(format!(
                        "{} {}..{}: {e}",
                        block.table,
                        block.start,
                        u32::from(block.start) + u32::from(block.count)
                    ));
                    break;
                }
                Err(e) => {
                    match e {
                        CallError::Timeout(_) => counters.timeouts.fetch_add(1, Ordering::Relaxed),
                        CallError::Garbage(_) => counters.garbage.fetch_add(1, Ordering::Relaxed),
                        _ => 0,
                    };
                    attempt += 1;
                    debug!(device = %device, unit, attempt, error = %e, "request failed");
                    if attempt > retries {
                        counters.failed_polls.fetch_add(1, Ordering::Relaxed);
                        return Polled {
                            values,
                            outcome: PollOutcome::Failed {
                                reason: e.to_string(),
                            },
                        };
                    }
                }
            }
        }
    }
    let read = values.0.iter().filter(|v| v.is_some()).count();
    counters.values.fetch_add(read as u64, Ordering::Relaxed);
    Polled {
        values,
        outcome: PollOutcome::Answered { problems },
    }
}
