//! Battery Level (0x2A19), GATT Specification Supplement: one uint8, 0–100 %, 101–255 reserved.

use serde::Serialize;

use crate::ble::error::DecodeError;
use crate::ble::reader::Reader;

const WHAT: &str = "battery level";

/// A decoded Battery Level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatteryLevel {
    /// Remaining charge, 0–100 %.
    pub battery_percent: u8,
}

/// Decodes a Battery Level.
pub fn decode(bytes: &[u8]) -> Result<BatteryLevel, DecodeError> {
    let mut r = Reader::new(WHAT, bytes);
    let battery_percent = r.u8()?;
    r.finish()?;
    if battery_percent > 100 {
        return Err(DecodeError::InvalidValue {
            what: WHAT,
            field: "level",
            value: battery_percent.into(),
            expected: "0-100",
        });
    }
    Ok(BatteryLevel { battery_percent })
}
