//! Settings of a `driver = "modbus"` instance: one RTU bus (a serial port) or one TCP host, and
//! the devices on it.
//!
//! ```toml
//! [[drivers]]
//! driver = "modbus"
//! transport = "rtu"
//! path = "/dev/ttyUSB0"
//! baud = 9600
//! [[drivers.devices]]
//! device = "smoke-2f"
//! unit = 3
//! profile = "smoke_detector"
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::library;
use super::location::ProfileError;
use super::profile::Profile;
use crate::reading::DeviceId;

/// How the gateway reaches the devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Modbus TCP (`host = "HOST:PORT"`); any number of devices, polled concurrently.
    Tcp,
    /// Modbus RTU on a serial line (`path`, `baud`, ...); one request at a time on the bus.
    Rtu,
}

/// Serial parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    /// No parity bit (the usual 8N1).
    #[default]
    None,
    /// Even parity (8E1, the Modbus specification's default).
    Even,
    /// Odd parity.
    Odd,
}

/// Settings of a `driver = "modbus"` instance (its own fields; the instance `id` and the
/// `driver` tag belong to the site config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModbusConfig {
    /// `tcp` or `rtu`.
    pub transport: TransportKind,
    /// TCP only: `HOST:PORT` of the device or of a TCP-to-RTU gateway.
    #[serde(default)]
    pub host: Option<String>,
    /// RTU only: the serial device, e.g. `/dev/ttyUSB0`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// RTU only: baud rate, e.g. 9600.
    #[serde(default)]
    pub baud: Option<u32>,
    /// RTU only: parity, `none` (default), `even` or `odd`.
    #[serde(default)]
    pub parity: Parity,
    /// RTU only: stop bits, 1 (default) or 2.
    #[serde(default = "default_stop_bits")]
    pub stop_bits: u8,
    /// TCP only: poll every device over one connection, one request at a time, for TCP-to-RTU
    /// gateways that accept few connections (default: one connection per device, concurrent).
    #[serde(default)]
    pub shared_connection: bool,
    /// Time to wait for each answer before counting the request as failed.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Extra attempts of a request that got no answer, within one poll.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Failed polls in a row after which a device is reported offline.
    #[serde(default = "default_offline_after")]
    pub offline_after: u32,
    /// Longest wait between polls of an offline device (backoff doubles up to this).
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub max_backoff: Duration,
    /// How often an unchanged state (door, smoke, ...) is sent again.
    #[serde(default = "default_state_refresh", with = "humantime_serde")]
    pub state_refresh: Duration,
    /// The devices on this bus or host.
    pub devices: Vec<ModbusDeviceConfig>,
}

/// One device (`[[drivers.devices]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModbusDeviceConfig {
    /// The device id used in readings, alerts and the facility config.
    pub device: DeviceId,
    /// Modbus unit (slave) id: 1..=247 on RTU; on TCP what the device or gateway expects.
    pub unit: u8,
    /// A built-in profile name (`smoke_detector`) or a path to a profile file, relative to the
    /// config file.
    pub profile: String,
    /// Overrides the profile's poll interval.
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    /// Sends the readings of some points under other device ids: point name → device id
    /// (one door or bed per input of a multi-channel module).
    #[serde(default)]
    pub channels: BTreeMap<String, DeviceId>,
}

fn default_stop_bits() -> u8 {
    1
}
fn default_timeout() -> Duration {
    Duration::from_millis(500)
}
fn default_retries() -> u32 {
    1
}
fn default_offline_after() -> u32 {
    3
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(60)
}
fn default_state_refresh() -> Duration {
    super::mapping::DEFAULT_STATE_REFRESH
}

/// Why a Modbus driver config cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModbusConfigError {
    /// A profile does not load.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A setting is wrong; `key` is its path inside the driver instance.
    #[error("{key}: {message}")]
    Invalid {
        /// E.g. `devices[1].unit`.
        key: String,
        /// What was expected.
        message: String,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ModbusConfigError {
    ModbusConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// A device with its profile loaded.
#[derive(Debug, Clone)]
pub struct ResolvedDevice {
    /// Its settings.
    pub config: ModbusDeviceConfig,
    /// Its profile.
    pub profile: Profile,
    /// The effective poll interval.
    pub poll_interval: Duration,
}

impl ModbusConfig {
    /// Checks the settings and loads every profile (paths relative to `base`, the directory of
    /// the config file). `pingan check-config` calls this.
    pub fn resolve(&self, base: Option<&Path>) -> Result<Vec<ResolvedDevice>, ModbusConfigError> {
        match self.transport {
            TransportKind::Tcp => {
                let Some(host) = &self.host else {
                    return Err(invalid(
                        "host",
                        "expected \"HOST:PORT\" for transport = \"tcp\"",
                    ));
                };
                if host
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u16>().ok())
                    .is_none()
                {
                    return Err(invalid(
                        "host",
                        "expected \"HOST:PORT\", e.g. \"10.0.0.5:502\"",
                    ));
                }
                if self.path.is_some() || self.baud.is_some() {
                    return Err(invalid(
                        "path",
                        "serial settings only apply to transport = \"rtu\"",
                    ));
                }
            }
            TransportKind::Rtu => {
                if self.path.is_none() {
                    return Err(invalid(
                        "path",
                        "expected the serial device, e.g. \"/dev/ttyUSB0\"",
                    ));
                }
                if !matches!(self.baud, Some(b) if b > 0) {
                    return Err(invalid("baud", "expected a baud rate, e.g. 9600"));
                }
                if self.host.is_some() {
                    return Err(invalid(
                        "host",
                        "`host` only applies to transport = \"tcp\"",
                    ));
                }
            }
        }
        if !matches!(self.stop_bits, 1 | 2) {
            return Err(invalid("stop_bits", "expected 1 or 2"));
        }
        if self.timeout.is_zero() {
            return Err(invalid("timeout", "expected a non-zero duration"));
        }
        if self.devices.is_empty() {
            return Err(invalid(
                "devices",
                "expected at least one [[drivers.devices]]",
            ));
        }
        let mut ids = HashSet::new();
        let mut units = HashSet::new();
        let mut out = Vec::with_capacity(self.devices.len());
        for (i, d) in self.devices.iter().enumerate() {
            let key = |k: &str| format!("devices[{i}].{k}");
            if !ids.insert(d.device.clone()) {
                return Err(invalid(
                    key("device"),
                    format!("duplicate device id `{}`", d.device),
                ));
            }
            if self.transport == TransportKind::Rtu {
                if !(1..=247).contains(&d.unit) {
                    return Err(invalid(key("unit"), "expected 1..=247 on an RTU bus"));
                }
                if !units.insert(d.unit) {
                    return Err(invalid(
                        key("unit"),
                        format!("unit {} is used twice on this bus", d.unit),
                    ));
                }
            }
            let profile = library::load(&d.profile, base)?;
            for name in d.channels.keys() {
                if profile.point(name).is_none() {
                    return Err(invalid(
                        key("channels"),
                        format!("profile `{}` has no point `{name}`", profile.name),
                    ));
                }
            }
            let mut targets = HashSet::new();
            for p in &profile.points {
                let Some(t) = p.maps_to.filter(|t| t.is_numeric()) else {
                    continue;
                };
                let to = d.channels.get(&p.name).unwrap_or(&d.device);
                if !targets.insert((to.clone(), t)) {
                    return Err(invalid(
                        key("channels"),
                        format!(
                            "two points of profile `{}` feed the same number of device `{to}` \
                             (point `{}`): give them distinct channels",
                            profile.name, p.name
                        ),
                    ));
                }
            }
            let poll_interval = d.poll_interval.unwrap_or(profile.poll_interval);
            if poll_interval.is_zero() {
                return Err(invalid(
                    key("poll_interval"),
                    "expected a non-zero duration",
                ));
            }
            out.push(ResolvedDevice {
                config: d.clone(),
                profile,
                poll_interval,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ModbusConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn rtu_bus_with_devices_parses_and_resolves() {
        let c = parse(
            r#"
transport = "rtu"
path = "/dev/ttyUSB0"
baud = 9600
parity = "even"
timeout = "300ms"
[[devices]]
device = "smoke-2f"
unit = 3
profile = "smoke_detector"
[[devices]]
device = "di-1"
unit = 4
profile = "door_inputs"
poll_interval = "1s"
channels = { in1 = "door-101" }
"#,
        )
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(300));
        let devices = c.resolve(None).unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[1].poll_interval, Duration::from_secs(1));
    }

    #[test]
    fn typos_and_bad_settings_are_rejected_with_their_key() {
        assert!(parse("transport = \"tcp\"\nhots = \"x:1\"\ndevices = []").is_err());
        let c = parse(
            "transport = \"rtu\"\npath = \"/dev/x\"\nbaud = 9600\n[[devices]]\ndevice = \"a\"\nunit = 0\nprofile = \"room_th\"",
        )
        .unwrap();
        assert_eq!(
            c.resolve(None).unwrap_err().to_string(),
            "devices[0].unit: expected 1..=247 on an RTU bus"
        );
        let c = parse(
            "transport = \"tcp\"\nhost = \"h:502\"\n[[devices]]\ndevice = \"a\"\nunit = 1\nprofile = \"room_th\"\nchannels = { nope = \"x\" }",
        )
        .unwrap();
        assert!(
            c.resolve(None)
                .unwrap_err()
                .to_string()
                .starts_with("devices[0].channels")
        );
        let c = parse(
            "transport = \"tcp\"\nhost = \"h:502\"\n[[devices]]\ndevice = \"a\"\nunit = 1\nprofile = \"no_such\"",
        )
        .unwrap();
        assert!(matches!(
            c.resolve(None),
            Err(ModbusConfigError::Profile(_))
        ));
    }

    #[test]
    fn repeated_numbers_need_distinct_channels() {
        let dir = tempfile::tempdir().unwrap();
        let mut profile = String::from("name = \"two_rooms\"\n");
        for (i, (name, target)) in [
            ("t1", "environment.temperature"),
            ("h1", "environment.humidity"),
            ("t2", "environment.temperature"),
            ("h2", "environment.humidity"),
        ]
        .iter()
        .enumerate()
        {
            profile.push_str(&format!(
                "[[points]]\nname = \"{name}\"\ntable = \"input\"\naddress = {i}\ntype = \"i16\"\nmaps_to = \"{target}\"\n"
            ));
        }
        std::fs::write(dir.path().join("two.toml"), profile).unwrap();
        let config = |channels: &str| {
            parse(&format!(
                "transport = \"tcp\"\nhost = \"h:502\"\n[[devices]]\ndevice = \"m\"\nunit = 1\nprofile = \"two.toml\"\nchannels = {{ {channels} }}\n"
            ))
            .unwrap()
        };
        let e = config("")
            .resolve(Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("same number of device `m`"), "{e}");
        let ok = config("t2 = \"r2\", h2 = \"r2\"").resolve(Some(dir.path()));
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn driver_registry_selects_modbus_by_its_tag() {
        let c: crate::DriverConfig = toml::from_str(
            "driver = \"modbus\"\ntransport = \"tcp\"\nhost = \"10.0.0.5:502\"\n\
             [[devices]]\ndevice = \"co2-lounge\"\nunit = 1\nprofile = \"co2_sensor\"\n",
        )
        .unwrap();
        assert_eq!(c.kind(), "modbus");
        let crate::DriverConfig::Modbus(m) = c else {
            panic!("modbus expected")
        };
        assert_eq!(m.resolve(None).unwrap()[0].profile.name, "co2_sensor");
    }
}
