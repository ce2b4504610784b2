//! Fall-detection inference benchmark: latency per window (p50/p99), windows/s on one core for
//! several batch sizes, model load time, RSS with the model loaded (plain Rust: features and trees).
//!
//! `cargo run --release -p pingan-bench --bin fall_inference -- [--calls N] [--model FILE.json]`
//! `… --bin fall_inference -- analyze fall --input FILE.csv [--placement wrist|waist]` runs the
//! same code as `pingan analyze fall`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use pingan_gateway::cli::analyze::{self, AnalyzeArgs};
use pingan_models::fall::{FallDetector, MODEL_JSON, Placement, WINDOW, resample_irregular};

#[derive(Debug, Parser)]
struct Cli {
    /// Timed inference calls per measurement.
    #[arg(long, default_value_t = 3000)]
    calls: usize,
    /// Measure this model file (`pingan-fall-trees/1`, as models/training/model.py exports it)
    /// instead of the embedded model (e.g. the previous model, to compare memory and latency).
    #[arg(long, value_name = "FILE.json")]
    model: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The `pingan analyze` command.
    Analyze(AnalyzeArgs),
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Real windows from a committed recording (daily activities and a fall).
fn windows() -> anyhow::Result<Vec<Vec<f32>>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tests/fixtures");
    let mut out = Vec::new();
    for name in ["adl_waist_50hz.csv", "fall_forward_waist_50hz.csv"] {
        let text = std::fs::read_to_string(dir.join(name))?;
        let mut t = Vec::new();
        let mut s = Vec::new();
        for line in text.lines().skip(1) {
            let v: Vec<f64> = line.split(',').map(str::parse).collect::<Result<_, _>>()?;
            if let [ti, x, y, z] = v[..] {
                t.push(ti);
                #[allow(clippy::cast_possible_truncation)]
                s.push([x as f32, y as f32, z as f32]);
            }
        }
        let r = resample_irregular(&t, &s);
        for start in (0..r.len().saturating_sub(WINDOW)).step_by(25) {
            out.push(r[start..start + WINDOW].iter().flatten().copied().collect());
        }
    }
    anyhow::ensure!(!out.is_empty(), "no windows in the fixtures");
    Ok(out)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Command::Analyze(args)) = cli.command {
        return Ok(analyze::run(args));
    }
    let rss0 = rss_kib();
    let t = Instant::now();
    let model_text = match &cli.model {
        Some(path) => std::fs::read_to_string(path)?,
        None => MODEL_JSON.to_owned(),
    };
    let mut det = FallDetector::from_json(&model_text)?;
    let load_model_ms = t.elapsed().as_secs_f64() * 1e3;
    let wins = windows()?;
    // warm-up
    for w in wins.iter().take(50) {
        det.score_placement(w, Placement::Waist)?;
    }
    let rss_model = rss_kib();
    let mut lat = Vec::with_capacity(cli.calls);
    for i in 0..cli.calls {
        let w = &wins[i % wins.len()];
        let t = Instant::now();
        std::hint::black_box(det.score_placement(w, Placement::Waist)?);
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(f64::total_cmp);
    match &cli.model {
        Some(path) => println!(
            "model: {} trees, {} bytes ({})",
            det.trees(),
            model_text.len(),
            path.display()
        ),
        None => println!(
            "model: {} trees, {} bytes (embedded)",
            det.trees(),
            model_text.len()
        ),
    }
    println!("load: model {load_model_ms:.1} ms");
    println!(
        "RSS: start {} KiB, model loaded and warm {} KiB",
        rss0, rss_model
    );
    println!(
        "batch 1 latency per window: p50 {:.1} us, p99 {:.1} us, max {:.1} us ({} calls)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
        cli.calls
    );
    for batch in [1usize, 16, 64, 256] {
        let flat: Vec<f32> = wins.iter().cycle().take(batch).flatten().copied().collect();
        let placements = vec![1.0f32; batch];
        let rounds = (cli.calls * 4 / batch).max(20);
        let t = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(det.score(&flat, &placements)?);
        }
        let secs = t.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let n = (rounds * batch) as f64;
        println!(
            "batch {batch:>3}: {:.0} windows/s on one core, {:.1} us per window",
            n / secs,
            secs / n * 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}
