//! IEEE 11073-20601 numbers and the GATT Date Time, as the Bluetooth SIG health profiles carry
//! them.
//!
//! SFLOAT is 16 bits: a 4-bit two's-complement exponent (high nibble) and a 12-bit two's-complement
//! mantissa. FLOAT is 32 bits: an 8-bit exponent (high byte) and a 24-bit mantissa. The value is
//! `mantissa × 10^exponent`. Five mantissas are special values, but only when the exponent is 0:
//! NaN (0x07FF / 0x007FFFFF), NRes (0x0800 / 0x00800000), +INF (0x07FE / 0x007FFFFE),
//! -INF (0x0802 / 0x00800002) and a reserved value (0x0801 / 0x00800001). With any other exponent
//! those mantissas are ordinary numbers.

use serde::{Serialize, Serializer};

use super::error::DecodeError;
use super::reader::Reader;

/// The reserved special value (mantissa 0x0801 / 0x00800001 at exponent 0): no meaning is
/// defined, so it cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the reserved IEEE-11073 special value")]
pub struct ReservedSpecial;

/// An IEEE-11073 number: exact mantissa and exponent, or one of the special values.
///
/// Serializes as a JSON number, or as `"NaN"`, `"NRes"`, `"+INF"`, `"-INF"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MedFloat {
    /// `mantissa × 10^exponent`.
    Value {
        /// Signed mantissa (12 bits for SFLOAT, 24 bits for FLOAT).
        mantissa: i32,
        /// Signed power of ten (4 bits for SFLOAT, 8 bits for FLOAT).
        exponent: i8,
    },
    /// Not a number (the device has no valid value).
    NaN,
    /// Not at this resolution: the value cannot be represented with the available precision.
    NRes,
    /// Positive infinity (above the device's range).
    PosInf,
    /// Negative infinity (below the device's range).
    NegInf,
}

/// The raw-mantissa value of each special value at exponent 0, for SFLOAT and FLOAT.
enum Special {
    NaN,
    NRes,
    PosInf,
    NegInf,
    Reserved,
}

impl MedFloat {
    /// Decodes a 16-bit SFLOAT.
    pub fn from_sfloat(raw: u16) -> Result<Self, ReservedSpecial> {
        let exponent = sign_extend(u32::from(raw >> 12), 4);
        let mantissa_bits = u32::from(raw & 0x0FFF);
        if exponent == 0 {
            let special = match mantissa_bits {
                0x07FF => Some(Special::NaN),
                0x0800 => Some(Special::NRes),
                0x07FE => Some(Special::PosInf),
                0x0802 => Some(Special::NegInf),
                0x0801 => Some(Special::Reserved),
                _ => None,
            };
            if let Some(s) = special {
                return Self::special(s);
            }
        }
        Ok(Self::Value {
            mantissa: sign_extend(mantissa_bits, 12),
            exponent: i8::try_from(exponent).unwrap_or(0),
        })
    }

    /// Decodes a 32-bit FLOAT.
    pub fn from_float(raw: u32) -> Result<Self, ReservedSpecial> {
        let exponent = sign_extend(raw >> 24, 8);
        let mantissa_bits = raw & 0x00FF_FFFF;
        if exponent == 0 {
            let special = match mantissa_bits {
                0x007F_FFFF => Some(Special::NaN),
                0x0080_0000 => Some(Special::NRes),
                0x007F_FFFE => Some(Special::PosInf),
                0x0080_0002 => Some(Special::NegInf),
                0x0080_0001 => Some(Special::Reserved),
                _ => None,
            };
            if let Some(s) = special {
                return Self::special(s);
            }
        }
        Ok(Self::Value {
            mantissa: sign_extend(mantissa_bits, 24),
            exponent: i8::try_from(exponent).unwrap_or(0),
        })
    }

    fn special(s: Special) -> Result<Self, ReservedSpecial> {
        match s {
            Special::NaN => Ok(Self::NaN),
            Special::NRes => Ok(Self::NRes),
            Special::PosInf => Ok(Self::PosInf),
            Special::NegInf => Ok(Self::NegInf),
            Special::Reserved => Err(ReservedSpecial),
        }
    }

    /// Encodes as SFLOAT; `None` when the mantissa or exponent does not fit 12/4 bits or the value
    /// would read back as a special value. The inverse of [`MedFloat::from_sfloat`].
    pub fn to_sfloat(self) -> Option<u16> {
        let raw = match self {
            Self::NaN => 0x07FF,
            Self::NRes => 0x0800,
            Self::PosInf => 0x07FE,
            Self::NegInf => 0x0802,
            Self::Value { mantissa, exponent } => {
                if !(-2048..=2047).contains(&mantissa) || !(-8..=7).contains(&exponent) {
                    return None;
                }
                let e = u16::from(exponent.to_le_bytes()[0] & 0x0F);
                let m = u16::from_le_bytes(mantissa.to_le_bytes()[..2].try_into().ok()?) & 0x0FFF;
                if exponent == 0 && matches!(m, 0x07FE..=0x0802) {
                    return None;
                }
                (e << 12) | m
            }
        };
        Some(raw)
    }

    /// Encodes as FLOAT; `None` when the mantissa does not fit 24 bits or the value would read
    /// back as a special value. The inverse of [`MedFloat::from_float`].
    pub fn to_float(self) -> Option<u32> {
        let raw = match self {
            Self::NaN => 0x007F_FFFF,
            Self::NRes => 0x0080_0000,
            Self::PosInf => 0x007F_FFFE,
            Self::NegInf => 0x0080_0002,
            Self::Value { mantissa, exponent } => {
                if !(-0x80_0000..=0x7F_FFFF).contains(&mantissa) {
                    return None;
                }
                let m = u32::from_le_bytes(mantissa.to_le_bytes()) & 0x00FF_FFFF;
                if exponent == 0 && matches!(m, 0x007F_FFFE..=0x0080_0002) {
                    return None;
                }
                (u32::from(exponent.to_le_bytes()[0]) << 24) | m
            }
        };
        Some(raw)
    }

    /// The value as a float; `None` for the special values.
    pub fn to_f64(self) -> Option<f64> {
        match self {
            Self::Value { mantissa, exponent } => {
                let m = f64::from(mantissa);
                let e = i32::from(exponent);
                // Powers of ten up to 1e22 are exact in f64, so one multiplication or division is
                // correctly rounded (1201e-1 → 120.1, not 120.10000000000001); beyond that, let
                // the decimal parser round.
                Some(if e.abs() <= 22 {
                    if e >= 0 {
                        m * 10f64.powi(e)
                    } else {
                        m / 10f64.powi(-e)
                    }
                } else {
                    format!("{mantissa}e{e}").parse().unwrap_or(f64::NAN)
                })
            }
            _ => None,
        }
    }

    /// The value as f32 for a [`crate::Measurement`]; `None` for special values and non-finite
    /// results.
    pub fn to_f32(self) -> Option<f32> {
        #[allow(clippy::cast_possible_truncation)]
        self.to_f64().map(|v| v as f32).filter(|v| v.is_finite())
    }
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    i32::from_le_bytes((v << shift).to_le_bytes()) >> shift
}

impl Serialize for MedFloat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Self::NaN => s.serialize_str("NaN"),
            Self::NRes => s.serialize_str("NRes"),
            Self::PosInf => s.serialize_str("+INF"),
            Self::NegInf => s.serialize_str("-INF"),
            Self::Value { mantissa, exponent } => {
                // A non-negative exponent is an integer: print it as one (120, not 120.0).
                let integer = u32::try_from(exponent).ok().and_then(|e| {
                    10i64
                        .checked_pow(e)
                        .and_then(|p| p.checked_mul(i64::from(mantissa)))
                });
                if let Some(v) = integer {
                    return s.serialize_i64(v);
                }
                s.serialize_f64(self.to_f64().unwrap_or(f64::NAN))
            }
        }
    }
}

/// Reads an SFLOAT field named `field`.
pub(crate) fn read_sfloat(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<MedFloat, DecodeError> {
    let raw = r.u16()?;
    MedFloat::from_sfloat(raw).map_err(|ReservedSpecial| DecodeError::ReservedFloat {
        what: r.what(),
        field,
    })
}

/// Reads a FLOAT field named `field`.
pub(crate) fn read_float(r: &mut Reader<'_>, field: &'static str) -> Result<MedFloat, DecodeError> {
    let raw = r.u32()?;
    MedFloat::from_float(raw).map_err(|ReservedSpecial| DecodeError::ReservedFloat {
        what: r.what(),
        field,
    })
}

/// The GATT Date Time (0x2A08): year 1582–9999, month 1–12, day 1–31, each 0 when unknown;
/// hours 0–23, minutes 0–59, seconds 0–59.
///
/// Serializes as `"YYYY-MM-DDTHH:MM:SS"`; unknown year, month or day stay 0 as the device sent
/// them (`"0000-00-00T08:30:00"`), because inventing a date would be worse than an obviously
/// incomplete one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// 1582–9999, 0 = unknown.
    pub year: u16,
    /// 1–12, 0 = unknown.
    pub month: u8,
    /// 1–31, 0 = unknown.
    pub day: u8,
    /// 0–23.
    pub hours: u8,
    /// 0–59.
    pub minutes: u8,
    /// 0–59.
    pub seconds: u8,
}

/// Encoded size of a [`DateTime`].
pub(crate) const DATE_TIME_LEN: usize = 7;

impl DateTime {
    /// Reads and validates a Date Time.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let dt = Self {
            year: r.u16()?,
            month: r.u8()?,
            day: r.u8()?,
            hours: r.u8()?,
            minutes: r.u8()?,
            seconds: r.u8()?,
        };
        let what = r.what();
        let bad = |field, value: u64, expected| DecodeError::InvalidValue {
            what,
            field,
            value,
            expected,
        };
        if dt.year != 0 && !(1582..=9999).contains(&dt.year) {
            return Err(bad("year", dt.year.into(), "1582-9999, 0 = unknown"));
        }
        if dt.month > 12 {
            return Err(bad("month", dt.month.into(), "1-12, 0 = unknown"));
        }
        if dt.day > 31 {
            return Err(bad("day", dt.day.into(), "1-31, 0 = unknown"));
        }
        if dt.hours > 23 {
            return Err(bad("hours", dt.hours.into(), "0-23"));
        }
        if dt.minutes > 59 {
            return Err(bad("minutes", dt.minutes.into(), "0-59"));
        }
        if dt.seconds > 59 {
            return Err(bad("seconds", dt.seconds.into(), "0-59"));
        }
        Ok(dt)
    }

    /// The encoded bytes.
    pub fn to_bytes(self) -> [u8; DATE_TIME_LEN] {
        let [y0, y1] = self.year.to_le_bytes();
        [
            y0,
            y1,
            self.month,
            self.day,
            self.hours,
            self.minutes,
            self.seconds,
        ]
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hours, self.minutes, self.seconds
        )
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sf(raw: u16) -> serde_json::Value {
        serde_json::to_value(MedFloat::from_sfloat(raw).unwrap()).unwrap()
    }

    fn fl(raw: u32) -> serde_json::Value {
        serde_json::to_value(MedFloat::from_float(raw).unwrap()).unwrap()
    }

    #[test]
    fn sfloat_special_values_at_exponent_zero() {
        assert_eq!(sf(0x07FF), json!("NaN"));
        assert_eq!(sf(0x0800), json!("NRes"));
        assert_eq!(sf(0x07FE), json!("+INF"));
        assert_eq!(sf(0x0802), json!("-INF"));
        assert!(MedFloat::from_sfloat(0x0801).is_err());
    }

    #[test]
    fn sfloat_special_mantissas_with_nonzero_exponent_are_numbers() {
        // exponent +1: 2047 × 10 and -2048 × 10
        assert_eq!(sf(0x17FF), json!(20470));
        assert_eq!(sf(0x1800), json!(-20480));
        assert_eq!(sf(0x1801), json!(-20470));
        // exponent -1 (0xF): 2046 / 10
        assert_eq!(sf(0xF7FE), json!(204.6));
        assert_eq!(sf(0xF802), json!(-204.6));
    }

    #[test]
    fn sfloat_exponent_and_mantissa_are_twos_complement() {
        // 0xF04B: exponent -1, mantissa 75 → 7.5 (a typical thermometer encoding)
        assert_eq!(sf(0xF04B), json!(7.5));
        // 0x0FFF: exponent 0, mantissa -1
        assert_eq!(sf(0x0FFF), json!(-1));
        // 0x8001: exponent -8, mantissa 1
        assert_eq!(sf(0x8001), json!(1e-8));
        // 0x7001: exponent +7
        assert_eq!(sf(0x7001), json!(10_000_000));
        // 0xE4B0: exponent -2, mantissa 1200 → 12.0
        assert_eq!(sf(0xE4B0), json!(12.0));
    }

    #[test]
    fn float_special_values_at_exponent_zero() {
        assert_eq!(fl(0x007F_FFFF), json!("NaN"));
        assert_eq!(fl(0x0080_0000), json!("NRes"));
        assert_eq!(fl(0x007F_FFFE), json!("+INF"));
        assert_eq!(fl(0x0080_0002), json!("-INF"));
        assert!(MedFloat::from_float(0x0080_0001).is_err());
        // with exponent -1 these are numbers
        assert_eq!(fl(0xFF7F_FFFF), json!(838_860.7));
        assert_eq!(fl(0xFF80_0001), json!(-838_860.7));
    }

    #[test]
    fn float_decodes_body_temperature() {
        // 36.4 °C as mantissa 364, exponent -1: bytes 6c 01 00 ff
        assert_eq!(fl(0xFF00_016C), json!(36.4));
        // exponent -2, mantissa -1234
        assert_eq!(fl(0xFEFF_FB2E), json!(-12.34));
    }

    #[test]
    fn huge_float_exponent_serializes_as_float() {
        assert_eq!(fl(0x7F00_0001), json!(1e127));
    }

    #[test]
    fn date_time_prints_unknown_fields_as_zero() {
        let dt = DateTime {
            year: 0,
            month: 0,
            day: 0,
            hours: 8,
            minutes: 30,
            seconds: 0,
        };
        assert_eq!(dt.to_string(), "0000-00-00T08:30:00");
    }

    #[test]
    fn date_time_rejects_out_of_range_fields() {
        let mut r = Reader::new("t", &[0xE4, 0x07, 13, 1, 0, 0, 0]);
        assert!(matches!(
            DateTime::read(&mut r),
            Err(DecodeError::InvalidValue { field: "month", .. })
        ));
        let mut r = Reader::new("t", &[0x2D, 0x06, 1, 1, 0, 0, 0]); // year 1581
        assert!(DateTime::read(&mut r).is_err());
        let mut r = Reader::new("t", &[0xE4, 0x07, 1, 1, 24, 0, 0]);
        assert!(DateTime::read(&mut r).is_err());
    }
}
