//! The one effects path of alert changes: the alert and its audit entry are written, a message
//! for every link that should carry it is queued in that link's durable outbox, everything is
//! flushed to disk once, and only then are the links woken to publish.
//!
//! The running gateway's alert task and `pingan alerts ack|resolve` with the gateway stopped both
//! go through [`Effects::apply`], so "on disk before it leaves the box" holds for both.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::alert::{Alert, Output, Policies};
use crate::clock::SharedClock;
use crate::config::{Contact, LinkId, Locale};
use crate::facility::Facility;
use crate::mqtt::referral::{self, ReferralInput};
use crate::mqtt::{Topics, payload};
use crate::store::{Outbox, OutboxEntry, Store, StoreError, StoredReading};

/// One link's outbox and what it receives.
#[derive(Debug, Clone)]
pub struct Target {
    /// The outbox.
    pub outbox: Outbox,
    /// Receives every alert snapshot of the site (the local broker, an institution uplink), not
    /// only the messages of contacts it carries.
    pub all_alerts: bool,
}

/// The site facts effects need: who the contacts are and how the site names itself.
#[derive(Debug, Clone)]
pub struct EffectsSite {
    /// Escalation levels (whom a snapshot names in `notify`).
    pub policies: Arc<Policies>,
    /// Residents, for referral packets.
    pub facility: Arc<Facility>,
    /// Contacts by id.
    pub contacts: BTreeMap<String, Contact>,
    /// Topic names.
    pub topics: Topics,
    /// Language of titles.
    pub locale: Locale,
    /// Site id and display name (in referrals).
    pub site: (String, String),
    /// The number hospitals call back.
    pub callback_phone: Option<String>,
}

/// Where alert changes go; see the module docs.
#[derive(Debug)]
pub struct Effects {
    store: Store,
    targets: BTreeMap<LinkId, Target>,
    site: EffectsSite,
    clock: SharedClock,
}

/// Vitals around an alert that go into a referral packet.
const REFERRAL_WINDOW: Duration = Duration::from_secs(600);
/// The newest readings a referral carries: plenty for a triage nurse, bounded in size.
const REFERRAL_READINGS: usize = 120;

impl Effects {
    /// Effects into `store` for the links in `targets`.
    pub fn new(
        store: Store,
        targets: BTreeMap<LinkId, Target>,
        site: EffectsSite,
        clock: SharedClock,
    ) -> Self {
        Self {
            store,
            targets,
            site,
            clock,
        }
    }

    /// Applies outputs: store, queue, flush once, then wake the links. Returns the alerts that
    /// changed, in order (the same alert may appear with several revisions).
    pub async fn apply(&self, outputs: Vec<Output>) -> Result<Vec<Alert>, StoreError> {
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
                        let body = payload::alert(&alert, self.site.locale, &notify).to_string();
                        for target in self.targets.values().filter(|t| t.all_alerts) {
                            target.outbox.push(&OutboxEntry {
                                topic: self.site.topics.alert(alert.id),
                                payload: body.clone(),
                                retain: false,
                                alert: Some(alert.id),
                                queued_at: Some(self.clock.now()),
                            })?;
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
        Ok(changed)
    }

    fn current_contacts(&self, a: &Alert) -> Vec<String> {
        self.site
            .policies
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
        let Some(contact) = self.site.contacts.get(contact_id) else {
            return Ok(None);
        };
        let link = contact
            .uplink
            .as_deref()
            .map_or_else(LinkId::local, LinkId::new);
        let Some(target) = self.targets.get(&link) else {
            return Ok(None);
        };
        let topics = &self.site.topics;
        let (topic, body) = if contact.green_channel {
            let resident = alert
                .resident
                .as_deref()
                .and_then(|r| self.site.facility.resident(r));
            let vitals = self.recent_vitals(alert)?;
            let packet = referral::build(&ReferralInput {
                alert,
                resident,
                vitals: &vitals,
                contact,
                site: (&self.site.site.0, &self.site.site.1),
                callback_phone: self.site.callback_phone.as_deref(),
                year: referral::year_of(self.clock.now()),
            });
            (topics.referral(&contact.id, alert.id), packet.to_string())
        } else {
            let body = payload::alert(alert, self.site.locale, std::slice::from_ref(&contact.id))
                .to_string();
            (topics.notify(&contact.id, alert.id), body)
        };
        target.outbox.push(&OutboxEntry {
            topic,
            payload: body,
            retain: false,
            alert: None,
            queued_at: Some(self.clock.now()),
        })?;
        Ok(Some(&target.outbox))
    }

    /// Readings of the alert's resident's devices (or its device) over the referral window.
    fn recent_vitals(&self, alert: &Alert) -> Result<Vec<StoredReading>, StoreError> {
        let to = self.clock.now().plus(Duration::from_secs(1));
        let from = to.minus(REFERRAL_WINDOW);
        let devices: Vec<_> = match &alert.resident {
            Some(r) => self
                .site
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
        let skip = out.len().saturating_sub(REFERRAL_READINGS);
        Ok(out.split_off(skip))
    }
}
