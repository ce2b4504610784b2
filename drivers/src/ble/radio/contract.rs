//! The contract of a radio: what it yields ([`RadioEvent`]), how it fails ([`RadioError`]) and
//! the traits every implementation provides.

use std::future::Future;

use crate::ble::adv::AdvData;
use crate::ble::config::BleConfig;
use crate::reading::Timestamp;

/// Something the radio heard.
#[derive(Debug, Clone, PartialEq)]
pub enum RadioEvent {
    /// An advertisement.
    Advert {
        /// When it was received.
        at: Timestamp,
        /// The advertiser's address, `AA:BB:CC:DD:EE:FF`.
        address: String,
        /// Its local name, when known.
        name: Option<String>,
        /// Received signal strength.
        rssi: Option<i16>,
        /// Its AD structures.
        data: AdvData,
    },
    /// A characteristic notification or indication (or a value read after connecting).
    Notification {
        /// When it was received.
        at: Timestamp,
        /// The device's address.
        address: String,
        /// The characteristic's 128-bit UUID.
        uuid: u128,
        /// The value.
        value: Vec<u8>,
    },
    /// A GATT connection is up and subscribed.
    Connected {
        /// When.
        at: Timestamp,
        /// The device's address.
        address: String,
    },
    /// A GATT connection was lost or could not be made.
    Disconnected {
        /// When.
        at: Timestamp,
        /// The device's address.
        address: String,
        /// Why, for the health detail.
        reason: String,
    },
}

/// Why the radio cannot work.
#[derive(Debug, thiserror::Error)]
pub enum RadioError {
    /// No adapter, no D-Bus or no bluetoothd: BLE devices are offline, everything else runs.
    #[error("no Bluetooth: {0}")]
    Unavailable(String),
    /// The adapter failed while running.
    #[error("Bluetooth adapter failed: {0}")]
    Failed(String),
    /// The replay file cannot be used.
    #[error("replay file {path}: {detail}")]
    Replay {
        /// The file.
        path: String,
        /// What is wrong, with the line number.
        detail: String,
    },
}

/// A source of [`RadioEvent`]s.
pub trait Radio: Send {
    /// The next event; `Ok(None)` when the source is exhausted (end of a replay). Must be
    /// cancel-safe: the driver polls it in a `select!` with its timers.
    fn next_event(&mut self)
    -> impl Future<Output = Result<Option<RadioEvent>, RadioError>> + Send;

    /// The radio's notion of now, on the same clock as its events' timestamps (a replay runs
    /// on its recording's clock).
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A radio the driver can open from its configuration (and reopen after a failure).
pub trait OpenRadio: Radio + Sized {
    /// Opens the radio `config` asks for.
    fn open(config: &BleConfig) -> impl Future<Output = Result<Self, RadioError>> + Send;
}
