//! Command-line subcommands of `pingan` that are more than a line of wiring.

pub mod user;
