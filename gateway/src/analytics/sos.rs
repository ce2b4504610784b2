//! The first rule: an SOS press raises a High alert for the resident (or the room of a call panel);
//! a cancel press asks the engine to cancel within the cancel window.

use pingan_drivers::{ButtonKind, Measurement};

use super::{Context, Finding, Normalized, Rule};
use crate::alert::{AlertKind, Event, Priority};

/// SOS and cancel buttons.
#[derive(Debug, Default)]
pub(crate) struct SosRule;

impl Rule for SosRule {
    fn on_reading(&mut self, n: &Normalized, _ctx: &Context<'_>) -> Vec<Finding> {
        let Measurement::Button { button } = n.reading.measurement else {
            return Vec::new();
        };
        let subject = n.binding.subject();
        match button {
            ButtonKind::Sos => {
                let mut ev = Event::raise(AlertKind::Sos, subject, Priority::High, n.reading.at);
                ev.location = n.binding.location.clone();
                ev.device = Some(n.reading.device.clone());
                ev.detail = format!("SOS pressed on {}", n.reading.device);
                vec![Finding::Event(ev)]
            }
            ButtonKind::Cancel => vec![Finding::Cancel {
                subject,
                at: n.reading.at,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Location, Subject};
    use crate::config::DeviceModel;
    use crate::facility::{Binding, Facility};
    use pingan_drivers::{DeviceId, Reading, Timestamp};

    fn wristband(resident: &str) -> Binding {
        Binding {
            device: DeviceId::new("w1"),
            model: DeviceModel::Wristband,
            resident: Some(resident.into()),
            location: Location {
                floor: Some("1F".into()),
                room: Some("101".into()),
                bed: Some("101-A".into()),
            },
            exit_zone: false,
            driver: "sim".into(),
        }
    }

    #[test]
    fn sos_press_raises_high_alert_for_the_wearer() {
        let facility = Facility::default();
        let config = super::super::AnalyticsConfig::default();
        let ctx = Context {
            facility: &facility,
            timezone: chrono_tz::Asia::Shanghai,
            config: &config,
        };
        let n = Normalized {
            reading: Reading::new(
                "w1",
                Timestamp(5),
                Measurement::Button {
                    button: ButtonKind::Sos,
                },
            ),
            binding: std::sync::Arc::new(wristband("R7")),
        };
        let out = SosRule.on_reading(&n, &ctx);
        let [Finding::Event(ev)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (ev.kind, ev.priority, ev.at),
            (AlertKind::Sos, Priority::High, Timestamp(5))
        );
        assert_eq!(ev.subject, Subject::Resident("R7".into()));
        assert_eq!(ev.location.bed.as_deref(), Some("101-A"));
        let n = Normalized {
            reading: Reading::new(
                "w1",
                Timestamp(9),
                Measurement::Button {
                    button: ButtonKind::Cancel,
                },
            ),
            binding: std::sync::Arc::new(wristband("R7")),
        };
        assert_eq!(
            SosRule.on_reading(&n, &ctx),
            vec![Finding::Cancel {
                subject: Subject::Resident("R7".into()),
                at: Timestamp(9)
            }]
        );
    }
}
