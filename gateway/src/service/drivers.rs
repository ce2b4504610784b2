//! Starts and supervises driver instances: a driver whose error is retryable restarts with
//! backoff; one with a fatal config error stays down, its devices are reported offline, and the
//! rest of the gateway keeps running.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pingan_drivers::ble::BleDriver;
use pingan_drivers::modbus::{ModbusCommands, ModbusDriver};
use pingan_drivers::sim::{Scenario, SimDriver};
use pingan_drivers::{DeviceId, Driver, DriverConfig, DriverError, HealthState, ReadingSink};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DriverInstance};
use crate::facility;
use crate::web::backend::DeviceCommandView;

/// Profile commands (silence a sounder, reset an alarm): which devices offer which (known from
/// the config's profiles before any driver runs, so the dashboard shows them even while a bus is
/// down), and the command channel of each running Modbus driver, by device.
#[derive(Debug, Clone, Default)]
pub(super) struct DeviceCommands {
    channels: Arc<Mutex<HashMap<DeviceId, ModbusCommands>>>,
    offered: Arc<BTreeMap<DeviceId, Vec<DeviceCommandView>>>,
}

impl DeviceCommands {
    /// The commands the profiles of `config`'s Modbus devices offer. A driver whose profiles do
    /// not load offers none (it does not start either; `pingan check-config` names the problem).
    pub(super) fn from_config(config: &Config, base_dir: &Path) -> Self {
        let mut offered = BTreeMap::new();
        for inst in &config.drivers {
            let DriverConfig::Modbus(modbus) = &inst.config else {
                continue;
            };
            let Ok(devices) = modbus.resolve(Some(base_dir)) else {
                continue;
            };
            for d in devices {
                let list: Vec<DeviceCommandView> = d
                    .profile
                    .commands
                    .iter()
                    .map(|(name, c)| DeviceCommandView {
                        name: name.clone(),
                        description: c.description.clone(),
                    })
                    .collect();
                if !list.is_empty() {
                    offered.insert(d.config.device.clone(), list);
                }
            }
        }
        Self {
            channels: Arc::default(),
            offered: Arc::new(offered),
        }
    }

    fn register(&self, devices: impl IntoIterator<Item = DeviceId>, commands: &ModbusCommands) {
        if let Ok(mut m) = self.channels.lock() {
            for d in devices {
                m.insert(d, commands.clone());
            }
        }
    }

    /// The command channel of the driver that reads `device`.
    pub(super) fn get(&self, device: &DeviceId) -> Option<ModbusCommands> {
        self.channels.lock().ok()?.get(device).cloned()
    }

    /// The commands `device` offers, by name.
    pub(super) fn offered(&self, device: &DeviceId) -> Vec<DeviceCommandView> {
        self.offered.get(device).cloned().unwrap_or_default()
    }
}

/// One supervised run per driver instance of the config, to be spawned by the caller.
pub(super) fn spawn_all(
    config: &Config,
    base_dir: &Path,
    scenario_override: Option<&Path>,
    sink: &ReadingSink,
    commands: &DeviceCommands,
    shutdown: &CancellationToken,
) -> Vec<impl Future<Output = ()> + Send + 'static> {
    config
        .drivers
        .iter()
        .map(|inst| {
            let devices: Vec<DeviceId> = config
                .devices
                .iter()
                .filter(|d| d.driver == inst.id)
                .map(|d| DeviceId::new(&d.id))
                .collect();
            let ctx = DriverContext {
                config: config.clone(),
                instance: inst.clone(),
                base_dir: base_dir.to_path_buf(),
                scenario_override: scenario_override.map(Path::to_path_buf),
                commands: commands.clone(),
            };
            supervise(ctx, devices, sink.clone(), shutdown.clone())
        })
        .collect()
}

struct DriverContext {
    config: Config,
    instance: DriverInstance,
    base_dir: std::path::PathBuf,
    scenario_override: Option<std::path::PathBuf>,
    commands: DeviceCommands,
}

async fn supervise(
    ctx: DriverContext,
    devices: Vec<DeviceId>,
    sink: ReadingSink,
    shutdown: CancellationToken,
) {
    let id = ctx.instance.id.clone();
    let mut backoff = Duration::from_secs(1);
    loop {
        let result = run_once(&ctx, sink.clone(), shutdown.clone()).await;
        if shutdown.is_cancelled() {
            return;
        }
        let error = match result {
            Ok(()) => {
                tracing::info!(driver = %id, "driver finished");
                return;
            }
            Err(DriverError::SinkClosed(_)) => return,
            Err(e) => e,
        };
        let retry = error.is_retryable();
        tracing::error!(driver = %id, %error, retry, "driver stopped");
        for d in &devices {
            if sink
                .health(
                    d.clone(),
                    HealthState::Offline,
                    format!("driver {id}: {error}"),
                )
                .await
                .is_err()
            {
                return;
            }
        }
        if !retry {
            return;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

async fn run_once(
    ctx: &DriverContext,
    sink: ReadingSink,
    shutdown: CancellationToken,
) -> Result<(), DriverError> {
    match &ctx.instance.config {
        DriverConfig::Sim(sim) => {
            let path = ctx
                .scenario_override
                .clone()
                .or_else(|| sim.scenario.as_ref().map(|p| ctx.base_dir.join(p)));
            let scenario = match path {
                Some(p) => Scenario::load(&p).map_err(|e| DriverError::Config(e.to_string()))?,
                None => Scenario::default(),
            };
            let devices = facility::sim_devices(&ctx.config, &ctx.instance.id);
            SimDriver::new(sim.clone(), devices, scenario)
                .run(sink, shutdown)
                .await
        }
        DriverConfig::Ble(ble) => {
            let mut ble = ble.clone();
            // a replay file is relative to the config file, like the sim's scenario
            ble.replay = ble.replay.map(|p| ctx.base_dir.join(p));
            BleDriver::new(ble).run(sink, shutdown).await
        }
        DriverConfig::Modbus(modbus) => {
            let driver = ModbusDriver::new(modbus.clone(), Some(&ctx.base_dir))?;
            ctx.commands.register(
                modbus.devices.iter().map(|d| d.device.clone()),
                &driver.commands(),
            );
            driver.run(sink, shutdown).await
        }
    }
}
