//! The running gateway: the I/O side around the pure pipeline.
//!
//! Data flow (ARCHITECTURE.md draws it): drivers → [`pipeline`] task (normalize + analytics,
//! fan-out to the readings [`writer`], telemetry queues and fall detection) → findings → the
//! [`alerts`] task (the engine) → [`effects`] (store, outboxes, one flush) → MQTT links → the
//! brokers' PUBACKs → [`inbound`] → receipts back to the alert task. People's commands come in
//! through the dashboard ([`backend`]), MQTT (routed by [`inbound`]) or the CLI; device commands
//! go to the `devices` task, and the `handover` task hands each shift over at its end.
//!
//! Every task is built by a builder that owns its input channels, started with `run`, and stopped
//! in the one order [`SHUTDOWN`] declares. Pure parts live elsewhere: [`crate::pipeline`],
//! [`crate::alert`], [`crate::analytics`]; this module wires and drives them.

mod alerts;
pub mod backend;
pub mod board;
mod core;
mod data_dir;
mod device_limit;
mod devices;
mod drivers;
mod effects;
mod error;
mod exporter;
mod fall;
mod handover;
mod housekeeping;
mod inbound;
mod link_watch;
mod links;
pub mod live;
mod pipeline;
mod release;
pub mod status;
mod task;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pingan_drivers::ReadingSink;
use pingan_drivers::driver::SinkStats;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use alerts::CommandRequest;
pub use data_dir::{HTTP_FILE, REPORT_SETUP, TOKEN_FILE};
pub use effects::{Effects, EffectsSite, Target};
pub use error::StartError;
pub use links::LinkInfo;

use alerts::AlertTask;
use data_dir::{open_store, record_setup, write_tool_access};
use devices::{DeviceTask, DeviceTaskParts};
use handover::{HandoverSources, HandoverTask};
use inbound::{InboundTask, Routes};
use links::LinkPlan;
use live::Live;
use task::{Part, Tasks};

use crate::alert::{Alert, Event};
use crate::analytics::Finding;
use crate::clock::{MonotonicClock, SharedClock};
use crate::config::{Config, LinkId};
use crate::facility::Facility;
use crate::metrics::Metrics;
use crate::mqtt::{Topics, broker, tls};
use crate::pipeline::Site;
use crate::report::ReportSetup;
use crate::shared::Shared;
use crate::store::Store;

/// How to start.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// The validated config.
    pub config: Config,
    /// Relative paths in the config (scenarios, profiles) resolve against this.
    pub base_dir: PathBuf,
    /// A scenario that replaces the simulator's configured one.
    pub scenario: Option<PathBuf>,
    /// Where every task reads the time.
    pub clock: SharedClock,
}

impl StartOptions {
    /// Options for `config` with relative paths under `base_dir`, on the monotonic clock.
    pub fn new(config: Config, base_dir: impl Into<PathBuf>) -> Self {
        Self {
            config,
            base_dir: base_dir.into(),
            scenario: None,
            clock: MonotonicClock::shared(),
        }
    }
}

/// What a run did, printed at exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Seconds run.
    pub uptime_s: u64,
    /// Readings received.
    pub readings_in: u64,
    /// Readings stored.
    pub readings_stored: u64,
    /// Readings thinned by the storage downsampling (by design).
    pub readings_downsampled: u64,
    /// Readings shed (budget, pressure).
    pub readings_shed: u64,
    /// Telemetry dropped at driver sinks under pressure.
    pub dropped_at_sink: u64,
    /// Readings from unknown devices.
    pub unknown_device_readings: u64,
    /// Alerts raised.
    pub alerts_raised: u64,
    /// Messages still waiting in outboxes (delivered after the next start).
    pub outbox_waiting: u64,
    /// Database size, bytes.
    pub store_bytes: u64,
}

/// One step of a shutdown.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Cancel a part's token and wait for it (at most the duration, if given).
    Stop(Part, Option<Duration>),
    /// Wait for a part that ends when its inputs close.
    Join(Part),
    /// Drop the gateway's own reading sink, so the pipeline can see its input close.
    CloseSink,
    /// Give connected links a moment to empty their outboxes (what remains is replayed at the
    /// next start).
    DrainOutboxes,
    /// Flush the store.
    Flush,
}

/// The order parts stop in: sources first, then what they feed, so every queue drains into a
/// consumer that still runs; the links go last so the final alert changes can still leave, and
/// the store is flushed at the very end.
const SHUTDOWN: [Step; 14] = [
    Step::Stop(Part::Drivers, None),
    Step::CloseSink,
    // Its end closes the writer's queue and fall detection's input.
    Step::Join(Part::Pipeline),
    Step::Stop(Part::Housekeeping, None),
    // Before the outboxes drain, so a handover it was publishing still leaves.
    Step::Stop(Part::Handover, None),
    // Every findings sender is gone now (pipeline, fall thread, housekeeping).
    Step::Join(Part::Alerts),
    Step::Join(Part::Writer),
    Step::DrainOutboxes,
    // Browsers holding event streams must not hold up the rest.
    Step::Stop(Part::Http, Some(Duration::from_secs(3))),
    Step::Stop(Part::Links, None),
    // Both end once the links are gone.
    Step::Join(Part::Inbound),
    Step::Join(Part::Devices),
    Step::Join(Part::Fall),
    Step::Flush,
];

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    /// Live state and counters.
    pub live: Arc<Live>,
    /// The store.
    pub store: Store,
    /// Commands from people (dashboard, CLI).
    pub commands: tokio::sync::mpsc::Sender<CommandRequest>,
    /// Every alert change.
    pub changes: broadcast::Sender<Alert>,
    /// Links and their outboxes.
    pub links: Vec<LinkInfo>,
    /// The config it runs.
    pub config: Arc<Config>,
    /// The facility (with the care records applied; swapped when they change).
    pub facility: Shared<Facility>,
    /// Unix ms of the pipeline's last turn (watchdog).
    pub heartbeat: Arc<AtomicI64>,
    /// False while the local link has been down for 30 s (watchdog; see `link_watch`).
    pub link_health: Arc<AtomicBool>,
    clock: SharedClock,
    started: Instant,
    sink: Option<ReadingSink>,
    sink_stats: Arc<SinkStats>,
    tasks: Tasks,
    restart: CancellationToken,
}

/// Exit status of a gateway that stopped to recover its store (EX_TEMPFAIL): systemd's
/// `Restart=on-failure` starts it again.
pub const EXIT_RESTART: u8 = 75;

impl Gateway {
    /// Starts every part of the gateway.
    pub async fn start(opts: StartOptions) -> Result<Self, StartError> {
        tls::install_provider();
        let clock = opts.clock;
        let site = Site::new(opts.config);
        let config = site.config.clone();
        let store = open_store(&config)?;
        // The care records changed on the dashboard, laid over the site file before any task
        // reads the facility or the policies.
        let care = Arc::new(
            crate::care::CareRecords::open(
                config.clone(),
                store.clone(),
                site.facility.clone(),
                site.policies.clone(),
            )
            .await?,
        );
        let embedded = broker::start(
            config.mqtt.bind,
            config.mqtt.max_connections,
            vec![links::local_client_id(&config)],
        )
        .await?;

        let topics = Topics::new(&config.site.id);
        let metrics =
            Arc::new(Metrics::new(config.devices.iter().map(|d| {
                (pingan_drivers::DeviceId::new(&d.id), d.driver.clone())
            })));
        let live = Arc::new(Live::new(metrics));
        let mut tasks = Tasks::default();
        let alerts = AlertTask::builder();
        let devices = DeviceTask::builder();
        let inbound = InboundTask::builder();

        let plan = LinkPlan::new(
            &config,
            &store,
            &topics,
            clock.now(),
            embedded.local,
            embedded.interest,
        )?;
        let links = plan.infos();
        record_links(&store, &plan);
        let local_outbox = plan.targets.get(&LinkId::local()).map(|t| t.outbox.clone());
        let link_stop = tasks.token(Part::Links);
        for l in plan.links {
            tasks.spawn(Part::Links, l.run(inbound.events(), link_stop.clone()));
        }
        let routes = Routes {
            commands: alerts.commands(),
            receipts: alerts.receipts(),
            devices: devices.input(),
        };
        tasks.spawn(
            Part::Inbound,
            inbound
                .build(
                    topics.clone(),
                    plan.command_links,
                    routes,
                    live.clone(),
                    clock.clone(),
                )
                .run(),
        );
        let device_commands = drivers::DeviceCommands::from_config(&config, &opts.base_dir);
        let device_requests = devices.input();
        // Refusals go out on the local link's QoS 0 queue: never stored (module docs of devices).
        let answers = plan.telemetry.first().map(|t| devices::Answers {
            tx: t.tx.clone(),
            stats: t.stats.clone(),
        });
        tasks.spawn(
            Part::Devices,
            devices
                .build(DeviceTaskParts {
                    commands: device_commands.clone(),
                    results: local_outbox,
                    answers,
                    store: store.clone(),
                    topics: topics.clone(),
                    live: live.clone(),
                    clock: clock.clone(),
                })
                .run(),
        );
        let setup = ReportSetup::from_config(&config);
        record_setup(&store, &setup);
        let handover_sources = HandoverSources {
            setup: setup.clone(),
            site: config.site.id.clone(),
            store: store.clone(),
            facility: site.facility.clone(),
            live: live.clone(),
            commands: device_commands.clone(),
            clock: clock.clone(),
        };
        let handovers = HandoverTask::builder();
        let handover_requests = handovers.input();
        let all_alert_outboxes: Vec<_> = plan
            .targets
            .values()
            .filter(|t| t.all_alerts)
            .map(|t| t.outbox.clone())
            .collect();
        let handover_stop = tasks.token(Part::Handover);
        tasks.spawn(
            Part::Handover,
            handovers
                .build(
                    handover_sources.clone(),
                    all_alert_outboxes,
                    topics.clone(),
                    handover_stop,
                )
                .run(),
        );

        let problems = plan
            .broken
            .iter()
            .map(|(id, why)| {
                let detail = format!("{why}; alerts for it are not being sent");
                Event::technical(&format!("uplink:{id}"), Some(detail), clock.now())
            })
            .collect();
        let watched = links
            .iter()
            .map(|l| (l.id.clone(), l.outbox.clone()))
            .collect();
        // The fall model and its threads start only for a site with wearables (issue 14).
        let fall_needed = site.config.needs_fall_model();
        let core = core::start(
            core::CoreInputs {
                site: site.clone(),
                store: store.clone(),
                clock: clock.clone(),
                live: live.clone(),
                topics,
                targets: plan.targets,
                telemetry: plan.telemetry,
                watched,
                alerts,
                fall_detection: fall_needed,
                problems,
            },
            &mut tasks,
        )
        .await?;
        let sink_stats = core.sink.stats();
        let link_health = Arc::new(AtomicBool::new(true));
        if let Some(local) = links.iter().find(|l| l.id == LinkId::local()) {
            let stop = tasks.token(Part::Housekeeping);
            tasks.spawn(
                Part::Housekeeping,
                link_watch::run(
                    local.stats.clone(),
                    core.findings.clone(),
                    link_health.clone(),
                    clock.clone(),
                    stop,
                ),
            );
        }
        let listener = tokio::net::TcpListener::bind(config.http.bind)
            .await
            .map_err(|source| StartError::Http {
                addr: config.http.bind,
                source,
            })?;
        let tool_token = write_tool_access(&config, &listener);
        let status = Arc::new(status::StatusSources {
            config: config.clone(),
            live: live.clone(),
            board: core.board.clone(),
            store: store.clone(),
            links: links.clone(),
            fall_detection: core.fall_available,
            fall_needed,
            started: Instant::now(),
            started_at: clock.now(),
            clock: clock.clone(),
            heartbeat: core.heartbeat.clone(),
            sink_stats: sink_stats.clone(),
        });
        if let Some(problem) = exporter::start(&config, &mut tasks, &status).await {
            tracing::error!(error = %problem, "metrics endpoint not started");
            let ev = Event::technical("metrics", Some(problem), clock.now());
            let _ = core.findings.send(Finding::Event(ev)).await;
        }
        let backend = Arc::new(backend::GatewayBackend {
            config: config.clone(),
            facility: site.facility.clone(),
            live: live.clone(),
            board: core.board.clone(),
            store: store.clone(),
            commands: core.commands.clone(),
            changes: core.changes.clone(),
            links: links.clone(),
            started: Instant::now(),
            fall_detection: core.fall_available,
            accounts: store.accounts()?,
            clock: clock.clone(),
            receipts: core.receipts.clone(),
            status,
            device_commands: device_commands.clone(),
            device_requests,
            handover: handover_sources,
            handover_requests,
            setup,
            tool_token,
            care,
        });
        let http_stop = tasks.token(Part::Http);
        tasks.spawn(Part::Http, async move {
            if let Err(e) = crate::web::serve(listener, backend, http_stop).await {
                tracing::error!(error = %e, "dashboard stopped");
            }
        });
        let drivers_stop = tasks.token(Part::Drivers);
        for run in drivers::spawn_all(
            &config,
            &opts.base_dir,
            opts.scenario.as_deref(),
            &core.sink,
            &device_commands,
            &drivers_stop,
        ) {
            tasks.spawn(Part::Drivers, run);
        }

        Ok(Self {
            live,
            store,
            commands: core.commands,
            changes: core.changes,
            links,
            config,
            facility: site.facility,
            heartbeat: core.heartbeat,
            link_health,
            clock,
            started: Instant::now(),
            sink: Some(core.sink),
            sink_stats,
            tasks,
            restart: core.restart,
        })
    }

    /// Resolves when the gateway asks to be restarted: its store failed for good in this process
    /// and every alert change it kept in memory meanwhile has been delivered. The caller shuts it
    /// down and exits with [`EXIT_RESTART`] so systemd starts it afresh on the durable path.
    pub async fn restart_requested(&self) {
        self.restart.cancelled().await;
    }

    /// A sink into the pipeline for in-process sources (benchmarks, tests, replay). Drop every
    /// clone before [`Gateway::shutdown`] completes: the pipeline drains until all senders are gone.
    pub fn sink(&self) -> Option<ReadingSink> {
        self.sink.clone()
    }

    /// Counters now.
    pub fn summary(&self) -> Summary {
        let c = &self.live.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Summary {
            uptime_s: self.started.elapsed().as_secs(),
            readings_in: get(&c.readings_in),
            readings_stored: get(&c.readings_stored),
            readings_downsampled: get(&c.readings_downsampled),
            readings_shed: get(&c.readings_shed),
            dropped_at_sink: get(&self.sink_stats.dropped_telemetry),
            unknown_device_readings: get(&c.unknown_device_readings),
            alerts_raised: get(&c.alerts_raised),
            outbox_waiting: self.links.iter().map(|l| l.outbox.len() as u64).sum(),
            store_bytes: self.store.size_on_disk(),
        }
    }

    /// Graceful shutdown in the order of [`SHUTDOWN`].
    pub async fn shutdown(mut self) -> Summary {
        for step in SHUTDOWN {
            match step {
                Step::Stop(part, limit) => {
                    self.tasks.cancel(part);
                    self.tasks.join(part, limit).await;
                }
                Step::Join(part) => self.tasks.join(part, None).await,
                Step::CloseSink => self.sink = None,
                Step::DrainOutboxes => self.drain_outboxes().await,
                Step::Flush => {
                    if let Err(e) = self.store.flush().await {
                        tracing::error!(error = %e, "final flush failed");
                    }
                }
            }
        }
        self.summary()
    }

    async fn drain_outboxes(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while tokio::time::Instant::now() < deadline {
            let waiting = self
                .links
                .iter()
                .any(|l| l.stats.connected.load(Ordering::Relaxed) && !l.outbox.is_empty());
            if !waiting {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The clock the gateway runs on.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
}

/// The earliest time the system clock may plausibly read: the release floor, or a day before
/// the latest time this gateway has already recorded (housekeeping keeps that mark).
fn clock_floor(store: &Store) -> pingan_drivers::Timestamp {
    let seen = store
        .meta(housekeeping::CLOCK_HIGH_WATER)
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(crate::clock::EARLIEST_PLAUSIBLE, |ms| {
            pingan_drivers::Timestamp(ms).minus(Duration::from_secs(86_400))
        });
    seen.max(crate::clock::EARLIEST_PLAUSIBLE)
}

/// Records which links receive every alert, so `pingan alerts` with the gateway stopped queues
/// its changes exactly where the gateway would.
fn record_links(store: &Store, plan: &LinkPlan) {
    let all: Vec<&str> = plan
        .targets
        .iter()
        .filter(|(_, t)| t.all_alerts)
        .map(|(id, _)| id.as_str())
        .collect();
    if let Err(e) = store.set_meta("alert_links", &all.join(",")) {
        tracing::warn!(error = %e, "cannot record the alert links");
    }
}

/// The site facts effects need, from the resolved site.
pub fn effects_site(site: &Site, topics: &Topics) -> EffectsSite {
    let c = &site.config;
    EffectsSite {
        policies: site.policies.clone(),
        facility: site.facility.clone(),
        contacts: c
            .contacts
            .iter()
            .map(|x| (x.id.clone(), x.clone()))
            .collect(),
        topics: topics.clone(),
        locale: c.site.locale,
        site: (c.site.id.clone(), c.site.name.clone()),
        callback_phone: c.site.callback_phone.clone(),
    }
}

#[cfg(test)]
mod tests;
