//! `pingan user add NAME [--data-dir DIR]`: adds a staff account for the dashboard.
//!
//! The password comes from stdin when stdin is not a terminal (`echo … | pingan user add li`);
//! otherwise, or when stdin is empty, a random one is generated and printed once. There is no
//! default password anywhere.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::web::{AuthError, add_user, generate_password, set_password};

/// `pingan user …`
#[derive(Debug, Args)]
pub struct UserArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UserCommand,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account; reads the password from stdin, or generates and prints one.
    Add(AddArgs),
}

/// `pingan user add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The user name nurses type at login (1 to 64 characters).
    pub name: String,
    /// Directory of the gateway's database (the gateway must be stopped: sled locks it).
    #[arg(long, default_value = "/var/lib/pingan")]
    pub data_dir: PathBuf,
    /// Replace the password of an existing account (and end its sessions).
    #[arg(long)]
    pub replace: bool,
    /// Generate a random password even when stdin has one.
    #[arg(long)]
    pub generate: bool,
}

/// Why `pingan user` failed.
#[derive(Debug, thiserror::Error)]
pub enum UserCliError {
    /// The database could not be opened.
    #[error("cannot open the database in {dir}: {source} (is the gateway running? stop it first)")]
    Open {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: sled::Error,
    },
    /// Reading stdin or writing stdout failed.
    #[error("terminal I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The account could not be stored.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Runs `pingan user …`, printing to `out`.
pub fn run(args: UserArgs, out: &mut impl Write) -> Result<(), UserCliError> {
    match args.command {
        UserCommand::Add(a) => add(a, out),
    }
}

fn add(a: AddArgs, out: &mut impl Write) -> Result<(), UserCliError> {
    let stdin = std::io::stdin();
    let given = if a.generate || stdin.is_terminal() {
        None
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        (!pw.is_empty()).then_some(pw)
    };
    let db = sled::open(&a.data_dir).map_err(|source| UserCliError::Open {
        dir: a.data_dir.clone(),
        source,
    })?;
    let password = given.clone().unwrap_or_else(generate_password);
    if a.replace {
        set_password(&db, &a.name, &password)?;
    } else {
        add_user(&db, &a.name, &password)?;
    }
    db.flush().map_err(AuthError::from)?;
    writeln!(out, "user {} added", a.name)?;
    if given.is_none() {
        writeln!(out, "password: {password}")?;
        writeln!(out, "(shown once; give it to the user and keep no copy)")?;
    }
    Ok(())
}
