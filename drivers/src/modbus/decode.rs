//! Value decoding: registers or bits in, engineering values out. Pure, total on any input:
//! a short or garbled response is a [`DecodeError`], never a panic.

use serde::Serialize;

use super::profile::{DataType, Point, WordOrder};

/// A decoded point value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A number after scale and offset.
    Number(f64),
    /// A bit, a bit of a register, or "any alarm bit set" for `bits` points.
    Bool(bool),
}

impl Value {
    /// The value as a boolean: numbers are true when non-zero.
    pub fn as_bool(self) -> bool {
        match self {
            Self::Bool(b) => b,
            Self::Number(n) => n != 0.0,
        }
    }

    /// The value as a number, when it is one.
    pub fn as_number(self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(n),
            Self::Bool(_) => None,
        }
    }
}

/// A response did not contain what the point needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("point `{point}`: response too short ({got} of {needed} values)")]
pub struct DecodeError {
    /// The point.
    pub point: String,
    /// Values needed from the start of the point.
    pub needed: usize,
    /// Values available.
    pub got: usize,
}

/// A raw value before scale and offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue {
    /// `u16`.
    U16(u16),
    /// `i16`.
    I16(i16),
    /// `u32`.
    U32(u32),
    /// `i32`.
    I32(i32),
    /// `f32`.
    F32(f32),
}

impl RawValue {
    fn as_f64(self) -> f64 {
        match self {
            Self::U16(v) => f64::from(v),
            Self::I16(v) => f64::from(v),
            Self::U32(v) => f64::from(v),
            Self::I32(v) => f64::from(v),
            Self::F32(v) => f64::from(v),
        }
    }
}

/// Reorders the wire bytes of `words` into big-endian value bytes (`ABCD`).
///
/// Every order is its own inverse, so the same function also encodes.
fn reorder(words: &[u16], order: WordOrder) -> Vec<u8> {
    let mut ws: Vec<u16> = words.to_vec();
    if order.swaps_words() {
        ws.reverse();
    }
    ws.iter()
        .flat_map(|w| {
            let w = if order.swaps_bytes() {
                w.swap_bytes()
            } else {
                *w
            };
            w.to_be_bytes()
        })
        .collect()
}

/// Decodes the raw value of a register type from exactly its registers.
///
/// Returns `None` for `bool`/`bits` or when `words` has the wrong length.
pub fn decode_raw(data_type: DataType, order: WordOrder, words: &[u16]) -> Option<RawValue> {
    if words.len() != usize::from(data_type.width()) {
        return None;
    }
    let b = reorder(words, order);
    let two = |b: &[u8]| -> Option<[u8; 2]> { b.get(..2)?.try_into().ok() };
    let four = |b: &[u8]| -> Option<[u8; 4]> { b.get(..4)?.try_into().ok() };
    Some(match data_type {
        DataType::U16 => RawValue::U16(u16::from_be_bytes(two(&b)?)),
        DataType::I16 => RawValue::I16(i16::from_be_bytes(two(&b)?)),
        DataType::U32 => RawValue::U32(u32::from_be_bytes(four(&b)?)),
        DataType::I32 => RawValue::I32(i32::from_be_bytes(four(&b)?)),
        DataType::F32 => RawValue::F32(f32::from_be_bytes(four(&b)?)),
        DataType::Bool | DataType::Bits => return None,
    })
}

/// Encodes a raw value into registers in `order` (what a device would send).
pub fn encode_raw(value: RawValue, order: WordOrder) -> Vec<u16> {
    let be: Vec<u8> = match value {
        RawValue::U16(v) => v.to_be_bytes().to_vec(),
        RawValue::I16(v) => v.to_be_bytes().to_vec(),
        RawValue::U32(v) => v.to_be_bytes().to_vec(),
        RawValue::I32(v) => v.to_be_bytes().to_vec(),
        RawValue::F32(v) => v.to_be_bytes().to_vec(),
    };
    let words: Vec<u16> = be
        .chunks(2)
        .map(|c| {
            u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    reorder(&words, order)
        .chunks(2)
        .map(|c| {
            u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect()
}

/// Decodes a register-table point from the registers starting at its address.
pub fn decode_registers(point: &Point, words: &[u16]) -> Result<Value, DecodeError> {
    let width = usize::from(point.data_type.width());
    let short = || DecodeError {
        point: point.name.clone(),
        needed: width,
        got: words.len(),
    };
    let own = words.get(..width).ok_or_else(short)?;
    match point.data_type {
        DataType::Bool => {
            let w = own.first().copied().ok_or_else(short)?;
            let bit = point.bit.map_or(0, u32::from);
            let set = w.checked_shr(bit).unwrap_or(0) & 1 == 1;
            Ok(Value::Bool(set != point.invert))
        }
        DataType::Bits => {
            let w = own.first().copied().ok_or_else(short)?;
            let w = if point.order.swaps_bytes() {
                w.swap_bytes()
            } else {
                w
            };
            Ok(Value::Bool((w & point.alarm_mask != 0) != point.invert))
        }
        t => {
            let raw = decode_raw(t, point.order, own).ok_or_else(short)?;
            Ok(Value::Number(raw.as_f64() * point.scale + point.offset))
        }
    }
}

/// Decodes a coil/discrete point from its bit.
pub fn decode_bit(point: &Point, bit: bool) -> Value {
    Value::Bool(bit != point.invert)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::modbus::profile::Table;

    fn point(data_type: DataType, order: WordOrder) -> Point {
        Point {
            name: "p".into(),
            table: Table::Holding,
            address: 0,
            data_type,
            order,
            bit: None,
            alarm_mask: 0,
            scale: 1.0,
            offset: 0.0,
            unit: None,
            invert: false,
            maps_to: None,
        }
    }

    #[test]
    fn each_order_places_bytes_as_named() {
        // The value 0xAABBCCDD: A=AA, B=BB, C=CC, D=DD.
        let v = RawValue::U32(0xAABB_CCDD);
        assert_eq!(encode_raw(v, WordOrder::Abcd), vec![0xAABB, 0xCCDD]);
        assert_eq!(encode_raw(v, WordOrder::Cdab), vec![0xCCDD, 0xAABB]);
        assert_eq!(encode_raw(v, WordOrder::Badc), vec![0xBBAA, 0xDDCC]);
        assert_eq!(encode_raw(v, WordOrder::Dcba), vec![0xDDCC, 0xBBAA]);
    }

    #[test]
    fn known_vectors_decode() {
        let cases: &[(DataType, WordOrder, &[u16], f64)] = &[
            (DataType::U16, WordOrder::Abcd, &[0x00FA], 250.0),
            (DataType::I16, WordOrder::Abcd, &[0xFFF6], -10.0),
            (DataType::I16, WordOrder::Badc, &[0xF6FF], -10.0),
            (DataType::U32, WordOrder::Cdab, &[0x0002, 0x0001], 65_538.0),
            (DataType::I32, WordOrder::Abcd, &[0xFFFF, 0xFFFE], -2.0),
            // 21.5 as f32 is 0x41AC0000.
            (DataType::F32, WordOrder::Abcd, &[0x41AC, 0x0000], 21.5),
            (DataType::F32, WordOrder::Cdab, &[0x0000, 0x41AC], 21.5),
            (DataType::F32, WordOrder::Dcba, &[0x0000, 0xAC41], 21.5),
        ];
        for (t, o, words, want) in cases {
            let got = decode_registers(&point(*t, *o), words).unwrap();
            assert_eq!(got, Value::Number(*want), "{t:?} {o:?} {words:x?}");
        }
    }

    #[test]
    fn scale_and_offset_apply_to_numbers() {
        let mut p = point(DataType::I16, WordOrder::Abcd);
        p.scale = 0.1;
        p.offset = -40.0;
        let Value::Number(n) = decode_registers(&p, &[650]).unwrap() else {
            panic!("number expected")
        };
        assert!((n - 25.0).abs() < 1e-9);
    }

    #[test]
    fn bool_points_read_their_bit_and_honour_invert() {
        let mut p = point(DataType::Bool, WordOrder::Abcd);
        p.bit = Some(3);
        assert_eq!(decode_registers(&p, &[0b1000]).unwrap(), Value::Bool(true));
        assert_eq!(decode_registers(&p, &[0b0111]).unwrap(), Value::Bool(false));
        p.invert = true;
        assert_eq!(decode_registers(&p, &[0b1000]).unwrap(), Value::Bool(false));
        assert_eq!(decode_bit(&p, false), Value::Bool(true));
    }

    #[test]
    fn bits_points_are_active_when_any_alarm_bit_is_set() {
        let mut p = point(DataType::Bits, WordOrder::Abcd);
        p.alarm_mask = 0b0101;
        assert_eq!(decode_registers(&p, &[0b0100]).unwrap(), Value::Bool(true));
        assert_eq!(decode_registers(&p, &[0b1010]).unwrap(), Value::Bool(false));
    }

    #[test]
    fn short_response_is_an_error_not_a_panic() {
        let p = point(DataType::F32, WordOrder::Abcd);
        assert_eq!(
            decode_registers(&p, &[1]),
            Err(DecodeError {
                point: "p".into(),
                needed: 2,
                got: 1
            })
        );
        assert!(decode_registers(&p, &[]).is_err());
    }

    fn any_order() -> impl Strategy<Value = WordOrder> {
        prop::sample::select(WordOrder::ALL.to_vec())
    }

    fn any_raw() -> impl Strategy<Value = RawValue> {
        prop_oneof![
            any::<u16>().prop_map(RawValue::U16),
            any::<i16>().prop_map(RawValue::I16),
            any::<u32>().prop_map(RawValue::U32),
            any::<i32>().prop_map(RawValue::I32),
            any::<f32>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(RawValue::F32),
        ]
    }

    fn type_of(v: RawValue) -> DataType {
        match v {
            RawValue::U16(_) => DataType::U16,
            RawValue::I16(_) => DataType::I16,
            RawValue::U32(_) => DataType::U32,
            RawValue::I32(_) => DataType::I32,
            RawValue::F32(_) => DataType::F32,
        }
    }

    proptest! {
        #[test]
        fn every_type_and_order_round_trips(v in any_raw(), order in any_order()) {
            let t = type_of(v);
            // 16-bit types only use the byte part of the order.
            let order = if t.width() == 1 && order.swaps_words() { WordOrder::Abcd } else { order };
            let words = encode_raw(v, order);
            prop_assert_eq!(words.len(), usize::from(t.width()));
            prop_assert_eq!(decode_raw(t, order, &words), Some(v));
            let n = decode_registers(&point(t, order), &words).unwrap();
            prop_assert_eq!(n, Value::Number(v.as_f64()));
        }

        #[test]
        fn decoding_arbitrary_words_never_panics(
            words in prop::collection::vec(any::<u16>(), 0..4),
            order in any_order(),
            t in prop::sample::select(vec![DataType::U16, DataType::I16, DataType::U32,
                DataType::I32, DataType::F32, DataType::Bool, DataType::Bits]),
            bit in 0u8..16,
        ) {
            let mut p = point(t, order);
            p.bit = Some(bit);
            p.alarm_mask = 1 << bit;
            let r = decode_registers(&p, &words);
            prop_assert_eq!(r.is_ok(), words.len() >= usize::from(t.width()));
        }

        #[test]
        fn word_swapping_orders_differ_only_by_register_order(v in any::<u32>()) {
            let mut abcd = encode_raw(RawValue::U32(v), WordOrder::Abcd);
            abcd.reverse();
            prop_assert_eq!(abcd, encode_raw(RawValue::U32(v), WordOrder::Cdab));
        }
    }
}
