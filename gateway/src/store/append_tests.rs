use super::*;
use crate::store::open::{EXTEND_MAX_READINGS, EXTEND_MAX_SPAN_MS};
use crate::store::tests::hr;
use pingan_drivers::{DeviceId, Timestamp};

fn times(store: &Store, device: &str) -> Vec<i64> {
    store
        .readings(
            &DeviceId::new(device),
            Timestamp(i64::MIN),
            Timestamp(i64::MAX),
        )
        .unwrap()
        .iter()
        .map(|r| r.at.0)
        .collect()
}

/// One batch a second, one reading of each device per batch, as downsampled telemetry arrives.
fn write_seconds(
    store: &Store,
    open: &mut OpenChunks,
    devices: &[&str],
    seconds: std::ops::Range<i64>,
) {
    for s in seconds {
        let batch: Vec<Reading> = devices.iter().map(|d| hr(d, s * 1_000)).collect();
        store.append_readings(&batch, open).unwrap();
    }
}

#[test]
fn later_batches_extend_a_devices_chunk_up_to_its_reading_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut open = OpenChunks::default();
    let n = 2 * EXTEND_MAX_READINGS as i64 + 5;
    write_seconds(&store, &mut open, &["w1", "w2"], 0..n);
    // 69 readings per device: chunks of 32, 32 and 5.
    assert_eq!(store.reading_chunks(), 2 * 3, "keys");
    assert_eq!(store.count_readings(), 2 * n as usize);
    assert_eq!(
        times(&store, "w1"),
        (0..n).map(|s| s * 1_000).collect::<Vec<_>>()
    );
    assert_eq!(open.len(), 2, "the chunks of 5 stay open");
    // Without open chunks, every batch is a key of its own (the old layout).
    let dir = tempfile::tempdir().unwrap();
    let plain = Store::open(dir.path()).unwrap();
    for s in 0..10 {
        plain.put_readings(&[hr("w1", s * 1_000)]).unwrap();
    }
    assert_eq!(plain.reading_chunks(), 10);
}

#[test]
fn a_chunk_closes_after_its_time_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut open = OpenChunks::default();
    let step = EXTEND_MAX_SPAN_MS / 4;
    for i in 0..8 {
        store
            .append_readings(&[hr("w1", i * step)], &mut open)
            .unwrap();
    }
    // Readings at 0, ¼, ½, ¾ of the window share a chunk; the one at the window starts another.
    assert_eq!(store.reading_chunks(), 2);
    assert_eq!(
        times(&store, "w1"),
        (0..8).map(|i| i * step).collect::<Vec<_>>()
    );
}

#[test]
fn a_late_reading_starts_its_own_chunk_and_queries_stay_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut open = OpenChunks::default();
    store
        .append_readings(&[hr("w1", 5_000), hr("w1", 6_000)], &mut open)
        .unwrap();
    store
        .append_readings(&[hr("w1", 5_500)], &mut open)
        .unwrap();
    store
        .append_readings(&[hr("w1", 7_000)], &mut open)
        .unwrap();
    assert_eq!(times(&store, "w1"), vec![5_000, 5_500, 6_000, 7_000]);
    assert_eq!(
        store.reading_chunks(),
        2,
        "the late reading's chunk took the later one"
    );
}

#[test]
fn a_silent_devices_chunk_is_closed_and_not_kept_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut open = OpenChunks::default();
    let now = std::time::Instant::now();
    store
        .append_readings_at(&[hr("gone", 0), hr("w1", 0)], &mut open, now)
        .unwrap();
    assert_eq!(open.len(), 2);
    // A device whose clock runs a day ahead closes nobody's chunk.
    store
        .append_readings_at(&[hr("ahead", 86_400_000)], &mut open, now)
        .unwrap();
    assert_eq!(open.len(), 3);
    let later = now + std::time::Duration::from_millis(EXTEND_MAX_SPAN_MS as u64 + 1);
    store
        .append_readings_at(&[hr("w1", 1_000)], &mut open, later)
        .unwrap();
    assert_eq!(open.len(), 1, "only w1's new chunk is open");
    assert_eq!(
        store.reading_chunks(),
        4,
        "w1's reading after the window is a new chunk"
    );
}

#[test]
fn a_chunk_the_sweep_rewrote_is_not_brought_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut open = OpenChunks::default();
    write_seconds(&store, &mut open, &["w1"], 0..6);
    // The sweep keeps 3..6 under a new key while the writer holds the chunk open.
    assert_eq!(store.sweep_readings(Timestamp(3_000)).unwrap(), 3);
    write_seconds(&store, &mut open, &["w1"], 6..8);
    assert_eq!(
        times(&store, "w1"),
        vec![3_000, 4_000, 5_000, 6_000, 7_000],
        "nothing the sweep removed comes back, nothing is stored twice"
    );
    // A removed chunk likewise.
    assert_eq!(store.sweep_readings(Timestamp(i64::MAX)).unwrap(), 5);
    write_seconds(&store, &mut open, &["w1"], 8..9);
    assert_eq!(times(&store, "w1"), vec![8_000]);
}

#[test]
fn readings_survive_a_reopen_between_extended_batches() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut open = OpenChunks::default();
        write_seconds(&store, &mut open, &["w1"], 0..3);
        store.flush_blocking().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let mut open = OpenChunks::default();
    write_seconds(&store, &mut open, &["w1"], 3..5);
    assert_eq!(times(&store, "w1"), vec![0, 1_000, 2_000, 3_000, 4_000]);
}

proptest::proptest! {
    /// Whatever the batches (devices, late readings, bursts, pauses past the window, a sweep in
    /// between), extended chunks read back exactly what one chunk per batch does.
    #[test]
    fn extended_chunks_read_back_like_one_chunk_per_batch(
        batches in proptest::collection::vec(
            proptest::collection::vec((0usize..3, -5_000i64..700_000), 0..40),
            1..30,
        ),
        sweep_after in 0usize..30,
        cutoff in 0i64..5_000_000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let extended = Store::open(&dir.path().join("a")).unwrap();
        let plain = Store::open(&dir.path().join("b")).unwrap();
        let mut open = OpenChunks::default();
        let devices = ["w1", "w2", "w3"];
        let mut clock = 0i64;
        for (i, batch) in batches.iter().enumerate() {
            let readings: Vec<Reading> = batch
                .iter()
                .map(|(d, step)| {
                    clock += step;
                    hr(devices[*d], clock)
                })
                .collect();
            extended.append_readings(&readings, &mut open).unwrap();
            plain.put_readings(&readings).unwrap();
            if i == sweep_after {
                proptest::prop_assert_eq!(
                    extended.sweep_readings(Timestamp(cutoff)).unwrap(),
                    plain.sweep_readings(Timestamp(cutoff)).unwrap()
                );
            }
        }
        for d in devices {
            let a = extended.readings(&DeviceId::new(d), Timestamp(i64::MIN), Timestamp(i64::MAX)).unwrap();
            let b = plain.readings(&DeviceId::new(d), Timestamp(i64::MIN), Timestamp(i64::MAX)).unwrap();
            let a: Vec<_> = a.iter().map(|r| (r.at, r.value.to_string())).collect();
            let b: Vec<_> = b.iter().map(|r| (r.at, r.value.to_string())).collect();
            proptest::prop_assert_eq!(a, b);
        }
        proptest::prop_assert!(extended.reading_chunks() <= plain.reading_chunks());
    }
}
