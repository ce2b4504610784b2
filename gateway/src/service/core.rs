//! The gateway's core: everything between the drivers' sink and the links' outboxes — the
//! pipeline task, fall detection, the alert task with its effects, the readings writer and
//! housekeeping — and none of the network I/O (broker, links, dashboard). The service starts it
//! between the links and the dashboard; in-process tests start it alone on paused time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64};

use pingan_drivers::ReadingSink;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::alerts::{AlertTaskBuilder, AlertTaskParts, CommandRequest, Receipt};
use super::board::AlertBoard;
use super::effects::{Effects, Target};
use super::live::Live;
use super::pipeline::{PipelineTask, TelemetryOut};
use super::task::{Part, Tasks};
use super::{effects_site, fall, housekeeping, writer};
use crate::alert::{Alert, Event};
use crate::analytics::Finding;
use crate::clock::SharedClock;
use crate::config::LinkId;
use crate::mqtt::Topics;
use crate::pipeline::{Pipeline, Site};
use crate::store::{Outbox, Store, StoreError};

/// What the core is built from.
#[derive(Debug)]
pub(super) struct CoreInputs {
    /// The resolved site.
    pub site: Site,
    /// The store.
    pub store: Store,
    /// The time.
    pub clock: SharedClock,
    /// Live state and counters.
    pub live: Arc<Live>,
    /// Topic names.
    pub topics: Topics,
    /// Effects targets by link.
    pub targets: BTreeMap<LinkId, Target>,
    /// Telemetry destinations (the local broker first).
    pub telemetry: Vec<TelemetryOut>,
    /// The outboxes housekeeping watches.
    pub watched: Vec<(LinkId, Outbox)>,
    /// The alert task's inputs (links already hold senders from it).
    pub alerts: AlertTaskBuilder,
    /// Run the fall model (tests of other rules leave it off).
    pub fall_detection: bool,
    /// Technical events found while starting (uplinks left out).
    pub problems: Vec<Event>,
}

/// The running core's handles.
#[derive(Debug)]
pub(super) struct Core {
    /// Readings in.
    pub sink: ReadingSink,
    /// Every alert change.
    pub changes: broadcast::Sender<Alert>,
    /// Open and recent alerts for the dashboard.
    pub board: Arc<AlertBoard>,
    /// People's commands.
    pub commands: mpsc::Sender<CommandRequest>,
    /// Delivery receipts.
    pub receipts: mpsc::Sender<Receipt>,
    /// Unix ms of the pipeline's last turn (watchdog).
    pub heartbeat: Arc<AtomicI64>,
    /// Cancelled when the gateway asks to be restarted to recover its store.
    pub restart: CancellationToken,
    /// Whether fall detection runs.
    pub fall_available: bool,
    /// For technical events found after the core started; drop it once starting is done (the
    /// alert task ends when every findings sender is gone).
    pub findings: mpsc::Sender<Finding>,
}

/// Starts the core's tasks into `tasks`.
pub(super) async fn start(inputs: CoreInputs, tasks: &mut Tasks) -> Result<Core, StoreError> {
    let CoreInputs {
        site,
        store,
        clock,
        live,
        topics,
        targets,
        telemetry,
        watched,
        alerts,
        fall_detection,
        problems,
    } = inputs;
    let config = site.config.clone();
    let (processor, mut engine) = Pipeline::for_site(&site).into_parts();
    let open: Vec<Alert> = store
        .alerts()?
        .into_iter()
        .filter(|a| a.state.is_open())
        .collect();
    let board = Arc::new(AlertBoard::new(open.clone()));
    if !open.is_empty() {
        tracing::info!(
            open = open.len(),
            "restored open alerts; each one's escalation level gets its full timeout from now"
        );
    }
    engine.restore(open);
    let resumed = engine.resume(clock.now());
    // Every slot is allocated and written up front (~400 bytes an alert): 256 changes in flight is
    // minutes of a busy home's changes, and a dashboard that still lags behind resyncs (web/events.rs).
    let (changes, _) = broadcast::channel(256);
    let effects = Effects::new(
        store.clone(),
        targets,
        effects_site(&site, &topics),
        clock.clone(),
    );
    let degraded = effects.degraded();
    let restart = CancellationToken::new();
    let findings = alerts.findings();
    let commands = alerts.commands();
    let receipts = alerts.receipts();
    tasks.spawn(
        Part::Alerts,
        alerts
            .build(AlertTaskParts {
                engine,
                effects,
                store: store.clone(),
                live: live.clone(),
                board: board.clone(),
                changes: changes.clone(),
                clock: clock.clone(),
                initial: resumed,
                clock_floor: super::clock_floor(&store),
            })
            .run(),
    );

    let shedding = Arc::new(AtomicBool::new(false));
    let (store_tx, store_rx) = mpsc::channel(16_384);
    tasks.thread(
        Part::Writer,
        writer::spawn(
            store.clone(),
            store_rx,
            live.clone(),
            shedding.clone(),
            config.storage.downsample,
        ),
    );
    let housekeeping_stop = tasks.token(Part::Housekeeping);
    tasks.spawn(
        Part::Housekeeping,
        super::release::run(housekeeping_stop.clone()),
    );
    tasks.spawn(
        Part::Housekeeping,
        housekeeping::run(
            store.clone(),
            housekeeping::Budget {
                retention: config.storage.retention,
                sweep_interval: config.storage.sweep_interval,
                max_bytes: config.storage.max_bytes,
                reserve_bytes: config.storage.reserve_bytes,
                outbox_quota: config.storage.outbox_quota,
                undelivered_after: config.alerts.undelivered_after,
                outboxes: watched,
            },
            housekeeping::Signals {
                shedding,
                degraded,
                restart: restart.clone(),
            },
            findings.clone(),
            clock.clone(),
            housekeeping_stop,
        ),
    );

    for ev in problems {
        let _ = findings.send(Finding::Event(ev)).await;
    }
    let fall_input = if fall_detection {
        let (input, problem) = fall::start(findings.clone(), live.metrics.clone(), clock.now());
        if let Some(ev) = problem {
            let _ = findings.send(Finding::Event(ev)).await;
        }
        input
    } else {
        fall::FallInput::disabled()
    };
    let late_findings = findings.clone();
    let heartbeat = Arc::new(AtomicI64::new(clock.now().millis()));
    let (sink, sink_rx) = ReadingSink::channel(8192);
    tasks.spawn(
        Part::Pipeline,
        PipelineTask {
            processor,
            live,
            store_tx,
            findings,
            fall: fall_input.clone(),
            telemetry,
            topics,
            heartbeat: heartbeat.clone(),
            clock,
            reading_topics: Default::default(),
        }
        .run(sink_rx),
    );
    Ok(Core {
        sink,
        changes,
        board,
        commands,
        receipts,
        heartbeat,
        restart,
        fall_available: fall_input
            .available
            .load(std::sync::atomic::Ordering::Relaxed),
        findings: late_findings,
    })
}
