//! The Pingan gateway.

/// Command-line subcommands (temporary on the `ble` branch; the lead wires `cli` in main.rs).
pub mod cli {
    pub mod decode;
}
