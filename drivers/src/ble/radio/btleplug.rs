//! The BlueZ radio through btleplug 0.13.5: continuous scanning, and for configured devices a
//! GATT connection with notifications, kept up with exponential backoff under a bound on
//! concurrent connections. Not exercisable on machines without Bluetooth; kept thin on purpose.
//!
//! Duplicate advertisements: BlueZ filters repeated advertisements unless the discovery filter
//! sets `DuplicateData`. btleplug's `ScanFilter` has no field for it, but its BlueZ backend
//! (`src/bluez/adapter.rs`, `start_scan`) always passes `duplicate_data: Some(true)` to
//! `SetDiscoveryFilter`, so a plain `start_scan` is enough. BlueZ still signals only *changed*
//! advertising data over D-Bus, which is why SOS senders must change their payload per press
//! (BTHome packet id, the wearable's button counter) — and why the driver deduplicates on them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use btleplug::api::{
    Central, CentralEvent, CharPropFlags, Manager as _, Peripheral as _, ScanFilter,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::StreamExt;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::contract::{OpenRadio, Radio, RadioError, RadioEvent};
use crate::ble::adv::{AdvData, ManufacturerData, ServiceData};
use crate::ble::config::{BleConfig, normalize_address};
use crate::ble::gatt::{BATTERY_LEVEL, is_known, uuid16};
use crate::reading::Timestamp;

/// Time allowed for a connection or a service discovery.
const GATT_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a live connection is checked (BlueZ notification streams do not end on a drop).
const LINK_CHECK: Duration = Duration::from_secs(5);
/// A connection that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(60);

/// The BlueZ radio. Dropping it stops scanning tasks and connections.
#[derive(Debug)]
pub struct BtleplugRadio {
    rx: mpsc::Receiver<Result<RadioEvent, RadioError>>,
    cancel: CancellationToken,
}

impl Drop for BtleplugRadio {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Radio for BtleplugRadio {
    async fn next_event(&mut self) -> Result<Option<RadioEvent>, RadioError> {
        match self.rx.recv().await {
            Some(r) => r.map(Some),
            None => Err(RadioError::Failed("the scanning task ended".into())),
        }
    }
}

impl OpenRadio for BtleplugRadio {
    async fn open(config: &BleConfig) -> Result<Self, RadioError> {
        let manager = Manager::new().await.map_err(|e| {
            RadioError::Unavailable(format!(
                "cannot reach BlueZ over the system D-Bus ({e}); is dbus running?"
            ))
        })?;
        let adapters = manager.adapters().await.map_err(|e| {
            RadioError::Unavailable(format!(
                "cannot list Bluetooth adapters ({e}); is bluetoothd running?"
            ))
        })?;
        let adapter = choose_adapter(adapters, config.adapter.as_deref()).await?;
        let events = adapter
            .events()
            .await
            .map_err(|e| RadioError::Failed(format!("cannot watch the adapter: {e}")))?;
        adapter
            .start_scan(ScanFilter::default())
            .await
            .map_err(|e| RadioError::Unavailable(format!("cannot start scanning: {e}")))?;
        let (tx, rx) = mpsc::channel(1024);
        let cancel = CancellationToken::new();
        let connector = Connector {
            tx: tx.clone(),
            slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
            active: Arc::default(),
            addresses: config
                .devices
                .iter()
                .filter(|d| d.connects())
                .filter_map(|d| d.address.as_deref().and_then(normalize_address))
                .collect(),
            names: config
                .devices
                .iter()
                .filter(|d| d.connects())
                .filter_map(|d| d.name.clone())
                .collect(),
            backoff: (config.reconnect_min, config.reconnect_max),
            cancel: cancel.clone(),
        };
        tokio::spawn(scan(adapter, events, tx, connector, cancel.clone()));
        Ok(Self { rx, cancel })
    }
}

async fn choose_adapter(
    adapters: Vec<Adapter>,
    wanted: Option<&str>,
) -> Result<Adapter, RadioError> {
    let mut seen = Vec::new();
    for a in adapters {
        let info = a.adapter_info().await.unwrap_or_default();
        if wanted.is_none_or(|w| info.split_whitespace().next() == Some(w)) {
            return Ok(a);
        }
        seen.push(info);
    }
    Err(RadioError::Unavailable(match wanted {
        Some(w) => format!("adapter {w} not found (present: {})", seen.join(", ")),
        None => "no Bluetooth adapter found".into(),
    }))
}

type Events = std::pin::Pin<Box<dyn futures::Stream<Item = CentralEvent> + Send>>;

async fn scan(
    adapter: Adapter,
    mut events: Events,
    tx: mpsc::Sender<Result<RadioEvent, RadioError>>,
    connector: Connector,
    cancel: CancellationToken,
) {
    loop {
        let ev = tokio::select! {
            () = cancel.cancelled() => return,
            ev = events.next() => ev,
        };
        let id = match ev {
            None => {
                let _ = tx
                    .send(Err(RadioError::Failed(
                        "the adapter's event stream ended".into(),
                    )))
                    .await;
                return;
            }
            Some(
                CentralEvent::DeviceDiscovered(id)
                | CentralEvent::DeviceUpdated(id)
                | CentralEvent::ManufacturerDataAdvertisement { id, .. }
                | CentralEvent::ServiceDataAdvertisement { id, .. }
                | CentralEvent::ServicesAdvertisement { id, .. }
                | CentralEvent::RssiUpdate { id, .. },
            ) => id,
            Some(_) => continue,
        };
        let Ok(p) = adapter.peripheral(&id).await else {
            continue;
        };
        let Ok(Some(props)) = p.properties().await else {
            continue;
        };
        let Some(address) = normalize_address(&props.address.to_string()) else {
            continue;
        };
        let name = props
            .local_name
            .clone()
            .or(props.advertisement_name.clone());
        let data = AdvData {
            flags: None,
            local_name: name.clone(),
            tx_power_dbm: props.tx_power_level.and_then(|t| i8::try_from(t).ok()),
            service_uuids: props.services.iter().map(|u| u.as_u128()).collect(),
            service_data: props
                .service_data
                .iter()
                .map(|(u, d)| ServiceData {
                    uuid: u.as_u128(),
                    data: d.clone(),
                })
                .collect(),
            manufacturer_data: props
                .manufacturer_data
                .iter()
                .map(|(c, d)| ManufacturerData {
                    company_id: *c,
                    data: d.clone(),
                })
                .collect(),
        };
        let advert = RadioEvent::Advert {
            at: Timestamp::now(),
            address: address.clone(),
            name: name.clone(),
            rssi: props.rssi,
            data,
        };
        if tx.send(Ok(advert)).await.is_err() {
            return;
        }
        connector.maybe_connect(p, address, name.as_deref());
    }
}

/// Starts one connection keeper per configured device, the first time it is seen.
#[derive(Debug, Clone)]
struct Connector {
    tx: mpsc::Sender<Result<RadioEvent, RadioError>>,
    slots: Arc<Semaphore>,
    active: Arc<Mutex<HashSet<String>>>,
    addresses: HashSet<String>,
    names: HashSet<String>,
    backoff: (Duration, Duration),
    cancel: CancellationToken,
}

impl Connector {
    fn maybe_connect(&self, p: Peripheral, address: String, name: Option<&str>) {
        if !self.addresses.contains(&address) && !name.is_some_and(|n| self.names.contains(n)) {
            return;
        }
        let Ok(mut active) = self.active.lock() else {
            return;
        };
        if !active.insert(address.clone()) {
            return;
        }
        drop(active);
        tokio::spawn(keep_connected(self.clone(), p, address));
    }
}

async fn keep_connected(c: Connector, p: Peripheral, address: String) {
    let (min, max) = c.backoff;
    let mut backoff = Backoff::new(min, max, STABLE);
    loop {
        let permit = tokio::select! {
            () = c.cancel.cancelled() => return,
            permit = Arc::clone(&c.slots).acquire_owned() => permit,
        };
        let Ok(permit) = permit else { return };
        let started = tokio::time::Instant::now();
        let reason = session(&c, &p, &address).await;
        let _ = p.disconnect().await;
        drop(permit);
        let ev = RadioEvent::Disconnected {
            at: Timestamp::now(),
            address: address.clone(),
            reason,
        };
        if c.tx.send(Ok(ev)).await.is_err() || c.cancel.is_cancelled() {
            return;
        }
        let delay = backoff.after(started.elapsed());
        tokio::select! {
            () = c.cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// One connection: connect, subscribe, forward notifications until the link drops. Returns why
/// it ended.
async fn session(c: &Connector, p: &Peripheral, address: &str) -> String {
    match tokio::time::timeout(GATT_TIMEOUT, p.connect()).await {
        Err(_) => return "connection timed out".into(),
        Ok(Err(e)) => return format!("connection failed: {e}"),
        Ok(Ok(())) => {}
    }
    match tokio::time::timeout(GATT_TIMEOUT, p.discover_services()).await {
        Err(_) => return "service discovery timed out".into(),
        Ok(Err(e)) => return format!("service discovery failed: {e}"),
        Ok(Ok(())) => {}
    }
    let mut notifications = match p.notifications().await {
        Ok(n) => n,
        Err(e) => return format!("cannot receive notifications: {e}"),
    };
    let mut subscribed = 0;
    for ch in p.characteristics() {
        let uuid = ch.uuid.as_u128();
        if !is_known(uuid) {
            continue;
        }
        if ch
            .properties
            .intersects(CharPropFlags::NOTIFY | CharPropFlags::INDICATE)
        {
            match p.subscribe(&ch).await {
                Ok(()) => subscribed += 1,
                Err(e) => tracing::warn!(%address, error = %e, uuid = %ch.uuid, "subscribe failed"),
            }
        }
        // The battery level rarely notifies: read it once per connection.
        if uuid == uuid16(BATTERY_LEVEL) && ch.properties.contains(CharPropFlags::READ) {
            if let Ok(value) = p.read(&ch).await {
                send_notification(c, address, uuid, value).await;
            }
        }
    }
    if subscribed == 0 {
        return "no characteristic the gateway decodes".into();
    }
    let _ =
        c.tx.send(Ok(RadioEvent::Connected {
            at: Timestamp::now(),
            address: address.to_owned(),
        }))
        .await;
    let mut check = tokio::time::interval(LINK_CHECK);
    loop {
        tokio::select! {
            () = c.cancel.cancelled() => return "shutting down".into(),
            n = notifications.next() => match n {
                Some(n) => send_notification(c, address, n.uuid.as_u128(), n.value).await,
                None => return "connection lost".into(),
            },
            _ = check.tick() => {
                if !p.is_connected().await.unwrap_or(false) {
                    return "connection lost".into();
                }
            }
        }
    }
}

async fn send_notification(c: &Connector, address: &str, uuid: u128, value: Vec<u8>) {
    let _ =
        c.tx.send(Ok(RadioEvent::Notification {
            at: Timestamp::now(),
            address: address.to_owned(),
            uuid,
            value,
        }))
        .await;
}
