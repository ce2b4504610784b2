//! iBeacon frames (Apple "Proximity Beacon Specification" R1): manufacturer data of company
//! 0x004C starting `02 15`, then a 16-byte proximity UUID, major and minor (big-endian u16) and the
//! calibrated RSSI at 1 m (i8).

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::gatt::dashed_uuid;
use crate::ble::reader::Reader;

/// Apple's company identifier.
pub const APPLE: u16 = 0x004C;
const WHAT: &str = "ibeacon";

/// A decoded iBeacon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IBeacon {
    /// Proximity UUID (dashed, lower case).
    pub uuid: String,
    /// Major number (e.g. a floor or wing).
    pub major: u16,
    /// Minor number (e.g. a room).
    pub minor: u16,
    /// Calibrated RSSI at 1 m.
    pub measured_power_dbm: i8,
}

impl IBeacon {
    /// The identity used for presence readings: `ibeacon:<uuid>:<major>:<minor>`.
    pub fn beacon_id(&self) -> String {
        format!("ibeacon:{}:{}:{}", self.uuid, self.major, self.minor)
    }
}

/// Decodes Apple manufacturer data; `Ok(None)` for Apple adverts that are not iBeacons.
pub fn decode(data: &[u8]) -> Result<Option<IBeacon>, DecodeError> {
    if !data.starts_with(&[0x02, 0x15]) {
        return Ok(None);
    }
    let mut r = Reader::new(WHAT, data);
    r.require(23)?;
    r.take(2)?;
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(r.take(16)?);
    let major = r.u16_be()?;
    let minor = r.u16_be()?;
    let measured_power_dbm = r.i8()?;
    r.finish()?;
    let uuid = u128::from_be_bytes(uuid);
    Ok(Some(IBeacon {
        uuid: dashed_uuid(uuid),
        major,
        minor,
        measured_power_dbm,
    }))
}
