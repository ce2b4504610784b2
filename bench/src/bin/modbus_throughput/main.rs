//! Modbus throughput: point values per second read from a pymodbus TCP simulator through the
//! Modbus driver (planning, timed requests, decoding, mapping to readings), optionally
//! published to an MQTT broker as the gateway's telemetry, and the gateway-side CPU seconds per
//! 1000 values.
//!
//! `bench/modbus_throughput.sh` runs it in one command (release build, Mosquitto on an
//! ephemeral port). The simulator is `tests/peers/modbus_server.py` from the venv of
//! `scripts/setup`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use pingan_bench::procfs::cpu_seconds_of;
use pingan_drivers::modbus::{
    ModbusConfig, ModbusDeviceConfig, ModbusDriver, Parity, TransportKind,
};
use pingan_drivers::{DeviceId, Driver, DriverEvent, ReadingSink};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Modbus driver throughput against a pymodbus TCP simulator.
#[derive(Debug, Parser)]
pub(crate) struct Args {
    /// Simulated devices (units) on the TCP host; each is polled on its own connection.
    #[arg(long, default_value_t = 4)]
    pub(crate) devices: u8,
    /// Points per device (temperature/humidity pairs, one room per pair).
    #[arg(long, default_value_t = 128)]
    pub(crate) points: u16,
    /// Poll interval of each device, in milliseconds.
    #[arg(long, default_value_t = 5)]
    pub(crate) interval_ms: u64,
    /// Length of the measured window, in seconds (after 1 s of warm-up).
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
    /// Where readings go: `embedded` (the gateway's rumqttd broker, started in this process on
    /// an ephemeral port), `none` (the driver's reading sink only), or HOST:PORT of another
    /// broker. Each reading is published with QoS 0 as JSON on `pingan/bench/readings/{device}`.
    #[arg(long, default_value = "embedded")]
    pub(crate) broker: String,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// Measure the whole gateway instead: run `pingan run` (next to this binary) with a site
    /// config of these devices, count the readings a subscriber receives from its embedded
    /// broker, and take the CPU time of the `pingan` process.
    #[arg(long)]
    pub(crate) gateway: bool,
}

/// Kills the simulator by PID when dropped.
pub(crate) struct Simulator {
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Simulator {
    fn start(root: &Path, datastore: &Path) -> anyhow::Result<(Self, u16)> {
        let python = root
            .ancestors()
            .map(|p| p.join(".venv/bin/python"))
            .find(|p| p.exists())
            .context("no .venv/bin/python: run scripts/setup")?;
        let mut child = Command::new(python)
            .arg(root.join("tests/peers/modbus_server.py"))
            .arg("--datastore")
            .arg(datastore)
            .args(["--tcp", "127.0.0.1:0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            bail!("no pipes to the simulator");
        };
        let mut sim = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let line = sim.line()?;
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| format!("simulator said {line:?}"))?;
        Ok((sim, port))
    }

    fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("simulator exited");
        }
        Ok(line)
    }

    pub(crate) fn requests(&mut self) -> anyhow::Result<u64> {
        writeln!(self.stdin, "count")?;
        self.stdin.flush()?;
        let v: serde_json::Value = serde_json::from_str(&self.line()?)?;
        Ok(v["total"].as_u64().unwrap_or(0))
    }
}

/// CPU time (user + system) of this process, from /proc/self/stat (USER_HZ = 100 on Linux).
fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

pub(crate) fn profile_text(pairs: u16) -> String {
    let mut s = String::from("name = \"bench_rooms\"\nmax_gap = 0\npoll_interval = \"1s\"\n");
    for k in 0..pairs {
        s.push_str(&format!(
            "[[points]]\nname = \"t{k}\"\ntable = \"holding\"\naddress = {}\ntype = \"i16\"\nscale = 0.1\nmaps_to = \"environment.temperature\"\n\
             [[points]]\nname = \"h{k}\"\ntable = \"holding\"\naddress = {}\ntype = \"u16\"\nscale = 0.1\nmaps_to = \"environment.humidity\"\n",
            2 * k,
            2 * k + 1
        ));
    }
    s
}

mod gateway;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pairs = (args.points / 2).max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("no workspace root")?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("bench_rooms.toml"), profile_text(pairs))?;
    let holding: serde_json::Map<String, serde_json::Value> = (0..2 * pairs)
        .map(|a| (a.to_string(), json!(200 + a % 400)))
        .collect();
    let units: serde_json::Map<String, serde_json::Value> = (1..=args.devices)
        .map(|u| (u.to_string(), json!({ "holding": holding })))
        .collect();
    let store = dir.path().join("datastore.json");
    std::fs::write(&store, serde_json::to_vec(&json!({ "units": units }))?)?;
    let (mut sim, port) = Simulator::start(&root, &store)?;
    if args.gateway {
        return gateway::run(&args, dir.path(), &mut sim, port, pairs).await;
    }

    let devices = (1..=args.devices)
        .map(|u| ModbusDeviceConfig {
            device: DeviceId::new(format!("bench-{u}")),
            unit: u,
            profile: "bench_rooms.toml".into(),
            poll_interval: Some(Duration::from_millis(args.interval_ms.max(1))),
            channels: (0..pairs)
                .flat_map(|k| {
                    let room = DeviceId::new(format!("room-{u}-{k}"));
                    [(format!("t{k}"), room.clone()), (format!("h{k}"), room)]
                })
                .collect(),
        })
        .collect();
    let config = ModbusConfig {
        transport: TransportKind::Tcp,
        host: Some(format!("127.0.0.1:{port}")),
        path: None,
        baud: None,
        parity: Parity::None,
        stop_bits: 1,
        shared_connection: false,
        timeout: Duration::from_secs(2),
        retries: 1,
        offline_after: 3,
        max_backoff: Duration::from_secs(5),
        state_refresh: Duration::from_secs(60),
        devices,
    };
    let driver = ModbusDriver::new(config, Some(dir.path()))?;
    let counters = driver.counters();
    let (sink, mut rx) = ReadingSink::channel(65_536);
    let dropped = sink.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(driver.run(sink, stop.clone()));

    // Publishes actually written to the broker connection (not just queued in the client).
    let published = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let broker_addr = match args.broker.as_str() {
        "none" => None,
        "embedded" => {
            let free = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            pingan_gateway::mqtt::broker::start(free, 16, Vec::new()).await?;
            Some(free.to_string())
        }
        other => Some(other.to_owned()),
    };
    let mqtt = match &broker_addr {
        None => None,
        Some(addr) => {
            let (host, p) = addr.rsplit_once(':').context("--mqtt HOST:PORT")?;
            let mut opts = rumqttc::MqttOptions::new("pingan-bench", host, p.parse()?);
            opts.set_max_packet_size(1 << 20, 1 << 20);
            let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 10_000);
            let mut net = rumqttc::NetworkOptions::new();
            net.set_tcp_nodelay(true);
            eventloop.set_network_options(net);
            let published = published.clone();
            tokio::spawn(async move {
                while let Ok(event) = eventloop.poll().await {
                    if let rumqttc::Event::Outgoing(rumqttc::Outgoing::Publish(_)) = event {
                        published.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            Some(client)
        }
    };
    let forwarded = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let fwd = forwarded.clone();
    let topics = pingan_gateway::mqtt::payload::Topics::new("bench");
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let DriverEvent::Reading(r) = event else {
                continue;
            };
            if let Some(client) = &mqtt {
                let topic = topics.reading(&r.device);
                let payload = serde_json::to_vec(&r).unwrap_or_default();
                if client
                    .publish(topic, rumqttc::QoS::AtMostOnce, false, payload)
                    .await
                    .is_err()
                {
                    break;
                }
            }
            fwd.fetch_add(1, Ordering::Relaxed);
        }
    });

    let values = || -> u64 {
        counters
            .values()
            .map(|c| c.values.load(Ordering::Relaxed))
            .sum()
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (v0, r0, p0, c0, q0, t0) = (
        values(),
        forwarded.load(Ordering::Relaxed),
        published.load(Ordering::Relaxed),
        cpu_seconds(),
        sim.requests()?,
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (v1, r1, p1, c1, q1) = (
        values(),
        forwarded.load(Ordering::Relaxed),
        published.load(Ordering::Relaxed),
        cpu_seconds(),
        sim.requests()?,
    );
    let secs = t0.elapsed().as_secs_f64();
    stop.cancel();
    let _ = run.await;

    let vals = v1.saturating_sub(v0) as f64;
    let result = json!({
        "devices": args.devices,
        "points": u32::from(args.devices) * u32::from(2 * pairs),
        "poll_interval_ms": args.interval_ms,
        "seconds": secs,
        "values_per_s": vals / secs,
        "readings_per_s": r1.saturating_sub(r0) as f64 / secs,
        "published_per_s": p1.saturating_sub(p0) as f64 / secs,
        "requests_per_s": q1.saturating_sub(q0) as f64 / secs,
        "cpu_s_per_1000_values": if vals > 0.0 { (c1 - c0) / vals * 1000.0 } else { f64::NAN },
        "cpu_utilisation": (c1 - c0) / secs,
        "forwarded_to": match (args.broker.as_str(), &broker_addr) {
            (_, None) => "reading sink only".to_owned(),
            ("embedded", Some(a)) => format!("embedded rumqttd broker {a}"),
            (_, Some(a)) => format!("mqtt broker {a}"),
        },
        "dropped_telemetry": dropped.dropped_telemetry.load(Ordering::Relaxed),
    });
    if args.json {
        println!("{result}");
    } else {
        println!(
            "modbus throughput ({} points: {} devices x {} points, poll {} ms)",
            result["points"],
            args.devices,
            2 * pairs,
            args.interval_ms
        );
        for key in [
            "values_per_s",
            "readings_per_s",
            "published_per_s",
            "requests_per_s",
            "cpu_s_per_1000_values",
            "cpu_utilisation",
            "dropped_telemetry",
        ] {
            println!("  {key:24} {}", result[key]);
        }
        println!("  forwarded to             {}", result["forwarded_to"]);
    }
    Ok(())
}
