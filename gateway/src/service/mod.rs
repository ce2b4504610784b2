//! The running gateway: the I/O side around the pure pipeline.
//!
//! Data flow (ARCHITECTURE.md draws it): drivers → [`pipeline`] task (normalize + analytics,
//! fan-out to the readings [`writer`], telemetry queues and fall detection) → findings → the
//! [`alerts`] task (the engine) → [`effects`] (store, outboxes, one flush) → MQTT links → the
//! brokers' PUBACKs → [`inbound`] → receipts back to the alert task. People's commands come in
//! through the dashboard ([`backend`]), MQTT (routed by [`inbound`]) or the CLI.
//!
//! Every task is built by a builder that owns its input channels, started with `run`, and stopped
//! in the one order [`SHUTDOWN`] declares. Pure parts live elsewhere: [`crate::pipeline`],
//! [`crate::alert`], [`crate::analytics`]; this module wires and drives them.

mod alerts;
pub mod backend;
pub mod board;
mod device_limit;
mod devices;
mod drivers;
mod effects;
mod fall;
mod housekeeping;
mod inbound;
mod link_watch;
mod links;
pub mod live;
mod pipeline;
mod task;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pingan_drivers::ReadingSink;
use pingan_drivers::driver::SinkStats;
use tokio::sync::broadcast;

pub use alerts::CommandRequest;
pub use effects::{Effects, EffectsSite, Target};
pub use links::LinkInfo;

use alerts::{AlertTask, AlertTaskParts};
use devices::DeviceTask;
use inbound::{InboundTask, Routes};
use links::LinkPlan;
use live::Live;
use pipeline::PipelineTask;
use task::{Part, Tasks};

use crate::alert::{Alert, Event};
use crate::analytics::Finding;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, LinkId};
use crate::facility::Facility;
use crate::mqtt::link::LinkTask;
use crate::mqtt::{Topics, broker, tls};
use crate::pipeline::{Pipeline, Site};
use crate::store::{Store, StoreError};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedded broker.
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    /// The dashboard's address.
    #[error("cannot listen on {addr} for the dashboard: {source} (set [http] bind or --http-port)")]
    Http {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The data directory cannot be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

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
    /// Options for `config` with relative paths under `base_dir`, on the system clock.
    pub fn new(config: Config, base_dir: impl Into<PathBuf>) -> Self {
        Self {
            config,
            base_dir: base_dir.into(),
            scenario: None,
            clock: SystemClock::shared(),
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
const SHUTDOWN: [Step; 13] = [
    Step::Stop(Part::Drivers, None),
    Step::CloseSink,
    // Its end closes the writer's queue and fall detection's input.
    Step::Join(Part::Pipeline),
    Step::Stop(Part::Housekeeping, None),
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
    /// The facility.
    pub facility: Arc<Facility>,
    /// Unix ms of the pipeline's last turn (watchdog).
    pub heartbeat: Arc<AtomicI64>,
    /// False while the local link has been down for 30 s (watchdog; see `link_watch`).
    pub link_health: Arc<AtomicBool>,
    clock: SharedClock,
    started: Instant,
    sink: Option<ReadingSink>,
    sink_stats: Arc<SinkStats>,
    tasks: Tasks,
}

impl Gateway {
    /// Starts every part of the gateway.
    pub async fn start(opts: StartOptions) -> Result<Self, StartError> {
        tls::install_provider();
        let clock = opts.clock;
        let site = Site::new(opts.config);
        let config = site.config.clone();
        let store = open_store(&config)?;
        let embedded = broker::start(
            config.mqtt.bind,
            config.mqtt.max_connections,
            vec![links::local_client_id(&config)],
        )
        .await?;

        let topics = Topics::new(&config.site.id);
        let live = Arc::new(Live::default());
        let mut tasks = Tasks::default();
        let alerts = AlertTask::builder();
        let devices = DeviceTask::builder();
        let inbound = InboundTask::builder();

        let plan = LinkPlan::new(&config, &store, &topics, clock.now(), embedded.internal)?;
        let links = plan.infos();
        record_links(&store, &plan);
        let local_outbox = plan.targets.get(&LinkId::local()).map(|t| t.outbox.clone());
        let link_stop = tasks.token(Part::Links);
        for l in plan.links {
            tasks.spawn(
                Part::Links,
                LinkTask {
                    settings: l.settings,
                    outbox: l.info.outbox,
                    telemetry: l.telemetry,
                    events: inbound.events(),
                    stats: l.info.stats,
                    shutdown: link_stop.clone(),
                }
                .run(),
            );
        }
        let routes = Routes {
            commands: alerts.commands(),
            receipts: alerts.receipts(),
            devices: devices.input(),
        };
        tasks.spawn(
            Part::Inbound,
            inbound
                .build(topics.clone(), plan.command_links, routes, live.clone())
                .run(),
        );
        let device_commands = drivers::DeviceCommands::default();
        let answers = plan.telemetry.first().map(|t| devices::Answers {
            tx: t.tx.clone(),
            stats: t.stats.clone(),
        });
        tasks.spawn(
            Part::Devices,
            devices
                .build(
                    device_commands.clone(),
                    local_outbox,
                    answers,
                    topics.clone(),
                    live.clone(),
                    clock.clone(),
                )
                .run(),
        );

        let (processor, mut engine) = Pipeline::for_site(&site).into_parts();
        let open: Vec<Alert> = store
            .alerts()?
            .into_iter()
            .filter(|a| a.state.is_open())
            .collect();
        let board = Arc::new(board::AlertBoard::new(open.clone()));
        if !open.is_empty() {
            tracing::info!(
                open = open.len(),
                "restored open alerts; their escalation timers continue"
            );
        }
        engine.restore(open);
        let (changes, _) = broadcast::channel(1024);
        let effects = Effects::new(
            store.clone(),
            plan.targets,
            effects_site(&site, &topics),
            clock.clone(),
        );
        let findings = alerts.findings();
        let commands = alerts.commands();
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
                })
                .run(),
        );

        let shedding = Arc::new(AtomicBool::new(false));
        let (store_tx, store_rx) = tokio::sync::mpsc::channel(16_384);
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
        let link_health = Arc::new(AtomicBool::new(true));
        if let Some(local) = links.iter().find(|l| l.id == LinkId::local()) {
            tasks.spawn(
                Part::Housekeeping,
                link_watch::run(
                    local.stats.clone(),
                    findings.clone(),
                    link_health.clone(),
                    clock.clone(),
                    housekeeping_stop.clone(),
                ),
            );
        }
        tasks.spawn(
            Part::Housekeeping,
            housekeeping::run(
                store.clone(),
                housekeeping::Budget {
                    retention: config.storage.retention,
                    sweep_interval: config.storage.sweep_interval,
                    max_bytes: config.storage.max_bytes,
                    outbox_quota: config.storage.outbox_quota,
                    outboxes: links
                        .iter()
                        .map(|l| (l.id.clone(), l.outbox.clone()))
                        .collect(),
                },
                shedding,
                findings.clone(),
                clock.clone(),
                housekeeping_stop,
            ),
        );

        for (id, why) in plan.broken {
            let detail = format!("{why}; alerts for it are not being sent");
            let ev = Event::technical(&format!("uplink:{id}"), Some(detail), clock.now());
            let _ = findings.send(Finding::Event(ev)).await;
        }
        let (fall_input, fall_problem) = fall::start(findings.clone(), clock.now());
        if let Some(ev) = fall_problem {
            let _ = findings.send(Finding::Event(ev)).await;
        }
        let heartbeat = Arc::new(AtomicI64::new(clock.now().millis()));
        let (sink, sink_rx) = ReadingSink::channel(8192);
        let sink_stats = sink.stats();
        tasks.spawn(
            Part::Pipeline,
            PipelineTask {
                processor,
                live: live.clone(),
                store_tx,
                findings,
                fall: fall_input.clone(),
                telemetry: plan.telemetry,
                topics,
                heartbeat: heartbeat.clone(),
                clock: clock.clone(),
            }
            .run(sink_rx),
        );
        let listener = tokio::net::TcpListener::bind(config.http.bind)
            .await
            .map_err(|source| StartError::Http {
                addr: config.http.bind,
                source,
            })?;
        let backend = Arc::new(backend::GatewayBackend {
            config: config.clone(),
            facility: site.facility.clone(),
            live: live.clone(),
            board,
            store: store.clone(),
            commands: commands.clone(),
            changes: changes.clone(),
            links: links.clone(),
            started: Instant::now(),
            fall_detection: fall_input.available.load(Ordering::Relaxed),
            accounts: store.accounts()?,
            clock: clock.clone(),
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
            &sink,
            &device_commands,
            &drivers_stop,
        ) {
            tasks.spawn(Part::Drivers, run);
        }

        Ok(Self {
            live,
            store,
            commands,
            changes,
            links,
            config,
            facility: site.facility,
            heartbeat,
            link_health,
            clock,
            started: Instant::now(),
            sink: Some(sink),
            sink_stats,
            tasks,
        })
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

fn open_store(config: &Config) -> Result<Store, StartError> {
    let data_dir = &config.storage.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let store = Store::open(data_dir)?;
    store.set_meta("site_id", &config.site.id)?;
    store.set_meta("locale", config.site.locale.as_str())?;
    // Tools that only know the data directory find the running gateway's broker here (the
    // database itself is locked while the gateway runs).
    let _ = std::fs::write(data_dir.join("pingan-site"), &config.site.id);
    let _ = std::fs::write(data_dir.join("pingan-mqtt"), config.mqtt.bind.to_string());
    Ok(store)
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
