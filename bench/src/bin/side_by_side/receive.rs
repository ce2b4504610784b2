//! What the subscriber makes of a message: the simulator registers whose values it carries (in
//! each gateway's own payload format) and how long ago each value was written. Pure.
//!
//! The simulator (`tests/peers/modbus_server.py --changing N --change-ms P`) gives register `a`
//! the value `base + k % 50` from time `k·P + a·P/N` (Unix time) on, base 200 for even and 400
//! for odd `a`. From the receipt time and the value, [`Changes::age_ns`] finds the change that
//! wrote it: the latest `k` at or before the receipt with that residue. That is exact as long as
//! a value arrives within 50 periods (5 s at 100 ms) of being written.

use serde_json::Value;

/// The simulator's change schedule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Changes {
    /// Changing registers (0..registers).
    pub(crate) registers: u32,
    /// Change period in nanoseconds.
    pub(crate) period_ns: i128,
}

/// Distinct values a register cycles through.
const CYCLE: i128 = 50;

impl Changes {
    fn base(a: u32) -> i64 {
        if a % 2 == 0 { 200 } else { 400 }
    }

    /// Nanoseconds from the change that wrote `raw` into register `a` until `at_ns` (Unix time);
    /// `None` when `raw` is not a value the simulator writes there.
    pub(crate) fn age_ns(&self, a: u32, raw: i64, at_ns: i128) -> Option<i128> {
        if a >= self.registers {
            return None;
        }
        let residue = i128::from(raw - Self::base(a));
        if !(0..CYCLE).contains(&residue) {
            return None;
        }
        let p = self.period_ns;
        let phase = i128::from(a) * p / i128::from(self.registers);
        let latest = (at_ns - phase).div_euclid(p);
        let k = latest - (latest - residue).rem_euclid(CYCLE);
        Some(at_ns - (k * p + phase))
    }
}

/// Whose payload format a message is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `pingan/{site}/readings/{device}`: readings with `device = "room-K"` and
    /// `temperature`/`humidity` (registers 2K and 2K+1, scale 0.1), found anywhere in the JSON
    /// so that batched payloads parse too.
    Pingan,
    /// `nodered/bench/{start}`: a JSON array of raw registers from `start`.
    NodeRed,
    /// `v1/gateway/telemetry`: `{"device": [{"ts": …, "values": {"r12": 203, …}}]}`.
    Thingsboard,
}

impl Format {
    /// The format of `topic`, if it is telemetry of one of the gateways.
    pub(crate) fn of(topic: &str) -> Option<Self> {
        if topic.starts_with("pingan/") {
            Some(Self::Pingan)
        } else if topic.starts_with("nodered/bench/") {
            Some(Self::NodeRed)
        } else if topic == "v1/gateway/telemetry" {
            Some(Self::Thingsboard)
        } else {
            None
        }
    }

    /// The (register, raw value) pairs of one message; unparseable parts are left out.
    pub(crate) fn values(self, topic: &str, payload: &[u8]) -> Vec<(u32, i64)> {
        let Ok(json) = serde_json::from_slice::<Value>(payload) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match self {
            Self::Pingan => pingan_values(&json, &mut out),
            Self::NodeRed => {
                let start = topic.rsplit('/').next().and_then(|s| s.parse::<u32>().ok());
                if let (Some(start), Some(items)) = (start, json.as_array()) {
                    for (i, v) in items.iter().enumerate() {
                        if let (Ok(i), Some(v)) = (u32::try_from(i), v.as_i64()) {
                            out.push((start + i, v));
                        }
                    }
                }
            }
            Self::Thingsboard => {
                for records in json.as_object().into_iter().flat_map(|o| o.values()) {
                    let records = match records {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for r in records {
                        let values = r.get("values").and_then(Value::as_object);
                        for (key, v) in values.into_iter().flatten() {
                            let a = key.strip_prefix('r').and_then(|n| n.parse::<u32>().ok());
                            if let (Some(a), Some(v)) = (a, v.as_f64()) {
                                out.push((a, v.round() as i64));
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// Every `{"device": "room-K", "temperature": …, "humidity": …}` object in `v`.
fn pingan_values(v: &Value, out: &mut Vec<(u32, i64)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| pingan_values(i, out)),
        Value::Object(o) => {
            let pair = o
                .get("device")
                .and_then(Value::as_str)
                .and_then(|d| d.strip_prefix("room-"))
                .and_then(|k| k.parse::<u32>().ok());
            if let Some(k) = pair {
                for (field, a) in [("temperature", 2 * k), ("humidity", 2 * k + 1)] {
                    if let Some(x) = o.get(field).and_then(Value::as_f64) {
                        out.push((a, (x * 10.0).round() as i64));
                    }
                }
            }
            o.values().for_each(|i| pingan_values(i, out));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i128 = 1_000_000;

    #[test]
    fn age_is_the_time_since_the_change_that_wrote_the_value() {
        let c = Changes {
            registers: 500,
            period_ns: 100 * MS,
        };
        let t0 = 1_800_000_000_000 * MS; // a multiple of 100 ms and of 50 periods
        // (register, raw, received at t0 + ms, age in whole ms). Register a changes a × 0.2 ms
        // after each 100 ms step.
        let table = [
            (0, 200, 0, 0),         // written at t0 (k ≡ 0)
            (0, 200, 99, 99),       // still the same value
            (0, 201, 100, 0),       // the next one
            (0, 200, 100, 100),     // the previous value, one change late
            (1, 400, 0, 4_999),     // register 1 changes only at t0 + 0.2 ms: 400 is 50 changes old
            (250, 200, 50, 0),      // register 250 changes 50 ms after each step
            (250, 249, 49, 99),     // ... so at +49 ms it still holds the previous value
            (2, 249, 1_000, 1_099), // eleven changes late
        ];
        for (a, raw, at, age) in table {
            let got = c.age_ns(a, raw, t0 + at * MS).map(|n| n / MS);
            assert_eq!(got, Some(age), "register {a} value {raw} at +{at} ms");
        }
    }

    #[test]
    fn values_the_simulator_never_writes_have_no_age() {
        let c = Changes {
            registers: 4,
            period_ns: 100 * MS,
        };
        assert_eq!(c.age_ns(0, 199, 0), None);
        assert_eq!(c.age_ns(0, 250, 0), None);
        assert_eq!(c.age_ns(1, 200, 0), None, "odd registers start at 400");
        assert_eq!(c.age_ns(4, 200, 0), None, "not a changing register");
    }

    #[test]
    fn each_gateways_payload_yields_its_registers() {
        let pingan = br#"{"v":1,"device":"room-3","kind":"environment","temperature":20.700000762939453,"humidity":44.9}"#;
        assert_eq!(
            Format::Pingan.values("pingan/bench/readings/room-3", pingan),
            vec![(6, 207), (7, 449)]
        );
        let batch = br#"{"v":2,"readings":[{"device":"room-0","temperature":20.0,"humidity":40.1},{"device":"room-1","temperature":20.2,"humidity":40.3}]}"#;
        assert_eq!(
            Format::Pingan.values("pingan/bench/telemetry/mb", batch),
            vec![(0, 200), (1, 401), (2, 202), (3, 403)]
        );
        assert_eq!(
            Format::NodeRed.values("nodered/bench/125", b"[201,402]"),
            vec![(125, 201), (126, 402)]
        );
        let tb = br#"{"bench":[{"ts":1,"values":{"r0":203,"r1":404.0,"other":1}}]}"#;
        let mut got = Format::Thingsboard.values("v1/gateway/telemetry", tb);
        got.sort_unstable();
        assert_eq!(got, vec![(0, 203), (1, 404)]);
        assert!(Format::NodeRed.values("nodered/bench/x", b"[1]").is_empty());
        assert!(Format::Pingan.values("pingan/x", b"not json").is_empty());
    }

    #[test]
    fn topics_are_told_apart() {
        assert_eq!(
            Format::of("pingan/bench/readings/room-1"),
            Some(Format::Pingan)
        );
        assert_eq!(Format::of("nodered/bench/0"), Some(Format::NodeRed));
        assert_eq!(
            Format::of("v1/gateway/telemetry"),
            Some(Format::Thingsboard)
        );
        assert_eq!(Format::of("v1/devices/me/rpc/request/1"), None);
    }
}
