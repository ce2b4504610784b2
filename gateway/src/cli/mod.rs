//! The `pingan` command line. Each subcommand's `--help` is its reference; docs/CLI.md lists them.

pub mod alerts;
pub mod analyze;
pub mod check;
pub mod decode;
mod local_api;
pub mod memory;
pub mod modbus;
pub mod mosquitto;
pub mod replay;
pub mod report;
pub mod run;
pub mod score;
pub mod status;
pub mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Pingan: the elderly-care IoT gateway.
#[derive(Debug, Parser)]
#[command(name = "pingan", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway with a site config.
    Run {
        /// The site config (TOML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run the demo nursing home (seeds/demo, embedded): simulated devices, embedded broker,
    /// dashboard.
    Demo(run::DemoArgs),
    /// Validate a config file without starting; prints every problem as FILE:LINE:COL.
    CheckConfig {
        /// Config files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the built-in default config, documented.
    PrintDefaultConfig,
    /// Analyse recordings: `analyze fall --input FILE.csv` prints one JSON line per detected fall.
    Analyze(analyze::AnalyzeArgs),
    /// Run a recorded trace (JSON lines of readings) through the pipeline; print the alerts.
    Replay(replay::ReplayArgs),
    /// Clinical scores: `score news2 …` prints the NEWS2 chart's score for given vitals.
    Score(score::ScoreArgs),
    /// Staff accounts of the dashboard.
    User(user::UserArgs),
    /// Decode a BLE payload (a GATT characteristic value or advertising data) as one JSON
    /// object; exit 2 with {"error": …} when it is invalid.
    Decode {
        /// What to decode.
        #[command(subcommand)]
        command: decode::DecodeCommand,
    },
    /// Alerts in the store: list, acknowledge, audit trail.
    Alerts {
        /// What to do with alerts.
        #[command(subcommand)]
        command: alerts::AlertsCommand,
    },
    /// Modbus commissioning: `pingan modbus probe` reads a device once by profile.
    Modbus(modbus::ModbusArgs),
    /// Ask the running gateway how it is (links, outboxes, drivers, store, disk, models); exit 1
    /// when something needs a person, 2 when the gateway cannot be asked.
    Status(status::StatusArgs),
    /// Response times per shift, alert kind and priority (time to acknowledge and resolve,
    /// escalations, green-channel referrals); works with the gateway running or stopped.
    Report(report::ReportArgs),
    /// Write a Mosquitto deployment for nurse apps and platforms on the LAN: mosquitto.conf,
    /// the password file and the ACL file from the site config and the staff MQTT accounts
    /// (docs/SECURITY.md). New passwords are printed once.
    Mosquitto(mosquitto::MosquittoArgs),
}
