//! The cost per reading of the analytics rules (NEWS2, bed, wandering, inactivity, climate,
//! hazards, supervision, battery, daily anomalies) on a day of simulator-like traffic, plus the
//! cost of one NEWS2 score and one anomaly-model inference.
//!
//! `cargo run --release -p pingan-bench --bin analytics_cost -- [--hours 24] [--config FILE]`
//! prints one JSON object; results are recorded in docs/BENCHMARKS.md (analytics section).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use pingan_drivers::{DeviceId, Measurement, Reading, Timestamp};
use pingan_gateway::analytics::news2::{self, Observations, Oxygen, SpO2Scale};
use pingan_gateway::analytics::{Analytics, Context, Normalized};
use pingan_gateway::config::{Config, DeviceModel};
use pingan_gateway::facility::Facility;
use pingan_models::anomaly::AnomalyModel;

#[derive(Debug, Parser)]
struct Args {
    /// Simulated hours of traffic.
    #[arg(long, default_value_t = 24)]
    hours: u32,
    /// Site config whose devices generate the traffic.
    #[arg(long, default_value = "seeds/traces/config.toml")]
    config: PathBuf,
    /// The anomaly model.
    #[arg(long, default_value = "models/anomaly.json")]
    model: PathBuf,
}

/// A small deterministic generator (xorshift64*), so the bench needs no extra crates.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        v as f32 / (1u64 << 24) as f32
    }

    fn around(&mut self, centre: f32, spread: f32) -> f32 {
        centre + (self.next() - 0.5) * 2.0 * spread
    }
}

/// One hour of readings at the simulator's rates for every device of the site.
fn hour_of_traffic(
    devices: &[(DeviceId, DeviceModel)],
    start: Timestamp,
    noise: &mut Noise,
) -> Vec<Reading> {
    let mut v = Vec::new();
    for s in 0..3600_i64 {
        let at = Timestamp(start.millis() + s * 1000);
        for (i, (id, model)) in devices.iter().enumerate() {
            let phase = s + i as i64;
            let mut push = |m: Measurement| v.push(Reading::new(id.clone(), at, m));
            match model {
                DeviceModel::Wristband => {
                    for half in 0..2 {
                        let walking = noise.next() < 0.2;
                        let samples = (0..25)
                            .map(|k| {
                                let z = if walking {
                                    0.99 + 0.25 * ((k + half * 25) as f32 * 0.2).sin()
                                } else {
                                    noise.around(0.99, 0.02)
                                };
                                [0.05, 0.1, z]
                            })
                            .collect();
                        push(Measurement::Motion { samples, hz: 50.0 });
                    }
                    if phase % 2 == 0 {
                        push(Measurement::HeartRate {
                            bpm: noise.around(72.0, 3.0).round(),
                        });
                        push(Measurement::SpO2 {
                            percent: noise.around(97.0, 1.0).round(),
                        });
                    }
                    if phase % 60 == 0 {
                        push(Measurement::BodyTemperature {
                            celsius: noise.around(36.6, 0.2),
                        });
                        push(Measurement::Battery { percent: 80.0 });
                    }
                }
                DeviceModel::BedMat if phase % 5 == 0 => push(Measurement::BedOccupancy {
                    in_bed: true,
                    heart_rate: Some(noise.around(62.0, 2.0).round()),
                    respiration_rate: Some(noise.around(15.0, 1.0).round()),
                }),
                DeviceModel::RoomSensor if phase % 10 == 0 => push(Measurement::Environment {
                    temperature: noise.around(26.0, 0.3),
                    humidity: noise.around(62.0, 2.0),
                    co2: Some(noise.around(700.0, 80.0)),
                }),
                DeviceModel::DoorContact if phase % 60 == 0 => {
                    push(Measurement::Door { open: false })
                }
                DeviceModel::SmokeDetector if phase % 60 == 0 => {
                    push(Measurement::Smoke { alarm: false })
                }
                DeviceModel::GasDetector if phase % 60 == 0 => push(Measurement::Gas {
                    alarm: false,
                    ppm: Some(0.0),
                }),
                DeviceModel::WaterLeak if phase % 60 == 0 => {
                    push(Measurement::WaterLeak { wet: false })
                }
                _ => {}
            }
        }
    }
    v
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_nanos() as f64 / 1000.0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::load(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let facility = Facility::from_config(&config);
    let ctx = Context {
        facility: &facility,
        timezone: config.timezone(),
        config: &config.analytics,
    };
    let model = AnomalyModel::load(&args.model);
    let model_loaded = model.is_ok();
    let mut analytics = Analytics::for_site_with_model(&config, model);
    let devices: Vec<(DeviceId, DeviceModel)> = config
        .devices
        .iter()
        .map(|d| (DeviceId::new(&d.id), d.model))
        .collect();
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    // 2026-07-01 00:00 in Asia/Shanghai.
    let mut start = Timestamp(1_782_835_200_000);
    let (mut readings, mut findings) = (0_u64, 0_u64);
    let mut busy = Duration::ZERO;
    for _ in 0..args.hours {
        let hour = hour_of_traffic(&devices, start, &mut noise);
        let normalized: Vec<Normalized> = hour
            .into_iter()
            .filter_map(|r| {
                let binding = facility.shared_device(&r.device)?.clone();
                Some(Normalized {
                    reading: r,
                    binding,
                })
            })
            .collect();
        let t0 = Instant::now();
        let mut next_tick = start;
        for n in &normalized {
            while next_tick <= n.reading.at {
                findings += analytics.on_tick(next_tick, &ctx).len() as u64;
                next_tick = next_tick.plus(Duration::from_secs(1));
            }
            findings += analytics.on_reading(n, &ctx).len() as u64;
        }
        busy += t0.elapsed();
        readings += normalized.len() as u64;
        start = start.plus(Duration::from_secs(3600));
    }

    // NEWS2 alone.
    let n2 = 1_000_000_u32;
    let t0 = Instant::now();
    let mut total = 0_u64;
    for i in 0..n2 {
        let o = Observations {
            respiration_rate: Some(10.0 + (i % 20) as f32),
            spo2: Some(85.0 + (i % 15) as f32),
            scale: if i % 7 == 0 {
                SpO2Scale::Two
            } else {
                SpO2Scale::One
            },
            oxygen: Some(if i % 3 == 0 {
                Oxygen::Oxygen
            } else {
                Oxygen::Air
            }),
            systolic_bp: Some(80.0 + (i % 150) as f32),
            pulse: Some(35.0 + (i % 120) as f32),
            consciousness: None,
            temperature: Some(34.5 + (i % 50) as f32 / 10.0),
        };
        total += u64::from(std::hint::black_box(news2::score(std::hint::black_box(&o))).total);
    }
    let news2_ns = t0.elapsed().as_nanos() as f64 / f64::from(n2);

    // One anomaly inference (once per resident per day in the gateway).
    let mut inference = serde_json::Value::Null;
    if let Ok(m) = AnomalyModel::load(&args.model) {
        let mut times = Vec::with_capacity(10_000);
        for i in 0..10_000 {
            let z = [
                noise.around(0.0, 3.0),
                noise.around(0.0, 2.0),
                (i % 5) as f32,
                0.0,
                -1.0,
            ];
            let t = Instant::now();
            std::hint::black_box(m.score(&z).context("inference")?);
            times.push(t.elapsed());
        }
        times.sort();
        inference = serde_json::json!({
            "p50_us": percentile(&times, 0.5),
            "p99_us": percentile(&times, 0.99),
        });
    }

    let out = serde_json::json!({
        "simulated_hours": args.hours,
        "devices": devices.len(),
        "readings": readings,
        "findings": findings,
        "analytics_ns_per_reading": busy.as_nanos() as f64 / readings.max(1) as f64,
        "analytics_readings_per_s": readings as f64 / busy.as_secs_f64().max(1e-9),
        "ticks_included": true,
        "anomaly_model_loaded": model_loaded,
        "news2_score_ns": news2_ns,
        "news2_checksum": total,
        "anomaly_inference": inference,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
