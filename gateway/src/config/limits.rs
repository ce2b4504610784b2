//! Sane ranges of numbers and durations. A value outside them is almost always a typo (`"1000d"`
//! for `"1000s"`, a missing digit) and would quietly switch a safety feature off: a 1000-day
//! cancel window lets any alert be cancelled for years, a 1000-day escalation timeout never
//! escalates, `max_connections = 0` refuses every client. docs/CONFIG.md lists the bounds.

use std::time::Duration;

use super::model::Config;

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// Most simultaneous clients of the embedded broker. Each costs three file descriptors (the
/// client's socket, the guard's socket to rumqttd, rumqttd's own) and rumqttd reserves a slot
/// per connection up front.
pub const MAX_MQTT_CONNECTIONS: usize = 1000;

/// Most analytics durations (hold times, windows, supervision intervals) may be.
const ANALYTICS_MAX: Duration = Duration::from_secs(30 * 86_400);
/// The anomaly model's trend windows look back further.
const ANALYTICS_TREND_MAX: Duration = Duration::from_secs(366 * 86_400);

/// A duration setting and its range.
struct Range {
    key: String,
    value: Duration,
    min: Duration,
    max: Duration,
}

impl Range {
    fn new(key: impl Into<String>, value: Duration, min: Duration, max: Duration) -> Self {
        Self {
            key: key.into(),
            value,
            min,
            max,
        }
    }
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Every setting outside its range, as (key, what was expected).
pub(super) fn check(c: &Config, p: &mut Vec<(String, String)>) {
    let mut ranges = vec![
        Range::new("storage.retention", c.storage.retention, MINUTE, 3660 * DAY),
        Range::new(
            "storage.downsample",
            c.storage.downsample,
            Duration::ZERO,
            HOUR,
        ),
        Range::new(
            "storage.sweep_interval",
            c.storage.sweep_interval,
            SECOND,
            DAY,
        ),
        Range::new(
            "mqtt.readings_min_interval",
            c.mqtt.readings_min_interval,
            Duration::ZERO,
            HOUR,
        ),
        Range::new(
            "alerts.cancel_window",
            c.alerts.cancel_window,
            Duration::ZERO,
            10 * MINUTE,
        ),
        Range::new(
            "alerts.clear_debounce",
            c.alerts.clear_debounce,
            Duration::ZERO,
            DAY,
        ),
    ];
    for (i, d) in c.devices.iter().enumerate() {
        if let Some(t) = d.report_interval {
            ranges.push(Range::new(
                format!("devices[{i}].report_interval"),
                t,
                SECOND,
                7 * DAY,
            ));
        }
    }
    for (i, pol) in c.escalation.policies.iter().enumerate() {
        for (j, l) in pol.levels.iter().enumerate() {
            if let Some(t) = l.timeout {
                ranges.push(Range::new(
                    format!("escalation.policies[{i}].levels[{j}].timeout"),
                    t,
                    Duration::ZERO,
                    DAY,
                ));
            }
        }
    }
    for (i, u) in c.uplinks.iter().enumerate() {
        if let Some(t) = u.telemetry_interval {
            ranges.push(Range::new(
                format!("uplinks[{i}].telemetry_interval"),
                t,
                Duration::ZERO,
                DAY,
            ));
        }
    }
    analytics(c, &mut ranges);
    for r in ranges {
        // Zero is checked by the rules that give it a meaning (e.g. "above zero" for retention).
        if r.value > r.max || (r.value < r.min && !r.value.is_zero()) {
            p.push((
                r.key,
                format!(
                    "{} is outside the sane range {} to {}; check for a typo (docs/CONFIG.md lists the bounds)",
                    show(r.value),
                    show(r.min),
                    show(r.max)
                ),
            ));
        }
    }
    if c.mqtt.max_connections == 0 || c.mqtt.max_connections > MAX_MQTT_CONNECTIONS {
        p.push((
            "mqtt.max_connections".into(),
            format!(
                "expected 1 to {MAX_MQTT_CONNECTIONS} simultaneous clients of the embedded broker, not {}",
                c.mqtt.max_connections
            ),
        ));
    }
    if c.storage.outbox_quota == 0 {
        p.push((
            "storage.outbox_quota".into(),
            "expected at least 1 message".into(),
        ));
    }
}

/// Every duration of `[analytics]`, found in its serialized form (humantime strings), so a new
/// analytics setting is bounded without being listed here.
fn analytics(c: &Config, ranges: &mut Vec<Range>) {
    let Ok(v) = serde_json::to_value(&c.analytics) else {
        return;
    };
    let mut found = Vec::new();
    durations(&v, "analytics", &mut found);
    for (key, d) in found {
        let max = if key.contains("trend") {
            ANALYTICS_TREND_MAX
        } else {
            ANALYTICS_MAX
        };
        ranges.push(Range::new(key, d, Duration::ZERO, max));
    }
}

fn durations(v: &serde_json::Value, at: &str, out: &mut Vec<(String, Duration)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                durations(x, &format!("{at}.{k}"), out);
            }
        }
        serde_json::Value::String(s) => {
            // Times of day ("22:00") and other strings do not parse as durations.
            if let Ok(d) = humantime::parse_duration(s) {
                out.push((at.to_owned(), d));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(toml: &str) -> Vec<String> {
        let text = format!("[site]\nid = \"t\"\nname = \"T\"\n{toml}");
        match Config::parse(&text, "t.toml") {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.into_iter().map(|p| p.key).collect(),
        }
    }

    #[test]
    fn the_default_config_is_inside_every_range() {
        let c = Config::default_config();
        let mut p = Vec::new();
        check(&c, &mut p);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn absurd_durations_and_zero_connections_are_refused() {
        assert_eq!(
            problems("[alerts]\ncancel_window = \"1000d\"\n"),
            ["alerts.cancel_window"]
        );
        assert_eq!(
            problems("[mqtt]\nmax_connections = 0\n"),
            ["mqtt.max_connections"]
        );
        assert_eq!(
            problems("[mqtt]\nmax_connections = 100000\n"),
            ["mqtt.max_connections"]
        );
        assert_eq!(
            problems("[storage]\nretention = \"100y\"\n"),
            ["storage.retention"]
        );
        assert_eq!(
            problems("[storage]\nsweep_interval = \"1ms\"\n"),
            ["storage.sweep_interval"]
        );
        assert_eq!(
            problems("[analytics.bed]\nout_of_bed_limit = \"400d\"\n"),
            ["analytics.bed.out_of_bed_limit"]
        );
        assert!(
            problems("[alerts]\ncancel_window = \"10m\"\nclear_debounce = \"0s\"\n").is_empty()
        );
    }
}
