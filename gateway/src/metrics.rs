//! Prometheus metrics of the running gateway, in the `prometheus-client` crate's registry (the
//! OpenMetrics text format, names and units per the Prometheus conventions: `_total`,
//! `_seconds`, `_bytes`).
//!
//! Two kinds of family:
//! - **events**, counted where they happen: readings per driver, alerts raised per kind and
//!   priority, alert state transitions, the time from raise to first delivery and to
//!   acknowledgement, model inference time, refused commands. The service's tasks call the
//!   `record`-style methods here.
//! - **levels**, sampled at scrape time from what the service already keeps (links, outboxes,
//!   device health, store size, free disk): the service fills a [`Levels`] per scrape and
//!   [`Metrics::encode`] writes both.
//!
//! No personal data: labels are driver ids, link ids, alert kinds, priorities, states and model
//! names from the site config. Device ids are never labels: a wearable's id stands for the
//! resident who wears it, and one series per device would also grow without bound.

use std::collections::HashMap;
use std::time::Duration;

use pingan_drivers::DeviceId;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// Content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Readings that came from devices the config does not know are counted under this driver.
pub const UNKNOWN_DRIVER: &str = "unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DriverLabels {
    driver: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    kind: String,
    priority: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    from: String,
    to: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PriorityLabels {
    priority: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Why a command was refused (`pingan_commands_rejected_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The topic or body does not match the command schema (docs/schema/).
    Malformed,
    /// A valid command the engine refused (unknown or resolved alert).
    Refused,
    /// A device command the driver could not carry out.
    DeviceFailed,
    /// Dropped unparsed-for-work because its task's queue was full (a flood).
    Busy,
}

impl Rejection {
    fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Refused => "refused",
            Self::DeviceFailed => "device_failed",
            Self::Busy => "busy",
        }
    }
}

/// The counters of one driver, looked up per reading by its device.
#[derive(Debug, Clone, Default)]
struct DriverCounters {
    received: Counter,
    stored: Counter,
    downsampled: Counter,
    shed: Counter,
}

/// The gateway's event metrics; see the module docs. Shared by the tasks in an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    by_device: HashMap<DeviceId, DriverCounters>,
    unknown: DriverCounters,
    alerts_raised: Family<AlertLabels, Counter>,
    transitions: Family<TransitionLabels, Counter>,
    to_delivery: Histograms<PriorityLabels>,
    to_ack: Histograms<PriorityLabels>,
    inference: Histograms<ModelLabels>,
    rejected: Family<ReasonLabels, Counter>,
}

fn delivery_buckets() -> Histogram {
    // 1 ms (loopback broker) to 5 min (an uplink that was down).
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
        300.0,
    ])
}

fn ack_buckets() -> Histogram {
    // Seconds to an hour: how long people take to answer.
    Histogram::new([
        5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
    ])
}

fn inference_buckets() -> Histogram {
    // 10 µs to 0.3 s (docs/BENCHMARKS.md: a window scores in tens of µs).
    Histogram::new(exponential_buckets(0.000_01, 2.0, 16))
}

impl Metrics {
    /// The families of a site whose devices are read by `drivers`: `(device, driver id)` pairs.
    /// Every driver's reading counters exist from the start (at zero), so rates work at once.
    pub fn new(drivers: impl IntoIterator<Item = (DeviceId, String)>) -> Self {
        let mut registry = Registry::with_prefix("pingan");
        registry.register(
            "build",
            "The running gateway's version",
            Info::new(VersionLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            }),
        );
        let readings = [
            ("readings_received", "Readings received from drivers"),
            ("readings_stored", "Readings written to the store"),
            (
                "readings_downsampled",
                "Routine readings not stored by design (storage.downsample)",
            ),
            (
                "readings_shed",
                "Readings not stored because the store was over budget or behind",
            ),
        ];
        let families: Vec<Family<DriverLabels, Counter>> =
            readings.iter().map(|_| Family::default()).collect();
        for ((name, help), family) in readings.iter().zip(&families) {
            registry.register(*name, *help, family.clone());
        }
        let counters = |driver: &str| {
            let labels = DriverLabels {
                driver: driver.to_owned(),
            };
            let get = |i: usize| families[i].get_or_create(&labels).clone();
            DriverCounters {
                received: get(0),
                stored: get(1),
                downsampled: get(2),
                shed: get(3),
            }
        };
        let mut per_driver: HashMap<String, DriverCounters> = HashMap::new();
        let mut by_device = HashMap::new();
        for (device, driver) in drivers {
            let c = per_driver
                .entry(driver.clone())
                .or_insert_with(|| counters(&driver))
                .clone();
            by_device.insert(device, c);
        }
        let unknown = counters(UNKNOWN_DRIVER);

        let alerts_raised = Family::default();
        registry.register(
            "alerts_raised",
            "Alerts raised, by kind and priority",
            alerts_raised.clone(),
        );
        let transitions = Family::default();
        registry.register(
            "alert_transitions",
            "Alert state changes (from = new for a raised alert)",
            transitions.clone(),
        );
        let to_delivery: Histograms<PriorityLabels> =
            Family::new_with_constructor(delivery_buckets);
        registry.register_with_unit(
            "alert_delivery",
            "Time from an alert's raise to its first delivery (a link meant for people confirmed it)",
            Unit::Seconds,
            to_delivery.clone(),
        );
        let to_ack: Histograms<PriorityLabels> = Family::new_with_constructor(ack_buckets);
        registry.register_with_unit(
            "alert_acknowledgement",
            "Time from an alert's raise to a person's acknowledgement",
            Unit::Seconds,
            to_ack.clone(),
        );
        let inference: Histograms<ModelLabels> = Family::new_with_constructor(inference_buckets);
        registry.register_with_unit(
            "model_inference",
            "Time to score one batch with a model (fall: resampling, windowing, features and trees)",
            Unit::Seconds,
            inference.clone(),
        );
        let rejected = Family::default();
        registry.register(
            "commands_rejected",
            "Commands refused: malformed (not the documented schema), refused by the alert engine, or failed at the device",
            rejected.clone(),
        );
        Self {
            registry,
            by_device,
            unknown,
            alerts_raised,
            transitions,
            to_delivery,
            to_ack,
            inference,
            rejected,
        }
    }

    fn driver(&self, device: &DeviceId) -> &DriverCounters {
        self.by_device.get(device).unwrap_or(&self.unknown)
    }

    /// A reading arrived from `device`.
    pub fn reading_received(&self, device: &DeviceId) {
        self.driver(device).received.inc();
    }

    /// Readings of `device` were stored (`stored`), thinned by design (`downsampled`) or shed.
    pub fn readings_written(&self, device: &DeviceId, stored: u64, downsampled: u64, shed: u64) {
        let c = self.driver(device);
        c.stored.inc_by(stored);
        c.downsampled.inc_by(downsampled);
        c.shed.inc_by(shed);
    }

    /// An alert of `kind` and `priority` was raised.
    pub fn alert_raised(&self, kind: &str, priority: &str) {
        self.alerts_raised
            .get_or_create(&AlertLabels {
                kind: kind.to_owned(),
                priority: priority.to_owned(),
            })
            .inc();
    }

    /// An alert moved from state `from` (`new` when it was just raised) to `to`.
    pub fn transition(&self, from: &str, to: &str) {
        self.transitions
            .get_or_create(&TransitionLabels {
                from: from.to_owned(),
                to: to.to_owned(),
            })
            .inc();
    }

    /// An alert of `priority` was first delivered `after` its raise.
    pub fn delivered_after(&self, priority: &str, after: Duration) {
        self.to_delivery
            .get_or_create(&PriorityLabels {
                priority: priority.to_owned(),
            })
            .observe(after.as_secs_f64());
    }

    /// An alert of `priority` was acknowledged `after` its raise.
    pub fn acknowledged_after(&self, priority: &str, after: Duration) {
        self.to_ack
            .get_or_create(&PriorityLabels {
                priority: priority.to_owned(),
            })
            .observe(after.as_secs_f64());
    }

    /// `model` scored a batch in `took`.
    pub fn inference(&self, model: &str, took: Duration) {
        self.inference
            .get_or_create(&ModelLabels {
                model: model.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// A command was refused.
    pub fn command_rejected(&self, why: Rejection) {
        self.rejected
            .get_or_create(&ReasonLabels {
                reason: why.as_str().to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text of the event families and the scrape-time `levels`.
    pub fn encode(&self, levels: &Levels) -> String {
        let mut out = String::with_capacity(8192);
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry)
            .and_then(|()| encode_registry(&mut out, &levels.registry))
            .and_then(|()| encode_eof(&mut out));
        out
    }
}

/// Label pairs of a scrape-time series.
type Labels = Vec<(String, String)>;
/// A gauge holding an `f64`.
type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// Levels sampled at one scrape (gauges, and counters the service keeps in its own atomics).
#[derive(Debug)]
pub struct Levels {
    registry: Registry,
    gauges: HashMap<&'static str, Family<Labels, FloatGauge>>,
    counters: HashMap<&'static str, Family<Labels, Counter>>,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            registry: Registry::with_prefix("pingan"),
            gauges: HashMap::new(),
            counters: HashMap::new(),
        }
    }
}

fn owned(labels: &[(&str, &str)]) -> Labels {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Levels {
    /// Sets gauge `name` (without the `pingan_` prefix; `unit` is appended) at `labels`.
    pub fn gauge(
        &mut self,
        name: &'static str,
        help: &str,
        unit: Option<Unit>,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let registry = &mut self.registry;
        let family = self.gauges.entry(name).or_insert_with(|| {
            let f = Family::default();
            match unit {
                Some(u) => registry.register_with_unit(name, help, u, f.clone()),
                None => registry.register(name, help, f.clone()),
            }
            f
        });
        family.get_or_create(&owned(labels)).set(value);
    }

    /// Sets counter `name` (without `pingan_` and `_total`) at `labels` to the running total
    /// `value` kept elsewhere.
    pub fn counter(&mut self, name: &'static str, help: &str, labels: &[(&str, &str)], value: u64) {
        let registry = &mut self.registry;
        let family = self.counters.entry(name).or_insert_with(|| {
            let f = Family::default();
            registry.register(name, help, f.clone());
            f
        });
        family.get_or_create(&owned(labels)).inc_by(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn readings_count_per_driver_and_unknown_devices_apart() {
        let m = Metrics::new([
            (DeviceId::new("w1"), "ble".to_owned()),
            (DeviceId::new("w2"), "ble".to_owned()),
            (DeviceId::new("m1"), "modbus".to_owned()),
        ]);
        for d in ["w1", "w2", "m1", "ghost"] {
            m.reading_received(&DeviceId::new(d));
        }
        m.readings_written(&DeviceId::new("m1"), 3, 2, 1);
        let text = m.encode(&Levels::default());
        let at = |s: &str| sample(&text, s);
        assert_eq!(
            at("pingan_readings_received_total{driver=\"ble\"}"),
            Some(2.0)
        );
        assert_eq!(
            at("pingan_readings_received_total{driver=\"modbus\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_readings_received_total{driver=\"unknown\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_readings_stored_total{driver=\"modbus\"}"),
            Some(3.0)
        );
        assert_eq!(
            at("pingan_readings_downsampled_total{driver=\"modbus\"}"),
            Some(2.0)
        );
        assert_eq!(
            at("pingan_readings_shed_total{driver=\"modbus\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_readings_stored_total{driver=\"ble\"}"),
            Some(0.0)
        );
        assert!(
            !text.contains("w1") && !text.contains("ghost"),
            "no device ids: {text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn alert_families_carry_units_and_conventional_names() {
        let m = Metrics::new([]);
        m.alert_raised("sos", "high");
        m.transition("new", "raised");
        m.delivered_after("high", Duration::from_millis(3));
        m.acknowledged_after("high", Duration::from_secs(40));
        m.inference("fall", Duration::from_micros(40));
        m.command_rejected(Rejection::Malformed);
        let mut levels = Levels::default();
        levels.gauge("link_up", "Connected", None, &[("link", "local")], 1.0);
        levels.gauge("disk_free", "Free", Some(Unit::Bytes), &[], 5e9);
        levels.counter("link_acked", "Acked", &[("link", "local")], 7);
        let text = m.encode(&levels);
        let at = |s: &str| sample(&text, s);
        assert_eq!(
            at("pingan_alerts_raised_total{kind=\"sos\",priority=\"high\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_alert_transitions_total{from=\"new\",to=\"raised\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_alert_delivery_seconds_count{priority=\"high\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_alert_delivery_seconds_bucket{le=\"0.005\",priority=\"high\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_alert_acknowledgement_seconds_sum{priority=\"high\"}"),
            Some(40.0)
        );
        assert_eq!(
            at("pingan_model_inference_seconds_count{model=\"fall\"}"),
            Some(1.0)
        );
        assert_eq!(
            at("pingan_commands_rejected_total{reason=\"malformed\"}"),
            Some(1.0)
        );
        assert_eq!(at("pingan_link_up{link=\"local\"}"), Some(1.0));
        assert_eq!(at("pingan_disk_free_bytes"), Some(5e9));
        assert_eq!(at("pingan_link_acked_total{link=\"local\"}"), Some(7.0));
        assert!(text.contains("pingan_build_info{version=\""), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1);
    }
}
