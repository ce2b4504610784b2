//! Building events and pacing them: rules raise on change, then repeat at most once per period
//! while the condition holds, and clear once when it ends.

use std::time::Duration;

use pingan_drivers::{DeviceId, Timestamp};

use crate::alert::{AlertKind, Event, Location, Priority, Subject};

/// Whether a raise is due: always on a change, else when `every` has passed since the last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pacer {
    last: Option<Timestamp>,
}

impl Pacer {
    /// Records and answers whether to emit now.
    pub(crate) fn due(&mut self, now: Timestamp, changed: bool, every: Duration) -> bool {
        let due = changed || self.last.is_none_or(|t| now.since(t) >= every);
        if due {
            self.last = Some(now);
        }
        due
    }

    /// Forgets the last emission (the condition ended).
    pub(crate) fn reset(&mut self) {
        self.last = None;
    }
}

/// Where and by what an event was observed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    /// Room and bed.
    pub(crate) location: &'a Location,
    /// The observing device.
    pub(crate) device: Option<&'a DeviceId>,
}

/// A raise event with its place, text and evidence.
pub(crate) fn raise(
    (kind, subject, priority): (AlertKind, Subject, Priority),
    at: Timestamp,
    place: Place<'_>,
    detail: String,
    evidence: serde_json::Value,
) -> Event {
    let mut ev = Event::raise(kind, subject, priority, at);
    ev.location = place.location.clone();
    ev.device = place.device.cloned();
    ev.detail = detail;
    ev.evidence = evidence;
    ev
}

/// A clear event with its place and text.
pub(crate) fn clear(
    kind: AlertKind,
    subject: Subject,
    at: Timestamp,
    location: &Location,
    detail: String,
) -> Event {
    let mut ev = Event::clear(kind, subject, at);
    ev.location = location.clone();
    ev.detail = detail;
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_emits_on_change_and_then_once_per_period() {
        let mut p = Pacer::default();
        let min = Duration::from_secs(60);
        assert!(p.due(Timestamp(0), false, min));
        assert!(!p.due(Timestamp(30_000), false, min));
        assert!(p.due(Timestamp(31_000), true, min));
        assert!(!p.due(Timestamp(90_000), false, min));
        assert!(p.due(Timestamp(91_000), false, min));
        p.reset();
        assert!(p.due(Timestamp(92_000), false, min));
    }
}
