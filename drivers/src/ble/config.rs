//! Settings of a `driver = "ble"` instance: which devices to listen to (everything else is
//! ignored — residents' neighbours' phones are none of the gateway's business) and how hard to
//! try to reach them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::reading::DeviceId;

/// Settings of a `driver = "ble"` instance in the site config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BleConfig {
    /// Bluetooth adapter to use, e.g. `"hci0"`; the first adapter when absent.
    #[serde(default)]
    pub adapter: Option<String>,
    /// Replay recorded radio traffic from this JSONL file instead of using an adapter (demos and
    /// tests; relative to the config file). Lines: `{"t_ms", "address", "uuid", "hex"}`.
    #[serde(default)]
    pub replay: Option<PathBuf>,
    /// Most GATT connections held at once; further devices wait for a free slot.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// First delay before reconnecting to a device; doubles per failure up to `reconnect_max`.
    #[serde(default = "default_reconnect_min", with = "humantime_serde")]
    pub reconnect_min: Duration,
    /// Longest delay between reconnection attempts.
    #[serde(default = "default_reconnect_max", with = "humantime_serde")]
    pub reconnect_max: Duration,
    /// How often to retry opening the adapter when there is none (or bluetoothd is down).
    #[serde(default = "default_adapter_retry", with = "humantime_serde")]
    pub adapter_retry: Duration,
    /// A device not heard from (advertisement, notification or connection) for this long is
    /// reported offline.
    #[serde(default = "default_offline_after", with = "humantime_serde")]
    pub offline_after: Duration,
    /// At most one presence reading per beacon per this interval (beacons advertise many times a
    /// second).
    #[serde(default = "default_presence_interval", with = "humantime_serde")]
    pub presence_interval: Duration,
    /// The devices to listen to.
    #[serde(default)]
    pub devices: Vec<BleDeviceConfig>,
}

/// One BLE device of the site, matched by exactly one of `address`, `name` or `beacon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BleDeviceConfig {
    /// The device's id in readings and alerts, e.g. `"w-101a"`.
    pub id: DeviceId,
    /// Bluetooth address `AA:BB:CC:DD:EE:FF` (either case).
    #[serde(default)]
    pub address: Option<String>,
    /// Advertised local name, exactly (for devices with changing random addresses).
    #[serde(default)]
    pub name: Option<String>,
    /// Beacon identity: `ibeacon:<uuid>:<major>:<minor>` or `eddystone:<namespace>:<instance>`
    /// (as `pingan decode adv` prints it); presence readings carry the RSSI.
    #[serde(default)]
    pub beacon: Option<String>,
    /// Connect over GATT and subscribe to the characteristics the gateway decodes (wearables,
    /// cuffs, oximeters, thermometers, scales). `false` for advertising-only devices (BTHome
    /// sensors, beacons). Default: `true` for `address`/`name` devices, `false` for beacons.
    #[serde(default)]
    pub connect: Option<bool>,
}

impl BleDeviceConfig {
    /// Whether the gateway connects to this device.
    pub fn connects(&self) -> bool {
        self.connect.unwrap_or(self.beacon.is_none())
    }
}

fn default_max_connections() -> usize {
    4
}
fn default_reconnect_min() -> Duration {
    Duration::from_secs(2)
}
fn default_reconnect_max() -> Duration {
    Duration::from_secs(60)
}
fn default_adapter_retry() -> Duration {
    Duration::from_secs(30)
}
fn default_offline_after() -> Duration {
    Duration::from_secs(300)
}
fn default_presence_interval() -> Duration {
    Duration::from_secs(10)
}

impl Default for BleConfig {
    fn default() -> Self {
        Self {
            adapter: None,
            replay: None,
            max_connections: default_max_connections(),
            reconnect_min: default_reconnect_min(),
            reconnect_max: default_reconnect_max(),
            adapter_retry: default_adapter_retry(),
            offline_after: default_offline_after(),
            presence_interval: default_presence_interval(),
            devices: Vec::new(),
        }
    }
}

/// Normalises a Bluetooth address to upper case with colons; `None` if it is not one.
pub fn normalize_address(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.trim().split([':', '-']).collect();
    if parts.len() != 6
        || !parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_uppercase())
}

impl BleConfig {
    /// Checks what serde cannot: one match key per device, valid addresses, unique ids,
    /// sensible limits. The message names the device and the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("max_connections: must be at least 1".into());
        }
        if self.reconnect_min > self.reconnect_max {
            return Err("reconnect_min: must not exceed reconnect_max".into());
        }
        let mut ids = HashSet::new();
        for (i, d) in self.devices.iter().enumerate() {
            let at = format!("devices[{i}] (id {:?})", d.id.as_str());
            if !ids.insert(d.id.clone()) {
                return Err(format!("{at}: id: duplicate device id"));
            }
            let keys = [&d.address, &d.name, &d.beacon]
                .iter()
                .filter(|k| k.is_some())
                .count();
            if keys != 1 {
                return Err(format!(
                    "{at}: set exactly one of address, name or beacon (found {keys})"
                ));
            }
            if let Some(a) = d
                .address
                .as_ref()
                .filter(|a| normalize_address(a).is_none())
            {
                return Err(format!(
                    "{at}: address: {a:?} is not a Bluetooth address like AA:BB:CC:DD:EE:FF"
                ));
            }
            if let Some(b) = &d.beacon {
                if !(b.starts_with("ibeacon:") || b.starts_with("eddystone")) {
                    return Err(format!(
                        "{at}: beacon: {b:?} must start with ibeacon: or eddystone:"
                    ));
                }
                if d.connect == Some(true) {
                    return Err(format!("{at}: connect: beacons cannot be connected to"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_with_defaults_and_rejects_typos() {
        let c: BleConfig = toml::from_str(
            r#"
            max_connections = 2
            reconnect_min = "1s"
            [[devices]]
            id = "w-101a"
            address = "c0:ff:ee:00:00:01"
            [[devices]]
            id = "door-1"
            address = "C0:FF:EE:00:00:02"
            connect = false
            [[devices]]
            id = "tag-7"
            beacon = "ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:100:7"
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.reconnect_min, Duration::from_secs(1));
        assert_eq!(c.presence_interval, Duration::from_secs(10));
        assert!(c.devices[0].connects());
        assert!(!c.devices[1].connects());
        assert!(!c.devices[2].connects());
        assert!(toml::from_str::<BleConfig>("max_conections = 2").is_err());
    }

    #[test]
    fn validation_names_device_and_key() {
        let mut c = BleConfig::default();
        c.devices.push(BleDeviceConfig {
            id: "w-1".into(),
            address: Some("nope".into()),
            name: None,
            beacon: None,
            connect: None,
        });
        let e = c.validate().unwrap_err();
        assert!(e.contains("devices[0]") && e.contains("address"), "{e}");
        c.devices[0].address = None;
        assert!(c.validate().unwrap_err().contains("exactly one"));
    }

    #[test]
    fn addresses_normalise_to_upper_case() {
        assert_eq!(
            normalize_address("c0-ff-ee-00-00-0a").as_deref(),
            Some("C0:FF:EE:00:00:0A")
        );
        assert_eq!(normalize_address("C0:FF:EE:00:00"), None);
    }

    #[test]
    fn driver_registry_selects_ble_by_tag() {
        #[derive(Debug, Deserialize)]
        struct Site {
            drivers: Vec<crate::DriverConfig>,
        }
        let site: Site = toml::from_str(
            r#"
            [[drivers]]
            driver = "ble"
            adapter = "hci0"
            [[drivers.devices]]
            id = "p-7"
            name = "PA-Pendant-7"
            connect = false
            "#,
        )
        .unwrap();
        let [crate::DriverConfig::Ble(ble)] = site.drivers.as_slice() else {
            panic!("expected one ble driver: {:?}", site.drivers);
        };
        assert_eq!(ble.adapter.as_deref(), Some("hci0"));
        assert_eq!(ble.devices[0].name.as_deref(), Some("PA-Pendant-7"));
        assert_eq!(site.drivers[0].kind(), "ble");
    }
}
