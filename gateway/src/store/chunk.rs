//! The binary value of a readings chunk: the readings of one device from one write batch, oldest
//! first. Pure encoding and decoding, no I/O; the key (device, start time, batch id) is in
//! [`super::keys`] and the byte layout in docs/STORAGE.md.
//!
//! Value: `[n: varint][n time deltas: varint ms][n records]`. The first delta is from the chunk's
//! start (the key's time, so 0), each next one from the previous reading. Times come first so
//! that the retention sweep finds a chunk's last time without decoding its records. A record is
//! `[kind u8][fields]`, floats as f32 little-endian (see [`Record`] for each kind's fields).
//!
//! The decoder is total: any byte string gives a chunk or [`StoreError::Corrupt`], never a panic.

use pingan_drivers::{ButtonKind, Measurement, Reading, Timestamp};
use serde_json::Value;

use super::error::StoreError;

/// Longest time from a chunk's first to its last reading, ms. A batch that spans more (a device
/// uploading hours of history) is split, so a range query finds every reading at or after `from`
/// by starting at the chunk key `from - MAX_SPAN_MS`.
pub(crate) const MAX_SPAN_MS: i64 = 3_600_000;

/// Kind byte of a stored motion summary (raw accelerometer batches are not kept).
const MOTION_SUMMARY: u8 = 6;

/// What a chunk holds for one reading.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// Any measurement but motion, as measured.
    Measurement(Measurement),
    /// A motion batch reduced to its magnitude summary.
    Motion(MotionSummary),
}

/// Magnitude statistics of one accelerometer batch. Raw batches (50 Hz per resident) would wear out
/// an SD card in weeks; the summary keeps what a caregiver's chart needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MotionSummary {
    /// Samples in the batch.
    pub(crate) n: u64,
    /// Sample rate, Hz.
    pub(crate) hz: f32,
    /// Mean magnitude, g.
    pub(crate) mean: f32,
    /// Standard deviation of the magnitude, g.
    pub(crate) std: f32,
    /// Smallest magnitude, g (infinite for an empty batch).
    pub(crate) min: f32,
    /// Largest magnitude, g.
    pub(crate) max: f32,
}

impl MotionSummary {
    /// Summarizes a batch of 3-axis samples.
    pub(crate) fn of(samples: &[[f32; 3]], hz: f32) -> Self {
        let mags = samples
            .iter()
            .map(|s| (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt());
        let count = samples.len().max(1) as f32;
        let mean = mags.clone().sum::<f32>() / count;
        let var = mags.clone().map(|v| (v - mean) * (v - mean)).sum::<f32>() / count;
        Self {
            n: samples.len() as u64,
            hz,
            mean,
            std: var.sqrt(),
            min: mags.clone().fold(f32::INFINITY, f32::min),
            max: mags.fold(0.0, f32::max),
        }
    }
}

impl Record {
    /// The JSON a [`super::StoredReading`] carries: the measurement's own serde form, or
    /// `{"kind": "motion_summary", …}`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Measurement(m) => serde_json::to_value(m).unwrap_or(Value::Null),
            Self::Motion(s) => serde_json::json!({
                "kind": "motion_summary",
                "n": s.n,
                "hz": s.hz,
                "mag_mean": s.mean,
                "mag_std": s.std,
                "mag_min": s.min,
                "mag_max": s.max,
            }),
        }
    }
}

/// Splits a write batch into chunks: readings grouped by device (by `id_of`, the key's device
/// bytes), each group sorted by time (arrival order among equal times) and cut wherever it would
/// span more than [`MAX_SPAN_MS`]. Returns the readings in chunk order and each chunk's range.
pub(crate) fn plan(
    readings: &[Reading],
    id_of: impl Fn(&Reading) -> &[u8],
) -> (Vec<&Reading>, Vec<std::ops::Range<usize>>) {
    let mut order: Vec<&Reading> = readings.iter().collect();
    // Stable: two readings of a device at the same millisecond keep their arrival order.
    order.sort_by(|a, b| id_of(a).cmp(id_of(b)).then(a.at.cmp(&b.at)));
    let mut ranges = Vec::new();
    let mut begin = 0;
    for i in 1..=order.len() {
        let cut = match (order.get(begin), order.get(i)) {
            (Some(first), Some(r)) => {
                id_of(first) != id_of(r) || span(first.at, r.at) > MAX_SPAN_MS as u64
            }
            _ => true,
        };
        if cut {
            ranges.push(begin..i);
            begin = i;
        }
    }
    (order, ranges)
}

/// Milliseconds from `earlier` to `later` (`later >= earlier`), exact over the whole i64 range.
fn span(earlier: Timestamp, later: Timestamp) -> u64 {
    later.0.wrapping_sub(earlier.0) as u64
}

/// Builds one chunk value. Readings must be pushed oldest first.
#[derive(Debug)]
pub(crate) struct Encoder {
    last: Timestamp,
    n: u64,
    times: Vec<u8>,
    records: Vec<u8>,
}

impl Encoder {
    /// A chunk whose first reading is at `start` (the key's time).
    pub(crate) fn new(start: Timestamp) -> Self {
        Self {
            last: start,
            n: 0,
            times: Vec::with_capacity(32),
            records: Vec::with_capacity(128),
        }
    }

    fn push_time(&mut self, at: Timestamp) {
        debug_assert!(
            at >= self.last,
            "chunk readings must be pushed oldest first"
        );
        put_varint(&mut self.times, span(self.last, at));
        self.last = at;
        self.n += 1;
    }

    /// Appends a measurement as the ingest path receives it (motion is summarized).
    pub(crate) fn push_measurement(&mut self, at: Timestamp, m: &Measurement) {
        self.push_time(at);
        put_measurement(&mut self.records, m);
    }

    /// Appends a decoded record (the sweep re-encodes the kept tail of a chunk).
    pub(crate) fn push_record(&mut self, at: Timestamp, r: &Record) {
        self.push_time(at);
        match r {
            Record::Measurement(m) => put_measurement(&mut self.records, m),
            Record::Motion(s) => put_summary(&mut self.records, s),
        }
    }

    /// Readings pushed so far.
    pub(crate) fn count(&self) -> u64 {
        self.n
    }

    /// The time of the newest reading pushed (the start while empty).
    pub(crate) fn last(&self) -> Timestamp {
        self.last
    }

    /// The chunk value.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.value()
    }

    /// The chunk value of the readings pushed so far; more may be pushed after.
    pub(crate) fn value(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.times.len() + self.records.len());
        put_varint(&mut out, self.n);
        out.extend_from_slice(&self.times);
        out.extend_from_slice(&self.records);
        out
    }
}

/// The kind byte of a measurement (motion: its summary).
pub(crate) fn kind_byte(m: &Measurement) -> u8 {
    match m {
        Measurement::HeartRate { .. } => 1,
        Measurement::SpO2 { .. } => 2,
        Measurement::RespirationRate { .. } => 3,
        Measurement::BodyTemperature { .. } => 4,
        Measurement::BloodPressure { .. } => 5,
        Measurement::Motion { .. } => MOTION_SUMMARY,
        Measurement::Button { .. } => 7,
        Measurement::BedOccupancy { .. } => 8,
        Measurement::Environment { .. } => 9,
        Measurement::Smoke { .. } => 10,
        Measurement::Gas { .. } => 11,
        Measurement::Door { .. } => 12,
        Measurement::WaterLeak { .. } => 13,
        Measurement::Battery { .. } => 14,
        Measurement::Presence { .. } => 15,
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_f32(out: &mut Vec<u8>, v: f32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_opt(out: &mut Vec<u8>, v: Option<f32>) {
    if let Some(v) = v {
        put_f32(out, v);
    }
}

/// Bit `bit` set when `on`.
fn flag(on: bool, bit: u8) -> u8 {
    u8::from(on) << bit
}

fn put_measurement(out: &mut Vec<u8>, m: &Measurement) {
    if let Measurement::Motion { samples, hz } = m {
        put_summary(out, &MotionSummary::of(samples, *hz));
        return;
    }
    out.push(kind_byte(m));
    match m {
        Measurement::HeartRate { bpm: v }
        | Measurement::SpO2 { percent: v }
        | Measurement::RespirationRate { per_min: v }
        | Measurement::BodyTemperature { celsius: v }
        | Measurement::Battery { percent: v } => put_f32(out, *v),
        Measurement::BloodPressure {
            systolic,
            diastolic,
            map,
        } => {
            out.push(flag(map.is_some(), 0));
            put_f32(out, *systolic);
            put_f32(out, *diastolic);
            put_opt(out, *map);
        }
        Measurement::Button { button } => out.push(match button {
            ButtonKind::Sos => 0,
            ButtonKind::Cancel => 1,
        }),
        Measurement::BedOccupancy {
            in_bed,
            heart_rate,
            respiration_rate,
        } => {
            out.push(
                flag(*in_bed, 0)
                    | flag(heart_rate.is_some(), 1)
                    | flag(respiration_rate.is_some(), 2),
            );
            put_opt(out, *heart_rate);
            put_opt(out, *respiration_rate);
        }
        Measurement::Environment {
            temperature,
            humidity,
            co2,
        } => {
            out.push(flag(co2.is_some(), 0));
            put_f32(out, *temperature);
            put_f32(out, *humidity);
            put_opt(out, *co2);
        }
        Measurement::Smoke { alarm: b }
        | Measurement::Door { open: b }
        | Measurement::WaterLeak { wet: b } => out.push(u8::from(*b)),
        Measurement::Gas { alarm, ppm } => {
            out.push(flag(*alarm, 0) | flag(ppm.is_some(), 1));
            put_opt(out, *ppm);
        }
        Measurement::Presence { beacon, rssi } => {
            out.extend_from_slice(&rssi.to_le_bytes());
            put_varint(out, beacon.len() as u64);
            out.extend_from_slice(beacon.as_bytes());
        }
        Measurement::Motion { .. } => {}
    }
}

fn put_summary(out: &mut Vec<u8>, s: &MotionSummary) {
    out.push(MOTION_SUMMARY);
    put_varint(out, s.n);
    for v in [s.hz, s.mean, s.std, s.min, s.max] {
        put_f32(out, v);
    }
}

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "reading chunk",
        detail: detail.into(),
    }
}

/// Reads a value front to back; every read checks the length.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Result<u8, StoreError> {
        let (b, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| corrupt("truncated"))?;
        self.rest = rest;
        Ok(*b)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or_else(|| corrupt("truncated"))?;
        self.rest = rest;
        Ok(*head)
    }

    fn f32(&mut self) -> Result<f32, StoreError> {
        Ok(f32::from_le_bytes(self.take()?))
    }

    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(corrupt("varint overflows 64 bits"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint longer than 10 bytes"))
    }

    fn bool(&mut self) -> Result<bool, StoreError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(corrupt(format!("bool byte {b}"))),
        }
    }

    /// A flags byte with only the bits in `allowed`.
    fn flags(&mut self, allowed: u8) -> Result<u8, StoreError> {
        let f = self.u8()?;
        if f & !allowed != 0 {
            return Err(corrupt(format!("flags {f:#04x}")));
        }
        Ok(f)
    }

    fn opt(&mut self, present: bool) -> Result<Option<f32>, StoreError> {
        present.then(|| self.f32()).transpose()
    }

    fn bytes(&mut self, n: u64) -> Result<&'a [u8], StoreError> {
        let n = usize::try_from(n).map_err(|_| corrupt("length overflows"))?;
        if n > self.rest.len() {
            return Err(corrupt("truncated"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }
}

/// A chunk's reading count and time deltas, read without decoding the records.
struct Header<'a> {
    n: u64,
    cursor: Cursor<'a>,
}

fn header(value: &[u8]) -> Result<Header<'_>, StoreError> {
    let mut cursor = Cursor { rest: value };
    let n = cursor.varint()?;
    // Each reading takes at least a time byte and a kind byte: a bound before allocating.
    if n > cursor.rest.len() as u64 / 2 {
        return Err(corrupt(format!(
            "{n} readings in {} bytes",
            cursor.rest.len()
        )));
    }
    Ok(Header { n, cursor })
}

/// Number of readings in a chunk.
pub(crate) fn count(value: &[u8]) -> Result<u64, StoreError> {
    Ok(header(value)?.n)
}

/// Number of readings and the time of the last one, for a chunk that starts at `start`.
pub(crate) fn extent(start: Timestamp, value: &[u8]) -> Result<(u64, Timestamp), StoreError> {
    let mut h = header(value)?;
    let mut total = 0u64;
    for _ in 0..h.n {
        total = total
            .checked_add(h.cursor.varint()?)
            .ok_or_else(|| corrupt("time deltas overflow"))?;
    }
    if total > MAX_SPAN_MS as u64 {
        return Err(corrupt(format!("chunk spans {total} ms")));
    }
    let last = start
        .0
        .checked_add_unsigned(total)
        .ok_or_else(|| corrupt("time overflows"))?;
    Ok((h.n, Timestamp(last)))
}

/// Decodes a chunk that starts at `start` into its readings, oldest first.
pub(crate) fn decode(
    start: Timestamp,
    value: &[u8],
) -> Result<Vec<(Timestamp, Record)>, StoreError> {
    let mut h = header(value)?;
    let n = usize::try_from(h.n).map_err(|_| corrupt("count overflows"))?;
    let mut times = Vec::with_capacity(n);
    let mut at = start.0;
    let mut total = 0u64;
    for _ in 0..n {
        let d = h.cursor.varint()?;
        total = total
            .checked_add(d)
            .filter(|t| *t <= MAX_SPAN_MS as u64)
            .ok_or_else(|| corrupt("chunk spans more than the maximum"))?;
        at = at
            .checked_add_unsigned(d)
            .ok_or_else(|| corrupt("time overflows"))?;
        times.push(Timestamp(at));
    }
    let mut out = Vec::with_capacity(n);
    for at in times {
        out.push((at, record(&mut h.cursor)?));
    }
    if !h.cursor.rest.is_empty() {
        return Err(corrupt(format!(
            "{} bytes after the last reading",
            h.cursor.rest.len()
        )));
    }
    Ok(out)
}

fn record(c: &mut Cursor<'_>) -> Result<Record, StoreError> {
    let m = match c.u8()? {
        1 => Measurement::HeartRate { bpm: c.f32()? },
        2 => Measurement::SpO2 { percent: c.f32()? },
        3 => Measurement::RespirationRate { per_min: c.f32()? },
        4 => Measurement::BodyTemperature { celsius: c.f32()? },
        5 => {
            let f = c.flags(0b1)?;
            Measurement::BloodPressure {
                systolic: c.f32()?,
                diastolic: c.f32()?,
                map: c.opt(f & 1 != 0)?,
            }
        }
        MOTION_SUMMARY => {
            return Ok(Record::Motion(MotionSummary {
                n: c.varint()?,
                hz: c.f32()?,
                mean: c.f32()?,
                std: c.f32()?,
                min: c.f32()?,
                max: c.f32()?,
            }));
        }
        7 => Measurement::Button {
            button: match c.u8()? {
                0 => ButtonKind::Sos,
                1 => ButtonKind::Cancel,
                b => return Err(corrupt(format!("button byte {b}"))),
            },
        },
        8 => {
            let f = c.flags(0b111)?;
            Measurement::BedOccupancy {
                in_bed: f & 1 != 0,
                heart_rate: c.opt(f & 2 != 0)?,
                respiration_rate: c.opt(f & 4 != 0)?,
            }
        }
        9 => {
            let f = c.flags(0b1)?;
            Measurement::Environment {
                temperature: c.f32()?,
                humidity: c.f32()?,
                co2: c.opt(f & 1 != 0)?,
            }
        }
        10 => Measurement::Smoke { alarm: c.bool()? },
        11 => {
            let f = c.flags(0b11)?;
            Measurement::Gas {
                alarm: f & 1 != 0,
                ppm: c.opt(f & 2 != 0)?,
            }
        }
        12 => Measurement::Door { open: c.bool()? },
        13 => Measurement::WaterLeak { wet: c.bool()? },
        14 => Measurement::Battery { percent: c.f32()? },
        15 => {
            let rssi = i16::from_le_bytes(c.take()?);
            let len = c.varint()?;
            let beacon = std::str::from_utf8(c.bytes(len)?)
                .map_err(|_| corrupt("beacon is not UTF-8"))?
                .to_owned();
            Measurement::Presence { beacon, rssi }
        }
        k => return Err(corrupt(format!("unknown kind byte {k}"))),
    };
    Ok(Record::Measurement(m))
}

#[cfg(test)]
#[path = "chunk_tests.rs"]
mod tests;
