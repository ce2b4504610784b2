//! The store's memory and disk as downsampled telemetry accumulates: `--devices` devices write
//! one reading each per one-second batch (what the writer sees once `storage.downsample` has
//! thinned the telemetry), either one chunk per device and batch (`--mode per-batch`, the layout
//! before chunks were extended) or through the writer's open chunks (`--mode extend`,
//! `store/append.rs`). Prints keys, the process's RSS (after giving free heap back) and sled's
//! size on disk at ten points. Not a test: run it and read the numbers.
//!
//! cargo run --release -p pingan-bench --bin store_footprint -- --mode extend [--devices 200 --seconds 15000]

use std::time::Instant;

use clap::{Parser, ValueEnum};
use pingan_drivers::{Measurement, Reading, Timestamp};
use pingan_gateway::cold_pages;
use pingan_gateway::store::{OpenChunks, Store};

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// One chunk per device and batch.
    PerBatch,
    /// The writer's open chunks, extended across batches.
    Extend,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    mode: Mode,
    /// Devices writing one reading per batch each.
    #[arg(long, default_value_t = 200)]
    devices: usize,
    /// Batches (one a second in the gateway).
    #[arg(long, default_value_t = 15_000)]
    seconds: i64,
}

fn reading(device: &str, second: i64, i: usize) -> Reading {
    let at = Timestamp(1_700_000_000_000 + second * 1000);
    // Values change with time so chunks do not compress to nothing.
    let x = (second % 97) as f32;
    let m = match i % 3 {
        0 => Measurement::HeartRate { bpm: 60.0 + x },
        1 => Measurement::SpO2 {
            percent: 90.0 + x / 10.0,
        },
        _ => Measurement::Environment {
            temperature: 20.0 + x / 10.0,
            humidity: 50.0 + x / 5.0,
            co2: None,
        },
    };
    Reading::new(device, at, m)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let names: Vec<String> = (0..args.devices).map(|i| format!("dev-{i:04}")).collect();
    let mut open = OpenChunks::default();
    let started = Instant::now();
    println!("| readings | keys | RSS MiB | disk MiB | s |");
    println!("|---|---|---|---|---|");
    let step = (args.seconds / 10).max(1);
    for second in 0..args.seconds {
        let batch: Vec<Reading> = names
            .iter()
            .enumerate()
            .map(|(i, d)| reading(d, second, i + second as usize))
            .collect();
        match args.mode {
            Mode::PerBatch => store.put_readings(&batch),
            Mode::Extend => store.append_readings(&batch, &mut open),
        }
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if (second + 1) % step == 0 {
            cold_pages::trim_heap();
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} |",
                (second + 1) as usize * args.devices,
                store.reading_chunks(),
                rss_kib() as f64 / 1024.0,
                store.size_on_disk() as f64 / 1048576.0,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
