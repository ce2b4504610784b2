//! The validated form of a device profile: what to read, how to decode it and which
//! [`Measurement`](crate::Measurement) each point feeds. Parsing and validation live in
//! [`super::parse`]; this module only holds the types.
//!
//! Addresses are **0-based protocol addresses** (the number sent on the wire), not the
//! "40001"-style register numbers some manuals print.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Largest number of registers one read may ask for (Modbus application protocol, FC 3/4).
pub const MAX_REGISTERS_PER_READ: u16 = 125;
/// Largest number of coils or discrete inputs one read may ask for (FC 1/2).
pub const MAX_BITS_PER_READ: u16 = 2000;

/// One of the four Modbus data tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Read/write single bits (FC 1, 5, 15).
    Coil,
    /// Read-only single bits (FC 2).
    Discrete,
    /// Read-only 16-bit registers (FC 4).
    Input,
    /// Read/write 16-bit registers (FC 3, 6, 16).
    Holding,
}

impl Table {
    /// Whether the table holds bits rather than 16-bit registers.
    pub fn is_bits(self) -> bool {
        matches!(self, Self::Coil | Self::Discrete)
    }

    /// The largest read of this table in one request.
    pub fn max_read(self) -> u16 {
        if self.is_bits() {
            MAX_BITS_PER_READ
        } else {
            MAX_REGISTERS_PER_READ
        }
    }

    /// The name used in profiles.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coil => "coil",
            Self::Discrete => "discrete",
            Self::Input => "input",
            Self::Holding => "holding",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a point's raw bits are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// Unsigned 16-bit register.
    U16,
    /// Signed (two's complement) 16-bit register.
    I16,
    /// Unsigned 32-bit value in two registers.
    U32,
    /// Signed 32-bit value in two registers.
    I32,
    /// IEEE-754 single precision in two registers.
    F32,
    /// One bit: a coil, a discrete input, or bit `bit` of a register.
    Bool,
    /// A status register whose `alarm_bits` say "active" when any of them is set.
    Bits,
}

impl DataType {
    /// Registers occupied (1 for bits in coil/discrete tables, which count in bits).
    pub fn width(self) -> u16 {
        match self {
            Self::U32 | Self::I32 | Self::F32 => 2,
            _ => 1,
        }
    }

    /// Whether the decoded value is a number (as opposed to a boolean).
    pub fn is_numeric(self) -> bool {
        !matches!(self, Self::Bool | Self::Bits)
    }
}

/// Byte order of a value across its registers: `A` is the most significant byte.
///
/// Only 32-bit types use the word part (`CDAB`, `DCBA`); 16-bit types accept `ABCD` (as sent)
/// and `BADC` (bytes swapped within the register).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum WordOrder {
    /// Big-endian: high word first, high byte first (the Modbus default).
    #[default]
    #[serde(rename = "ABCD")]
    Abcd,
    /// Low word first, high byte first ("word swap").
    #[serde(rename = "CDAB")]
    Cdab,
    /// High word first, low byte first ("byte swap").
    #[serde(rename = "BADC")]
    Badc,
    /// Little-endian: low word first, low byte first.
    #[serde(rename = "DCBA")]
    Dcba,
}

impl WordOrder {
    /// Every order, for tests and docs.
    pub const ALL: [WordOrder; 4] = [Self::Abcd, Self::Cdab, Self::Badc, Self::Dcba];

    /// Whether the order swaps the two registers of a 32-bit value.
    pub fn swaps_words(self) -> bool {
        matches!(self, Self::Cdab | Self::Dcba)
    }

    /// Whether the order swaps the two bytes inside each register.
    pub fn swaps_bytes(self) -> bool {
        matches!(self, Self::Badc | Self::Dcba)
    }
}

/// The part of a [`Measurement`](crate::Measurement) a point feeds (`maps_to` in a profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Target {
    /// `Environment.temperature`, °C.
    #[serde(rename = "environment.temperature")]
    Temperature,
    /// `Environment.humidity`, % RH.
    #[serde(rename = "environment.humidity")]
    Humidity,
    /// `Environment.co2`, ppm.
    #[serde(rename = "environment.co2")]
    Co2,
    /// `Smoke.alarm`; several points are OR-ed.
    #[serde(rename = "smoke.alarm")]
    SmokeAlarm,
    /// `Gas.alarm`; several points are OR-ed.
    #[serde(rename = "gas.alarm")]
    GasAlarm,
    /// `Gas.ppm`.
    #[serde(rename = "gas.ppm")]
    GasPpm,
    /// `Door.open`.
    #[serde(rename = "door.open")]
    DoorOpen,
    /// `WaterLeak.wet`; several points are OR-ed.
    #[serde(rename = "water_leak.wet")]
    WaterLeakWet,
    /// `BedOccupancy.in_bed`.
    #[serde(rename = "bed_occupancy.in_bed")]
    InBed,
    /// `BedOccupancy.heart_rate`, bpm.
    #[serde(rename = "bed_occupancy.heart_rate")]
    BedHeartRate,
    /// `BedOccupancy.respiration_rate`, breaths/min.
    #[serde(rename = "bed_occupancy.respiration_rate")]
    BedRespirationRate,
    /// `Button{Sos}` on each rising edge.
    #[serde(rename = "button.sos")]
    ButtonSos,
    /// `Button{Cancel}` on each rising edge.
    #[serde(rename = "button.cancel")]
    ButtonCancel,
    /// `Battery.percent`.
    #[serde(rename = "battery.percent")]
    BatteryPercent,
    /// Not a measurement: the device reports a fault, so its health becomes degraded.
    #[serde(rename = "health.fault")]
    Fault,
}

impl Target {
    /// Whether the target takes a number (otherwise a boolean).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Temperature
                | Self::Humidity
                | Self::Co2
                | Self::GasPpm
                | Self::BedHeartRate
                | Self::BedRespirationRate
                | Self::BatteryPercent
        )
    }
}

/// One named value of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Name, unique in the profile; the key in `pingan modbus probe` output.
    pub name: String,
    /// The table it lives in.
    pub table: Table,
    /// 0-based protocol address of its first register or bit.
    pub address: u16,
    /// How to interpret it.
    pub data_type: DataType,
    /// Byte order across its registers.
    pub order: WordOrder,
    /// For `bool` points in register tables: which bit (0 = least significant).
    pub bit: Option<u8>,
    /// For `bits` points: the alarm bits as a mask.
    pub alarm_mask: u16,
    /// Engineering value = raw × scale + offset.
    pub scale: f64,
    /// See `scale`.
    pub offset: f64,
    /// Unit of the engineering value, for people (`"°C"`).
    pub unit: Option<String>,
    /// Boolean points: true when the raw bit is 0 (normally-closed contacts).
    pub invert: bool,
    /// The measurement this point feeds, if any.
    pub maps_to: Option<Target>,
}

impl Point {
    /// Registers (or bits, in coil/discrete tables) the point spans.
    pub fn width(&self) -> u16 {
        if self.table.is_bits() {
            1
        } else {
            self.data_type.width()
        }
    }

    /// The bits of each register the point claims, for overlap checks: a bit point claims one
    /// bit, a `bits` point its alarm bits, everything else the whole register.
    pub fn claimed_mask(&self) -> u16 {
        match (self.data_type, self.bit) {
            (DataType::Bool, Some(bit)) => 1u16.checked_shl(u32::from(bit)).unwrap_or(0),
            (DataType::Bits, _) => self.alarm_mask,
            _ => u16::MAX,
        }
    }
}

/// A write a profile offers (silence a sounder, reset an alarm).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// `coil` (FC 5) or `holding` (FC 6 for one value, FC 16 for several).
    pub table: Table,
    /// 0-based protocol address.
    pub address: u16,
    /// Values written, one per register (coils: 0 or 1).
    pub values: Vec<u16>,
    /// What it does, for people.
    pub description: Option<String>,
}

/// A validated device profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Profile name (the file stem for the built-in library).
    pub name: String,
    /// What device it describes.
    pub description: Option<String>,
    /// How often the device is read unless the device config says otherwise.
    pub poll_interval: Duration,
    /// Largest run of unused registers/bits bridged when merging neighbouring points.
    pub max_gap: u16,
    /// The points, in file order.
    pub points: Vec<Point>,
    /// Named writes.
    pub commands: BTreeMap<String, Command>,
    /// The profile's test case: a device's tables and the values the profile must decode.
    pub example: Option<Example>,
}

/// A profile's test case (`[example]`): table contents and the expected decoded values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Example {
    /// Coils by address.
    pub coil: BTreeMap<u16, bool>,
    /// Discrete inputs by address.
    pub discrete: BTreeMap<u16, bool>,
    /// Input registers by address.
    pub input: BTreeMap<u16, u16>,
    /// Holding registers by address.
    pub holding: BTreeMap<u16, u16>,
    /// Expected decoded values by point name (numbers or booleans).
    pub expect: BTreeMap<String, serde_json::Value>,
}

impl Profile {
    /// The point named `name`.
    pub fn point(&self, name: &str) -> Option<&Point> {
        self.points.iter().find(|p| p.name == name)
    }
}
