//! The radio edge: a [`Radio`] yields what the air brings — advertisements, notifications,
//! connection changes — as [`RadioEvent`]s. Two implementations: [`BtleplugRadio`] (BlueZ over
//! D-Bus) and [`ReplayRadio`] (recorded traffic from a JSONL file, for tests and demos). All
//! decoding and bookkeeping happens after this edge, in pure code.

mod backoff;
mod btleplug;
mod contract;
mod replay;

pub use self::btleplug::BtleplugRadio;
pub use backoff::Backoff;
pub use contract::{OpenRadio, Radio, RadioError, RadioEvent};
pub use replay::{ReplayLine, ReplayRadio};

use super::config::BleConfig;
use crate::reading::Timestamp;

/// The radio chosen by the configuration: the replay file when `replay` is set, else BlueZ.
#[derive(Debug)]
pub enum AnyRadio {
    /// BlueZ through btleplug.
    Btleplug(BtleplugRadio),
    /// A recorded trace.
    Replay(Box<ReplayRadio>),
}

impl Radio for AnyRadio {
    async fn next_event(&mut self) -> Result<Option<RadioEvent>, RadioError> {
        match self {
            Self::Btleplug(r) => r.next_event().await,
            Self::Replay(r) => r.next_event().await,
        }
    }

    fn now(&self) -> Timestamp {
        match self {
            Self::Btleplug(r) => r.now(),
            Self::Replay(r) => r.now(),
        }
    }
}

impl OpenRadio for AnyRadio {
    async fn open(config: &BleConfig) -> Result<Self, RadioError> {
        if config.replay.is_some() {
            Ok(Self::Replay(Box::new(ReplayRadio::open(config).await?)))
        } else {
            Ok(Self::Btleplug(BtleplugRadio::open(config).await?))
        }
    }
}
