//! Eddystone frames (google/eddystone protocol specification): service data of 0xFEAA whose
//! first byte is the frame type: 0x00 UID, 0x10 URL, 0x20 TLM, 0x30 EID.
//!
//! ```text
//! UID  tx power i8 · namespace (10) · instance (6) · 2 reserved bytes (optional, 0)
//! URL  tx power i8 · scheme u8 · encoded URL (1–17)
//! TLM  version u8 (0 = plain) · battery mV u16 BE (0 = unsupported) ·
//!      temperature 8.8 fixed point BE (0x8000 = unsupported) · adverts u32 BE · uptime u32 BE (0.1 s)
//! EID  tx power i8 · ephemeral id (8)
//! ```

use serde::Serialize;

use super::to_hex;
use crate::ble::error::DecodeError;
use crate::ble::reader::Reader;

/// The Eddystone service UUID (16-bit).
pub const SERVICE: u16 = 0xFEAA;
const WHAT: &str = "eddystone";

const SCHEMES: [&str; 4] = ["http://www.", "https://www.", "http://", "https://"];
const EXPANSIONS: [&str; 14] = [
    ".com/", ".org/", ".edu/", ".net/", ".info/", ".biz/", ".gov/", ".com", ".org", ".edu", ".net",
    ".info", ".biz", ".gov",
];

/// A decoded Eddystone frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "frame", rename_all = "snake_case")]
pub enum Eddystone {
    /// A fixed beacon identity.
    Uid {
        /// Calibrated TX power at 0 m.
        tx_power_dbm: i8,
        /// 10-byte namespace, hex.
        namespace: String,
        /// 6-byte instance, hex.
        instance: String,
    },
    /// A URL.
    Url {
        /// Calibrated TX power at 0 m.
        tx_power_dbm: i8,
        /// The expanded URL.
        url: String,
    },
    /// Telemetry of the beacon itself.
    Tlm {
        /// Battery voltage in mV; `None` when unsupported.
        battery_mv: Option<u16>,
        /// Beacon temperature in °C; `None` when unsupported.
        temperature_c: Option<f64>,
        /// Advertisements sent since power-up.
        adv_count: u32,
        /// Time since power-up in seconds.
        uptime_s: f64,
    },
    /// An ephemeral (rotating) identity.
    Eid {
        /// Calibrated TX power at 0 m.
        tx_power_dbm: i8,
        /// 8-byte ephemeral id, hex.
        eid: String,
    },
}

impl Eddystone {
    /// The identity used for presence readings (`eddystone:<namespace>:<instance>` or
    /// `eddystone-eid:<eid>`); `None` for frames that carry no identity.
    pub fn beacon_id(&self) -> Option<String> {
        match self {
            Self::Uid {
                namespace,
                instance,
                ..
            } => Some(format!("eddystone:{namespace}:{instance}")),
            Self::Eid { eid, .. } => Some(format!("eddystone-eid:{eid}")),
            Self::Url { url, .. } => Some(format!("eddystone-url:{url}")),
            Self::Tlm { .. } => None,
        }
    }

    /// The calibrated TX power, when the frame has one.
    pub fn tx_power_dbm(&self) -> Option<i8> {
        match self {
            Self::Uid { tx_power_dbm, .. }
            | Self::Url { tx_power_dbm, .. }
            | Self::Eid { tx_power_dbm, .. } => Some(*tx_power_dbm),
            Self::Tlm { .. } => None,
        }
    }
}

/// Decodes Eddystone service data.
pub fn decode(data: &[u8]) -> Result<Eddystone, DecodeError> {
    let mut r = Reader::new(WHAT, data);
    let frame = r.u8()?;
    match frame {
        0x00 => {
            r.require(18)?;
            let tx_power_dbm = r.i8()?;
            let namespace = to_hex(r.take(10)?);
            let instance = to_hex(r.take(6)?);
            // The two reserved bytes are often left out; when present they must be zero.
            if r.remaining() > 0 {
                let rfu = r.take(r.remaining().min(2))?;
                if rfu.iter().any(|b| *b != 0) {
                    return Err(DecodeError::InvalidValue {
                        what: WHAT,
                        field: "UID reserved bytes",
                        value: u64::from(rfu.first().copied().unwrap_or(0)),
                        expected: "0",
                    });
                }
            }
            r.finish()?;
            Ok(Eddystone::Uid {
                tx_power_dbm,
                namespace,
                instance,
            })
        }
        0x10 => {
            r.require(4)?;
            let tx_power_dbm = r.i8()?;
            let scheme = r.u8()?;
            let mut url = SCHEMES
                .get(usize::from(scheme))
                .ok_or(DecodeError::InvalidValue {
                    what: WHAT,
                    field: "URL scheme",
                    value: scheme.into(),
                    expected: "0-3",
                })?
                .to_string();
            if r.remaining() > 17 {
                return Err(DecodeError::TrailingBytes {
                    what: WHAT,
                    len: data.len(),
                    flags: None,
                    max: 20,
                });
            }
            for &b in r.take(r.remaining())? {
                match b {
                    0x00..=0x0D => url.push_str(EXPANSIONS.get(usize::from(b)).unwrap_or(&"")),
                    0x21..=0x7E => url.push(char::from(b)),
                    _ => {
                        return Err(DecodeError::InvalidValue {
                            what: WHAT,
                            field: "URL character",
                            value: b.into(),
                            expected: "printable ASCII or an expansion code 0x00-0x0d",
                        });
                    }
                }
            }
            Ok(Eddystone::Url { tx_power_dbm, url })
        }
        0x20 => {
            let version = r.u8()?;
            if version != 0 {
                return Err(DecodeError::Unsupported {
                    what: WHAT,
                    detail: format!("TLM version {version} (encrypted TLM is not supported)"),
                });
            }
            r.require(14)?;
            let mv = r.u16_be()?;
            let t = r.i16_be()?;
            let adv_count = r.u32_be()?;
            let uptime = r.u32_be()?;
            r.finish()?;
            Ok(Eddystone::Tlm {
                battery_mv: (mv != 0).then_some(mv),
                temperature_c: (t != i16::MIN).then(|| f64::from(t) / 256.0),
                adv_count,
                uptime_s: f64::from(uptime) / 10.0,
            })
        }
        0x30 => {
            r.require(10)?;
            let tx_power_dbm = r.i8()?;
            let eid = to_hex(r.take(8)?);
            r.finish()?;
            Ok(Eddystone::Eid { tx_power_dbm, eid })
        }
        other => Err(DecodeError::Unsupported {
            what: WHAT,
            detail: format!("frame type 0x{other:02x}"),
        }),
    }
}
