//! The whole-gateway variant: `pingan run` reads the simulator through its Modbus driver and
//! pipeline and publishes to its embedded broker; a subscriber counts what arrives.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::{Args, Simulator, cpu_seconds_of};

/// Kills `pingan` by PID when dropped.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A site config: one room sensor per temperature/humidity pair, all on one Modbus TCP driver.
fn site_config(dir: &Path, sim_port: u16, mqtt: u16, http: u16, args: &Args, pairs: u16) -> String {
    let mut t = format!(
        "[site]\nid = \"bench\"\nname = \"Bench\"\n\n[storage]\ndata_dir = \"{}\"\n\n\
         [mqtt]\nbind = \"127.0.0.1:{mqtt}\"\nreadings_min_interval = \"1ms\"\n\n\
         [http]\nbind = \"127.0.0.1:{http}\"\n\n[[floors]]\nid = \"1F\"\n\n\
         [[drivers]]\nid = \"mb\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"127.0.0.1:{sim_port}\"\ntimeout = \"2s\"\n\n",
        dir.join("data").display()
    );
    for u in 1..=args.devices {
        t.push_str(&format!(
            "[[drivers.devices]]\ndevice = \"bench-{u}\"\nunit = {u}\nprofile = \"bench_rooms.toml\"\npoll_interval = \"{}ms\"\n",
            args.interval_ms.max(1)
        ));
        let channels: Vec<String> = (0..pairs)
            .map(|k| format!("t{k} = \"room-{u}-{k}\", h{k} = \"room-{u}-{k}\""))
            .collect();
        t.push_str(&format!("channels = {{ {} }}\n\n", channels.join(", ")));
    }
    for u in 1..=args.devices {
        // The polled unit itself is a facility device too: its health raises device_offline.
        t.push_str(&format!(
            "[[rooms]]\nid = \"bus-{u}\"\nfloor = \"1F\"\n\n\
             [[devices]]\nid = \"bench-{u}\"\nmodel = \"room_sensor\"\ndriver = \"mb\"\nroom = \"bus-{u}\"\n\n"
        ));
        for k in 0..pairs {
            t.push_str(&format!(
                "[[rooms]]\nid = \"{u}-{k}\"\nfloor = \"1F\"\n\n\
                 [[devices]]\nid = \"room-{u}-{k}\"\nmodel = \"room_sensor\"\ndriver = \"mb\"\nroom = \"{u}-{k}\"\n\n"
            ));
        }
    }
    t
}

/// Runs the whole-gateway measurement and prints its result.
pub(crate) async fn run(
    args: &Args,
    dir: &Path,
    sim: &mut Simulator,
    sim_port: u16,
    pairs: u16,
) -> anyhow::Result<()> {
    let pingan = std::env::current_exe()?
        .parent()
        .map(|d| d.join("pingan"))
        .filter(|p| p.exists())
        .context("pingan binary not next to this one: cargo build --release -p pingan-gateway --bin pingan")?;
    let (mqtt, http) = (free_port()?, free_port()?);
    let config = dir.join("site.toml");
    std::fs::write(&config, site_config(dir, sim_port, mqtt, http, args, pairs))?;
    let check = Command::new(&pingan)
        .arg("check-config")
        .arg(&config)
        .output()?;
    if !check.status.success() {
        bail!(
            "site config rejected: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let child = Command::new(&pingan)
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let gw = Gateway(child);
    let pid = gw.0.id().to_string();

    let mut opts = rumqttc::MqttOptions::new("bench-subscriber", "127.0.0.1", mqtt);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 100);
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Incoming::Publish(_))) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                // The broker starts with the gateway: retry until it accepts us.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    client
        .subscribe("pingan/bench/readings/#", rumqttc::QoS::AtMostOnce)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) == 0 {
        if Instant::now() > deadline {
            bail!("no reading arrived from pingan within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (r0, c0, q0, t0) = (
        received.load(Ordering::Relaxed),
        cpu_seconds_of(&pid),
        sim.requests()?,
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (r1, c1, q1) = (
        received.load(Ordering::Relaxed),
        cpu_seconds_of(&pid),
        sim.requests()?,
    );
    let secs = t0.elapsed().as_secs_f64();
    drop(gw);
    let readings = r1.saturating_sub(r0) as f64;
    // Each room reading carries two values (temperature and humidity).
    let values = readings * 2.0;
    let result = json!({
        "devices": args.devices,
        "points": u32::from(args.devices) * u32::from(2 * pairs),
        "poll_interval_ms": args.interval_ms,
        "seconds": secs,
        "values_per_s": values / secs,
        "readings_per_s": readings / secs,
        "requests_per_s": q1.saturating_sub(q0) as f64 / secs,
        "cpu_s_per_1000_values": if values > 0.0 { (c1 - c0) / values * 1000.0 } else { f64::NAN },
        "cpu_utilisation": (c1 - c0) / secs,
        "forwarded_to": format!("pingan run: embedded broker 127.0.0.1:{mqtt}, counted by a subscriber"),
    });
    if args.json {
        println!("{result}");
    } else {
        println!(
            "modbus throughput through pingan run ({} points, poll {} ms)",
            result["points"], args.interval_ms
        );
        for key in [
            "values_per_s",
            "readings_per_s",
            "requests_per_s",
            "cpu_s_per_1000_values",
            "cpu_utilisation",
        ] {
            println!("  {key:24} {}", result[key]);
        }
        println!("  forwarded to             {}", result["forwarded_to"]);
    }
    Ok(())
}
