//! [`BleDriver`]: the radio's events through [`BleState`] into the [`ReadingSink`]. With no
//! adapter (or no bluetoothd) it reports every BLE device offline with the reason, retries every
//! `adapter_retry`, and never fails the process.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config::BleConfig;
use super::radio::{AnyRadio, OpenRadio, Radio};
use super::state::{BleState, Output};
use crate::driver::{Driver, DriverError, ReadingSink};

/// How often silent devices are checked.
const TICK: Duration = Duration::from_secs(5);

/// The BLE driver, generic over its radio (BlueZ or a replay by default, chosen by the config).
#[derive(Debug)]
pub struct BleDriver<R = AnyRadio> {
    config: BleConfig,
    radio: Option<R>,
}

impl BleDriver<AnyRadio> {
    /// A driver that opens the radio the config asks for (replay file or BlueZ).
    pub fn new(config: BleConfig) -> Self {
        Self::opening(config)
    }
}

impl<R: OpenRadio> BleDriver<R> {
    /// A driver that opens its radio with [`OpenRadio::open`] (and reopens it after failures).
    pub fn opening(config: BleConfig) -> Self {
        Self {
            config,
            radio: None,
        }
    }

    /// A driver that starts with an already opened radio (tests, demos); when that radio ends
    /// the driver returns.
    pub fn with_radio(config: BleConfig, radio: R) -> Self {
        Self {
            config,
            radio: Some(radio),
        }
    }
}

/// How one radio session ended.
enum Ended {
    Shutdown,
    Exhausted,
    Failed(String),
}

impl<R: OpenRadio + 'static> Driver for BleDriver<R> {
    async fn run(self, sink: ReadingSink, shutdown: CancellationToken) -> Result<(), DriverError> {
        let mut state = BleState::new(&self.config).map_err(DriverError::Config)?;
        let mut preset = self.radio;
        loop {
            let radio = match preset.take() {
                Some(r) => Ok(r),
                None => R::open(&self.config).await,
            };
            let ended = match radio {
                Ok(radio) => pump(&mut state, radio, &sink, &shutdown).await?,
                Err(e) => Ended::Failed(e.to_string()),
            };
            match ended {
                Ended::Shutdown | Ended::Exhausted => return Ok(()),
                Ended::Failed(reason) => {
                    tracing::warn!(error = %reason, retry = ?self.config.adapter_retry,
                        "BLE unavailable; BLE devices offline, everything else keeps running");
                    let mut out = Vec::new();
                    state.radio_down(&reason, &mut out);
                    emit(&sink, out).await?;
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(self.config.adapter_retry) => {}
                    }
                }
            }
        }
    }
}

async fn pump<R: Radio>(
    state: &mut BleState,
    mut radio: R,
    sink: &ReadingSink,
    shutdown: &CancellationToken,
) -> Result<Ended, DriverError> {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut out = Vec::new();
        tokio::select! {
            () = shutdown.cancelled() => return Ok(Ended::Shutdown),
            _ = tick.tick() => state.on_tick(radio.now(), &mut out),
            ev = radio.next_event() => match ev {
                Ok(Some(ev)) => state.on_event(ev, &mut out),
                Ok(None) => return Ok(Ended::Exhausted),
                Err(e) => return Ok(Ended::Failed(e.to_string())),
            },
        }
        emit(sink, out).await?;
    }
}

async fn emit(sink: &ReadingSink, out: Vec<Output>) -> Result<(), DriverError> {
    for o in out {
        match o {
            Output::Reading(r) => sink.send(r).await?,
            Output::Health {
                device,
                state,
                detail,
            } => sink.health(device, state, detail).await?,
            Output::Warning { device, detail } => {
                tracing::warn!(device = %device, %detail, "BLE payload");
            }
        }
    }
    Ok(())
}
