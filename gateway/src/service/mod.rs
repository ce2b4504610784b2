//! The running gateway: wires drivers → pipeline → store + analytics → alert engine → delivery →
//! MQTT links, and shuts them down in order (drivers stop, channels drain, sled is flushed, the
//! status goes offline).

mod alerts;
pub mod backend;
pub mod board;
mod delivery;
mod drivers;
mod fall;
mod housekeeping;
pub mod live;
mod pipeline;
pub mod processor;
pub mod referral;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pingan_drivers::ReadingSink;
use pingan_drivers::driver::SinkStats;
use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use alerts::AlertTask;
pub use alerts::CommandRequest;
use delivery::{Delivery, Target};
use live::Live;
use pipeline::{PipelineTask, TelemetryOut};
use processor::Processor;

use crate::alert::{Alert, Engine, EngineSettings, Policies};
use crate::config::UplinkUrl;
use crate::config::{Config, UplinkConfig};
use crate::facility::Facility;
use crate::mqtt::link::{self, LinkSettings, LinkStats};
use crate::mqtt::{Topics, broker, payload, tls};
use crate::store::{Outbox, Store, StoreError};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedded broker.
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    /// An uplink's settings (URL, TLS files, password file).
    #[error("uplink {id}: {detail}")]
    Uplink { id: String, detail: String },
    /// The dashboard's address.
    #[error("cannot listen on {addr} for the dashboard: {source} (set [http] bind or --http-port)")]
    Http {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The dashboard's account store.
    #[error(transparent)]
    Web(#[from] crate::web::WebError),
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
}

/// One link as the status view sees it.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    /// Link id (`local` or the uplink id).
    pub id: String,
    /// Counters.
    pub stats: Arc<LinkStats>,
    /// Its outbox.
    pub outbox: Outbox,
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

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    /// Live state and counters.
    pub live: Arc<Live>,
    /// The store.
    pub store: Store,
    /// Commands from people (dashboard, CLI).
    pub commands: mpsc::Sender<CommandRequest>,
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
    started: Instant,
    sink: Option<ReadingSink>,
    sink_stats: Arc<SinkStats>,
    drivers_stop: CancellationToken,
    links_stop: CancellationToken,
    housekeeping_stop: CancellationToken,
    http_stop: CancellationToken,
    http: JoinHandle<()>,
    drivers: JoinSet<()>,
    pipeline: JoinHandle<()>,
    alerts: JoinHandle<()>,
    housekeeping: JoinHandle<()>,
    link_tasks: JoinSet<()>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    /// Starts every part of the gateway.
    pub async fn start(opts: StartOptions) -> Result<Self, StartError> {
        tls::install_provider();
        let config = Arc::new(opts.config);
        let data_dir = &config.storage.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store = Store::open(data_dir)?;
        store.set_meta("site_id", &config.site.id)?;
        // Tools that only know the data directory find the running gateway's broker here (the
        // database itself is locked while the gateway runs).
        let _ = std::fs::write(data_dir.join("pingan-site"), &config.site.id);
        let _ = std::fs::write(data_dir.join("pingan-mqtt"), config.mqtt.bind.to_string());
        store.set_meta(
            "locale",
            if config.site.locale == crate::alert::Locale::En {
                "en"
            } else {
                "zh-CN"
            },
        )?;
        broker::start(config.mqtt.bind, config.mqtt.max_connections).await?;

        let topics = Topics::new(&config.site.id);
        let live = Arc::new(Live::default());
        let (link_tx, link_rx) = mpsc::channel(1024);
        let links_stop = CancellationToken::new();
        let mut link_tasks = JoinSet::new();
        let mut links = Vec::new();
        let mut targets = HashMap::new();
        let mut telemetry = Vec::new();
        let mut command_links = HashSet::new();

        let local_settings = local_link(&config, &topics);
        let mut all = vec![(
            local_settings,
            true,
            Some(config.mqtt.readings_min_interval),
        )];
        // An uplink that cannot be set up (unreadable certificate or password file) must not stop
        // local alerting: it is left out and reported as a technical alert.
        let mut broken_uplinks = Vec::new();
        for u in &config.uplinks {
            let settings = match uplink_settings(&config, u, &topics) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(uplink = %u.id, error = %e, "uplink left out");
                    broken_uplinks.push((u.id.clone(), e.to_string()));
                    continue;
                }
            };
            if u.commands {
                command_links.insert(u.id.clone());
            }
            all.push((settings, u.alerts, u.telemetry_interval));
        }
        command_links.insert("local".to_owned());
        for (settings, all_alerts, telemetry_interval) in all {
            let id = settings.id.to_string();
            let outbox = store.outbox(&id)?;
            let stats = Arc::new(LinkStats::default());
            let (ttx, trx) = mpsc::channel(4096);
            if let Some(interval) = telemetry_interval {
                telemetry.push(TelemetryOut::new(interval, ttx, stats.clone()));
            }
            targets.insert(
                id.clone(),
                Target {
                    outbox: outbox.clone(),
                    all_alerts,
                },
            );
            links.push(LinkInfo {
                id,
                stats: stats.clone(),
                outbox: outbox.clone(),
            });
            link_tasks.spawn(link::run(
                settings,
                outbox,
                trx,
                link_tx.clone(),
                stats,
                links_stop.clone(),
            ));
        }
        drop(link_tx);

        let facility = Arc::new(Facility::from_config(&config));
        let (changes, _) = broadcast::channel(1024);
        let mut engine = Engine::new(
            EngineSettings {
                cancel_window: config.alerts.cancel_window,
                clear_debounce: config.alerts.clear_debounce,
            },
            Policies::from_config(&config),
        );
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
        let delivery = Delivery::new(
            &config,
            store.clone(),
            targets,
            facility.clone(),
            changes.clone(),
            board.clone(),
        );
        let (findings_tx, findings_rx) = mpsc::channel(4096);
        let (commands, commands_rx) = mpsc::channel(256);
        let device_commands = drivers::DeviceCommands::default();
        let local_outbox = links
            .iter()
            .find(|l| l.id == "local")
            .map(|l| l.outbox.clone());
        let alert_task = AlertTask {
            device_commands: device_commands.clone(),
            device_prefix: topics.device_commands_prefix(),
            local_outbox,
            topics: topics.clone(),
            engine,
            delivery,
            store: store.clone(),
            live: live.clone(),
            command_prefix: topics.commands_prefix(),
            command_links,
        };
        let alerts = tokio::spawn(alert_task.run(findings_rx, commands_rx, link_rx));

        let shedding = Arc::new(AtomicBool::new(false));
        let (store_tx, store_rx) = mpsc::channel(16_384);
        let writer = housekeeping::spawn_writer(
            store.clone(),
            store_rx,
            live.clone(),
            shedding.clone(),
            config.storage.downsample,
        );
        let housekeeping_stop = CancellationToken::new();
        let housekeeping = tokio::spawn(housekeeping::run(
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
            findings_tx.clone(),
            housekeeping_stop.clone(),
        ));

        for (id, why) in broken_uplinks {
            let mut ev = crate::alert::Event::raise(
                crate::alert::AlertKind::Technical,
                crate::alert::Subject::Gateway(format!("uplink:{id}")),
                crate::alert::Priority::Medium,
                pingan_drivers::Timestamp::now(),
            );
            ev.detail = format!("{why}; alerts for it are not being sent");
            let _ = findings_tx.send(crate::analytics::Finding::Event(ev)).await;
        }
        let (fall_input, fall_problem) = fall::start(findings_tx.clone());
        if let Some(ev) = fall_problem {
            let _ = findings_tx.send(crate::analytics::Finding::Event(ev)).await;
        }
        let heartbeat = Arc::new(AtomicI64::new(pingan_drivers::Timestamp::now().millis()));
        let (sink, sink_rx) = ReadingSink::channel(8192);
        let sink_stats = sink.stats();
        let pipeline = tokio::spawn(
            PipelineTask {
                processor: Processor::new(&config),
                live: live.clone(),
                store_tx,
                findings: findings_tx,
                fall: fall_input.clone(),
                telemetry,
                topics,
                heartbeat: heartbeat.clone(),
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
            facility: facility.clone(),
            live: live.clone(),
            board,
            store: store.clone(),
            commands: commands.clone(),
            changes: changes.clone(),
            links: links.clone(),
            started: Instant::now(),
            fall_detection: fall_input.available.load(Ordering::Relaxed),
        });
        // Fails early (account trees) rather than inside the server task.
        let _ = crate::web::router(backend.clone())?;
        let http_stop = CancellationToken::new();
        let http = tokio::spawn({
            let stop = http_stop.clone();
            async move {
                if let Err(e) = crate::web::serve(listener, backend, stop).await {
                    tracing::error!(error = %e, "dashboard stopped");
                }
            }
        });
        let drivers_stop = CancellationToken::new();
        let mut drivers = JoinSet::new();
        let device_commands_for_drivers = device_commands.clone();
        drivers::spawn_all(
            &config,
            &opts.base_dir,
            opts.scenario.as_deref(),
            &sink,
            &device_commands_for_drivers,
            &drivers_stop,
            &mut drivers,
        );

        Ok(Self {
            live,
            store,
            commands,
            changes,
            links,
            config,
            facility,
            heartbeat,
            started: Instant::now(),
            sink: Some(sink),
            sink_stats,
            drivers_stop,
            links_stop,
            housekeeping_stop,
            http_stop,
            http,
            drivers,
            pipeline,
            alerts,
            housekeeping,
            link_tasks,
            writer: Some(writer),
        })
    }

    /// A sink into the pipeline for in-process sources (benchmarks, tests, replay). Drop every
    /// clone before [`Gateway::shutdown`] completes: the pipeline drains until all senders are gone.
    pub fn sink(&self) -> Option<ReadingSink> {
        self.sink.clone()
    }

    /// Seconds since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
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

    /// Graceful shutdown: drivers stop, channels drain, alerts are flushed, outboxes get a moment
    /// to drain, the status goes offline, sled is flushed.
    pub async fn shutdown(mut self) -> Summary {
        self.drivers_stop.cancel();
        self.sink = None;
        while self.drivers.join_next().await.is_some() {}
        let _ = (&mut self.pipeline).await;
        self.housekeeping_stop.cancel();
        let _ = (&mut self.housekeeping).await;
        let _ = (&mut self.alerts).await;
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        // Give connected links a moment to empty their outboxes; what remains is replayed on
        // the next start.
        for _ in 0..40 {
            let waiting = self
                .links
                .iter()
                .any(|l| l.stats.connected.load(Ordering::Relaxed) && !l.outbox.is_empty());
            if !waiting {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.http_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(3), &mut self.http).await;
        self.links_stop.cancel();
        while self.link_tasks.join_next().await.is_some() {}
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "final flush failed");
        }
        self.summary()
    }
}

fn local_link(config: &Config, topics: &Topics) -> LinkSettings {
    let bind = config.mqtt.bind;
    let host = if bind.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        bind.ip().to_string()
    };
    LinkSettings {
        id: Arc::from("local"),
        url: UplinkUrl {
            host,
            port: bind.port(),
            tls: false,
        },
        client_id: format!("pingan-{}-gateway", config.site.id),
        credentials: None,
        tls: None,
        // The outbox replays everything on reconnect; a broker-side session adds nothing locally.
        clean_session: true,
        subscribe: Some(topics.commands_filter()),
        status_topic: topics.status(),
        online_payload: status_payload(config, true),
        offline_payload: status_payload(config, false),
    }
}

fn status_payload(config: &Config, online: bool) -> String {
    payload::status(&config.site.id, online, pingan_drivers::Timestamp::now()).to_string()
}

fn uplink_settings(
    config: &Config,
    u: &UplinkConfig,
    topics: &Topics,
) -> Result<LinkSettings, StartError> {
    let err = |detail: String| StartError::Uplink {
        id: u.id.clone(),
        detail,
    };
    let url = UplinkUrl::parse(&u.url).map_err(|e| err(e.to_string()))?;
    let tls = match (&u.ca_file, url.tls) {
        (Some(ca), true) => {
            let client = u.client_cert.as_deref().zip(u.client_key.as_deref());
            Some(tls::client_config(ca, client).map_err(|e| err(e.to_string()))?)
        }
        _ => None,
    };
    let credentials = match (&u.username, &u.password_file) {
        (Some(user), Some(file)) => {
            let pass = read_secret(file).map_err(err)?;
            Some((user.clone(), pass))
        }
        (Some(user), None) => Some((user.clone(), String::new())),
        _ => None,
    };
    Ok(LinkSettings {
        id: Arc::from(u.id.as_str()),
        url,
        client_id: u
            .client_id
            .clone()
            .unwrap_or_else(|| format!("pingan-{}-{}", config.site.id, u.id)),
        credentials,
        tls,
        clean_session: false,
        subscribe: u.commands.then(|| topics.commands_filter()),
        status_topic: topics.status(),
        online_payload: status_payload(config, true),
        offline_payload: status_payload(config, false),
    })
}

fn read_secret(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
        .map_err(|e| format!("cannot read password file {}: {e}", path.display()))
}
