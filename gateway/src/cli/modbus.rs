//! `pingan modbus …`: commissioning tools for Modbus devices.
//!
//! `pingan modbus probe (--tcp HOST:PORT | --rtu DEVICE --baud N) --unit N --profile NAME|FILE`
//! reads every point of the profile once and prints one JSON object keyed by point name
//! (exit 0); a timeout, an exception response or a profile error prints a clear message on
//! stderr and exits 2.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pingan_drivers::modbus::{self, Parity, ProbeError, ProbeTarget, ProfileError};

/// `pingan modbus`.
#[derive(Debug, clap::Args)]
pub struct ModbusArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ModbusCommand,
}

/// `pingan modbus` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ModbusCommand {
    /// Read every point of a profile from one device once and print the values as JSON.
    Probe(ProbeArgs),
}

/// Serial parity on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ParityArg {
    /// No parity (8N1).
    None,
    /// Even parity (8E1).
    Even,
    /// Odd parity (8O1).
    Odd,
}

/// `pingan modbus probe`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("link").required(true).args(["tcp", "rtu"])))]
pub struct ProbeArgs {
    /// Modbus TCP device or gateway.
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
    /// Serial device of an RTU bus, e.g. /dev/ttyUSB0.
    #[arg(long, value_name = "DEVICE", requires = "baud")]
    pub rtu: Option<PathBuf>,
    /// Baud rate of the RTU bus.
    #[arg(long, value_name = "N")]
    pub baud: Option<u32>,
    /// Parity of the RTU bus.
    #[arg(long, value_enum, default_value = "none")]
    pub parity: ParityArg,
    /// Stop bits of the RTU bus (1 or 2).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub stop_bits: u8,
    /// Modbus unit (slave) id.
    #[arg(long, value_name = "N")]
    pub unit: u8,
    /// A built-in profile name (e.g. room_th) or a profile file.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: String,
    /// How long to wait for each answer.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Why a probe failed (every case exits 2).
#[derive(Debug, thiserror::Error)]
pub enum ProbeCliError {
    /// The profile does not load.
    #[error("profile error: {0}")]
    Profile(#[from] ProfileError),
    /// The device did not answer, or answered with errors.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// The arguments do not make sense together.
    #[error("{0}")]
    Usage(String),
}

/// Runs `pingan modbus …`; prints results to stdout and errors to stderr.
pub async fn run(args: ModbusArgs) -> ExitCode {
    match args.command {
        ModbusCommand::Probe(p) => match probe_json(&p).await {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("pingan modbus probe: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// The probe itself: the decoded values as one JSON object keyed by point name.
pub async fn probe_json(args: &ProbeArgs) -> Result<serde_json::Value, ProbeCliError> {
    let profile = modbus::library::load(&args.profile, None)?;
    let target = match (&args.tcp, &args.rtu, args.baud) {
        (Some(host), None, _) => ProbeTarget::Tcp(host.clone()),
        (None, Some(path), Some(baud)) => ProbeTarget::Rtu {
            path: path.clone(),
            baud,
            parity: match args.parity {
                ParityArg::None => Parity::None,
                ParityArg::Even => Parity::Even,
                ParityArg::Odd => Parity::Odd,
            },
            stop_bits: args.stop_bits,
        },
        _ => {
            return Err(ProbeCliError::Usage(
                "give --tcp HOST:PORT, or --rtu DEVICE with --baud N".into(),
            ));
        }
    };
    let values = modbus::probe(&target, args.unit, &profile, args.timeout).await?;
    Ok(values.to_json(&profile))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Top,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Top {
        Modbus(ModbusArgs),
    }

    fn parse(args: &[&str]) -> Result<ProbeArgs, clap::Error> {
        let cli = Cli::try_parse_from(["pingan", "modbus", "probe"].iter().chain(args))?;
        let Top::Modbus(ModbusArgs {
            command: ModbusCommand::Probe(p),
        }) = cli.cmd;
        Ok(p)
    }

    #[test]
    fn probe_takes_exactly_one_link_and_rtu_needs_a_baud_rate() {
        let p = parse(&[
            "--tcp",
            "127.0.0.1:502",
            "--unit",
            "1",
            "--profile",
            "room_th",
        ])
        .unwrap();
        assert_eq!(p.tcp.as_deref(), Some("127.0.0.1:502"));
        let rtu = [
            "--rtu",
            "/dev/ttyUSB0",
            "--baud",
            "9600",
            "--unit",
            "3",
            "--profile",
            "x",
        ];
        assert_eq!(parse(&rtu).unwrap().baud, Some(9600));
        assert!(parse(&["--unit", "1", "--profile", "room_th"]).is_err());
        assert!(parse(&["--rtu", "/dev/x", "--unit", "1", "--profile", "room_th"]).is_err());
        let both = [
            "--tcp",
            "h:1",
            "--rtu",
            "/dev/x",
            "--baud",
            "1",
            "--unit",
            "1",
            "--profile",
            "p",
        ];
        assert!(parse(&both).is_err());
    }

    #[tokio::test]
    async fn unknown_profile_is_a_profile_error() {
        let p = parse(&[
            "--tcp",
            "127.0.0.1:1",
            "--unit",
            "1",
            "--profile",
            "no_such",
        ])
        .unwrap();
        let e = probe_json(&p).await.unwrap_err();
        assert!(matches!(e, ProbeCliError::Profile(_)), "{e}");
    }
}
