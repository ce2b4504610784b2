//! The one effects path of alert changes: the alert and its audit entry are written, a message
//! for every link that should carry it is queued in that link's durable outbox, everything is
//! flushed to disk once, and only then are the links woken to publish.
//!
//! The running gateway's alert task and `pingan alerts ack|resolve` with the gateway stopped both
//! go through [`Effects::apply`], so "on disk before it leaves the box" holds for both.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pingan_drivers::Timestamp;

use crate::alert::{Alert, AuditEntry, Output, Policies};
use crate::clock::SharedClock;
use crate::config::{Contact, LinkId, Locale};
use crate::facility::Facility;
use crate::mqtt::referral::{self, ReferralInput};
use crate::mqtt::{Topics, payload};
use crate::shared::Shared;
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
    pub policies: Shared<Policies>,
    /// Residents, for referral packets.
    pub facility: Shared<Facility>,
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
    /// Set for good once the store failed to persist a change.
    degraded: Arc<AtomicBool>,
}

/// What [`Effects::apply`] did.
#[derive(Debug)]
pub struct Applied {
    /// The alerts that changed, in order.
    pub changed: Vec<Alert>,
    /// The store's error, the first time it failed (the changes went out of memory).
    pub failure: Option<StoreError>,
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
            degraded: Arc::default(),
        }
    }

    /// Applies outputs: store, queue, flush once, then wake the links. When the store cannot
    /// persist (a full or failing disk), the messages go to the links' memory queues instead and
    /// the store is not written again in this run: alerts never give way to the disk. Returns the
    /// alerts that changed, in order (the same alert may appear with several revisions), and the
    /// store's error the first time it failed.
    pub async fn apply(&self, outputs: Vec<Output>) -> Applied {
        let mut writes = Vec::new();
        let mut messages: Vec<(&Target, OutboxEntry)> = Vec::new();
        let mut changed = Vec::new();
        let now = self.clock.now();
        for out in outputs {
            match out {
                Output::Changed {
                    alert,
                    audit,
                    publish,
                } => {
                    if publish {
                        let notify = self.current_contacts(&alert);
                        let body = payload::alert(&alert, self.site.locale, &notify).to_string();
                        for target in self.targets.values().filter(|t| t.all_alerts) {
                            let entry = OutboxEntry::message(
                                self.site.topics.alert(alert.id),
                                body.clone(),
                                now,
                            )
                            .for_alert(alert.id, alert.revision);
                            messages.push((target, entry));
                        }
                    }
                    changed.push((*alert).clone());
                    writes.push((alert, audit));
                }
                Output::Notify { alert, contacts } => {
                    for id in contacts {
                        messages.extend(self.contact_message(&alert, &id, now));
                    }
                }
            }
        }
        let mut failure = None;
        if !self.degraded.load(Ordering::Relaxed) {
            match self.persist(&writes, &messages).await {
                Ok(()) => {
                    for (t, _) in &messages {
                        t.outbox.wake();
                    }
                    return Applied { changed, failure };
                }
                Err(e) => {
                    self.degraded.store(true, Ordering::Relaxed);
                    failure = Some(e);
                }
            }
        }
        for (t, entry) in messages {
            if t.outbox.push_memory(entry) {
                t.outbox.wake();
            }
        }
        Applied { changed, failure }
    }

    /// Writes alerts, audit entries and outbox messages in one transaction, then flushes once.
    async fn persist(
        &self,
        writes: &[(Box<Alert>, Option<AuditEntry>)],
        messages: &[(&Target, OutboxEntry)],
    ) -> Result<(), StoreError> {
        let alerts: Vec<(&Alert, Option<&AuditEntry>)> =
            writes.iter().map(|(a, x)| (&**a, x.as_ref())).collect();
        let queued: Vec<(&Outbox, &OutboxEntry)> =
            messages.iter().map(|(t, e)| (&t.outbox, e)).collect();
        // All of the batch or none of it, even if sled's flusher syncs halfway.
        self.store.commit(&alerts, &queued)?;
        if !messages.is_empty() {
            // The change is on disk before anything leaves the box.
            self.store.flush().await?;
        }
        Ok(())
    }

    /// Whether the store has failed and alert changes go out of memory.
    pub fn degraded(&self) -> Arc<AtomicBool> {
        self.degraded.clone()
    }

    fn current_contacts(&self, a: &Alert) -> Vec<String> {
        self.site
            .policies
            .get()
            .levels(a.kind)
            .get(a.escalation_level as usize)
            .map(|l| l.contacts.clone())
            .unwrap_or_default()
    }

    /// The message for one contact, on its uplink (or the local broker).
    fn contact_message(
        &self,
        alert: &Alert,
        contact_id: &str,
        now: Timestamp,
    ) -> Option<(&Target, OutboxEntry)> {
        let contact = self.site.contacts.get(contact_id)?;
        let link = contact
            .uplink
            .as_deref()
            .map_or_else(LinkId::local, LinkId::new);
        let target = self.targets.get(&link)?;
        let topics = &self.site.topics;
        let (topic, body) = if contact.green_channel {
            let facility = self.site.facility.get();
            let resident = alert.resident.as_deref().and_then(|r| facility.resident(r));
            // A referral goes out even when the store cannot be read: without vitals then.
            let vitals = self.recent_vitals(alert, now).unwrap_or_default();
            let packet = referral::build(&ReferralInput {
                alert,
                resident,
                vitals: &vitals,
                contact,
                site: (&self.site.site.0, &self.site.site.1),
                callback_phone: self.site.callback_phone.as_deref(),
                year: referral::year_of(now),
            });
            (topics.referral(&contact.id, alert.id), packet.to_string())
        } else {
            let body = payload::alert(alert, self.site.locale, std::slice::from_ref(&contact.id))
                .to_string();
            (topics.notify(&contact.id, alert.id), body)
        };
        // Carries the alert: the contact's broker confirming it is a delivery to people.
        let entry = OutboxEntry::message(topic, body, now).for_alert(alert.id, alert.revision);
        Some((target, entry))
    }

    /// Readings of the alert's resident's devices (or its device) over the referral window.
    fn recent_vitals(
        &self,
        alert: &Alert,
        now: Timestamp,
    ) -> Result<Vec<StoredReading>, StoreError> {
        let to = now.plus(Duration::from_secs(1));
        let from = to.minus(REFERRAL_WINDOW);
        let devices: Vec<_> = match &alert.resident {
            Some(r) => self
                .site
                .facility
                .get()
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
