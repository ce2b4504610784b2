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
    /// The database could not be opened (a running gateway holds it).
    #[error(transparent)]
    Open(#[from] crate::store::StoreError),
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
    let store = crate::store::Store::open(&a.data_dir)?;
    let accounts = store.accounts()?;
    let password = given.clone().unwrap_or_else(generate_password);
    if a.replace {
        set_password(&accounts, &a.name, &password)?;
    } else {
        add_user(&accounts, &a.name, &password)?;
    }
    store.flush_blocking()?;
    writeln!(out, "user {} added", a.name)?;
    if given.is_none() {
        writeln!(out, "password: {password}")?;
        writeln!(out, "(shown once; give it to the user and keep no copy)")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingan_drivers::Timestamp;

    fn add_args(dir: &std::path::Path, replace: bool) -> UserArgs {
        UserArgs {
            command: UserCommand::Add(AddArgs {
                name: "li.na".into(),
                data_dir: dir.to_owned(),
                replace,
                generate: true,
            }),
        }
    }

    fn printed_password(out: &[u8]) -> String {
        String::from_utf8_lossy(out)
            .lines()
            .find_map(|l| l.strip_prefix("password: "))
            .map(str::to_owned)
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn adding_a_user_prints_a_generated_password_that_logs_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        run(add_args(dir.path(), false), &mut out).unwrap();
        let password = printed_password(&out);
        assert_eq!(password.len(), 19);
        let store = crate::store::Store::open(dir.path()).unwrap();
        let auth = crate::web::auth::Auth::new(store.accounts().unwrap());
        assert!(
            auth.login(
                "li.na",
                &password,
                crate::web::auth::Peer(std::net::Ipv4Addr::LOCALHOST.into()),
                Timestamp::now(),
                &Timestamp::now
            )
            .await
            .is_ok()
        );
    }

    #[test]
    fn adding_an_existing_user_fails_unless_replacing() {
        let dir = tempfile::tempdir().unwrap();
        run(add_args(dir.path(), false), &mut Vec::new()).unwrap();
        let again = run(add_args(dir.path(), false), &mut Vec::new());
        assert!(matches!(
            again,
            Err(UserCliError::Auth(AuthError::UserExists(_)))
        ));
        run(add_args(dir.path(), true), &mut Vec::new()).unwrap();
    }
}
