//! `pingan replay TRACE.jsonl [--config FILE]`: a recorded trace through the real normalization,
//! analytics and alert engine, as fast as it can; the alerts are printed as JSON lines.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::analytics::Analytics;
use crate::config::Config;
use crate::pipeline::Site;
use crate::pipeline::replay::{parse_trace, replay};

/// Options of `pingan replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The trace: one JSON reading per line (`{"device", "at", "kind", …}`).
    pub trace: PathBuf,
    /// The site config; default: `config.toml` beside the trace, else the demo facility.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Runs the replay; exit 2 on a bad trace or config.
pub fn run(args: &ReplayArgs) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("pingan replay: {msg}");
        ExitCode::from(2)
    };
    let beside = args.trace.with_file_name("config.toml");
    let config = match (&args.config, beside.exists()) {
        (Some(p), _) => Config::load(p),
        (None, true) => Config::load(&beside),
        (None, false) => Config::parse(super::run::DEMO_FACILITY, "seeds/demo/facility.toml"),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(t) => t,
        Err(e) => return fail(format!("{}: {e}", args.trace.display())),
    };
    let readings = match parse_trace(&text) {
        Ok(r) => r,
        Err(e) => return fail(format!("{}: {e}", args.trace.display())),
    };
    let analytics = Analytics::for_site(&config);
    let result = replay(&Site::new(config), analytics, readings);
    for a in &result.alerts {
        match serde_json::to_string(a) {
            Ok(line) => println!("{line}"),
            Err(e) => return fail(e.to_string()),
        }
    }
    if result.unknown_devices > 0 {
        eprintln!(
            "pingan replay: {} readings from devices not in the config were ignored",
            result.unknown_devices
        );
    }
    ExitCode::SUCCESS
}
