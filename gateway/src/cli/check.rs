//! `pingan check-config` and `pingan print-default-config`.

use std::path::Path;
use std::process::ExitCode;

use pingan_drivers::DriverConfig;
use pingan_drivers::ble::radio::ReplayRadio;
use pingan_drivers::modbus::ModbusConfigError;
use pingan_drivers::sim::Scenario;

use crate::config::{Config, DEFAULT_CONFIG};

/// Checks each file; prints every problem; exit 2 if any.
pub fn check_config(files: &[impl AsRef<Path>]) -> ExitCode {
    let mut failed = false;
    for f in files {
        let f = f.as_ref();
        match Config::load(f) {
            Ok(config) => {
                let problems = referenced_files(&config, f);
                for (key, advice) in crate::config::warnings(&config) {
                    eprintln!("{}: warning: {key}: {advice}", f.display());
                }
                if problems.is_empty() {
                    println!("{}: ok", f.display());
                } else {
                    failed = true;
                    for p in problems {
                        eprintln!("{p}");
                    }
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Files the config refers to (scenarios) must exist and parse.
fn referenced_files(config: &Config, file: &Path) -> Vec<String> {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for (i, d) in config.drivers.iter().enumerate() {
        match &d.config {
            DriverConfig::Sim(sim) => {
                if let Some(s) = &sim.scenario {
                    if let Err(e) = Scenario::load(&base.join(s)) {
                        problems.push(format!(
                            "{}:1:1: drivers[{i}].scenario: {e}",
                            file.display()
                        ));
                    }
                }
            }
            DriverConfig::Ble(ble) => {
                if let Err(e) = ble.validate() {
                    problems.push(format!("{}:1:1: drivers[{i}].{e}", file.display()));
                }
                if let Some(r) = &ble.replay {
                    if let Err(e) = ReplayRadio::check_file(&base.join(r)) {
                        problems.push(format!("{}:1:1: drivers[{i}].replay: {e}", file.display()));
                    }
                }
            }
            // Profiles report their own FILE:LINE:COL; settings errors name their key.
            DriverConfig::Modbus(modbus) => match modbus.resolve(Some(base)) {
                Ok(_) => {}
                Err(ModbusConfigError::Profile(e)) => problems.push(e.to_string()),
                Err(e) => problems.push(format!("{}:1:1: drivers[{i}].{e}", file.display())),
            },
        }
    }
    problems
}

/// Prints the built-in default config.
pub fn print_default_config() -> ExitCode {
    print!("{DEFAULT_CONFIG}");
    ExitCode::SUCCESS
}
