//! A small facility for rule tests, with local times in Asia/Shanghai.

use pingan_drivers::{DeviceId, Measurement, Reading, Timestamp};

use super::{AnalyticsConfig, Context, Finding, Normalized};
use crate::alert::{AlertKind, Event, Priority, Subject};
use crate::config::Config;
use crate::facility::Facility;

/// Rooms 101 (R1: bed-exit watch, fall risk; R3: dementia), 102 (R2 lives alone),
/// 103 (R4 hypercapnic on oxygen), an exit lobby with a door and a beacon.
const SITE: &str = r#"
[site]
id = "t"
name = "test"
timezone = "Asia/Shanghai"

[[drivers]]
id = "sim"
driver = "sim"

[[floors]]
id = "1F"

[[rooms]]
id = "101"
floor = "1F"
beds = ["101-A", "101-B"]

[[rooms]]
id = "102"
floor = "1F"
beds = ["102-A"]

[[rooms]]
id = "103"
floor = "1F"
beds = ["103-A"]

[[rooms]]
id = "lobby"
floor = "1F"
kind = "exit"

[[residents]]
id = "R1"
name = "one"
birth_year = 1938
sex = "male"
room = "101"
bed = "101-A"
care_flags = ["bed_exit_watch", "fall_risk"]

[[residents]]
id = "R2"
name = "two"
birth_year = 1940
sex = "female"
room = "102"
bed = "102-A"
care_flags = ["lives_alone"]

[[residents]]
id = "R3"
name = "three"
birth_year = 1936
sex = "female"
room = "101"
bed = "101-B"
care_flags = ["dementia"]

[[residents]]
id = "R4"
name = "four"
birth_year = 1942
sex = "male"
room = "103"
bed = "103-A"
care_flags = ["hypercapnic", "supplemental_oxygen"]

[[devices]]
id = "w1"
model = "wristband"
driver = "sim"
resident = "R1"

[[devices]]
id = "bed1"
model = "bed_mat"
driver = "sim"
resident = "R1"

[[devices]]
id = "bed3"
model = "bed_mat"
driver = "sim"
resident = "R3"

[[devices]]
id = "w2"
model = "wristband"
driver = "sim"
resident = "R2"
report_interval = "2m"

[[devices]]
id = "door-102"
model = "door_contact"
driver = "sim"
room = "102"

[[devices]]
id = "w3"
model = "wristband"
driver = "sim"
resident = "R3"

[[devices]]
id = "w4"
model = "wristband"
driver = "sim"
resident = "R4"

[[devices]]
id = "door-exit"
model = "door_contact"
driver = "sim"
room = "lobby"

[[devices]]
id = "beacon-exit"
model = "beacon"
driver = "sim"
room = "lobby"

[[devices]]
id = "env-101"
model = "room_sensor"
driver = "sim"
room = "101"

[[devices]]
id = "smoke-101"
model = "smoke_detector"
driver = "sim"
room = "101"

[[devices]]
id = "smoke-102"
model = "smoke_detector"
driver = "sim"
room = "102"
"#;

/// 2026-07-01 00:00 in Shanghai (UTC+8).
pub(crate) const MIDNIGHT: i64 = 1_782_835_200_000;

/// Local time `h:m` on 2026-07-01 (hours past 24 run into the next days).
pub(crate) fn local(h: i64, m: i64) -> Timestamp {
    Timestamp(MIDNIGHT + h * 3_600_000 + m * 60_000)
}

/// `t` plus `s` seconds.
pub(crate) fn secs(t: Timestamp, s: i64) -> Timestamp {
    Timestamp(t.0 + s * 1000)
}

/// The site config, parsed without validation (the simulator cannot play the beacon).
pub(crate) fn site_config() -> Config {
    toml::from_str(SITE).unwrap()
}

/// The test facility and settings.
#[derive(Debug)]
pub(crate) struct Kit {
    pub(crate) facility: Facility,
    pub(crate) config: AnalyticsConfig,
}

impl Kit {
    pub(crate) fn new() -> Self {
        Self {
            facility: Facility::from_config(&site_config()),
            config: AnalyticsConfig::default(),
        }
    }

    pub(crate) fn ctx(&self) -> Context<'_> {
        Context {
            facility: &self.facility,
            timezone: chrono_tz::Asia::Shanghai,
            config: &self.config,
        }
    }

    /// A reading of a configured device, normalized.
    pub(crate) fn reading(&self, device: &str, at: Timestamp, m: Measurement) -> Normalized {
        let binding = self
            .facility
            .shared_device(&DeviceId::new(device))
            .unwrap()
            .clone();
        Normalized {
            reading: Reading::new(device, at, m),
            binding,
        }
    }
}

/// The events among findings.
pub(crate) fn events(findings: Vec<Finding>) -> Vec<Event> {
    findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::Event(e) => Some(e),
            Finding::Cancel { .. } => None,
        })
        .collect()
}

/// (kind, subject, priority, active) of each event, for compact assertions.
pub(crate) fn summary(findings: Vec<Finding>) -> Vec<(AlertKind, Subject, Priority, bool)> {
    events(findings)
        .into_iter()
        .map(|e| (e.kind, e.subject, e.priority, e.active))
        .collect()
}

/// A resident subject.
pub(crate) fn resident(id: &str) -> Subject {
    Subject::Resident(id.to_owned())
}
