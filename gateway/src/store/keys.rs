//! Byte layouts of store keys. Big-endian so that sled's lexicographic order is time order.

use pingan_drivers::{DeviceId, Timestamp};

/// Readings key: `[len u8][device utf-8][timestamp: i64 BE, sign flipped][kind u8]`.
///
/// The device prefix groups a device's readings; the flipped sign makes negative times sort first;
/// the kind byte keeps two measurements of one device at the same millisecond apart.
pub(crate) fn reading(device: &DeviceId, at: Timestamp, kind: u8) -> Vec<u8> {
    let mut k = device_prefix(device);
    k.extend_from_slice(&time_bytes(at));
    k.push(kind);
    k
}

/// The prefix all readings of `device` share.
pub(crate) fn device_prefix(device: &DeviceId) -> Vec<u8> {
    let id = device.as_str().as_bytes();
    // Device ids are validated short; clamp so a long id cannot corrupt the layout.
    let id = &id[..id.len().min(255)];
    let mut k = Vec::with_capacity(id.len() + 10);
    k.push(id.len() as u8);
    k.extend_from_slice(id);
    k
}

pub(crate) fn time_bytes(at: Timestamp) -> [u8; 8] {
    ((at.millis() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Splits a readings key into (device, time); `None` for a malformed key.
pub(crate) fn split_reading(key: &[u8]) -> Option<(DeviceId, Timestamp)> {
    let len = usize::from(*key.first()?);
    let id = std::str::from_utf8(key.get(1..1 + len)?).ok()?;
    let t: [u8; 8] = key.get(1 + len..9 + len)?.try_into().ok()?;
    let ms = (u64::from_be_bytes(t) ^ (1 << 63)) as i64;
    Some((DeviceId::new(id), Timestamp(ms)))
}

/// Audit key: `[alert ulid 16][revision u32 BE][action seq u8]`.
pub(crate) fn audit(alert: ulid::Ulid, revision: u32, seq: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(21);
    k.extend_from_slice(&alert.to_bytes());
    k.extend_from_slice(&revision.to_be_bytes());
    k.push(seq);
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn reading_keys_round_trip_and_sort_by_time(id in "[a-z0-9-]{1,40}", a in any::<i64>(), b in any::<i64>()) {
            let d = DeviceId::new(&id);
            let ka = reading(&d, Timestamp(a), 0);
            let kb = reading(&d, Timestamp(b), 0);
            prop_assert_eq!(split_reading(&ka), Some((d.clone(), Timestamp(a))));
            prop_assert_eq!(a.cmp(&b), ka.cmp(&kb));
        }

        #[test]
        fn malformed_keys_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = split_reading(&bytes);
        }
    }
}
