//! [`MemoryBackend`]: a [`Backend`] held in memory around the real alert [`Engine`], for API
//! tests, the dashboard development server (`cargo run --example dashboard_dev`) and browser
//! tests. Acknowledge and resolve go through the same engine calls as in the gateway, reports
//! and handovers through the same pure report functions; only storage, MQTT and drivers are
//! left out (a device command succeeds unless the device is offline).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use pingan_drivers::{DeviceId, HealthState, Timestamp};
use tokio::sync::broadcast;
use ulid::Ulid;

use super::backend::{AlertDetail, Backend, BackendError, DeviceView, ResidentView, StatusView};
use crate::alert::{
    Act, ActionRecord, ActionSubject, Actor, Alert, AlertTrail, AuditEntry, CommandError, Engine,
    EngineSettings, Event, Output, Policies, Via,
};
use crate::report::handover::{self, DeviceState, HandoverInput, Trigger};
use crate::report::{Handover, ReportSetup};
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
    setup: ReportSetup,
    handovers: Vec<Handover>,
    actions: Vec<ActionRecord>,
    tool_token: Option<String>,
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
                setup: ReportSetup::default(),
                handovers: Vec::new(),
                actions: Vec::new(),
                tool_token: None,
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

    /// A link for people (an institution's broker) confirmed receipt of the alert.
    pub fn delivered(&self, id: Ulid, now: Timestamp) {
        let mut g = self.lock();
        let out = g.engine.on_delivered(id, "institution", true, now);
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

    /// Lets tools read reports with this token (`Authorization: Bearer …`).
    pub fn set_tool_token(&self, token: Option<String>) {
        self.lock().tool_token = token;
    }

    /// Replaces the report settings (time zone, shifts).
    pub fn set_report_setup(&self, setup: ReportSetup) {
        self.lock().setup = setup;
    }

    /// The handover of the shift `now` is in, so far.
    fn handover(&self, trigger: Trigger, by: Option<String>) -> Result<Handover, BackendError> {
        let now = Timestamp::now();
        let g = self.lock();
        let shift = g
            .setup
            .shifts
            .at(now, g.setup.tz())
            .ok_or_else(|| BackendError::Unavailable("no shift covers the time now".into()))?;
        let trails = trails_of(&g, shift.start, shift.end, true);
        let devices: Vec<DeviceState> = g.devices.iter().map(DeviceState::from).collect();
        Ok(handover::build(&HandoverInput {
            site: &g.status.site,
            shift,
            made_at: now,
            trigger,
            by,
            trails: &trails,
            devices: &devices,
            low_battery_percent: g.setup.low_battery_percent,
        }))
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

fn trails_of(g: &Inner, from: Timestamp, to: Timestamp, open_too: bool) -> Vec<AlertTrail> {
    let mut v: Vec<AlertTrail> = g
        .alerts
        .values()
        .filter(|a| (from <= a.raised_at && a.raised_at < to) || (open_too && a.state.is_open()))
        .map(|a| AlertTrail {
            alert: a.clone(),
            audit: g.audit.get(&a.id).cloned().unwrap_or_default(),
        })
        .collect();
    v.sort_by_key(|t| t.alert.id);
    v
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

    fn report_setup(&self) -> ReportSetup {
        self.lock().setup.clone()
    }

    fn tool_token(&self) -> Option<String> {
        self.lock().tool_token.clone()
    }

    fn trails(
        &self,
        from: Timestamp,
        to: Timestamp,
        open_too: bool,
    ) -> Result<Vec<AlertTrail>, BackendError> {
        Ok(trails_of(&self.lock(), from, to, open_too))
    }

    fn handover_preview(&self) -> Result<Handover, BackendError> {
        self.handover(Trigger::OnDemand, None)
    }

    fn handover_now(&self, by: String) -> BoxFuture<'_, Result<Handover, BackendError>> {
        Box::pin(async move {
            let h = self.handover(Trigger::OnDemand, Some(by))?;
            self.lock().handovers.push(h.clone());
            Ok(h)
        })
    }

    fn handovers(&self, limit: usize) -> Result<Vec<Handover>, BackendError> {
        Ok(self
            .lock()
            .handovers
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    fn device_command(
        &self,
        device: DeviceId,
        command: String,
        by: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<ActionRecord, BackendError>> {
        Box::pin(async move {
            let mut g = self.lock();
            let offline = g
                .devices
                .iter()
                .any(|d| d.id == device.as_str() && d.health == HealthState::Offline);
            let record = ActionRecord {
                at: Timestamp::now(),
                by: by.display(),
                account: by.account.clone(),
                via: Via::Http,
                subject: ActionSubject::Device(device),
                act: Act::DeviceCommand { command },
                note,
                ok: !offline,
                error: offline.then(|| "the device is offline".to_owned()),
            };
            g.actions.push(record.clone());
            Ok(record)
        })
    }

    fn record_action(&self, record: ActionRecord) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            self.lock().actions.push(record);
            Ok(())
        })
    }

    fn actions(
        &self,
        device: Option<DeviceId>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>, BackendError> {
        let g = self.lock();
        Ok(g.actions
            .iter()
            .rev()
            .filter(|r| match (&device, &r.subject) {
                (None, _) => true,
                (Some(d), ActionSubject::Device(s)) => d == s,
                (Some(_), _) => false,
            })
            .take(limit)
            .cloned()
            .collect())
    }
}
