//! Trigger → subscriber latency of alerts through a real Mosquitto on loopback, with the
//! gateway's flush-before-publish path (sled flush, durable outbox, PUBACK tracking).
//!
//! The gateway runs in-process with an institution uplink to a Mosquitto the benchmark starts;
//! SOS presses of distinct residents are injected at a fixed rate; a subscriber (rumqttc, TCP
//! nodelay) on the same Mosquitto timestamps each alert's first revision.
//!
//! cargo run --release -p pingan-bench --bin alert_latency -- [--alerts 10000] [--rate 200]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use pingan_drivers::{ButtonKind, Measurement, Reading, Timestamp};
use pingan_gateway::config::Config;
use pingan_gateway::service::{Gateway, StartOptions};
use rumqttc::{AsyncClient, Event, MqttOptions, NetworkOptions, Packet, QoS};

#[derive(Parser)]
struct Args {
    /// Alerts to raise (one per resident).
    #[arg(long, default_value_t = 10_000)]
    alerts: usize,
    /// Presses per second.
    #[arg(long, default_value_t = 200)]
    rate: u64,
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn config(n: usize, dir: &std::path::Path, mqtt: u16, http: u16, broker: u16) -> String {
    let mut t = format!(
        "[site]\nid = \"bench\"\nname = \"Bench\"\n[storage]\ndata_dir = \"{}\"\n[mqtt]\nbind = \"127.0.0.1:{mqtt}\"\n[http]\nbind = \"127.0.0.1:{http}\"\n\
         [[drivers]]\nid = \"sim\"\ndriver = \"sim\"\n[[floors]]\nid = \"1F\"\n[[rooms]]\nid = \"1\"\nfloor = \"1F\"\n\
         [[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{broker}\"\nalerts = true\n",
        dir.display()
    );
    for i in 0..n {
        t.push_str(&format!("[[residents]]\nid = \"R{i}\"\nname = \"R\"\nbirth_year = 1940\nsex = \"other\"\nroom = \"1\"\n[[devices]]\nid = \"p{i}\"\nmodel = \"call_panel\"\ndriver = \"none\"\nresident = \"R{i}\"\n"));
    }
    t.replace("driver = \"none\"", "driver = \"bench\"")
        .replace(
            "[[drivers]]\nid = \"sim\"\ndriver = \"sim\"",
            "[[drivers]]\nid = \"bench\"\ndriver = \"sim\"",
        )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let broker_port = port()?;
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {broker_port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nuser root\n"
        ),
    )?;
    let _mosquitto = Kill(
        Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut opts = MqttOptions::new("bench-sub", "127.0.0.1", broker_port);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let (sub, mut el) = AsyncClient::new(opts, 100);
    let mut net = NetworkOptions::new();
    net.set_tcp_nodelay(true);
    el.set_network_options(net);
    sub.subscribe("pingan/bench/alerts/#", QoS::AtLeastOnce)
        .await?;
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = el.poll().await? {
            break;
        }
    }

    let (mqtt, http) = (port()?, port()?);
    let text = config(
        args.alerts,
        &dir.path().join("data"),
        mqtt,
        http,
        broker_port,
    );
    let config = Config::parse(&text, "bench.toml").map_err(|e| anyhow::anyhow!("{e}"))?;
    let gw = Gateway::start(StartOptions::new(config, dir.path())).await?;
    let sink = gw.sink().ok_or_else(|| anyhow::anyhow!("no sink"))?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let receiver = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Ok(ev) = el.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = ev {
                let at = Instant::now();
                let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                if v["revision"] == 1 {
                    got.push((v["resident"].as_str().unwrap_or("").to_owned(), at));
                    if tx
                        .send(got.last().cloned().unwrap_or_default_pair())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    let interval = Duration::from_nanos(1_000_000_000 / args.rate);
    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(args.alerts);
    let start = Instant::now();
    let mut next = tokio::time::Instant::now();
    for i in 0..args.alerts {
        tokio::time::sleep_until(next).await;
        next += interval;
        sent.insert(format!("R{i}"), Instant::now());
        sink.send(Reading::new(
            format!("p{i}").as_str(),
            Timestamp::now(),
            Measurement::Button {
                button: ButtonKind::Sos,
            },
        ))
        .await?;
    }
    let mut lat = Vec::with_capacity(args.alerts);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while lat.len() < args.alerts {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((resident, at))) => {
                if let Some(t0) = sent.get(&resident) {
                    lat.push(at.duration_since(*t0).as_secs_f64() * 1e3);
                }
            }
            _ => break,
        }
    }
    let elapsed = start.elapsed();
    receiver.abort();
    drop(sink);
    let summary = gw.shutdown().await;
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "alerts raised {} at {} /s; received {} in {:.1} s",
        summary.alerts_raised,
        args.rate,
        lat.len(),
        elapsed.as_secs_f64()
    );
    if !lat.is_empty() {
        println!(
            "trigger → subscriber latency (ms): p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
            percentile(&lat, 0.50),
            percentile(&lat, 0.95),
            percentile(&lat, 0.99),
            lat[lat.len() - 1]
        );
    }
    Ok(())
}

trait PairDefault {
    fn unwrap_or_default_pair(self) -> (String, Instant);
}
impl PairDefault for Option<(String, Instant)> {
    fn unwrap_or_default_pair(self) -> (String, Instant) {
        self.unwrap_or_else(|| (String::new(), Instant::now()))
    }
}
