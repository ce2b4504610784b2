//! Scripted incidents for the simulator: a TOML file of `[[incident]]` entries, each at an offset
//! from the start of the run.
//!
//! ```toml
//! [[incident]]
//! at = "8s"
//! kind = "sos"
//! device = "w-101a"
//! ```

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::reading::DeviceId;

/// What happens in an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// The resident presses the SOS button of the wearable or call panel `device`.
    Sos,
    /// The resident presses cancel on `device`.
    Cancel,
    /// The wearer of `device` falls and stays on the floor.
    Fall,
    /// The wearer of `device` falls and gets up again within seconds.
    FallRecovered,
    /// The resident leaves the bed watched by the bed mat `device`.
    BedExit,
    /// The resident returns to the bed of `device`.
    BedReturn,
    /// The smoke detector `device` goes into alarm.
    Smoke,
    /// The gas detector `device` goes into alarm.
    Gas,
    /// The water-leak sensor `device` becomes wet.
    WaterLeak,
    /// The door contact `device` opens (and closes 5 s later).
    DoorOpen,
    /// `device` stops reporting for the rest of the run.
    DeviceSilent,
    /// The wearer of `device` deteriorates: heart rate up, SpO2 down, fever.
    Deteriorate,
    /// The room sensor `device` reports heat (35 °C).
    Heat,
}

/// One scripted incident.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Offset from the start of the run, e.g. `"8s"`.
    #[serde(with = "humantime_serde")]
    pub at: Duration,
    /// What happens.
    pub kind: IncidentKind,
    /// The device it happens to.
    pub device: DeviceId,
}

/// A scenario: incidents in any order (they are sorted by time on load).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The scripted incidents.
    #[serde(default, rename = "incident")]
    pub incidents: Vec<Incident>,
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

impl Scenario {
    /// Parses scenario TOML; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ScenarioError> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: origin.to_owned(),
            message: e.message().to_owned(),
        })?;
        s.incidents.sort_by_key(|i| i.at);
        Ok(s)
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: origin.clone(),
            source,
        })?;
        Self::parse(&text, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_are_sorted_by_time() {
        let s = Scenario::parse(
            r#"
            [[incident]]
            at = "1m"
            kind = "smoke"
            device = "smk-1"
            [[incident]]
            at = "5s"
            kind = "sos"
            device = "w-1"
            "#,
            "t.toml",
        )
        .unwrap();
        assert_eq!(s.incidents[0].kind, IncidentKind::Sos);
        assert_eq!(s.incidents[1].at, Duration::from_secs(60));
    }

    #[test]
    fn unknown_incident_kind_is_an_error_naming_the_file() {
        let err = Scenario::parse(
            "[[incident]]\nat = \"1s\"\nkind = \"earthquake\"\ndevice = \"x\"\n",
            "s.toml",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("s.toml: "), "{msg}");
        assert!(msg.contains("earthquake"), "{msg}");
    }
}
