//! [`MemoryBackend`]: a [`Backend`] held in memory around the real alert [`Engine`], for API
//! tests, the dashboard development server (`cargo run --example dashboard_dev`) and browser
//! tests. Acknowledge and resolve go through the same engine calls as in the gateway; only
//! storage and MQTT are left out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use pingan_drivers::Timestamp;
use tokio::sync::broadcast;
use ulid::Ulid;

use super::backend::{AlertDetail, Backend, DeviceView, ResidentView, StatusView};
use crate::alert::{
    Actor, Alert, AuditEntry, CommandError, Engine, EngineSettings, Event, Output, Policies, Via,
};
use crate::store::Accounts;

/// Alert changes buffered per dashboard connection before it must resync.
const CHANNEL: usize = 256;

#[derive(Debug)]
struct Inner {
    engine: Engine,
    alerts: HashMap<Ulid, Alert>,
    audit: HashMap<Ulid, Vec<AuditEntry>>,
    residents: Vec<ResidentView>,
    devices: Vec<DeviceView>,
    status: StatusView,
}

/// An in-memory [`Backend`]. See the module docs.
#[derive(Debug)]
pub struct MemoryBackend {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Alert>,
    accounts: Accounts,
}

impl MemoryBackend {
    /// An empty backend with staff accounts in `accounts`.
    pub fn new(
        accounts: Accounts,
        settings: EngineSettings,
        policies: Arc<Policies>,
        status: StatusView,
    ) -> Self {
        let (tx, _) = broadcast::channel(CHANNEL);
        Self {
            inner: Mutex::new(Inner {
                engine: Engine::new(settings, policies),
                alerts: HashMap::new(),
                audit: HashMap::new(),
                residents: Vec::new(),
                devices: Vec::new(),
                status,
            }),
            tx,
            accounts,
        }
    }

    /// Feeds an analytics event; returns the alert it raised or updated, if any.
    pub fn event(&self, ev: Event) -> Option<Alert> {
        let mut g = self.lock();
        let out = g.engine.on_event(ev, Ulid::new());
        self.apply(&mut g, out)
    }

    /// Advances the engine's timers (escalation, debounced clears) to `now`.
    pub fn tick(&self, now: Timestamp) {
        let mut g = self.lock();
        let out = g.engine.on_tick(now);
        self.apply(&mut g, out);
    }

    /// A broker confirmed receipt of the alert.
    pub fn delivered(&self, id: Ulid, now: Timestamp) {
        let mut g = self.lock();
        let out = g.engine.on_delivered(id, now);
        self.apply(&mut g, out);
    }

    /// Replaces the floor view.
    pub fn set_residents(&self, residents: Vec<ResidentView>) {
        self.lock().residents = residents;
    }

    /// Replaces the device view.
    pub fn set_devices(&self, devices: Vec<DeviceView>) {
        self.lock().devices = devices;
    }

    /// Replaces the status view.
    pub fn set_status(&self, status: StatusView) {
        self.lock().status = status;
    }

    /// Acknowledges or resolves through the engine with an explicit channel (e.g. `Via::Mqtt`
    /// to act as the MQTT command path does).
    pub fn command(
        &self,
        id: Ulid,
        by: &Actor,
        note: Option<&str>,
        via: Via,
        resolve: bool,
    ) -> Result<Alert, CommandError> {
        let now = Timestamp::now();
        let mut g = self.lock();
        let out = if resolve {
            g.engine.resolve(id, by, note, via, now)?
        } else {
            g.engine.acknowledge(id, by, note, via, now)?
        };
        // The engine refused nothing, so the alert exists and has a new revision.
        self.apply(&mut g, out)
            .ok_or(CommandError::UnknownAlert(id))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Stores the engine's changes and broadcasts the published ones; returns the first alert.
    fn apply(&self, g: &mut Inner, out: Vec<Output>) -> Option<Alert> {
        let mut first = None;
        for o in out {
            if let Output::Changed {
                alert,
                audit,
                publish,
            } = o
            {
                if let Some(entry) = audit {
                    g.audit.entry(alert.id).or_default().push(entry);
                }
                g.alerts.insert(alert.id, (*alert).clone());
                if publish {
                    // No receiver is fine: nobody has the dashboard open.
                    let _ = self.tx.send((*alert).clone());
                }
                first.get_or_insert(*alert);
            }
        }
        first
    }
}

impl Backend for MemoryBackend {
    fn alerts(&self, recent_s: u64) -> Vec<Alert> {
        let since = Timestamp::now()
            .0
            .saturating_sub(i64::try_from(recent_s.saturating_mul(1000)).unwrap_or(i64::MAX));
        let g = self.lock();
        let mut v: Vec<Alert> = g
            .alerts
            .values()
            .filter(|a| a.state.is_open() || a.resolved_at.is_some_and(|t| t.0 >= since))
            .cloned()
            .collect();
        v.sort_by_key(|a| std::cmp::Reverse(a.id));
        v
    }

    fn alert(&self, id: Ulid) -> Option<AlertDetail> {
        let g = self.lock();
        let alert = g.alerts.get(&id)?.clone();
        let audit = g.audit.get(&id).cloned().unwrap_or_default();
        Some(AlertDetail { alert, audit })
    }

    fn acknowledge(
        &self,
        id: Ulid,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        Box::pin(async move { self.command(id, &by, note.as_deref(), Via::Http, false) })
    }

    fn resolve(
        &self,
        id: Ulid,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<Alert, CommandError>> {
        Box::pin(async move { self.command(id, &by, note.as_deref(), Via::Http, true) })
    }

    fn residents(&self) -> Vec<ResidentView> {
        self.lock().residents.clone()
    }

    fn devices(&self) -> Vec<DeviceView> {
        self.lock().devices.clone()
    }

    fn status(&self) -> StatusView {
        let g = self.lock();
        let mut s = g.status.clone();
        s.open_alerts = g.alerts.values().filter(|a| a.state.is_open()).count() as u64;
        s
    }

    fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.tx.subscribe()
    }

    fn accounts(&self) -> Accounts {
        self.accounts.clone()
    }
}
