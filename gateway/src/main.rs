//! The `pingan` binary: parses the command line and hands over to `pingan_gateway::cli`.

use std::process::ExitCode;

use clap::Parser;
use pingan_gateway::cli::{
    Cli, Command, alerts, analyze, check, decode, modbus, mosquitto, replay, report, run, score,
    status, user,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Run { .. } | Command::Demo(_)) {
        pingan_gateway::cli::memory::one_arena();
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=off,rumqttc=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in journald or log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pingan: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Run { config } => run::run(&config).await,
            Command::Demo(args) => run::demo(args).await,
            Command::CheckConfig { files } => check::check_config(&files),
            Command::PrintDefaultConfig => check::print_default_config(),
            Command::Alerts { command } => alerts::run(command).await,
            Command::Analyze(args) => analyze::run(args),
            Command::Replay(args) => replay::run(&args),
            Command::Score(args) => score::run(args),
            Command::User(args) => match user::run(args, &mut std::io::stdout()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("pingan user: {e}");
                    ExitCode::from(2)
                }
            },
            Command::Decode { command } => {
                let (line, code) = decode::run(&command);
                println!("{line}");
                code
            }
            Command::Modbus(args) => modbus::run(args).await,
            Command::Status(args) => status::run(args).await,
            Command::Report(args) => report::run(args).await,
            Command::Mosquitto(args) => match mosquitto::run(&args, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("pingan mosquitto: {e}");
                    ExitCode::from(2)
                }
            },
        }
    })
}
