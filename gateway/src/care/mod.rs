//! Care records changed while the gateway runs: a resident's care flags and the escalation
//! policies, set by an admin on the dashboard.
//!
//! - [`overlay`]: what was changed over the site file and how it is laid over it (pure).
//! - [`CareRecords`]: the running gateway's care records. A change is checked, stored in the
//!   `care` tree together with its audit record (tree `actions`, one flush), and then swapped
//!   into the [`Shared`] facility and policies the pipeline and the alert engine read for every
//!   reading and timer: it takes effect with the next reading, without a restart. At start the
//!   stored overlay is laid over the site file (`CareRecords::open`).

pub mod overlay;

use std::sync::{Arc, Mutex, PoisonError};

use pingan_drivers::Timestamp;
use serde::{Deserialize, Serialize};

pub use overlay::{CareError, CareOverlay, check_escalation, normalize};

use crate::alert::{Act, ActionRecord, ActionSubject, Actor, Location, Policies, Via};
use crate::config::{CareFlag, Config, EscalationPolicy};
use crate::facility::Facility;
use crate::shared::Shared;
use crate::store::{Store, StoreError};

/// A resident's care record as the care page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentCare {
    /// Pseudonymous id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Room, bed, floor.
    pub location: Location,
    /// The flags in force.
    pub care_flags: Vec<CareFlag>,
    /// The site file's flags.
    pub site_flags: Vec<CareFlag>,
    /// The flags in force were changed on the dashboard (they win over the file until reset).
    pub changed: bool,
}

/// A contact the escalation may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRef {
    /// Contact id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// A hospital green channel (told of medical alerts only).
    pub green_channel: bool,
}

/// The escalation as the care page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationView {
    /// The policies in force.
    pub policies: Vec<EscalationPolicy>,
    /// The site file's policies.
    pub site_policies: Vec<EscalationPolicy>,
    /// The policies in force were changed on the dashboard.
    pub changed: bool,
    /// The site's contacts.
    pub contacts: Vec<ContactRef>,
}

/// `GET /api/v1/care`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareView {
    /// Every resident of the site file, by id.
    pub residents: Vec<ResidentCare>,
    /// The escalation.
    pub escalation: EscalationView,
}

/// The running gateway's care records; see the module docs.
#[derive(Debug)]
pub struct CareRecords {
    base: Arc<Config>,
    store: Store,
    facility: Shared<Facility>,
    policies: Shared<Policies>,
    /// The overlay in force.
    overlay: Mutex<CareOverlay>,
    /// Changes one at a time, so two admins' changes cannot interleave their before/after.
    changing: tokio::sync::Mutex<()>,
}

fn store_err(e: StoreError) -> CareError {
    CareError::Store(e.to_string())
}

impl CareRecords {
    /// The care records of the site file `base`: the stored overlay is pruned of what the file no
    /// longer has (each with a log line) and laid over it, into `facility` and `policies`.
    pub async fn open(
        base: Arc<Config>,
        store: Store,
        facility: Shared<Facility>,
        policies: Shared<Policies>,
    ) -> Result<Self, StoreError> {
        let mut overlay = match store.care_overlay::<CareOverlay>() {
            Ok(o) => o.unwrap_or_default(),
            Err(error) => {
                tracing::error!(%error, "the stored care records cannot be read; the site file applies");
                CareOverlay::default()
            }
        };
        let dropped = overlay.prune(&base);
        for line in &dropped {
            tracing::warn!("care records: {line}");
        }
        if !dropped.is_empty() {
            store.put_care_overlay_only(&overlay).await?;
        }
        if overlay != CareOverlay::default() {
            tracing::info!(
                residents = overlay.residents.len(),
                escalation = overlay.escalation.is_some(),
                "care records changed on the dashboard apply over the site file"
            );
        }
        let me = Self {
            base,
            store,
            facility,
            policies,
            overlay: Mutex::new(CareOverlay::default()),
            changing: tokio::sync::Mutex::new(()),
        };
        me.swap_in(overlay);
        Ok(me)
    }

    fn current(&self) -> CareOverlay {
        self.overlay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes `overlay` the one in force for every task.
    fn swap_in(&self, overlay: CareOverlay) {
        let config = overlay.apply(&self.base);
        self.facility.set(Facility::from_config(&config));
        self.policies.set(Policies::from_config(&config));
        *self.overlay.lock().unwrap_or_else(PoisonError::into_inner) = overlay;
    }

    /// What the care page shows.
    pub fn view(&self) -> CareView {
        let overlay = self.current();
        let facility = self.facility.get();
        let residents = self
            .base
            .residents
            .iter()
            .map(|r| {
                let changed = overlay.residents.get(&r.id);
                ResidentCare {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    location: facility
                        .resident(&r.id)
                        .map(|i| i.location.clone())
                        .unwrap_or_default(),
                    care_flags: changed.cloned().unwrap_or_else(|| r.care_flags.clone()),
                    site_flags: r.care_flags.clone(),
                    changed: changed.is_some(),
                }
            })
            .collect();
        let site_policies = self.base.escalation.policies.clone();
        CareView {
            residents,
            escalation: EscalationView {
                policies: overlay
                    .escalation
                    .clone()
                    .unwrap_or_else(|| site_policies.clone()),
                site_policies,
                changed: overlay.escalation.is_some(),
                contacts: self
                    .base
                    .contacts
                    .iter()
                    .map(|c| ContactRef {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        green_channel: c.green_channel,
                    })
                    .collect(),
            },
        }
    }

    /// Sets a resident's care flags (`None`: back to the site file's) for `by`; the audit record.
    pub async fn set_flags(
        &self,
        resident: &str,
        flags: Option<Vec<CareFlag>>,
        by: &Actor,
        via: Via,
        note: Option<String>,
        at: Timestamp,
    ) -> Result<ActionRecord, CareError> {
        let _one = self.changing.lock().await;
        let site = self
            .base
            .residents
            .iter()
            .find(|r| r.id == resident)
            .ok_or_else(|| CareError::UnknownResident(resident.to_owned()))?;
        let mut next = self.current();
        let before = next
            .residents
            .get(resident)
            .cloned()
            .unwrap_or_else(|| site.care_flags.clone());
        let reset = flags.is_none();
        match flags {
            Some(f) => next.residents.insert(resident.to_owned(), normalize(&f)),
            None => next.residents.remove(resident),
        };
        let after = next
            .residents
            .get(resident)
            .cloned()
            .unwrap_or_else(|| site.care_flags.clone());
        let record = record(
            by,
            via,
            note,
            at,
            ActionSubject::Resident(resident.to_owned()),
            Act::CareFlags {
                before,
                after,
                reset,
            },
        );
        self.store
            .put_care_overlay(&next, &record)
            .await
            .map_err(store_err)?;
        self.swap_in(next);
        tracing::info!(%resident, by = %record.by, "care flags changed");
        Ok(record)
    }

    /// Sets the escalation policies (`None`: back to the site file's) for `by`; the audit record.
    /// Open alerts follow the new levels from their next escalation on.
    pub async fn set_escalation(
        &self,
        policies: Option<Vec<EscalationPolicy>>,
        by: &Actor,
        via: Via,
        note: Option<String>,
        at: Timestamp,
    ) -> Result<ActionRecord, CareError> {
        let _one = self.changing.lock().await;
        if let Some(p) = &policies {
            check_escalation(&self.base, p)?;
        }
        let mut next = self.current();
        let site = &self.base.escalation.policies;
        let before = next.escalation.clone().unwrap_or_else(|| site.clone());
        let reset = policies.is_none();
        next.escalation = policies;
        let after = next.escalation.clone().unwrap_or_else(|| site.clone());
        let record = record(
            by,
            via,
            note,
            at,
            ActionSubject::Escalation,
            Act::Escalation {
                before,
                after,
                reset,
            },
        );
        self.store
            .put_care_overlay(&next, &record)
            .await
            .map_err(store_err)?;
        self.swap_in(next);
        tracing::info!(by = %record.by, "escalation changed");
        Ok(record)
    }
}

fn record(
    by: &Actor,
    via: Via,
    note: Option<String>,
    at: Timestamp,
    subject: ActionSubject,
    act: Act,
) -> ActionRecord {
    ActionRecord {
        at,
        by: by.display(),
        account: by.account.clone(),
        via,
        subject,
        act,
        note,
        ok: true,
        error: None,
    }
}
