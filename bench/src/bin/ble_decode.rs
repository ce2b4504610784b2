//! Decodes per second per core for every BLE decoder, on one thread.
//!
//! `cargo run --release -p pingan-bench --bin ble_decode -- --seconds 1`
//!
//! Each payload is a full-featured vector (every optional field present), so the numbers are the
//! slow path. Prints a Markdown table for docs/BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use clap::Parser;
use pingan_drivers::ble::adv::{self, from_hex};
use pingan_drivers::ble::gatt::{decode, decode_characteristic};
use pingan_drivers::ble::measurements::from_decoded;
use pingan_drivers::ble::wearable::{ACCELEROMETER_UUID, encode_accel};

/// Benchmark the BLE decoders.
#[derive(Debug, Parser)]
struct Args {
    /// Seconds to run each decoder.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
}

/// Runs `f` repeatedly for about `budget`; returns (calls, elapsed).
fn measure(budget: Duration, mut f: impl FnMut() -> bool) -> (u64, Duration) {
    // warm-up
    for _ in 0..10_000 {
        black_box(f());
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            black_box(f());
        }
        n += 1000;
    }
    (n, start.elapsed())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let budget = Duration::from_secs_f64(args.seconds);
    let gatt: Vec<(&str, u16, Vec<u8>)> = vec![
        (
            "Heart Rate Measurement 0x2A37 (u16, energy, 3 RR)",
            0x2A37,
            from_hex("1f0101320101000201ffff").map_err(anyhow::Error::msg)?,
        ),
        (
            "Blood Pressure Measurement 0x2A35 (all fields)",
            0x2A35,
            from_hex("1e8a00580078000000041114293b3c00012700").map_err(anyhow::Error::msg)?,
        ),
        (
            "Intermediate Cuff Pressure 0x2A36",
            0x2A36,
            from_hex("008a00ff07ff07").map_err(anyhow::Error::msg)?,
        ),
        (
            "Temperature Measurement 0x2A1C (time, type)",
            0x2A1C,
            from_hex("06b00e00fedc070c050b321b04").map_err(anyhow::Error::msg)?,
        ),
        (
            "PLX Spot-check 0x2A5E (all fields)",
            0x2A5E,
            from_hex("0f62004800e5070601080000800020000019f0").map_err(anyhow::Error::msg)?,
        ),
        (
            "PLX Continuous 0x2A5F (all fields)",
            0x2A5F,
            from_hex("1f620048006100490060004700800000000019f0").map_err(anyhow::Error::msg)?,
        ),
        (
            "Weight Measurement 0x2A9D (all fields)",
            0x2A9D,
            from_hex("0e1437e8070b170d1e0002e100ea06").map_err(anyhow::Error::msg)?,
        ),
        (
            "Glucose Measurement 0x2A18 (all fields)",
            0x2A18,
            from_hex("1b0100e307021b0b0a1efbff1e00120501").map_err(anyhow::Error::msg)?,
        ),
        ("Battery Level 0x2A19", 0x2A19, vec![87]),
    ];
    println!("| decoder | payload bytes | decodes/s (1 core) | ns/decode |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, len: usize, (n, el): (u64, Duration)| {
        #[allow(clippy::cast_precision_loss)]
        let per_s = n as f64 / el.as_secs_f64();
        println!("| {name} | {len} | {per_s:.0} | {:.0} |", 1e9 / per_s);
    };
    for (name, uuid, bytes) in &gatt {
        // Fail loudly if a vector is wrong: a benchmark of the error path would flatter us.
        decode(*uuid, bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let r = measure(budget, || decode(*uuid, black_box(bytes)).is_ok());
        row(name, bytes.len(), r);
    }
    let raw: Vec<[i16; 3]> = (0..25).map(|i| [i, -i, 4096]).collect();
    let accel = encode_accel(1, 50, 8, &raw);
    decode_characteristic(ACCELEROMETER_UUID, &accel).map_err(|e| anyhow::anyhow!("{e}"))?;
    let r = measure(budget, || {
        decode_characteristic(ACCELEROMETER_UUID, black_box(&accel)).is_ok()
    });
    row("Pingan accelerometer (25 samples)", accel.len(), r);
    let adverts = [
        (
            "Advertisement: BTHome v2 (packet, temperature, humidity, battery)",
            "0201060e16d2fc40000102ca0903bf130161",
        ),
        (
            "Advertisement: iBeacon",
            "02011a1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000640000c5",
        ),
        (
            "Advertisement: Eddystone-TLM",
            "0201060303aafe1116aafe20000c6f1e000002006d41db9ab6",
        ),
    ];
    for (name, hex) in adverts {
        let bytes = from_hex(hex).map_err(anyhow::Error::msg)?;
        adv::decode(&bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let r = measure(budget, || adv::decode(black_box(&bytes)).is_ok());
        row(name, bytes.len(), r);
    }
    // decode + mapping to Measurements + JSON, the CLI's whole path, for one characteristic
    let (name, uuid, bytes) = &gatt[1];
    let r = measure(budget, || {
        decode(*uuid, black_box(bytes))
            .map(|d| !from_decoded(&d).is_empty() && serde_json::to_string(&d).is_ok())
            .unwrap_or(false)
    });
    row(&format!("{name} + Measurement + JSON"), bytes.len(), r);
    Ok(())
}
