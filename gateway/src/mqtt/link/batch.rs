//! Telemetry batches for uplinks: every reading due in an interval is collected per device
//! group (the driver instance that read it) and leaves the box as one message per group and
//! interval on `pingan/{site}/telemetry/{driver}` (docs/MQTT.md), instead of one message per
//! reading. Pure: readings in, payloads out.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use pingan_drivers::Timestamp;

use super::types::Telemetry;
use crate::mqtt::Topics;
use crate::mqtt::payload;

/// A batch larger than this is sent at once (well under the 512 KiB packet limit of the links).
pub(crate) const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Version of the telemetry batch payload.
pub const BATCH_VERSION: u32 = 1;

/// One message ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// `pingan/{site}/telemetry/{driver}`.
    pub topic: String,
    /// `{"v":1,"site",…,"readings":[…]}`.
    pub payload: Vec<u8>,
}

#[derive(Debug, Default)]
struct Group {
    readings: Vec<Bytes>,
    bytes: usize,
}

/// Readings waiting for the next batch, per group.
#[derive(Debug)]
pub(crate) struct Batcher {
    topics: Topics,
    site: String,
    groups: BTreeMap<Arc<str>, Group>,
}

impl Batcher {
    /// An empty batcher for `site`.
    pub(crate) fn new(topics: Topics, site: &str) -> Self {
        Self {
            topics,
            site: site.to_owned(),
            groups: BTreeMap::new(),
        }
    }

    /// Adds a reading; returns its group's batch early when it grew past [`MAX_BATCH_BYTES`].
    pub(crate) fn add(&mut self, t: Telemetry, at: Timestamp) -> Option<Batch> {
        let g = self.groups.entry(t.group.clone()).or_default();
        g.bytes += t.body.len() + 1;
        g.readings.push(t.body);
        if g.bytes < MAX_BATCH_BYTES {
            return None;
        }
        let g = self.groups.remove(&t.group)?;
        Some(self.batch(&t.group, g, at))
    }

    /// The batch of one group, if it has readings (a poll of its driver ended).
    pub(crate) fn take_group(&mut self, group: &str, at: Timestamp) -> Option<Batch> {
        let g = self.groups.remove(group)?;
        (!g.readings.is_empty()).then(|| self.batch(group, g, at))
    }

    /// Nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.groups.values().all(|g| g.readings.is_empty())
    }

    /// Every non-empty group as one batch, in group order; the batcher is empty afterwards.
    pub(crate) fn take(&mut self, at: Timestamp) -> Vec<Batch> {
        std::mem::take(&mut self.groups)
            .into_iter()
            .filter(|(_, g)| !g.readings.is_empty())
            .map(|(name, g)| self.batch(&name, g, at))
            .collect()
    }

    fn batch(&self, group: &str, g: Group, at: Timestamp) -> Batch {
        // The readings are already serialized (once, for every link): splice them in.
        let head = serde_json::json!({
            "v": BATCH_VERSION,
            "site": self.site,
            "driver": group,
            "at": payload::rfc3339(at),
            "count": g.readings.len(),
        })
        .to_string();
        let mut out = Vec::with_capacity(head.len() + g.bytes + 16);
        out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
        out.extend_from_slice(b",\"readings\":[");
        for (i, r) in g.readings.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r);
        }
        out.extend_from_slice(b"]}");
        Batch {
            topic: self.topics.telemetry(group),
            payload: out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(group: &str, n: u32) -> Telemetry {
        Telemetry {
            topic: Arc::from(format!("pingan/t/readings/d{n}").as_str()),
            group: Arc::from(group),
            body: Bytes::from(format!(
                "{{\"v\":1,\"device\":\"d{n}\",\"kind\":\"heart_rate\",\"bpm\":{n}}}"
            )),
        }
    }

    #[test]
    fn one_message_per_group_with_every_reading_as_valid_json() {
        let mut b = Batcher::new(Topics::new("t"), "t");
        for n in 0..3 {
            assert!(b.add(reading("bus-1", n), Timestamp(0)).is_none());
        }
        assert!(b.add(reading("ble", 9), Timestamp(0)).is_none());
        let batches = b.take(Timestamp(1_000));
        let topics: Vec<&str> = batches.iter().map(|x| x.topic.as_str()).collect();
        assert_eq!(
            topics,
            vec!["pingan/t/telemetry/ble", "pingan/t/telemetry/bus-1"]
        );
        let v: serde_json::Value = serde_json::from_slice(&batches[1].payload).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["driver"], "bus-1");
        assert_eq!(v["count"], 3);
        assert_eq!(v["readings"][2]["bpm"], 2);
        assert_eq!(v["at"], "1970-01-01T00:00:01.000Z");
        assert!(b.take(Timestamp(2_000)).is_empty(), "nothing twice");
        assert!(b.is_empty());
        b.add(reading("bus-1", 7), Timestamp(3_000));
        b.add(reading("ble", 8), Timestamp(3_000));
        let polled = b.take_group("bus-1", Timestamp(3_100)).unwrap();
        assert_eq!(polled.topic, "pingan/t/telemetry/bus-1");
        assert!(b.take_group("bus-1", Timestamp(3_200)).is_none());
        assert!(!b.is_empty(), "ble still waits for its interval");
    }

    #[test]
    fn a_large_group_leaves_early_at_the_size_limit() {
        let mut b = Batcher::new(Topics::new("t"), "t");
        let mut early = None;
        for n in 0..100_000 {
            if let Some(x) = b.add(reading("bus-1", n), Timestamp(0)) {
                early = Some((n, x));
                break;
            }
        }
        let (n, batch) = early.expect("a batch before the interval ends");
        assert!(
            batch.payload.len() >= MAX_BATCH_BYTES && batch.payload.len() < MAX_BATCH_BYTES + 1024
        );
        let v: serde_json::Value = serde_json::from_slice(&batch.payload).unwrap();
        assert_eq!(v["count"].as_u64(), Some(u64::from(n) + 1));
    }
}
