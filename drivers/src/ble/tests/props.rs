//! Property tests: every decoder takes arbitrary bytes without panicking, everything it accepts
//! serializes to JSON, and the encoders round-trip.

use proptest::prelude::*;

use crate::ble::adv::{self, bthome, eddystone, ibeacon};
use crate::ble::gatt::{SUPPORTED, decode, decode_characteristic, heart_rate};
use crate::ble::ieee11073::MedFloat;
use crate::ble::measurements::{from_bthome, from_decoded};
use crate::ble::wearable::{
    ACCELEROMETER_UUID, BUTTON_UUID, SeqCheck, SequenceTracker, decode_accel, encode_accel,
};

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sig_decoders_never_panic(idx in 0..SUPPORTED.len(), bytes in payload()) {
        let uuid = SUPPORTED[idx];
        if let Ok(d) = decode(uuid, &bytes) {
            prop_assert!(serde_json::to_string(&d).is_ok());
            for m in from_decoded(&d) {
                prop_assert!(serde_json::to_string(&m).is_ok());
            }
        }
    }

    #[test]
    fn flagged_payloads_with_random_tails_never_panic(
        idx in 0..SUPPORTED.len(),
        flags in any::<u8>(),
        tail in payload(),
    ) {
        let mut bytes = vec![flags];
        bytes.extend(tail);
        let _ = decode(SUPPORTED[idx], &bytes);
    }

    #[test]
    fn wearable_decoders_never_panic(bytes in payload(), head in any::<[u8; 6]>()) {
        let _ = decode_characteristic(BUTTON_UUID, &bytes);
        let mut b = head.to_vec();
        b.extend(&bytes);
        if let Ok(d) = decode_characteristic(ACCELEROMETER_UUID, &b) {
            prop_assert!(!from_decoded(&d).is_empty());
        }
    }

    #[test]
    fn advertisement_decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(a) = adv::decode(&bytes) {
            prop_assert!(serde_json::to_string(&a).is_ok());
        }
        if let Ok(b) = bthome::decode(&bytes) {
            let _ = from_bthome(&b);
        }
        let _ = eddystone::decode(&bytes);
        let _ = ibeacon::decode(&bytes);
    }

    #[test]
    fn bthome_v2_headers_with_random_objects_never_panic(objects in payload()) {
        let mut b = vec![0x40];
        b.extend(objects);
        if let Ok(frame) = bthome::decode(&b) {
            prop_assert!(serde_json::to_string(&frame).is_ok());
        }
    }

    #[test]
    fn sfloat_round_trips(raw in any::<u16>()) {
        match MedFloat::from_sfloat(raw) {
            Ok(v) => {
                let back = v.to_sfloat().unwrap();
                prop_assert_eq!(MedFloat::from_sfloat(back), Ok(v));
                // mantissa and exponent are kept exactly, so the raw value comes back too
                prop_assert_eq!(back, raw);
            }
            Err(_) => prop_assert_eq!(raw, 0x0801),
        }
    }

    #[test]
    fn float_round_trips(raw in any::<u32>()) {
        match MedFloat::from_float(raw) {
            Ok(v) => prop_assert_eq!(v.to_float(), Some(raw)),
            Err(_) => prop_assert_eq!(raw, 0x0080_0001),
        }
    }

    #[test]
    fn heart_rate_round_trips(
        bpm in any::<u16>(),
        wide in any::<bool>(),
        contact in prop::option::of(any::<bool>()),
        energy in prop::option::of(any::<u16>()),
        rr in prop::option::of(prop::collection::vec(any::<u16>(), 1..8)),
    ) {
        let m = heart_rate::HeartRateMeasurement {
            heart_rate_bpm: bpm,
            sensor_contact: contact,
            energy_expended_kj: energy,
            rr_intervals_s: rr.map(|v| v.into_iter().map(|r| f64::from(r) / 1024.0).collect()),
        };
        prop_assert_eq!(heart_rate::decode(&heart_rate::encode(&m, wide)).unwrap(), m);
    }

    #[test]
    fn accelerometer_round_trips(
        seq in any::<u16>(),
        hz in 1u16..=1600,
        range in prop::sample::select(vec![2u8, 4, 8, 16]),
        raw in prop::collection::vec(any::<[i16; 3]>(), 1..=40),
    ) {
        let batch = decode_accel(&encode_accel(seq, hz, range, &raw)).unwrap();
        prop_assert_eq!(batch.sequence, seq);
        prop_assert_eq!(batch.sample_rate_hz, hz);
        prop_assert_eq!(batch.samples_g.len(), raw.len());
        for (g, r) in batch.samples_g.iter().zip(&raw) {
            for (gv, rv) in g.iter().zip(r) {
                prop_assert_eq!(*gv, f32::from(*rv) * f32::from(range) / 32768.0);
                prop_assert!(gv.abs() <= f32::from(range));
            }
        }
    }

    #[test]
    fn sequence_tracker_counts_missed_notifications(start in any::<u16>(), missed in 0u16..1000) {
        let mut t = SequenceTracker::default();
        prop_assert_eq!(t.check(start), SeqCheck::Start);
        let next = start.wrapping_add(missed).wrapping_add(1);
        let expected = if missed == 0 { SeqCheck::InOrder } else { SeqCheck::Gap { missed } };
        prop_assert_eq!(t.check(next), expected);
        prop_assert_eq!(t.check(next), SeqCheck::Duplicate);
    }
}
