//! [`ModbusDriver`]: one task per RTU bus (it owns the port and polls its devices one request at
//! a time), one task per TCP device (devices of a host are polled concurrently, each on its own
//! connection, so a garbage-sending or silent device never delays another). Each device is
//! polled on its own fixed grid ([`PollClock`]); polls missed because the device or its bus was
//! busy are counted in [`DeviceCounters::missed_polls`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::config::{ModbusConfig, ResolvedDevice, TransportKind};
use super::health::{HealthTracker, PollOutcome, inter_frame_gap, next_delay};
use super::link::CallError;
use super::mapping::Mapper;
use super::plan::{Block, plan};
use super::poll::{DeviceCounters, Link, PollSpec, poll_device};
use super::profile::Profile;
use super::schedule::{MissedLog, PollClock};
use crate::driver::{Driver, DriverError, ReadingSink};
use crate::reading::{DeviceId, Timestamp};

/// Why a profile command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such device on this driver.
    #[error("unknown device `{0}`")]
    UnknownDevice(DeviceId),
    /// The device's profile has no such command.
    #[error("profile `{profile}` has no command `{command}`")]
    UnknownCommand {
        /// The profile.
        profile: String,
        /// The command asked for.
        command: String,
    },
    /// The write failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The driver is not running.
    #[error("the modbus driver is not running")]
    Stopped,
}

#[derive(Debug)]
struct CommandRequest {
    device: DeviceId,
    command: String,
    reply: oneshot::Sender<Result<(), CommandError>>,
}

/// Sends profile commands (silence a sounder, reset an alarm) to the driver's devices.
#[derive(Debug, Clone)]
pub struct ModbusCommands {
    tx: mpsc::Sender<CommandRequest>,
}

impl ModbusCommands {
    /// Runs `command` of `device`'s profile and waits for the device's answer.
    pub async fn send(&self, device: DeviceId, command: &str) -> Result<(), CommandError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(CommandRequest {
                device,
                command: command.to_owned(),
                reply,
            })
            .await
            .map_err(|_| CommandError::Stopped)?;
        rx.await.map_err(|_| CommandError::Stopped)?
    }
}

/// The Modbus driver of one `[[drivers]]` instance: one RTU bus or one TCP host.
#[derive(Debug)]
pub struct ModbusDriver {
    config: ModbusConfig,
    devices: Vec<ResolvedDevice>,
    counters: BTreeMap<DeviceId, Arc<DeviceCounters>>,
    commands_tx: mpsc::Sender<CommandRequest>,
    commands_rx: mpsc::Receiver<CommandRequest>,
}

impl ModbusDriver {
    /// Checks `config` and loads its profiles (paths relative to `base`, the config's directory).
    pub fn new(config: ModbusConfig, base: Option<&Path>) -> Result<Self, DriverError> {
        let devices = config
            .resolve(base)
            .map_err(|e| DriverError::Config(e.to_string()))?;
        let counters = devices
            .iter()
            .map(|d| (d.config.device.clone(), Arc::default()))
            .collect();
        let (commands_tx, commands_rx) = mpsc::channel(16);
        Ok(Self {
            config,
            devices,
            counters,
            commands_tx,
            commands_rx,
        })
    }

    /// A handle to send profile commands while the driver runs.
    pub fn commands(&self) -> ModbusCommands {
        ModbusCommands {
            tx: self.commands_tx.clone(),
        }
    }

    /// Per-device counters (polls, failures, exceptions, values), live while the driver runs.
    pub fn counters(&self) -> BTreeMap<DeviceId, Arc<DeviceCounters>> {
        self.counters.clone()
    }
}

/// Settings every device task needs.
#[derive(Debug, Clone, Copy)]
struct Timing {
    timeout: Duration,
    retries: u32,
    offline_after: u32,
    max_backoff: Duration,
}

/// A device and its polling state.
#[derive(Debug)]
struct DeviceTask {
    id: DeviceId,
    unit: u8,
    profile: Profile,
    blocks: Vec<Block>,
    interval: Duration,
    mapper: Mapper,
    health: HealthTracker,
    counters: Arc<DeviceCounters>,
    clock: PollClock,
    missed_log: MissedLog,
}

/// How often at most a device's missed polls are logged.
const MISSED_LOG_EVERY: Duration = Duration::from_secs(60);

impl DeviceTask {
    fn new(d: ResolvedDevice, cfg: &ModbusConfig, counters: Arc<DeviceCounters>) -> Self {
        let channels: HashMap<String, DeviceId> = d.config.channels.clone().into_iter().collect();
        Self {
            id: d.config.device.clone(),
            unit: d.config.unit,
            blocks: plan(&d.profile.points, d.profile.max_gap),
            profile: d.profile,
            interval: d.poll_interval,
            mapper: Mapper::new(d.config.device, channels, cfg.state_refresh),
            health: HealthTracker::new(cfg.offline_after),
            counters,
            clock: PollClock::new(Instant::now(), d.poll_interval),
            missed_log: MissedLog::new(MISSED_LOG_EVERY),
        }
    }

    /// Polls once, sends readings and health changes, schedules the next poll.
    async fn poll(
        &mut self,
        link: &mut Link,
        t: Timing,
        sink: &ReadingSink,
    ) -> Result<(), DriverError> {
        let now = Instant::now();
        let missed = self.clock.begin(now);
        if missed > 0 {
            self.counters
                .missed_polls
                .fetch_add(missed, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(n) = self.missed_log.note(now, missed) {
            warn!(device = %self.id, missed = n, interval = ?self.interval,
                "polls missed: the device (or its bus) was busy past their due time");
        }
        let spec = PollSpec {
            device: &self.id,
            unit: self.unit,
            profile: &self.profile,
            blocks: &self.blocks,
            timeout: t.timeout,
            retries: t.retries,
        };
        let polled = poll_device(link, spec, &self.counters).await;
        let mapped = self
            .mapper
            .map(&self.profile, &polled.values, Timestamp::now());
        let polled_any = !mapped.readings.is_empty();
        for reading in mapped.readings {
            sink.send(reading).await?;
        }
        if polled_any {
            sink.poll_end(self.id.clone());
        }
        let outcome = match polled.outcome {
            PollOutcome::Answered { mut problems } => {
                problems.extend(mapped.faults.iter().map(|f| format!("fault: {f}")));
                PollOutcome::Answered { problems }
            }
            failed => failed,
        };
        if let Some((state, detail)) = self.health.record(&outcome) {
            info!(device = %self.id, ?state, %detail, "device health changed");
            sink.health(self.id.clone(), state, detail).await?;
        }
        let delay = next_delay(
            self.interval,
            self.health.failures(),
            t.offline_after,
            t.max_backoff,
        );
        self.clock.end(delay);
        Ok(())
    }

    async fn command(
        &self,
        link: &mut Link,
        name: &str,
        timeout: Duration,
    ) -> Result<(), CommandError> {
        let cmd = self
            .profile
            .commands
            .get(name)
            .ok_or_else(|| CommandError::UnknownCommand {
                profile: self.profile.name.clone(),
                command: name.to_owned(),
            })?;
        info!(device = %self.id, command = name, "modbus command");
        link.write(self.unit, cmd, timeout).await.map_err(|e| {
            warn!(device = %self.id, command = name, error = %e, "modbus command failed");
            CommandError::from(e)
        })
    }
}

/// Polls a set of devices sharing one link, one request at a time, until shutdown.
async fn run_link(
    mut link: Link,
    mut devices: Vec<DeviceTask>,
    timing: Timing,
    sink: ReadingSink,
    mut commands: mpsc::Receiver<CommandRequest>,
    shutdown: CancellationToken,
) -> Result<(), DriverError> {
    let mut commands_open = true;
    loop {
        let Some(next) = devices.iter_mut().min_by_key(|d| d.clock.due()) else {
            return Ok(());
        };
        let due = next.clock.due();
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return Ok(()),
            req = commands.recv(), if commands_open => {
                let Some(req) = req else {
                    commands_open = false;
                    continue;
                };
                let result = match devices.iter().find(|d| d.id == req.device) {
                    Some(d) => d.command(&mut link, &req.command, timing.timeout).await,
                    None => Err(CommandError::UnknownDevice(req.device.clone())),
                };
                let _ = req.reply.send(result);
            }
            () = tokio::time::sleep_until(due) => {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => return Ok(()),
                    r = next.poll(&mut link, timing, &sink) => r?,
                }
            }
        }
    }
}

/// Routes commands to the task that owns each device.
async fn route_commands(
    mut rx: mpsc::Receiver<CommandRequest>,
    routes: HashMap<DeviceId, mpsc::Sender<CommandRequest>>,
    shutdown: CancellationToken,
) -> Result<(), DriverError> {
    loop {
        let req = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            req = rx.recv() => match req { Some(r) => r, None => return Ok(()) },
        };
        match routes.get(&req.device) {
            Some(tx) => {
                if let Err(mpsc::error::SendError(req)) = tx.send(req).await {
                    let _ = req.reply.send(Err(CommandError::Stopped));
                }
            }
            None => {
                let device = req.device.clone();
                let _ = req.reply.send(Err(CommandError::UnknownDevice(device)));
            }
        }
    }
}

impl Driver for ModbusDriver {
    async fn run(self, sink: ReadingSink, shutdown: CancellationToken) -> Result<(), DriverError> {
        let Self {
            config,
            devices,
            counters,
            commands_rx,
            commands_tx,
        } = self;
        drop(commands_tx);
        // Our own token, so that a failing task stops its siblings but not the gateway.
        let shutdown = shutdown.child_token();
        let timing = Timing {
            timeout: config.timeout,
            retries: config.retries,
            offline_after: config.offline_after,
            max_backoff: config.max_backoff,
        };
        let tasks: Vec<DeviceTask> = devices
            .into_iter()
            .map(|d| {
                let c = counters.get(&d.config.device).cloned().unwrap_or_default();
                DeviceTask::new(d, &config, c)
            })
            .collect();
        let mut set = JoinSet::new();
        let mut routes = HashMap::new();
        match config.transport {
            TransportKind::Rtu => {
                let (Some(path), Some(baud)) = (config.path.clone(), config.baud) else {
                    return Err(DriverError::Config("rtu needs path and baud".into()));
                };
                let link = Link::Rtu {
                    path,
                    baud,
                    parity: config.parity,
                    stop_bits: config.stop_bits,
                    gap: inter_frame_gap(baud),
                    ctx: None,
                };
                let (tx, rx) = mpsc::channel(16);
                for t in &tasks {
                    routes.insert(t.id.clone(), tx.clone());
                }
                set.spawn(run_link(
                    link,
                    tasks,
                    timing,
                    sink.clone(),
                    rx,
                    shutdown.clone(),
                ));
            }
            TransportKind::Tcp if config.shared_connection => {
                let link = Link::Tcp {
                    host: config.host.clone().unwrap_or_default(),
                    ctx: None,
                };
                let (tx, rx) = mpsc::channel(16);
                for t in &tasks {
                    routes.insert(t.id.clone(), tx.clone());
                }
                set.spawn(run_link(
                    link,
                    tasks,
                    timing,
                    sink.clone(),
                    rx,
                    shutdown.clone(),
                ));
            }
            TransportKind::Tcp => {
                let host = config.host.clone().unwrap_or_default();
                for t in tasks {
                    let (tx, rx) = mpsc::channel(4);
                    routes.insert(t.id.clone(), tx);
                    let link = Link::Tcp {
                        host: host.clone(),
                        ctx: None,
                    };
                    set.spawn(run_link(
                        link,
                        vec![t],
                        timing,
                        sink.clone(),
                        rx,
                        shutdown.clone(),
                    ));
                }
            }
        }
        set.spawn(route_commands(commands_rx, routes, shutdown.clone()));
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    shutdown.cancel();
                    return Err(e);
                }
                Err(e) => {
                    shutdown.cancel();
                    return Err(DriverError::Transport(format!("modbus task failed: {e}")));
                }
            }
        }
        Ok(())
    }
}
