//! The Pingan gateway.

pub mod cli {
    //! Command-line subcommands.
    pub mod analyze;
}
