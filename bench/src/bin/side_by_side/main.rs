//! Side by side: Pingan, Node-RED with node-red-contrib-modbus and ThingsBoard IoT Gateway read
//! the same pymodbus simulator (N holding registers, each changing every 100 ms) and publish to
//! the same Mosquitto, where one subscriber measures how old each value is when it arrives.
//! For every gateway and poll interval: values/s, CPU seconds per 1000 values and RSS of the
//! gateway's process tree (from /proc), p50/p99 change → receipt; then idle CPU at a 10 s poll.
//!
//! `bench/peers/run.sh` installs the peers and runs this in one command; results go to
//! docs/BENCHMARKS.md ("Side by side with peers").
//!
//! Modules: [`peers`] (configs and start of each gateway), [`subscriber`] (the MQTT side and
//! ThingsBoard's RPC), [`receive`] (payload formats and ages, pure), [`report`] (the table).

mod peers;
mod receive;
mod report;
mod subscriber;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use pingan_bench::procfs::{tree_cpu_seconds, tree_rss_bytes};
use pingan_tests::Mosquitto;
use pingan_tests::pymodbus::ModbusPeer;
use serde_json::json;

use peers::{Kind, Running, Setup};
use receive::Changes;
use report::{Run, quantile};

/// Side-by-side benchmark of Modbus → MQTT gateways (see docs/BENCHMARKS.md).
#[derive(Debug, Parser)]
struct Args {
    /// Gateways to measure, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pingan,node-red,thingsboard"
    )]
    gateways: Vec<String>,
    /// Poll intervals to measure, ms.
    #[arg(long, value_delimiter = ',', default_value = "1000,100")]
    polls_ms: Vec<u64>,
    /// Length of each steady-state window, s.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Time between the first value received and the start of the window, s.
    #[arg(long, default_value_t = 10)]
    settle_seconds: u64,
    /// Poll interval of the idle measurement, ms (0: no idle measurement).
    #[arg(long, default_value_t = 10_000)]
    idle_poll_ms: u64,
    /// Length of the idle window, s.
    #[arg(long, default_value_t = 60)]
    idle_seconds: u64,
    /// Changing holding registers of the simulator, all read by every gateway.
    #[arg(long, default_value_t = 500)]
    registers: u32,
    /// How often each register changes, ms.
    #[arg(long, default_value_t = 100)]
    change_ms: u64,
    /// Where the peers are installed (bench/peers).
    #[arg(long)]
    peers: Option<PathBuf>,
    /// The `pingan` binary (default: next to this one).
    #[arg(long)]
    pingan: Option<PathBuf>,
    /// Record a perf profile (`perf record --call-graph dwarf`) of Pingan's window at this poll interval
    /// into `--perf-out`.
    #[arg(long)]
    perf_poll_ms: Option<u64>,
    /// The perf data file.
    #[arg(long, default_value = "perf.data")]
    perf_out: PathBuf,
    /// Also write every run as one JSON object per line to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

/// How long a gateway may take from start to its first value.
const FIRST_VALUE: Duration = Duration::from_secs(180);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.registers == 0 || args.registers % 2 == 1 {
        bail!("--registers must be even and positive (Pingan reads them in pairs)");
    }
    let kinds = args
        .gateways
        .iter()
        .map(|g| Kind::parse(g))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let root = pingan_tests::repo_root();
    let pingan = match &args.pingan {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("pingan"))
            .context("no folder of this executable")?,
    };
    if kinds.contains(&Kind::Pingan) && !pingan.exists() {
        bail!(
            "{} missing: cargo build --release -p pingan-gateway --bin pingan",
            pingan.display()
        );
    }

    let period_ms = args.change_ms.max(1);
    let mut sim = ModbusPeer::tcp_with(
        json!({"1": {"holding": {}}}),
        &[
            "--changing",
            &args.registers.to_string(),
            "--change-ms",
            &period_ms.to_string(),
        ],
    )?;
    let mosquitto = Mosquitto::start();
    let changes = Changes {
        registers: args.registers,
        period_ns: i128::from(period_ms) * 1_000_000,
    };
    let counts = subscriber::start(mosquitto.port, changes).await?;
    let setup = Setup {
        sim_port: sim.port,
        mqtt_port: mosquitto.port,
        registers: args.registers,
        // Absolute: each gateway runs in its own folder.
        peers: std::path::absolute(
            args.peers
                .clone()
                .unwrap_or_else(|| root.join("bench/peers")),
        )?,
        pingan: std::path::absolute(pingan)?,
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "side by side: {} registers changing every {period_ms} ms, Mosquitto 127.0.0.1:{}, simulator 127.0.0.1:{}; load {}",
        args.registers,
        mosquitto.port,
        sim.port,
        load.trim()
    );

    let mut runs = Vec::new();
    for &poll_ms in &args.polls_ms {
        for &kind in &kinds {
            let perf = args.perf_poll_ms == Some(poll_ms) && kind == Kind::Pingan;
            let run = measure(
                kind,
                &setup,
                &counts,
                poll_ms,
                args.seconds,
                args.settle_seconds,
                perf.then_some(&args.perf_out),
            )
            .await
            .with_context(|| format!("{} at {poll_ms} ms", kind.label()))?;
            print_run(&run);
            write_json(args.json_out.as_ref(), &run, "steady")?;
            runs.push(run);
        }
    }
    let mut idle = Vec::new();
    if args.idle_poll_ms > 0 {
        for &kind in &kinds {
            let run = measure(
                kind,
                &setup,
                &counts,
                args.idle_poll_ms,
                args.idle_seconds,
                args.settle_seconds.min(5),
                None,
            )
            .await
            .with_context(|| format!("{} idle", kind.label()))?;
            print_run(&run);
            write_json(args.json_out.as_ref(), &run, "idle")?;
            idle.push(run);
        }
    }
    let requests = sim.total_requests().unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n{}\nsimulator requests in all: {requests}; load at the end {}",
        report::table(&runs, &idle),
        load.trim()
    );
    drop(mosquitto);
    Ok(())
}

/// Starts `kind`, waits for its first value and `settle` s more, measures a window of
/// `seconds`, stops it.
async fn measure(
    kind: Kind,
    setup: &Setup,
    counts: &subscriber::Counts,
    poll_ms: u64,
    seconds: u64,
    settle: u64,
    perf_out: Option<&PathBuf>,
) -> anyhow::Result<Run> {
    let mut gw = peers::launch(kind, setup, poll_ms)?;
    let result = window(
        kind, &mut gw, setup, counts, poll_ms, seconds, settle, perf_out,
    )
    .await;
    let tail = gw.log_tail();
    gw.stop();
    result.with_context(|| format!("its log ends:\n{tail}"))
}

#[allow(clippy::too_many_arguments)]
async fn window(
    kind: Kind,
    gw: &mut Running,
    setup: &Setup,
    counts: &subscriber::Counts,
    poll_ms: u64,
    seconds: u64,
    settle: u64,
    perf_out: Option<&PathBuf>,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    counts.take();
    while counts.values() == 0 {
        if !gw.alive() {
            bail!("the gateway exited before sending a value");
        }
        if started.elapsed() > FIRST_VALUE {
            bail!("no value within {} s", FIRST_VALUE.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(settle)).await;
    let pid = gw.pid();
    let perf = match perf_out {
        Some(out) => Some(
            std::process::Command::new("perf")
                .args(["record", "-F", "999", "--call-graph", "dwarf,16384", "-o"])
                .arg(out)
                .args(["-p", &pid.to_string(), "--", "sleep", &seconds.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .context("perf record (Debian linux-perf)")?,
        ),
        None => None,
    };
    counts.take();
    let (cpu0, t0) = (tree_cpu_seconds(pid), Instant::now());
    let mut rss_max = 0u64;
    while t0.elapsed() < Duration::from_secs(seconds) {
        rss_max = rss_max.max(tree_rss_bytes(pid));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (cpu1, secs) = (tree_cpu_seconds(pid), t0.elapsed().as_secs_f64());
    let mut tally = counts.take();
    if let Some(mut p) = perf {
        let _ = p.wait();
    }
    if !gw.alive() {
        bail!("the gateway exited during the window");
    }
    let cpu = cpu1 - cpu0;
    let values = tally.values as f64;
    Ok(Run {
        gateway: kind.label_short(),
        poll_ms,
        seconds: secs,
        values_per_s: values / secs,
        configured_per_s: f64::from(setup.registers) * 1000.0 / poll_ms as f64,
        cpu_s_per_1000: if values > 0.0 {
            cpu / values * 1000.0
        } else {
            f64::NAN
        },
        cpu_percent: 100.0 * cpu / secs,
        rss_mb: rss_max as f64 / 1e6,
        p50_ms: quantile(&mut tally.ages_ms, 0.5),
        p99_ms: quantile(&mut tally.ages_ms, 0.99),
        messages_per_s: tally.messages as f64 / secs,
        unknown: tally.unknown,
    })
}

fn print_run(r: &Run) {
    println!(
        "{:>12} poll {:>5} ms: {:>7.0} values/s ({:.2} % of configured), {:>6.1} msg/s, {:.4} CPU s/1000 values, CPU {:.2} %, RSS {:.1} MB, p50 {:.0} ms, p99 {:.0} ms{}",
        r.gateway,
        r.poll_ms,
        r.values_per_s,
        100.0 * r.values_per_s / r.configured_per_s,
        r.messages_per_s,
        r.cpu_s_per_1000,
        r.cpu_percent,
        r.rss_mb,
        r.p50_ms,
        r.p99_ms,
        if r.unknown > 0 {
            format!(", {} unknown values", r.unknown)
        } else {
            String::new()
        }
    );
}

fn write_json(path: Option<&PathBuf>, run: &Run, what: &str) -> anyhow::Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut v = serde_json::to_value(run)?;
    v["measure"] = json!(what);
    writeln!(f, "{v}")?;
    Ok(())
}
