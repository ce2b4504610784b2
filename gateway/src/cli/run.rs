//! `pingan run` and `pingan demo`: start the gateway, print status, stop cleanly on
//! SIGINT/SIGTERM (drivers stop, channels drain, sled flushed, status offline, exit 0).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;

use crate::config::{Config, UplinkConfig};
use crate::service::{Gateway, StartOptions, Summary};

/// The demo facility and scenario, embedded so `pingan demo` runs from anywhere.
pub const DEMO_FACILITY: &str = include_str!("../../../seeds/demo/facility.toml");
/// The demo's scripted incidents.
pub const DEMO_SCENARIO: &str = include_str!("../../../seeds/demo/scenario.toml");

/// Options of `pingan demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stop after this long (e.g. 60s); without it, run until Ctrl-C.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Data directory; default: a new temporary directory.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Port of the embedded MQTT broker (127.0.0.1).
    #[arg(long, default_value_t = 1883)]
    pub mqtt_port: u16,
    /// Port of the dashboard (127.0.0.1).
    #[arg(long, default_value_t = 8080)]
    pub http_port: u16,
    /// Scenario file replacing the built-in one.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Add an institution uplink to this broker, e.g. mqtt://127.0.0.1:1884.
    #[arg(long)]
    pub uplink: Option<String>,
    /// Serve Prometheus metrics on 127.0.0.1 at this port (`/metrics`).
    #[arg(long)]
    pub metrics_port: Option<u16>,
    /// A file holding the bearer token scrapers must send to `/metrics`.
    #[arg(long, requires = "metrics_port")]
    pub metrics_token_file: Option<PathBuf>,
}

/// `pingan run --config FILE`.
pub async fn run(config_path: &Path) -> ExitCode {
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let base_dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    serve(StartOptions::new(config, base_dir), None, false).await
}

/// `pingan demo`.
pub async fn demo(args: DemoArgs) -> ExitCode {
    let mut config = match Config::parse(DEMO_FACILITY, "seeds/demo/facility.toml") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("the embedded demo facility is invalid (a build defect):\n{e}");
            return ExitCode::from(1);
        }
    };
    let data_dir = args.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "pingan-demo-{}",
            ulid::Ulid::new().to_string().to_lowercase()
        ))
    });
    config.storage.data_dir = data_dir.clone();
    config.mqtt.bind = SocketAddr::from(([127, 0, 0, 1], args.mqtt_port));
    config.http.bind = SocketAddr::from(([127, 0, 0, 1], args.http_port));
    config.metrics.bind = args
        .metrics_port
        .map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
    config.metrics.token_file = args.metrics_token_file.clone();
    if let Some(url) = &args.uplink {
        if let Err(e) = crate::config::UplinkUrl::parse(url) {
            eprintln!("--uplink: {e}");
            return ExitCode::from(2);
        }
        config.uplinks.push(UplinkConfig {
            id: "institution".into(),
            url: Some(url.clone()),
            urls: Vec::new(),
            client_id: None,
            username: None,
            password_file: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            alerts: true,
            telemetry_interval: None,
            commands: true,
            ack_timeout: Duration::from_secs(15),
            command_identity: Default::default(),
        });
        // The hospital's referrals travel over the institution's broker too.
        for c in config.contacts.iter_mut().filter(|c| c.green_channel) {
            c.uplink = Some("institution".into());
        }
    }
    let scenario = match &args.scenario {
        Some(p) => p.clone(),
        None => {
            let p = data_dir.join("scenario.toml");
            if let Err(e) =
                std::fs::create_dir_all(&data_dir).and_then(|()| std::fs::write(&p, DEMO_SCENARIO))
            {
                eprintln!(
                    "cannot write the demo scenario into {}: {e}",
                    data_dir.display()
                );
                return ExitCode::from(1);
            }
            p
        }
    };
    println!(
        "Pingan demo: {} — {} residents, {} devices",
        config.site.name,
        config.residents.len(),
        config.devices.len()
    );
    println!("  data:      {}", data_dir.display());
    println!(
        "  MQTT:      mqtt://{}   watch: mosquitto_sub -h 127.0.0.1 -p {} -t 'pingan/#' -v",
        config.mqtt.bind, args.mqtt_port
    );
    println!("  dashboard: http://{}/", config.http.bind);
    if let Some(m) = config.metrics.bind {
        println!("  metrics:   http://{m}/metrics");
    }
    let opts = StartOptions {
        scenario: Some(scenario),
        ..StartOptions::new(config, data_dir)
    };
    serve(opts, args.duration, true).await
}

async fn serve(opts: StartOptions, duration: Option<Duration>, demo_account: bool) -> ExitCode {
    let status_lines = demo_account;
    let signals = StopSignals::install();
    let open_files = crate::fd_limit::raise();
    tracing::debug!(open_files, "open-file limit");
    for (key, advice) in crate::config::warnings(&opts.config) {
        tracing::warn!(%key, "{advice}");
    }
    let gateway = match Gateway::start(opts).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("pingan: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    if demo_account {
        let accounts = gateway
            .store
            .accounts()
            .map_err(crate::web::AuthError::from);
        match accounts.and_then(|a| crate::web::create_demo_user(&a)) {
            Ok((user, password)) => {
                println!("  login:     {user} / {password}   (a new password every run)")
            }
            Err(e) => eprintln!("pingan demo: cannot create the demo account: {e}"),
        }
    }
    systemd_ready();
    let watchdog = tokio::spawn(feed_watchdog(
        gateway.heartbeat.clone(),
        gateway.link_health.clone(),
    ));
    let status = status_lines.then(|| {
        tokio::spawn(print_status(
            gateway.live.clone(),
            gateway.store.clone(),
            gateway.links.clone(),
        ))
    });
    let (reason, code) = tokio::select! {
        reason = signals.wait(duration) => (reason, ExitCode::SUCCESS),
        () = gateway.restart_requested() => (
            "the store failed and every alert kept in memory is delivered; restarting to recover it",
            ExitCode::from(crate::service::EXIT_RESTART),
        ),
    };
    println!("pingan: {reason}; shutting down");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    if let Some(s) = status {
        s.abort();
    }
    watchdog.abort();
    let summary = gateway.shutdown().await;
    print_summary(&summary);
    code
}

/// SIGTERM and SIGINT, watched from before the gateway starts: systemd may stop a gateway that is
/// still starting (opening a large store), and it must then stop cleanly, not die of the signal.
struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let watch = |kind, name| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(error = %e, "cannot watch {name}");
                    None
                }
            };
            Self {
                term: watch(SignalKind::terminate(), "SIGTERM"),
                int: watch(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for a signal or the end of `duration`; says which.
    async fn wait(mut self, duration: Option<Duration>) -> &'static str {
        let timer = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.int) => "SIGINT",
                () = recv(&mut self.term) => "SIGTERM",
                () = timer => "duration reached",
            }
        }
        #[cfg(not(unix))]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            () = timer => "duration reached",
        }
    }
}

fn systemd_ready() {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
}

/// Feeds the systemd watchdog while the pipeline is turning and the local link works: a wedged
/// pipeline, or a local link down for 30 s (a wedged embedded broker), stops the feed and systemd
/// restarts the service; alerts wait in the store and the outboxes meanwhile.
async fn feed_watchdog(
    heartbeat: std::sync::Arc<std::sync::atomic::AtomicI64>,
    link_health: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let mut usec = 0u64;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return;
    }
    let period = Duration::from_micros(usec / 2);
    loop {
        tokio::time::sleep(period).await;
        let age_ms = pingan_drivers::Timestamp::now().millis() - heartbeat.load(Ordering::Relaxed);
        if age_ms >= (usec / 1000) as i64 {
            tracing::error!(age_ms, "pipeline stalled; not feeding the watchdog");
        } else if !link_health.load(Ordering::Relaxed) {
            tracing::error!("local MQTT link down; not feeding the watchdog");
        } else {
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
        }
    }
}

async fn print_status(
    live: std::sync::Arc<crate::service::live::Live>,
    store: crate::store::Store,
    links: Vec<crate::service::LinkInfo>,
) {
    let start = std::time::Instant::now();
    let mut last = 0u64;
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    loop {
        tick.tick().await;
        let c = &live.counters;
        let n = c.readings_in.load(Ordering::Relaxed);
        let outbox: usize = links.iter().map(|l| l.outbox.len()).sum();
        println!(
            "[{:>5}s] readings {:>6.0}/s  stored {:>8}  alerts {:>3}  store {:>6.1} MB  outbox {}",
            start.elapsed().as_secs(),
            (n - last) as f64 / 5.0,
            c.readings_stored.load(Ordering::Relaxed),
            c.alerts_raised.load(Ordering::Relaxed),
            store.size_on_disk() as f64 / 1e6,
            outbox,
        );
        last = n;
    }
}

fn print_summary(s: &Summary) {
    println!(
        "pingan: stopped after {} s — readings received {}, stored {}, downsampled {}, shed {}, dropped at drivers {}, from unknown devices {}; alerts raised {}; outbox waiting {}; store {:.1} MB",
        s.uptime_s,
        s.readings_in,
        s.readings_stored,
        s.readings_downsampled,
        s.readings_shed,
        s.dropped_at_sink,
        s.unknown_device_readings,
        s.alerts_raised,
        s.outbox_waiting,
        s.store_bytes as f64 / 1e6
    );
}
