//! Readings per second through normalize (facility lookup + analytics) and the sled store, on one
//! core, with the demo facility's mix of measurements. Not a test: run it and read the numbers.
//! Also: motion batches stored (summarized), reading everything back, bytes per reading on disk.
//!
//! cargo run --release -p pingan-bench --bin ingest -- [--readings 2000000]

use std::time::Instant;

use clap::Parser;
use pingan_drivers::{DeviceId, Measurement, Reading, Timestamp};
use pingan_gateway::cli::run::DEMO_FACILITY;
use pingan_gateway::config::Config;
use pingan_gateway::pipeline::{Pipeline, Processed, Site};
use pingan_gateway::store::Store;

#[derive(Parser)]
struct Args {
    /// How many readings to push through.
    #[arg(long, default_value_t = 2_000_000)]
    readings: usize,
    /// Store batch size (the gateway's writer batches up to 8192, `service/writer.rs`).
    #[arg(long, default_value_t = 8192)]
    batch: usize,
}

fn workload(n: usize, devices: &[DeviceId]) -> Vec<Reading> {
    // The demo's telemetry mix, minus motion (1 motion batch = 25 samples; measured separately).
    (0..n)
        .map(|i| {
            let d = devices[i % devices.len()].clone();
            let at = Timestamp(1_700_000_000_000 + (i / devices.len()) as i64 * 1000);
            let m = match i % 4 {
                0 => Measurement::HeartRate { bpm: 72.0 },
                1 => Measurement::SpO2 { percent: 97.0 },
                2 => Measurement::BedOccupancy {
                    in_bed: true,
                    heart_rate: Some(60.0),
                    respiration_rate: Some(15.0),
                },
                _ => Measurement::Environment {
                    temperature: 26.0,
                    humidity: 65.0,
                    co2: Some(700.0),
                },
            };
            Reading::new(d, at, m)
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::parse(DEMO_FACILITY, "seeds/demo/facility.toml")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let devices: Vec<DeviceId> = config
        .devices
        .iter()
        .map(|d| DeviceId::new(&d.id))
        .collect();
    let input = workload(args.readings, &devices);

    let site = Site::new(config.clone());
    let mut p = Pipeline::for_site(&site).into_parts().0;
    let t = Instant::now();
    let mut known = Vec::with_capacity(input.len());
    for r in input.iter().cloned() {
        if let Processed::Known(n, _) = p.on_reading(r) {
            known.push(n.reading);
        }
    }
    let normalize = t.elapsed();

    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let t = Instant::now();
    for chunk in known.chunks(args.batch) {
        store.put_readings(chunk)?;
    }
    store.flush_blocking()?;
    let storing = t.elapsed();
    let bytes = store.size_on_disk();

    let mut p = Pipeline::for_site(&site).into_parts().0;
    let dir2 = tempfile::tempdir()?;
    let store2 = Store::open(dir2.path())?;
    let t = Instant::now();
    let mut batch = Vec::with_capacity(args.batch);
    for r in input {
        if let Processed::Known(n, _) = p.on_reading(r) {
            batch.push(n.reading);
            if batch.len() == args.batch {
                store2.put_readings(&batch)?;
                batch.clear();
            }
        }
    }
    store2.put_readings(&batch)?;
    store2.flush_blocking()?;
    let both = t.elapsed();

    // Read back every device's whole history, as a referral or chart does for one.
    let t = Instant::now();
    let mut read = 0usize;
    for d in &devices {
        read += store
            .readings(d, Timestamp(i64::MIN), Timestamp(i64::MAX))?
            .len();
    }
    let reading_back = t.elapsed();
    anyhow::ensure!(
        read == known.len(),
        "read back {read} of {} readings",
        known.len()
    );

    // Motion batches (25 samples at 50 Hz, every 0.5 s per wearable) are stored as summaries.
    let motion: Vec<Reading> = (0..args.readings / 10)
        .map(|i| {
            let d = devices[i % devices.len()].clone();
            let at = Timestamp(1_700_000_000_000 + (i / devices.len()) as i64 * 500);
            let samples = (0..25)
                .map(|k| [0.01 * k as f32, -0.02, 1.0 - 0.01 * k as f32])
                .collect();
            Reading::new(d, at, Measurement::Motion { samples, hz: 50.0 })
        })
        .collect();
    let dir3 = tempfile::tempdir()?;
    let store3 = Store::open(dir3.path())?;
    let t = Instant::now();
    for chunk in motion.chunks(args.batch) {
        store3.put_readings(chunk)?;
    }
    store3.flush_blocking()?;
    let storing_motion = t.elapsed();

    let n = args.readings as f64;
    println!("readings: {}", args.readings);
    println!(
        "normalize + analytics only: {:>10.0} readings/s ({:.2} µs each)",
        n / normalize.as_secs_f64(),
        normalize.as_secs_f64() * 1e6 / n
    );
    println!(
        "store only (batches of {}): {:>10.0} readings/s ({:.2} µs each)",
        args.batch,
        n / storing.as_secs_f64(),
        storing.as_secs_f64() * 1e6 / n
    );
    println!(
        "normalize + store:          {:>10.0} readings/s",
        n / both.as_secs_f64()
    );
    println!(
        "motion batches stored:      {:>10.0} batches/s ({} batches of 25 samples)",
        motion.len() as f64 / storing_motion.as_secs_f64(),
        motion.len()
    );
    println!(
        "read back (all devices):    {:>10.0} readings/s",
        read as f64 / reading_back.as_secs_f64()
    );
    println!(
        "disk: {:.1} MB for {} readings = {:.0} bytes/reading on disk (sled)",
        bytes as f64 / 1e6,
        args.readings,
        bytes as f64 / n
    );
    Ok(())
}
