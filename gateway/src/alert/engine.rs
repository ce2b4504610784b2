//! The alert engine: a pure state machine. Events, commands and clock ticks go in with the time as
//! a value; changed alerts, audit entries and notifications come out. Storage and MQTT live at the
//! edges (see `crate::service`), which makes every rule here table-testable and replayable.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use pingan_drivers::Timestamp;
use ulid::Ulid;

use super::actor::{Actor, PersonError};
use super::audit::{AuditAction, AuditEntry, Via};
use super::policy::Policies;
use super::types::{Alert, AlertKind, AlertState, Event, Priority, Subject};
use crate::shared::Shared;

/// What the engine asks the edges to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Store this alert; when `publish`, flush it and send the new revision out.
    Changed {
        alert: Box<Alert>,
        audit: Option<AuditEntry>,
        publish: bool,
    },
    /// Tell these contacts about this alert (its current revision).
    Notify {
        alert: Box<Alert>,
        contacts: Vec<String>,
    },
}

/// A command the engine refused; the alert is untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No open alert has this id.
    #[error("no open alert with id {0}")]
    UnknownAlert(Ulid),
    /// The alert was acknowledged already.
    #[error("alert {id} was already acknowledged by {by}")]
    AlreadyAcknowledged { id: Ulid, by: String },
    /// A command needs a person's name.
    #[error("a command needs the name of the person in `by`")]
    MissingPerson,
    /// The name cannot be recorded (too long, control or bidirectional characters).
    #[error("invalid name of the person: {0}")]
    InvalidPerson(PersonError),
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// How long the resident may cancel an SOS or fall.
    pub cancel_window: Duration,
    /// How long a cleared condition must stay clear before its alert resolves.
    pub clear_debounce: Duration,
}

/// The alert engine. See the module docs.
#[derive(Debug)]
pub struct Engine {
    settings: EngineSettings,
    /// Read anew at each raise and escalation: an escalation change applies to open alerts at
    /// their next level.
    policies: Shared<Policies>,
    open: HashMap<Ulid, Alert>,
    by_key: HashMap<(Subject, AlertKind), Ulid>,
    /// Cleared conditions waiting out the debounce: alert id → resolve time.
    clearing: HashMap<Ulid, Timestamp>,
}

impl Engine {
    /// An engine with no alerts.
    pub fn new(settings: EngineSettings, policies: impl Into<Shared<Policies>>) -> Self {
        Self {
            settings,
            policies: policies.into(),
            open: HashMap::new(),
            by_key: HashMap::new(),
            clearing: HashMap::new(),
        }
    }

    /// Takes back the open alerts found in storage, as they were stored (tools that only apply
    /// a person's command; the running gateway follows with [`Engine::resume`]).
    pub fn restore(&mut self, alerts: impl IntoIterator<Item = Alert>) {
        for a in alerts.into_iter().filter(|a| a.state.is_open()) {
            self.by_key.insert((a.subject.clone(), a.kind), a.id);
            self.open.insert(a.id, a);
        }
    }

    /// The gateway is back at `now` after being down: every unacknowledged alert's current level
    /// gets its own full timeout from now, so a restart after downtime neither fires every overdue
    /// level at once nor skips a person who could not see the alert while the gateway was down.
    pub fn resume(&mut self, now: Timestamp) -> Vec<Output> {
        let mut ids: Vec<Ulid> = self.open.keys().copied().collect();
        ids.sort();
        let mut out = Vec::new();
        for id in ids {
            let Some(a) = self.open.get_mut(&id) else {
                continue;
            };
            if a.state.is_acknowledged() || a.escalate_at.is_none() {
                continue;
            }
            let timeout = self
                .policies
                .get()
                .levels(a.kind)
                .get(a.escalation_level as usize)
                .and_then(|l| l.timeout);
            let Some(timeout) = timeout else { continue };
            a.escalate_at = Some(now.plus(timeout));
            a.revision += 1;
            let note = format!(
                "gateway restarted; level {} has {} s from now",
                a.escalation_level,
                timeout.as_secs()
            );
            out.push(changed(
                a,
                AuditAction::Updated,
                None,
                Via::System,
                Some(&note),
                now,
            ));
        }
        out
    }

    /// The wall clock jumped by `delta_ms` (NTP, a manual correction): every deadline moves with
    /// it, so the time left on each timer is what it was before the jump. Returns the alerts to
    /// store (not to publish: nothing a person acts on changed).
    pub fn on_clock_jump(&mut self, delta_ms: i64) -> Vec<Output> {
        let shift = |t: Timestamp| Timestamp(t.millis().saturating_add(delta_ms));
        for t in self.clearing.values_mut() {
            *t = shift(*t);
        }
        let mut ids: Vec<Ulid> = self.open.keys().copied().collect();
        ids.sort();
        let mut out = Vec::new();
        for id in ids {
            let Some(a) = self.open.get_mut(&id) else {
                continue;
            };
            if a.escalate_at.is_none() && a.cancel_until.is_none() {
                continue;
            }
            a.escalate_at = a.escalate_at.map(shift);
            a.cancel_until = a.cancel_until.map(shift);
            out.push(Output::Changed {
                alert: Box::new(a.clone()),
                audit: None,
                publish: false,
            });
        }
        out
    }

    /// Open alerts, newest first.
    pub fn open_alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.open.values().collect();
        v.sort_by_key(|a| std::cmp::Reverse(a.id));
        v
    }

    /// An open alert by id.
    pub fn get(&self, id: Ulid) -> Option<&Alert> {
        self.open.get(&id)
    }

    /// Feeds an analytics event observed at `ev.at`; `id` is the id a new alert would get (passed
    /// in so the engine stays deterministic).
    pub fn on_event(&mut self, ev: Event, id: Ulid) -> Vec<Output> {
        let key = (ev.subject.clone(), ev.kind);
        let now = ev.at;
        match (self.by_key.get(&key).copied(), ev.active) {
            (None, false) => Vec::new(),
            (None, true) => self.raise(ev, id),
            (Some(existing), true) => self.repeat(existing, ev),
            (Some(existing), false) => self.condition_cleared(existing, now),
        }
    }

    fn raise(&mut self, ev: Event, id: Ulid) -> Vec<Output> {
        let now = ev.at;
        let policies = self.policies.get();
        let levels = policies.levels(ev.kind);
        let resident = match &ev.subject {
            Subject::Resident(r) => Some(r.clone()),
            _ => None,
        };
        let alert = Alert {
            id,
            revision: 1,
            kind: ev.kind,
            priority: ev.priority,
            subject: ev.subject.clone(),
            resident,
            location: ev.location,
            device: ev.device,
            raised_at: now,
            last_seen: now,
            count: 1,
            state: AlertState::Raised,
            escalation_level: 0,
            escalate_at: levels.first().and_then(|l| l.timeout).map(|t| now.plus(t)),
            condition_cleared: false,
            cancel_until: ev
                .kind
                .is_cancellable()
                .then(|| now.plus(self.settings.cancel_window)),
            green_channel: ev.green_channel && ev.kind.is_medical(),
            delivered_to: Vec::new(),
            acknowledged_by: None,
            acknowledged_at: None,
            resolved_at: None,
            resolution: None,
            detail: ev.detail,
            evidence: ev.evidence,
        };
        let mut out = vec![changed(
            &alert,
            AuditAction::Raised,
            None,
            Via::System,
            None,
            now,
        )];
        let mut contacts = levels
            .first()
            .map(|l| l.contacts.clone())
            .unwrap_or_default();
        if alert.green_channel {
            contacts.extend(policies.green_channel().iter().cloned());
        }
        if !contacts.is_empty() {
            // A hospital that is both in the first level and in the green channel is told once.
            let mut seen = HashSet::new();
            contacts.retain(|c| seen.insert(c.clone()));
            out.push(notify(&alert, contacts));
        }
        self.by_key.insert((alert.subject.clone(), alert.kind), id);
        self.open.insert(id, alert);
        out
    }

    fn repeat(&mut self, id: Ulid, ev: Event) -> Vec<Output> {
        let green = self.policies.get().green_channel().to_vec();
        let Some(a) = self.open.get_mut(&id) else {
            return Vec::new();
        };
        self.clearing.remove(&id);
        a.count = a.count.saturating_add(1);
        a.last_seen = a.last_seen.max(ev.at);
        a.detail = ev.detail;
        a.evidence = ev.evidence;
        let mut significant = a.condition_cleared;
        a.condition_cleared = false;
        if ev.priority > a.priority {
            a.priority = ev.priority;
            significant = true;
        }
        let mut out = Vec::new();
        let newly_green = ev.green_channel && ev.kind.is_medical() && !a.green_channel;
        if newly_green {
            a.green_channel = true;
            significant = true;
        }
        if significant {
            a.revision += 1;
            out.push(changed(
                a,
                AuditAction::Updated,
                None,
                Via::System,
                None,
                ev.at,
            ));
            if newly_green && !green.is_empty() {
                out.push(notify(a, green));
            }
        } else {
            out.push(Output::Changed {
                alert: Box::new(a.clone()),
                audit: None,
                publish: false,
            });
        }
        out
    }

    fn condition_cleared(&mut self, id: Ulid, now: Timestamp) -> Vec<Output> {
        let Some(a) = self.open.get_mut(&id) else {
            return Vec::new();
        };
        if a.condition_cleared || self.clearing.contains_key(&id) {
            return Vec::new();
        }
        if a.priority == Priority::High && !a.state.is_acknowledged() {
            // Latched: a High alert stays until a person acknowledges it.
            a.condition_cleared = true;
            a.revision += 1;
            return vec![changed(
                a,
                AuditAction::ConditionCleared,
                None,
                Via::System,
                Some("condition cleared; latched until acknowledged"),
                now,
            )];
        }
        self.clearing
            .insert(id, now.plus(self.settings.clear_debounce));
        Vec::new()
    }

    /// Advances timers to `now`: debounced clears resolve, unacknowledged alerts escalate.
    pub fn on_tick(&mut self, now: Timestamp) -> Vec<Output> {
        let mut out = Vec::new();
        let due: Vec<Ulid> = self
            .clearing
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.clearing.remove(&id);
            out.extend(self.close(
                id,
                now,
                AuditAction::Cleared,
                None,
                Via::System,
                Some("condition cleared"),
            ));
        }
        let mut ids: Vec<Ulid> = self
            .open
            .values()
            .filter(|a| !a.state.is_acknowledged() && a.escalate_at.is_some_and(|t| t <= now))
            .map(|a| a.id)
            .collect();
        ids.sort();
        for id in ids {
            out.extend(self.escalate(id, now));
        }
        out
    }

    fn escalate(&mut self, id: Ulid, now: Timestamp) -> Vec<Output> {
        let policies = self.policies.get();
        let Some(a) = self.open.get_mut(&id) else {
            return Vec::new();
        };
        let levels = policies.levels(a.kind);
        let next = a.escalation_level as usize + 1;
        let Some(level) = levels.get(next) else {
            a.escalate_at = None;
            return Vec::new();
        };
        a.escalation_level = next as u32;
        a.state = AlertState::Escalated;
        // Timers run from the deadline, not from when the tick noticed it, so a restart or a
        // slow tick does not stretch the policy.
        let from = a.escalate_at.unwrap_or(now);
        a.escalate_at = level.timeout.map(|t| from.plus(t));
        a.revision += 1;
        let note = format!("no acknowledgement; level {next}");
        let mut out = vec![changed(
            a,
            AuditAction::Escalated,
            None,
            Via::System,
            Some(&note),
            now,
        )];
        if !level.contacts.is_empty() {
            out.push(notify(a, level.contacts.clone()));
        }
        out
    }

    /// `link` confirmed receipt of a message carrying the alert (a broker's PUBACK, the
    /// dashboard's event stream). The link joins `delivered_to`; the first link meant for people
    /// (`for_people`) moves the alert from Raised to Delivered. A link that only relays (the
    /// embedded broker, which drops messages nobody subscribed to) never does.
    pub fn on_delivered(
        &mut self,
        id: Ulid,
        link: &str,
        for_people: bool,
        now: Timestamp,
    ) -> Vec<Output> {
        let Some(a) = self.open.get_mut(&id) else {
            return Vec::new();
        };
        let Err(at) = a.delivered_to.binary_search_by(|l| l.as_str().cmp(link)) else {
            return Vec::new();
        };
        a.delivered_to.insert(at, link.to_owned());
        if for_people && a.state == AlertState::Raised {
            a.state = AlertState::Delivered;
            a.revision += 1;
            let note = format!("via {link}");
            vec![changed(
                a,
                AuditAction::Delivered,
                None,
                Via::System,
                Some(&note),
                now,
            )]
        } else {
            // Recorded with the alert; the next published revision shows it.
            vec![Output::Changed {
                alert: Box::new(a.clone()),
                audit: None,
                publish: false,
            }]
        }
    }

    /// A person acknowledges: escalation stops; a cleared latched condition resolves.
    pub fn acknowledge(
        &mut self,
        id: Ulid,
        by: &Actor,
        note: Option<&str>,
        via: Via,
        now: Timestamp,
    ) -> Result<Vec<Output>, CommandError> {
        let by = &person(by)?;
        let a = self
            .open
            .get_mut(&id)
            .ok_or(CommandError::UnknownAlert(id))?;
        if let Some(prev) = &a.acknowledged_by {
            return Err(CommandError::AlreadyAcknowledged {
                id,
                by: prev.clone(),
            });
        }
        a.state = AlertState::Acknowledged;
        a.acknowledged_by = Some(by.display());
        a.acknowledged_at = Some(now);
        a.escalate_at = None;
        a.cancel_until = None;
        a.revision += 1;
        let mut out = vec![changed(
            a,
            AuditAction::Acknowledged,
            Some(by),
            via,
            note,
            now,
        )];
        if a.condition_cleared {
            out.extend(self.close(
                id,
                now,
                AuditAction::Cleared,
                None,
                Via::System,
                Some("condition cleared"),
            ));
        }
        Ok(out)
    }

    /// A person resolves an alert (with or without acknowledging it first).
    pub fn resolve(
        &mut self,
        id: Ulid,
        by: &Actor,
        note: Option<&str>,
        via: Via,
        now: Timestamp,
    ) -> Result<Vec<Output>, CommandError> {
        let by = &person(by)?;
        if !self.open.contains_key(&id) {
            return Err(CommandError::UnknownAlert(id));
        }
        Ok(self.close(id, now, AuditAction::Resolved, Some(by), via, note))
    }

    /// The resident pressed cancel on a device of `subject`: open SOS and fall alerts still
    /// inside their cancel window resolve with that reason.
    pub fn cancel(&mut self, subject: &Subject, now: Timestamp) -> Vec<Output> {
        let ids: Vec<Ulid> = self
            .open
            .values()
            .filter(|a| &a.subject == subject && a.cancel_until.is_some_and(|t| now <= t))
            .map(|a| a.id)
            .collect();
        ids.into_iter()
            .flat_map(|id| {
                self.close(
                    id,
                    now,
                    AuditAction::Cancelled,
                    None,
                    Via::Resident,
                    Some("cancelled by the resident"),
                )
            })
            .collect()
    }

    fn close(
        &mut self,
        id: Ulid,
        now: Timestamp,
        action: AuditAction,
        by: Option<&Actor>,
        via: Via,
        note: Option<&str>,
    ) -> Vec<Output> {
        let Some(mut a) = self.open.remove(&id) else {
            return Vec::new();
        };
        self.clearing.remove(&id);
        self.by_key.remove(&(a.subject.clone(), a.kind));
        a.state = AlertState::Resolved;
        a.resolved_at = Some(now);
        a.escalate_at = None;
        a.cancel_until = None;
        a.resolution = Some(match (action, by) {
            (AuditAction::Resolved, Some(p)) => format!("resolved by {}", p.display()),
            _ => note.unwrap_or(action.as_str()).to_owned(),
        });
        a.revision += 1;
        vec![changed(&a, action, by, via, note, now)]
    }
}

/// The person behind a command, checked; a command without one is refused.
fn person(by: &Actor) -> Result<Actor, CommandError> {
    by.checked().map_err(|e| match e {
        PersonError::Empty => CommandError::MissingPerson,
        e => CommandError::InvalidPerson(e),
    })
}

fn changed(
    a: &Alert,
    action: AuditAction,
    by: Option<&Actor>,
    via: Via,
    note: Option<&str>,
    at: Timestamp,
) -> Output {
    Output::Changed {
        alert: Box::new(a.clone()),
        audit: Some(AuditEntry {
            alert: a.id,
            revision: a.revision,
            at,
            action,
            by: by.map(Actor::display),
            account: by.and_then(|b| b.account.clone()),
            via,
            note: note.map(str::to_owned),
        }),
        publish: true,
    }
}

fn notify(a: &Alert, contacts: Vec<String>) -> Output {
    Output::Notify {
        alert: Box::new(a.clone()),
        contacts,
    }
}

#[cfg(test)]
mod tests;
