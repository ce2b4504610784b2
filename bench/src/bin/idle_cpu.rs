//! CPU of an idle gateway: `pingan run` on a site with residents and devices but no readings
//! (a Modbus bus whose devices are unreachable would poll; this site's simulator plays nothing),
//! once without an uplink and once with one to a real Mosquitto, measured from /proc over a
//! window after start-up. A busy loop anywhere (a closed channel polled in a `select!`, a timer
//! at zero) shows up as a large share of a core. Not a test: run it and read the numbers.
//!
//! cargo run --release -p pingan-bench --bin idle_cpu -- [--seconds 60]

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use pingan_bench::procfs;
use pingan_tests::{Mosquitto, free_port, pingan, site_config, wait_for_port};

#[derive(Parser)]
struct Args {
    /// Length of the measured window.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Time to let the gateway settle after start before measuring.
    #[arg(long, default_value_t = 5)]
    settle_seconds: u64,
}

/// CPU share of one core used by a `pingan run` of `extra` over the window.
fn measure(dir: &Path, extra: &str, args: &Args) -> f64 {
    let (mqtt, http) = (free_port(), free_port());
    // 20 residents with pendants; the scenario is empty, so the simulator only keeps its timers.
    let config = site_config(dir, mqtt, http, 20, "", extra);
    let log = dir.join("gw.log");
    let mut gw = pingan(
        &["run", "--config", config.to_str().unwrap_or_default()],
        &log,
    );
    assert!(
        wait_for_port(mqtt, Duration::from_secs(30)),
        "gateway did not start"
    );
    std::thread::sleep(Duration::from_secs(args.settle_seconds));
    let pid = gw.pid();
    let before = procfs::tree_cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(args.seconds));
    let after = procfs::tree_cpu_seconds(pid);
    gw.signal("TERM");
    let _ = gw.wait_exit(Duration::from_secs(20));
    (after - before) / args.seconds as f64
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plain = tempfile::tempdir()?;
    let alone = measure(plain.path(), "", &args);
    let broker = Mosquitto::start();
    let with = tempfile::tempdir()?;
    let uplink = format!(
        "[[uplinks]]\nid = \"institution\"\nurl = \"mqtt://127.0.0.1:{}\"\nalerts = true\ncommands = true\ntelemetry_interval = \"1m\"\n",
        broker.port
    );
    let up = measure(with.path(), &uplink, &args);
    println!("idle CPU over {} s (share of one core):", args.seconds);
    println!("  no uplink:           {:.3} %", alone * 100.0);
    println!("  uplink to Mosquitto: {:.3} %", up * 100.0);
    Ok(())
}
