//! Byte layouts of store keys. Big-endian so that sled's lexicographic order is time order.

use pingan_drivers::{DeviceId, Timestamp};

/// The device bytes of a readings key: the id's UTF-8, clamped to 255 bytes (at a character
/// boundary, so the key still parses) so the length fits its byte. Device ids are validated
/// short; the clamp only keeps a long one from corrupting the layout. Readings are grouped into
/// chunks by these bytes.
pub(crate) fn device_bytes(device: &DeviceId) -> &[u8] {
    let id = device.as_str();
    let mut end = id.len().min(255);
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    id.as_bytes().get(..end).unwrap_or_default()
}

/// Readings chunk key: `[len u8][device utf-8][start: i64 BE, sign flipped][batch id u64 BE]`.
///
/// The device prefix groups a device's chunks; the flipped sign makes negative times sort first;
/// the batch id (sled's `generate_id`, unique across restarts) keeps two chunks of one device
/// that start at the same millisecond apart.
pub(crate) fn chunk(device: &[u8], start: Timestamp, batch: u64) -> Vec<u8> {
    let mut k = time_bound(device, start);
    k.extend_from_slice(&batch.to_be_bytes());
    k
}

/// The prefix all reading chunks of a device share.
pub(crate) fn device_prefix(device: &[u8]) -> Vec<u8> {
    let id = device.get(..255).unwrap_or(device);
    let mut k = Vec::with_capacity(id.len() + 17);
    k.push(id.len() as u8);
    k.extend_from_slice(id);
    k
}

/// Sorts after every chunk of `device` that starts before `at` and before every one that starts
/// at or after it: the bound of a time range scan.
pub(crate) fn time_bound(device: &[u8], at: Timestamp) -> Vec<u8> {
    let mut k = device_prefix(device);
    k.extend_from_slice(&time_bytes(at));
    k
}

fn time_bytes(at: Timestamp) -> [u8; 8] {
    ((at.millis() as u64) ^ (1 << 63)).to_be_bytes()
}

/// A parsed readings chunk key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkKey {
    /// The device.
    pub(crate) device: DeviceId,
    /// Time of the chunk's first reading.
    pub(crate) start: Timestamp,
    /// The id of the write batch.
    pub(crate) batch: u64,
}

/// Splits a readings chunk key; `None` for a malformed key.
pub(crate) fn split_chunk(key: &[u8]) -> Option<ChunkKey> {
    let (len, rest) = key.split_first()?;
    let (id, rest) = rest.split_at_checked(usize::from(*len))?;
    let id = std::str::from_utf8(id).ok()?;
    let (t, rest) = rest.split_first_chunk::<8>()?;
    let batch: [u8; 8] = rest.try_into().ok()?;
    Some(ChunkKey {
        device: DeviceId::new(id),
        start: Timestamp((u64::from_be_bytes(*t) ^ (1 << 63)) as i64),
        batch: u64::from_be_bytes(batch),
    })
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
        fn chunk_keys_round_trip_and_sort_by_time_then_batch(
            id in "[a-z0-9-]{1,40}",
            a in any::<i64>(),
            b in any::<i64>(),
            ba in any::<u64>(),
            bb in any::<u64>(),
        ) {
            let d = DeviceId::new(&id);
            let ka = chunk(device_bytes(&d), Timestamp(a), ba);
            let kb = chunk(device_bytes(&d), Timestamp(b), bb);
            prop_assert_eq!(
                split_chunk(&ka),
                Some(ChunkKey { device: d.clone(), start: Timestamp(a), batch: ba })
            );
            prop_assert_eq!((a, ba).cmp(&(b, bb)), ka.cmp(&kb));
        }

        #[test]
        fn time_bounds_enclose_exactly_the_chunks_that_start_in_range(
            a in any::<i64>(),
            t in any::<i64>(),
            batch in any::<u64>(),
        ) {
            let k = chunk(b"w1", Timestamp(a), batch);
            prop_assert_eq!(k < time_bound(b"w1", Timestamp(t)), a < t);
        }

        #[test]
        fn malformed_keys_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = split_chunk(&bytes);
        }
    }

    #[test]
    fn a_long_device_id_is_clamped_to_a_key_that_still_parses() {
        // 1 + 3 × 84 = 253 bytes: the 85th character would cross byte 255.
        let d = DeviceId::new(format!("a{}", "床".repeat(100)));
        let k = chunk(device_bytes(&d), Timestamp(0), 1);
        let parsed = split_chunk(&k).unwrap();
        assert_eq!(parsed.device.as_str(), format!("a{}", "床".repeat(84)));
        assert_eq!((parsed.start, parsed.batch), (Timestamp(0), 1));
    }

    #[test]
    fn devices_do_not_share_chunks_when_one_id_prefixes_another() {
        let short = chunk(b"w1", Timestamp(i64::MAX), u64::MAX);
        let long = chunk(b"w10", Timestamp(i64::MIN), 0);
        assert!(!long.starts_with(&device_prefix(b"w1")));
        assert!(short.starts_with(&device_prefix(b"w1")));
    }
}
