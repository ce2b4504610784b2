use super::*;
use proptest::prelude::*;

fn num() -> impl Strategy<Value = f32> {
    -1.0e6f32..1.0e6f32
}

fn measurement() -> impl Strategy<Value = Measurement> {
    prop_oneof![
        num().prop_map(|bpm| Measurement::HeartRate { bpm }),
        num().prop_map(|percent| Measurement::SpO2 { percent }),
        num().prop_map(|per_min| Measurement::RespirationRate { per_min }),
        num().prop_map(|celsius| Measurement::BodyTemperature { celsius }),
        (num(), num(), proptest::option::of(num())).prop_map(|(systolic, diastolic, map)| {
            Measurement::BloodPressure {
                systolic,
                diastolic,
                map,
            }
        }),
        any::<bool>().prop_map(|sos| Measurement::Button {
            button: if sos {
                ButtonKind::Sos
            } else {
                ButtonKind::Cancel
            }
        }),
        (
            any::<bool>(),
            proptest::option::of(num()),
            proptest::option::of(num())
        )
            .prop_map(|(in_bed, heart_rate, respiration_rate)| {
                Measurement::BedOccupancy {
                    in_bed,
                    heart_rate,
                    respiration_rate,
                }
            }),
        (num(), num(), proptest::option::of(num())).prop_map(|(temperature, humidity, co2)| {
            Measurement::Environment {
                temperature,
                humidity,
                co2,
            }
        }),
        any::<bool>().prop_map(|alarm| Measurement::Smoke { alarm }),
        (any::<bool>(), proptest::option::of(num()))
            .prop_map(|(alarm, ppm)| Measurement::Gas { alarm, ppm }),
        any::<bool>().prop_map(|open| Measurement::Door { open }),
        any::<bool>().prop_map(|wet| Measurement::WaterLeak { wet }),
        num().prop_map(|percent| Measurement::Battery { percent }),
        (".{0,20}", any::<i16>()).prop_map(|(beacon, rssi)| Measurement::Presence { beacon, rssi }),
    ]
}

proptest! {
    #[test]
    fn every_measurement_round_trips_through_a_chunk(
        start in -(1i64 << 50)..(1i64 << 50),
        items in proptest::collection::vec((0u64..=600_000, measurement()), 0..40),
    ) {
        let mut at = start;
        let mut enc = Encoder::new(Timestamp(start));
        let mut expected = Vec::new();
        for (i, (step, m)) in items.into_iter().enumerate() {
            // The first reading is at the chunk's start; the span stays under the maximum.
            if i > 0 && at - start + (step as i64) <= MAX_SPAN_MS {
                at += step as i64;
            }
            enc.push_measurement(Timestamp(at), &m);
            expected.push((Timestamp(at), Record::Measurement(m)));
        }
        let value = enc.finish();
        prop_assert_eq!(count(&value).unwrap(), expected.len() as u64);
        let (n, last) = extent(Timestamp(start), &value).unwrap();
        prop_assert_eq!(n, expected.len() as u64);
        prop_assert_eq!(last, expected.last().map_or(Timestamp(start), |e| e.0));
        prop_assert_eq!(decode(Timestamp(start), &value).unwrap(), expected);
    }

    #[test]
    fn arbitrary_bytes_decode_to_a_chunk_or_a_corrupt_error(
        start in any::<i64>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        for result in [
            decode(Timestamp(start), &bytes).map(|_| ()),
            extent(Timestamp(start), &bytes).map(|_| ()),
            count(&bytes).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(matches!(e, StoreError::Corrupt { .. }), "{}", e);
            }
        }
    }

    #[test]
    fn truncated_chunks_are_corrupt(cut in 0usize..100, items in proptest::collection::vec(measurement(), 1..8)) {
        let mut enc = Encoder::new(Timestamp(0));
        for (i, m) in items.iter().enumerate() {
            enc.push_measurement(Timestamp(i as i64 * 1000), m);
        }
        let value = enc.finish();
        let cut = cut % value.len();
        let got = decode(Timestamp(0), value.get(..cut).unwrap_or_default());
        prop_assert!(matches!(got, Err(StoreError::Corrupt { .. })), "{:?}", got);
    }
}

#[test]
fn motion_is_kept_as_its_magnitude_summary() {
    let mut enc = Encoder::new(Timestamp(5));
    let samples = vec![[0.0, 0.0, 1.0], [0.0, 3.0, 0.0]];
    enc.push_measurement(Timestamp(5), &Measurement::Motion { samples, hz: 50.0 });
    let got = decode(Timestamp(5), &enc.finish()).unwrap();
    let Some((at, Record::Motion(s))) = got.first() else {
        panic!("expected one motion summary, got {got:?}");
    };
    assert_eq!(*at, Timestamp(5));
    assert_eq!((s.n, s.hz, s.mean, s.min, s.max), (2, 50.0, 2.0, 1.0, 3.0));
    assert_eq!(got[0].1.to_json()["kind"], "motion_summary");
}

#[test]
fn a_motion_summary_of_no_samples_survives_re_encoding() {
    let s = MotionSummary::of(&[], 25.0);
    let mut enc = Encoder::new(Timestamp(0));
    enc.push_record(Timestamp(0), &Record::Motion(s));
    let got = decode(Timestamp(0), &enc.finish()).unwrap();
    assert_eq!(got, vec![(Timestamp(0), Record::Motion(s))]);
    assert_eq!(got[0].1.to_json()["mag_min"], serde_json::Value::Null);
}

#[test]
fn measurement_json_is_its_serde_form() {
    let m = Measurement::BedOccupancy {
        in_bed: true,
        heart_rate: None,
        respiration_rate: Some(14.5),
    };
    assert_eq!(
        Record::Measurement(m.clone()).to_json(),
        serde_json::to_value(&m).unwrap()
    );
}

#[test]
fn plan_groups_by_device_sorts_by_time_and_cuts_long_spans() {
    let r = |d: &str, t: i64| Reading::new(d, Timestamp(t), Measurement::Door { open: true });
    let batch = vec![
        r("b", 3),
        r("a", 2),
        r("b", 1),
        r("a", MAX_SPAN_MS + 3),
        r("a", 1),
    ];
    let (order, ranges) = plan(&batch, |r| r.device.as_str().as_bytes());
    let chunks: Vec<Vec<(&str, i64)>> = ranges
        .iter()
        .map(|range| {
            order[range.clone()]
                .iter()
                .map(|r| (r.device.as_str(), r.at.0))
                .collect()
        })
        .collect();
    assert_eq!(
        chunks,
        vec![
            vec![("a", 1), ("a", 2)],
            vec![("a", MAX_SPAN_MS + 3)],
            vec![("b", 1), ("b", 3)],
        ]
    );
}

#[test]
fn a_chunk_claiming_more_readings_than_bytes_is_corrupt_without_allocating() {
    let mut value = Vec::new();
    put_varint(&mut value, u64::MAX);
    assert!(matches!(
        decode(Timestamp(0), &value),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn documented_chunk_example_matches_its_bytes() {
    // docs/STORAGE.md shows these bytes; keep them in step.
    let start = Timestamp(1_700_000_000_000);
    let key = super::super::keys::chunk(b"w-101a", start, 7);
    let mut enc = Encoder::new(start);
    enc.push_measurement(start, &Measurement::HeartRate { bpm: 72.0 });
    enc.push_measurement(
        Timestamp(start.0 + 1_000),
        &Measurement::HeartRate { bpm: 72.0 },
    );
    let hex = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        hex(&key),
        "06 77 2d 31 30 31 61 80 00 01 8b cf e5 68 00 00 00 00 00 00 00 00 07"
    );
    assert_eq!(
        hex(&enc.finish()),
        "02 00 e8 07 01 00 00 90 42 01 00 00 90 42"
    );
}
