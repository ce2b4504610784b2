//! Which on-box models a site needs. A box that only reads Modbus room sensors must not pay for
//! the fall model's trees, its inference thread and per-device windows (issue 14), so the
//! gateway loads a model only when a configured device feeds it.

use super::{Config, DeviceModel};

impl Config {
    /// Whether some device streams motion the fall model scores (wristbands, pendants).
    pub fn needs_fall_model(&self) -> bool {
        self.devices.iter().any(|d| d.model.is_wearable())
    }

    /// Whether some resident's device feeds the daily-pattern anomaly model (bed occupancy and
    /// motion of a resident: `analytics::anomaly`).
    pub fn needs_anomaly_model(&self) -> bool {
        self.devices.iter().any(|d| {
            d.resident.is_some() && (d.model.is_wearable() || d.model == DeviceModel::BedMat)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(devices: &str) -> Config {
        let text = format!(
            r#"
[site]
id = "t"
name = "t"
[[drivers]]
id = "sim"
driver = "sim"
[[floors]]
id = "f1"
[[rooms]]
id = "r1"
floor = "f1"
beds = ["b1"]
[[residents]]
id = "p1"
name = "P"
birth_year = 1940
sex = "female"
room = "r1"
bed = "b1"
{devices}
"#
        );
        Config::parse(&text, "test").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_site_of_room_sensors_needs_no_model() {
        let c = site(
            r#"[[devices]]
id = "t1"
model = "room_sensor"
driver = "sim"
room = "r1""#,
        );
        assert!(!c.needs_fall_model());
        assert!(!c.needs_anomaly_model());
    }

    #[test]
    fn a_wristband_needs_both_models_and_a_bed_mat_the_anomaly_model() {
        let c = site(
            r#"[[devices]]
id = "w1"
model = "wristband"
driver = "sim"
resident = "p1""#,
        );
        assert!(c.needs_fall_model());
        assert!(c.needs_anomaly_model());
        let c = site(
            r#"[[devices]]
id = "m1"
model = "bed_mat"
driver = "sim"
resident = "p1""#,
        );
        assert!(!c.needs_fall_model());
        assert!(c.needs_anomaly_model());
    }
}
