//! The pipeline task: driver events in; the store writer, local MQTT telemetry, uplink
//! telemetry (downsampled) and the alert task out. Telemetry paths drop and count under
//! pressure; findings (the alert path) wait for room and are never dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use pingan_drivers::{DeviceId, DriverEvent, Reading, Timestamp};
use tokio::sync::mpsc;

use super::live::{Counters, Live};
use crate::analytics::Finding;
use crate::clock::SharedClock;
use crate::mqtt::Topics;
use crate::mqtt::interest::Interest;
use crate::mqtt::link::{LinkStats, Telemetry, TelemetryMsg, offer_telemetry};
use crate::mqtt::payload;
use crate::pipeline::{Processed, Processor};

/// Most driver events handled in one turn of the loop: a poll's readings arrive together, and a
/// turn of `select!` per reading cost more than the reading. Small enough that a finding in the
/// middle waits well under a millisecond for the rest of the turn.
const EVENTS_PER_TURN: usize = 256;

/// A telemetry destination with its own downsampling interval.
#[derive(Debug)]
pub(super) struct TelemetryOut {
    /// One reading per device and kind per this interval.
    pub interval: Duration,
    /// The link's telemetry queue.
    pub tx: mpsc::Sender<TelemetryMsg>,
    /// The link's counters.
    pub stats: Arc<LinkStats>,
    last: HashMap<(DeviceId, &'static str), Timestamp>,
    /// The local broker only: readings go out only where someone subscribes.
    listeners: Option<Listeners>,
}

/// Which devices' local reading topics some client of the embedded broker listens to,
/// recomputed per device when the subscriptions change (an atomic load per reading otherwise).
#[derive(Debug)]
pub(super) struct Listeners {
    interest: Arc<Interest>,
    generation: u64,
    wanted: HashMap<DeviceId, bool>,
}

impl Listeners {
    /// `topic` is built only when the answer is not cached (a new device or new subscriptions).
    fn wants(&mut self, device: &DeviceId, topic: impl FnOnce() -> Arc<str>) -> bool {
        // Read first: a change while matching shows as a new generation next time.
        let g = self.interest.generation();
        if g != self.generation {
            self.wanted.clear();
            self.generation = g;
        }
        if let Some(w) = self.wanted.get(device) {
            return *w;
        }
        let w = self.interest.wants(&topic());
        self.wanted.insert(device.clone(), w);
        w
    }
}

impl TelemetryOut {
    /// A destination.
    pub(super) fn new(
        interval: Duration,
        tx: mpsc::Sender<TelemetryMsg>,
        stats: Arc<LinkStats>,
    ) -> Self {
        Self {
            interval,
            tx,
            stats,
            last: HashMap::new(),
            listeners: None,
        }
    }

    /// Publishes a device's readings only while a client of the embedded broker subscribes to
    /// a filter matching its topic.
    pub(super) fn only_for_listeners(mut self, interest: Arc<Interest>) -> Self {
        self.listeners = Some(Listeners {
            interest,
            generation: u64::MAX,
            wanted: HashMap::new(),
        });
        self
    }

    /// Whether this reading is due (critical readings always are).
    fn due(&mut self, r: &Reading) -> bool {
        if r.measurement.is_critical() {
            return true;
        }
        let key = (r.device.clone(), r.measurement.kind());
        match self.last.get(&key) {
            Some(t) if r.at.since(*t) < self.interval && r.at >= *t => false,
            _ => {
                self.last.insert(key, r.at);
                true
            }
        }
    }
}

/// The per-device topic of a device's readings, built once per device.
fn reading_topic(
    cache: &mut HashMap<DeviceId, Arc<str>>,
    topics: &Topics,
    device: &DeviceId,
) -> Arc<str> {
    if let Some(t) = cache.get(device) {
        return t.clone();
    }
    let t: Arc<str> = Arc::from(topics.reading(device).as_str());
    cache.insert(device.clone(), t.clone());
    t
}

/// The pipeline task's state.
#[derive(Debug)]
pub(super) struct PipelineTask {
    /// Normalization and analytics.
    pub processor: Processor,
    /// Live state and counters.
    pub live: Arc<Live>,
    /// The store writer's queue.
    pub store_tx: mpsc::Sender<Reading>,
    /// The alert task's queue.
    pub findings: mpsc::Sender<Finding>,
    /// Fall detection's queue.
    pub fall: super::fall::FallInput,
    /// Telemetry destinations: the local broker first, then uplinks that want telemetry.
    pub telemetry: Vec<TelemetryOut>,
    /// Topic names.
    pub topics: Topics,
    /// Unix ms of the last loop turn, for the systemd watchdog.
    pub heartbeat: Arc<AtomicI64>,
    /// The time.
    pub clock: SharedClock,
    /// Per-device reading topics, built once.
    pub reading_topics: HashMap<DeviceId, Arc<str>>,
}

impl PipelineTask {
    /// Runs until every driver's sink is dropped and the channel is drained.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<DriverEvent>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut events = Vec::with_capacity(EVENTS_PER_TURN);
        loop {
            let findings = tokio::select! {
                n = rx.recv_many(&mut events, EVENTS_PER_TURN) => {
                    if n == 0 {
                        break;
                    }
                    let mut found = Vec::new();
                    for ev in events.drain(..) {
                        found.extend(self.on_event(ev));
                    }
                    found
                }
                _ = tick.tick() => self.processor.on_tick(self.clock.now()),
            };
            self.heartbeat
                .store(self.clock.now().millis(), Ordering::Relaxed);
            for f in findings {
                if self.findings.send(f).await.is_err() {
                    tracing::error!("the alert task is gone; finding lost");
                }
            }
        }
    }

    fn on_event(&mut self, ev: DriverEvent) -> Vec<Finding> {
        match ev {
            DriverEvent::Reading(r) => self.on_reading(r),
            DriverEvent::PollEnd { device } => {
                if let Some(b) = self.processor.binding(&device) {
                    let group = b.driver.clone();
                    // The local link (first) publishes readings as they come; uplinks batch.
                    for out in self.telemetry.iter().skip(1) {
                        let _ = out.tx.try_send(TelemetryMsg::PollEnd(group.clone()));
                    }
                }
                Vec::new()
            }
            DriverEvent::Health {
                device,
                at,
                state,
                detail,
            } => {
                self.live.on_health(&device, state);
                let body = payload::health(&device, state, &detail, at).to_string();
                if let Some(local) = self.telemetry.first() {
                    let t = Telemetry {
                        topic: Arc::from(self.topics.health(&device).as_str()),
                        group: Arc::from("health"),
                        body: Bytes::from(body),
                    };
                    offer_telemetry(&local.tx, &local.stats, TelemetryMsg::Item(t));
                }
                self.processor.on_health(&device, state, &detail, at)
            }
        }
    }

    fn on_reading(&mut self, r: Reading) -> Vec<Finding> {
        Counters::bump(&self.live.counters.readings_in);
        self.live.metrics.reading_received(&r.device);
        match self.processor.on_reading(r) {
            Processed::Unknown { first } => {
                Counters::bump(&self.live.counters.unknown_device_readings);
                if first {
                    tracing::warn!(
                        "readings from a device that is not in the config are counted and ignored (logged once per device)"
                    );
                }
                Vec::new()
            }
            Processed::Known(n, findings) => {
                let r = &n.reading;
                self.live.on_reading(r, n.binding.resident.as_deref());
                self.fall.offer(r, &n.binding);
                // Serialized once, whichever links want it.
                let mut msg: Option<Telemetry> = None;
                for out in &mut self.telemetry {
                    if let Some(l) = &mut out.listeners {
                        let topic =
                            || reading_topic(&mut self.reading_topics, &self.topics, &r.device);
                        if !l.wants(&r.device, topic) {
                            continue;
                        }
                    }
                    if out.due(r) {
                        let t = msg.get_or_insert_with(|| Telemetry {
                            topic: reading_topic(&mut self.reading_topics, &self.topics, &r.device),
                            group: n.binding.driver.clone(),
                            body: Bytes::from(payload::reading_json(r, &n.binding)),
                        });
                        offer_telemetry(&out.tx, &out.stats, TelemetryMsg::Item(t.clone()));
                    }
                }
                if let Err(e) = self.store_tx.try_send(n.reading) {
                    Counters::bump(&self.live.counters.readings_shed);
                    let device = match &e {
                        mpsc::error::TrySendError::Full(r)
                        | mpsc::error::TrySendError::Closed(r) => &r.device,
                    };
                    self.live.metrics.readings_written(device, 0, 0, 1);
                }
                findings
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertKind, Subject};
    use crate::config::Config;
    use pingan_drivers::{ButtonKind, Measurement, ReadingSink};

    const CONFIG: &str = r#"
[site]
id = "t"
name = "T"
[[drivers]]
id = "sim"
driver = "sim"
[[floors]]
id = "1F"
[[rooms]]
id = "101"
floor = "1F"
[[residents]]
id = "R1"
name = "A"
birth_year = 1940
sex = "female"
room = "101"
[[residents]]
id = "R2"
name = "B"
birth_year = 1941
sex = "male"
room = "101"
[[devices]]
id = "w1"
model = "wristband"
driver = "sim"
resident = "R1"
[[devices]]
id = "w2"
model = "wristband"
driver = "sim"
resident = "R2"
"#;

    fn task(
        config: Config,
        live: &Arc<Live>,
        store_tx: mpsc::Sender<Reading>,
        findings: mpsc::Sender<Finding>,
        telemetry: Vec<TelemetryOut>,
    ) -> PipelineTask {
        let site = crate::pipeline::Site::new(config);
        PipelineTask {
            processor: crate::pipeline::Pipeline::for_site(&site).into_parts().0,
            live: live.clone(),
            store_tx,
            findings,
            fall: super::super::fall::FallInput::disabled(),
            telemetry,
            topics: Topics::new("t"),
            heartbeat: Arc::new(AtomicI64::new(0)),
            clock: crate::clock::SystemClock::shared(),
            reading_topics: HashMap::new(),
        }
    }

    #[tokio::test]
    async fn local_readings_go_out_only_while_someone_subscribes() {
        let config = Config::parse(CONFIG, "t.toml").unwrap();
        let live = Arc::new(Live::default());
        let (store_tx, _store_rx) = mpsc::channel(64);
        let (findings_tx, _findings) = mpsc::channel(64);
        let (ttx, mut trx) = mpsc::channel(64);
        let interest = Arc::new(Interest::default());
        let local = TelemetryOut::new(Duration::ZERO, ttx, Arc::new(LinkStats::default()))
            .only_for_listeners(interest.clone());
        let mut task = task(config, &live, store_tx, findings_tx, vec![local]);
        let hr = |dev: &str, t: i64| {
            Reading::new(dev, Timestamp(t), Measurement::HeartRate { bpm: 70.0 })
        };
        let topics = |trx: &mut mpsc::Receiver<TelemetryMsg>| {
            let mut out = Vec::new();
            while let Ok(TelemetryMsg::Item(t)) = trx.try_recv() {
                out.push(t.topic.to_string());
            }
            out
        };
        task.on_reading(hr("w1", 1));
        assert!(
            topics(&mut trx).is_empty(),
            "nobody listens: nothing published"
        );
        let client = interest.open();
        client.apply(crate::mqtt::subscribe_packet::Change::Subscribe(vec![
            "pingan/t/readings/w1".into(),
        ]));
        task.on_reading(hr("w1", 2));
        task.on_reading(hr("w2", 3));
        assert_eq!(topics(&mut trx), ["pingan/t/readings/w1"]);
        drop(client);
        task.on_reading(hr("w1", 4));
        assert!(topics(&mut trx).is_empty(), "the listener left");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_and_flooding_devices_do_not_stall_another_residents_sos() {
        let config = Config::parse(CONFIG, "t.toml").unwrap();
        let live = Arc::new(Live::default());
        let (sink, rx) = ReadingSink::channel(64);
        // Nobody drains the store or telemetry queues: they fill at once and must not block.
        let (store_tx, _store_rx) = mpsc::channel(8);
        let (findings_tx, mut findings) = mpsc::channel(8);
        let (ttx, _trx) = mpsc::channel(4);
        let stats = Arc::new(LinkStats::default());
        let task = task(
            config,
            &live,
            store_tx,
            findings_tx,
            vec![TelemetryOut::new(Duration::ZERO, ttx, stats.clone())],
        );
        tokio::spawn(task.run(rx));
        let flood = |dev: &'static str, sink: ReadingSink| async move {
            for i in 0..20_000 {
                let r = Reading::new(dev, Timestamp(i), Measurement::HeartRate { bpm: 70.0 });
                sink.send(r).await.unwrap();
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        };
        let a = tokio::spawn(flood("w1", sink.clone()));
        let b = tokio::spawn(flood("ghost", sink.clone()));
        let sos = Reading::new(
            "w2",
            Timestamp(5),
            Measurement::Button {
                button: ButtonKind::Sos,
            },
        );
        sink.send(sos).await.unwrap();
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match findings.recv().await {
                    Some(Finding::Event(ev)) if ev.kind == AlertKind::Sos => return ev,
                    Some(_) => {}
                    None => panic!("pipeline ended"),
                }
            }
        })
        .await
        .expect("the SOS got through the flood");
        assert_eq!(found.subject, Subject::Resident("R2".into()));
        a.await.unwrap();
        b.await.unwrap();
        drop(sink);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let c = &live.counters;
        assert!(c.unknown_device_readings.load(Ordering::Relaxed) > 0);
        let shed = c.readings_shed.load(Ordering::Relaxed);
        let dropped_at_sink = 40_001 - c.readings_in.load(Ordering::Relaxed);
        assert!(shed > 0 || dropped_at_sink > 0, "pressure was counted");
        assert!(stats.telemetry_dropped.load(Ordering::Relaxed) > 0);
    }
}
