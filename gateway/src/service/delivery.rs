//! Turns the alert engine's outputs into durable effects: the alert and its audit entry are
//! written, outbox messages for every link are queued, everything is flushed to disk, and only
//! then are the links woken to publish.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::alert::{Alert, Output, Policies};
use crate::config::{Config, Contact};
use crate::facility::Facility;
use crate::mqtt::Topics;
use crate::mqtt::payload;
use crate::store::{Outbox, OutboxEntry, Store, StoreError};

use super::referral::{self, ReferralInput};

/// One link's outbox and what it receives.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// The outbox.
    pub outbox: Outbox,
    /// Receives every alert snapshot of the site.
    pub all_alerts: bool,
}

/// Where alert changes go.
#[derive(Debug)]
pub(super) struct Delivery {
    store: Store,
    /// Link id → target. `"local"` is the embedded broker.
    targets: HashMap<String, Target>,
    contacts: HashMap<String, Contact>,
    policies: Policies,
    facility: Arc<Facility>,
    topics: Topics,
    locale: crate::alert::Locale,
    site: (String, String),
    callback_phone: Option<String>,
    changes: broadcast::Sender<Alert>,
    board: Arc<super::board::AlertBoard>,
}

impl Delivery {
    /// Delivery for a validated config.
    pub(super) fn new(
        config: &Config,
        store: Store,
        targets: HashMap<String, Target>,
        facility: Arc<Facility>,
        changes: broadcast::Sender<Alert>,
        board: Arc<super::board::AlertBoard>,
    ) -> Self {
        Self {
            store,
            targets,
            contacts: config
                .contacts
                .iter()
                .map(|c| (c.id.clone(), c.clone()))
                .collect(),
            policies: Policies::from_config(config),
            facility,
            topics: Topics::new(&config.site.id),
            locale: config.site.locale,
            site: (config.site.id.clone(), config.site.name.clone()),
            callback_phone: config.site.callback_phone.clone(),
            changes,
            board,
        }
    }

    /// Applies outputs: store, queue, flush once, then wake the links. Returns the alerts that
    /// changed, last revision first seen last.
    pub(super) async fn apply(&self, outputs: Vec<Output>) -> Result<(), StoreError> {
        if outputs.is_empty() {
            return Ok(());
        }
        let mut must_flush = false;
        let mut woken: Vec<&Outbox> = Vec::new();
        let mut changed: Vec<Alert> = Vec::new();
        for out in outputs {
            match out {
                Output::Changed {
                    alert,
                    audit,
                    publish,
                } => {
                    self.store.put_alert_unflushed(&alert, audit.as_ref())?;
                    if publish {
                        must_flush = true;
                        let notify = self.current_contacts(&alert);
                        let body = payload::alert(&alert, self.locale, &notify).to_string();
                        for target in self.targets.values().filter(|t| t.all_alerts) {
                            target.outbox.push(
                                self.store.db(),
                                &OutboxEntry {
                                    topic: self.topics.alert(alert.id),
                                    payload: body.clone(),
                                    retain: false,
                                    alert: Some(alert.id),
                                },
                            )?;
                            woken.push(&target.outbox);
                        }
                    }
                    changed.push(*alert);
                }
                Output::Notify { alert, contacts } => {
                    must_flush = true;
                    for id in contacts {
                        if let Some(ob) = self.notify_contact(&alert, &id)? {
                            woken.push(ob);
                        }
                    }
                }
            }
        }
        if must_flush {
            // The change is on disk before anything leaves the box.
            self.store.flush().await?;
        }
        for ob in woken {
            ob.wake();
        }
        for a in changed {
            self.board.update(&a);
            let _ = self.changes.send(a);
        }
        Ok(())
    }

    fn current_contacts(&self, a: &Alert) -> Vec<String> {
        self.policies
            .levels(a.kind)
            .get(a.escalation_level as usize)
            .map(|l| l.contacts.clone())
            .unwrap_or_default()
    }

    /// Queues the message for one contact on its uplink (or the local broker).
    fn notify_contact(
        &self,
        alert: &Alert,
        contact_id: &str,
    ) -> Result<Option<&Outbox>, StoreError> {
        let Some(contact) = self.contacts.get(contact_id) else {
            return Ok(None);
        };
        let link = contact.uplink.as_deref().unwrap_or("local");
        let Some(target) = self.targets.get(link) else {
            return Ok(None);
        };
        let (topic, body) = if contact.green_channel {
            let resident = alert
                .resident
                .as_deref()
                .and_then(|r| self.facility.resident(r));
            let vitals = self.recent_vitals(alert, Duration::from_secs(600))?;
            let packet = referral::build(&ReferralInput {
                alert,
                resident,
                vitals: &vitals,
                contact,
                site: (&self.site.0, &self.site.1),
                callback_phone: self.callback_phone.as_deref(),
                year: referral::current_year(),
            });
            (
                self.topics.referral(&contact.id, alert.id),
                packet.to_string(),
            )
        } else {
            let body =
                payload::alert(alert, self.locale, std::slice::from_ref(&contact.id)).to_string();
            (
                format!("pingan/{}/notify/{}/{}", self.site.0, contact.id, alert.id),
                body,
            )
        };
        target.outbox.push(
            self.store.db(),
            &OutboxEntry {
                topic,
                payload: body,
                retain: false,
                alert: None,
            },
        )?;
        Ok(Some(&target.outbox))
    }

    /// Readings of the alert's resident's devices (or its device) over `window` before now.
    fn recent_vitals(
        &self,
        alert: &Alert,
        window: Duration,
    ) -> Result<Vec<crate::store::StoredReading>, StoreError> {
        let to = pingan_drivers::Timestamp::now().plus(Duration::from_secs(1));
        let from = pingan_drivers::Timestamp(to.millis() - window.as_millis() as i64);
        let devices: Vec<_> = match &alert.resident {
            Some(r) => self
                .facility
                .devices()
                .filter(|d| d.resident.as_deref() == Some(r))
                .map(|d| d.device.clone())
                .collect(),
            None => alert.device.iter().cloned().collect(),
        };
        let mut out = Vec::new();
        for d in devices {
            out.extend(self.store.readings(&d, from, to)?);
        }
        out.sort_by_key(|r| r.at);
        // Bound the packet: the newest 120 readings are plenty for a triage nurse.
        let skip = out.len().saturating_sub(120);
        Ok(out.split_off(skip))
    }
}
