//! Why a payload could not be decoded. One enum for every BLE decoder: the caller's next step is
//! the same for all of them (count the bad payload, keep the link).

use std::fmt;

/// A payload that does not follow its specification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the flags (or the format) require.
    #[error("{what}: payload is {}, {}need at least {need}", bytes(*len), flags_text(*flags))]
    Truncated {
        /// The characteristic or frame being decoded.
        what: &'static str,
        /// Bytes received.
        len: usize,
        /// The flags that decided the layout, when the format has flags.
        flags: Option<u8>,
        /// Bytes required.
        need: usize,
    },
    /// More bytes than the flags (or the format) allow: the payload is misframed.
    #[error("{what}: payload is {}, {}allow at most {max}", bytes(*len), flags_text(*flags))]
    TrailingBytes {
        /// The characteristic or frame being decoded.
        what: &'static str,
        /// Bytes received.
        len: usize,
        /// The flags that decided the layout.
        flags: Option<u8>,
        /// Bytes allowed.
        max: usize,
    },
    /// Flag bits the specification reserves for future use are set.
    #[error("{what}: flags 0x{flags:02x} set reserved bits 0x{reserved:02x}")]
    ReservedFlags {
        /// The characteristic or frame being decoded.
        what: &'static str,
        /// The flags received.
        flags: u8,
        /// The reserved bits that are set.
        reserved: u8,
    },
    /// A field holds a value the specification reserves (or defines as out of range).
    #[error("{what}: {field} value {value} is reserved or out of range ({expected})")]
    InvalidValue {
        /// The characteristic or frame being decoded.
        what: &'static str,
        /// The field.
        field: &'static str,
        /// The value received.
        value: u64,
        /// What the specification allows.
        expected: &'static str,
    },
    /// An IEEE-11073 SFLOAT/FLOAT field holds the reserved special value.
    #[error("{what}: {field} holds the reserved IEEE-11073 special value")]
    ReservedFloat {
        /// The characteristic being decoded.
        what: &'static str,
        /// The field.
        field: &'static str,
    },
    /// No decoder for this characteristic.
    #[error("unsupported characteristic {0}")]
    UnknownCharacteristic(String),
    /// A frame format the decoder cannot read (encrypted, unknown version, unknown object).
    #[error("{what}: {detail}")]
    Unsupported {
        /// The frame being decoded.
        what: &'static str,
        /// What is not supported.
        detail: String,
    },
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_owned()
    } else {
        format!("{n} bytes")
    }
}

fn flags_text(flags: Option<u8>) -> FlagsText {
    FlagsText(flags)
}

/// Renders "flags 0x01 " or nothing.
struct FlagsText(Option<u8>);

impl fmt::Display for FlagsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(flags) => write!(f, "flags 0x{flags:02x} "),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_message_names_length_flags_and_need() {
        let e = DecodeError::Truncated {
            what: "heart rate measurement",
            len: 1,
            flags: Some(0x01),
            need: 3,
        };
        assert_eq!(
            e.to_string(),
            "heart rate measurement: payload is 1 byte, flags 0x01 need at least 3"
        );
        let e = DecodeError::Truncated {
            what: "battery level",
            len: 0,
            flags: None,
            need: 1,
        };
        assert_eq!(
            e.to_string(),
            "battery level: payload is 0 bytes, need at least 1"
        );
    }
}
