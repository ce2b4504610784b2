//! The gateways under test and how each is configured and started: the same simulator (one
//! unit, holding registers 0..N), the same Mosquitto, each publishing every poll's values.
//!
//! - **Pingan**: `pingan run` with a generated site config: one Modbus TCP driver, one device
//!   whose profile maps register pairs to `environment.temperature`/`humidity` of one room
//!   sensor each (`room-K` = registers 2K, 2K+1, scale 0.1), and an uplink to Mosquitto with
//!   `telemetry_interval` below the poll interval, so every reading leaves. The embedded broker
//!   and the local link run with the site defaults.
//! - **Node-RED** with node-red-contrib-modbus: one `modbus-client`, one `modbus-read` node per
//!   125 registers, each wired to an `mqtt out` node (topic `nodered/bench/{start}`, the array
//!   of raw registers as JSON).
//! - **ThingsBoard IoT Gateway**: its Modbus connector with one wide-range key
//!   (`"address": "0-{N-1}"`, 125 registers per request, key `r{address}`), publishing to
//!   `v1/gateway/telemetry` on Mosquitto as if it were ThingsBoard. Its session-limits RPC is
//!   answered by the subscriber ([`crate::subscriber`]); its update check goes to a local stub
//!   (`bench/peers/tb_launch.py`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use pingan_tests::{Guard, free_port};
use serde_json::json;

/// Registers per Modbus request (the protocol's maximum for FC 3).
const BLOCK: u32 = 125;

/// A gateway under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `pingan run`.
    Pingan,
    /// Node-RED 5 with node-red-contrib-modbus.
    NodeRed,
    /// ThingsBoard IoT Gateway 3.8.
    Thingsboard,
}

impl Kind {
    /// Its name on the command line.
    pub(crate) fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "pingan" => Self::Pingan,
            "node-red" | "nodered" => Self::NodeRed,
            "thingsboard" | "tb" => Self::Thingsboard,
            other => bail!("unknown gateway `{other}`: pingan, node-red or thingsboard"),
        })
    }

    /// Its short name in tables.
    pub(crate) fn label_short(self) -> &'static str {
        match self {
            Self::Pingan => "Pingan",
            Self::NodeRed => "Node-RED",
            Self::Thingsboard => "ThingsBoard",
        }
    }

    /// Its name and version in reports.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Pingan => "Pingan",
            Self::NodeRed => "Node-RED 5.0.7 + contrib-modbus 5.60.2",
            Self::Thingsboard => "ThingsBoard IoT Gateway 3.8.5",
        }
    }
}

/// What every gateway is pointed at.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// The simulator's TCP port.
    pub(crate) sim_port: u16,
    /// Mosquitto's port.
    pub(crate) mqtt_port: u16,
    /// Changing registers to read (0..registers).
    pub(crate) registers: u32,
    /// Where the peers are installed (`bench/peers`).
    pub(crate) peers: PathBuf,
    /// The release `pingan` binary.
    pub(crate) pingan: PathBuf,
}

/// A started gateway: killed by PID when dropped.
#[derive(Debug)]
pub(crate) struct Running {
    guard: Guard,
    /// Its files (config, data, log).
    pub(crate) dir: tempfile::TempDir,
}

impl Running {
    /// The PID of the gateway's top process.
    pub(crate) fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// Whether it is still running.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.guard.child.try_wait(), Ok(None))
    }

    /// Asks it to stop (SIGTERM), then kills it after a grace period.
    pub(crate) fn stop(mut self) {
        for pid in pingan_bench::procfs::tree(self.pid()).into_iter().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        if self.guard.wait_exit(Duration::from_secs(10)).is_none() {
            for pid in pingan_bench::procfs::tree(self.pid()) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }

    /// The last lines of its log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("gateway.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// Starts `kind` polling every `poll_ms`.
pub(crate) fn launch(kind: Kind, setup: &Setup, poll_ms: u64) -> anyhow::Result<Running> {
    let dir = tempfile::tempdir()?;
    let log = std::fs::File::create(dir.path().join("gateway.log"))?;
    let mut cmd = match kind {
        Kind::Pingan => pingan(setup, dir.path(), poll_ms)?,
        Kind::NodeRed => node_red(setup, dir.path(), poll_ms)?,
        Kind::Thingsboard => thingsboard(setup, dir.path(), poll_ms)?,
    };
    let child = cmd
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", kind.label()))?;
    Ok(Running {
        guard: Guard { child },
        dir,
    })
}

/// The Pingan profile: one room sensor per register pair.
fn pingan_profile(registers: u32, poll_ms: u64) -> String {
    let mut s = format!("name = \"bench_rooms\"\npoll_interval = \"{poll_ms}ms\"\n");
    for k in 0..registers / 2 {
        let _ = write!(
            s,
            "[[points]]\nname = \"t{k}\"\ntable = \"holding\"\naddress = {}\ntype = \"u16\"\nscale = 0.1\nmaps_to = \"environment.temperature\"\n\
             [[points]]\nname = \"h{k}\"\ntable = \"holding\"\naddress = {}\ntype = \"u16\"\nscale = 0.1\nmaps_to = \"environment.humidity\"\n",
            2 * k,
            2 * k + 1
        );
    }
    s
}

fn pingan(setup: &Setup, dir: &Path, poll_ms: u64) -> anyhow::Result<Command> {
    let pairs = setup.registers / 2;
    std::fs::write(
        dir.join("bench_rooms.toml"),
        pingan_profile(setup.registers, poll_ms),
    )?;
    let (mqtt, http) = (free_port(), free_port());
    let mut t = format!(
        "[site]\nid = \"bench\"\nname = \"Bench\"\nlocale = \"en\"\n\n[storage]\ndata_dir = \"{}\"\n\n\
         [mqtt]\nbind = \"127.0.0.1:{mqtt}\"\n\n[http]\nbind = \"127.0.0.1:{http}\"\n\n\
         [[uplinks]]\nid = \"bench\"\nurl = \"mqtt://127.0.0.1:{}\"\nclient_id = \"pingan-bench\"\ntelemetry_interval = \"1ms\"\n\n\
         [[floors]]\nid = \"1F\"\n\n\
         [[drivers]]\nid = \"mb\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"127.0.0.1:{}\"\ntimeout = \"2s\"\n\n\
         [[drivers.devices]]\ndevice = \"bench-1\"\nunit = 1\nprofile = \"bench_rooms.toml\"\n",
        dir.join("data").display(),
        setup.mqtt_port,
        setup.sim_port,
    );
    let channels: Vec<String> = (0..pairs)
        .map(|k| format!("t{k} = \"room-{k}\", h{k} = \"room-{k}\""))
        .collect();
    let _ = write!(t, "channels = {{ {} }}\n\n", channels.join(", "));
    t.push_str("[[rooms]]\nid = \"bus\"\nfloor = \"1F\"\n\n[[devices]]\nid = \"bench-1\"\nmodel = \"room_sensor\"\ndriver = \"mb\"\nroom = \"bus\"\n\n");
    for k in 0..pairs {
        let _ = write!(
            t,
            "[[rooms]]\nid = \"r{k}\"\nfloor = \"1F\"\n\n[[devices]]\nid = \"room-{k}\"\nmodel = \"room_sensor\"\ndriver = \"mb\"\nroom = \"r{k}\"\n\n"
        );
    }
    let config = dir.join("site.toml");
    std::fs::write(&config, t)?;
    let check = Command::new(&setup.pingan)
        .arg("check-config")
        .arg(&config)
        .output()
        .with_context(|| format!("running {}", setup.pingan.display()))?;
    if !check.status.success() {
        bail!(
            "site config rejected: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let mut cmd = Command::new(&setup.pingan);
    cmd.args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn");
    Ok(cmd)
}

fn node_red(setup: &Setup, dir: &Path, poll_ms: u64) -> anyhow::Result<Command> {
    let node = setup.peers.join("node_modules/node/bin/node");
    let red = setup.peers.join("node_modules/node-red/red.js");
    if !node.exists() || !red.exists() {
        bail!(
            "Node-RED is not installed in {}: run bench/peers/run.sh",
            setup.peers.display()
        );
    }
    let mut flow = vec![
        json!({"id": "tab", "type": "tab", "label": "bench"}),
        json!({
            "id": "client", "type": "modbus-client", "name": "sim", "clienttype": "tcp",
            "bufferCommands": true, "stateLogEnabled": false, "queueLogEnabled": false,
            "failureLogEnabled": true, "tcpHost": "127.0.0.1", "tcpPort": setup.sim_port.to_string(),
            "tcpType": "DEFAULT", "serialPort": "/dev/null", "serialType": "RTU-BUFFERD",
            "serialBaudrate": "9600", "serialDatabits": "8", "serialStopbits": "1",
            "serialParity": "none", "serialConnectionDelay": "100",
            "serialAsciiResponseStartDelimiter": "0x3A", "unit_id": 1, "commandDelay": 1,
            "clientTimeout": 2000, "reconnectOnTimeout": true, "reconnectTimeout": 2000,
            "parallelUnitIdsAllowed": true, "showErrors": false, "showWarnings": true,
            "showLogs": false
        }),
        json!({
            "id": "broker", "type": "mqtt-broker", "name": "mosquitto", "broker": "127.0.0.1",
            "port": setup.mqtt_port.to_string(), "clientid": "nodered-bench", "autoConnect": true,
            "usetls": false, "protocolVersion": "4", "keepalive": "60", "cleansession": true,
            "autoUnsubscribe": true
        }),
        json!({
            "id": "out", "type": "mqtt out", "z": "tab", "name": "", "topic": "", "qos": "0",
            "retain": "false", "broker": "broker", "wires": []
        }),
    ];
    let mut start = 0;
    while start < setup.registers {
        let quantity = BLOCK.min(setup.registers - start);
        flow.push(json!({
            "id": format!("read{start}"), "type": "modbus-read", "z": "tab",
            "name": format!("read {start}"), "topic": format!("nodered/bench/{start}"),
            "showStatusActivities": false, "logIOActivities": false, "showErrors": false,
            "showWarnings": false, "unitid": "1", "dataType": "HoldingRegister",
            "adr": start.to_string(), "quantity": quantity.to_string(),
            "rate": poll_ms.to_string(), "rateUnit": "ms", "delayOnStart": false,
            "enableDeformedMessages": false, "startDelayTime": "", "server": "client",
            "useIOFile": false, "ioFile": "", "useIOForPayload": false, "emptyMsgOnFail": false,
            "wires": [["out"], []]
        }));
        start += quantity;
    }
    std::fs::write(dir.join("flows.json"), serde_json::to_vec_pretty(&flow)?)?;
    let ui = free_port();
    let settings = format!(
        "module.exports = {{\n  uiHost: \"127.0.0.1\",\n  uiPort: {ui},\n  flowFile: \"flows.json\",\n  \
         credentialSecret: false,\n  telemetry: {{ enabled: false }},\n  \
         logging: {{ console: {{ level: \"warn\", metrics: false, audit: false }} }},\n}};\n"
    );
    std::fs::write(dir.join("settings.js"), settings)?;
    let mut cmd = Command::new(node);
    cmd.arg(red)
        .arg("--userDir")
        .arg(dir)
        .arg("--settings")
        .arg(dir.join("settings.js"));
    Ok(cmd)
}

fn thingsboard(setup: &Setup, dir: &Path, poll_ms: u64) -> anyhow::Result<Command> {
    let python = setup.peers.join(".venv-tb/bin/python");
    let launcher = setup.peers.join("tb_launch.py");
    if !python.exists() {
        bail!(
            "ThingsBoard IoT Gateway is not installed in {}: run bench/peers/run.sh",
            setup.peers.display()
        );
    }
    let config = dir.join("config");
    std::fs::create_dir_all(&config)?;
    std::fs::create_dir_all(dir.join("logs"))?;
    // The package's own config folder (logging, statistics) with our gateway and connector
    // files in place of its examples.
    let out = Command::new(&python)
        .args([
            "-c",
            "import os, thingsboard_gateway as t; print(os.path.join(os.path.dirname(t.__file__), 'config'))",
        ])
        .output()?;
    let shipped = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    for name in ["logs.json", "statistics.json", "list.json"] {
        std::fs::copy(shipped.join(name), config.join(name))
            .with_context(|| format!("copying {name} from {}", shipped.display()))?;
    }
    let gateway = json!({
        "thingsboard": {
            "host": "127.0.0.1", "port": setup.mqtt_port, "remoteShell": false,
            "remoteConfiguration": false, "latencyDebugMode": false,
            "statistics": {"enable": true, "statsSendPeriodInSeconds": 60,
                           "customStatsSendPeriodInSeconds": 3600},
            "deviceFiltering": {"enable": false, "filterFile": "list.json"},
            "maxPayloadSizeBytes": 8196, "minPackSendDelayMS": 50, "minPackSizeToSend": 500,
            "checkConnectorsConfigurationInSeconds": 60, "handleDeviceRenaming": true,
            "security": {"type": "accessToken", "accessToken": "bench"},
            "qos": 1, "reportStrategy": {"type": "ON_RECEIVED"},
            "checkingDeviceActivity": {"checkDeviceInactivity": false,
                "inactivityTimeoutSeconds": 300, "inactivityCheckPeriodSeconds": 10}
        },
        "storage": {"type": "memory", "read_records_count": 100, "max_records_count": 100_000},
        "grpc": {"enabled": false},
        "connectors": [{"type": "modbus", "name": "Modbus", "configuration": "modbus.json"}]
    });
    let modbus = json!({
        "master": {"slaves": [{
            "host": "127.0.0.1", "port": setup.sim_port, "type": "tcp", "method": "socket",
            "unitId": 1, "deviceName": "bench", "deviceType": "default", "timeout": 2,
            "byteOrder": "BIG", "wordOrder": "BIG", "retries": 1, "retryOnEmpty": true,
            "retryOnInvalid": true, "pollPeriod": poll_ms, "connectAttemptTimeMs": 5000,
            "connectAttemptCount": 5, "waitAfterFailedAttemptsMs": 30000,
            "attributes": [],
            "timeseries": [{
                "tag": "r${address}", "type": "16uint", "functionCode": 3, "objectsCount": 1,
                "address": format!("0-{}", setup.registers - 1),
                "maxRegistersPerRequest": BLOCK
            }],
            "attributeUpdates": [], "rpc": []
        }]}
    });
    std::fs::write(
        config.join("tb_gateway.json"),
        serde_json::to_vec_pretty(&gateway)?,
    )?;
    std::fs::write(
        config.join("modbus.json"),
        serde_json::to_vec_pretty(&modbus)?,
    )?;
    let mut cmd = Command::new(python);
    cmd.arg(launcher).arg(&config);
    Ok(cmd)
}
