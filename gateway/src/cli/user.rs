//! `pingan user add|list|disable|enable|password|role … [--data-dir DIR]`: staff accounts of the
//! dashboard.
//!
//! With the gateway stopped the commands open its database; while it runs (it holds the
//! database) they ask it through its REST API with the tool token it leaves in the data directory
//! (`cli::local_api`), so a night-shift nurse is added without silencing any alert. Either way
//! the change is recorded in the audit (tree `actions`) with the operating-system user who ran
//! the command, and the rules are the dashboard's (`web::staff`): the first account is an admin,
//! later ones nurses unless `--role` says otherwise; the last enabled admin stays one.
//!
//! A password comes from stdin when stdin is not a terminal (`echo … | pingan user add li`);
//! otherwise, or when stdin is empty, a random one is generated and printed once. There is no
//! default password anywhere.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use super::local_api::{self, encode};
use crate::alert::{ActionRecord, ActionSubject, Actor, Role, Via};
use crate::store::{Store, StoreError};
use crate::web::staff::{self, Change, StaffView};
use crate::web::{AuthError, set_password};

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
    /// List the accounts with their role and whether they are disabled.
    List(At),
    /// Disable an account: it cannot log in and its sessions end at once.
    Disable(Named),
    /// Enable a disabled account again.
    Enable(Named),
    /// Set a new password (stdin, or generated and printed); the account's sessions end.
    Password(PasswordArgs),
    /// Change an account's role (nurse or admin).
    Role(RoleArgs),
}

/// The gateway's data directory.
#[derive(Debug, Args)]
pub struct At {
    /// Directory of the gateway's database (running or stopped).
    #[arg(long, default_value = "/var/lib/pingan")]
    pub data_dir: PathBuf,
}

/// An account and the data directory.
#[derive(Debug, Args)]
pub struct Named {
    /// The user name.
    pub name: String,
    #[command(flatten)]
    pub at: At,
}

/// `pingan user add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The user name nurses type at login (1 to 64 characters).
    pub name: String,
    /// Directory of the gateway's database (running or stopped).
    #[arg(long, default_value = "/var/lib/pingan")]
    pub data_dir: PathBuf,
    /// nurse or admin (default: admin for the site's first account, nurse after).
    #[arg(long)]
    pub role: Option<Role>,
    /// Replace the password of an existing account (and end its sessions).
    #[arg(long)]
    pub replace: bool,
    /// Generate a random password even when stdin has one.
    #[arg(long)]
    pub generate: bool,
}

/// `pingan user password`
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The user name.
    pub name: String,
    #[command(flatten)]
    pub at: At,
    /// Generate a random password even when stdin has one.
    #[arg(long)]
    pub generate: bool,
}

/// `pingan user role`
#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The user name.
    pub name: String,
    /// nurse or admin.
    pub role: Role,
    #[command(flatten)]
    pub at: At,
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::Nurse, Role::Admin]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// Why `pingan user` failed.
#[derive(Debug, thiserror::Error)]
pub enum UserCliError {
    /// The database could not be opened.
    #[error(transparent)]
    Open(#[from] StoreError),
    /// Reading stdin or writing stdout failed.
    #[error("terminal I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The account could not be changed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The running gateway could not be asked, or refused.
    #[error("{0}")]
    Gateway(String),
}

/// Runs `pingan user …`, printing to `out`.
pub async fn run(args: UserArgs, out: &mut impl Write) -> Result<(), UserCliError> {
    let (dir, request) = match args.command {
        UserCommand::Add(a) => {
            let given = password_from_stdin(a.generate)?;
            let change = if a.replace {
                Change::Password(given)
            } else {
                Change::Add {
                    role: a.role,
                    password: given,
                }
            };
            (a.data_dir, Request::Change(a.name, change))
        }
        UserCommand::List(at) => (at.data_dir, Request::List),
        UserCommand::Disable(n) => (n.at.data_dir, Request::Change(n.name, Change::Disable)),
        UserCommand::Enable(n) => (n.at.data_dir, Request::Change(n.name, Change::Enable)),
        UserCommand::Password(p) => {
            let given = password_from_stdin(p.generate)?;
            (
                p.at.data_dir,
                Request::Change(p.name, Change::Password(given)),
            )
        }
        UserCommand::Role(r) => (r.at.data_dir, Request::Change(r.name, Change::Role(r.role))),
    };
    let answer = match Store::open(&dir) {
        Ok(store) => offline(&store, request).await?,
        Err(StoreError::Locked { .. }) => online(&dir, request).await?,
        Err(e) => return Err(e.into()),
    };
    print(answer, out)
}

/// What to do, wherever it is done.
#[derive(Debug)]
enum Request {
    List,
    Change(String, Change),
}

/// What to print.
#[derive(Debug)]
enum Answer {
    List(Vec<StaffView>),
    Changed {
        account: StaffView,
        what: &'static str,
        password: Option<String>,
    },
}

fn password_from_stdin(generate: bool) -> Result<Option<String>, UserCliError> {
    let stdin = std::io::stdin();
    if generate || stdin.is_terminal() {
        return Ok(None);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok((!pw.is_empty()).then_some(pw))
}

/// Who ran the command, for the audit: the operating-system user.
fn who() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .map_or_else(
            || "pingan user".to_owned(),
            |u| format!("{u} (command line)"),
        )
}

fn verb(c: &Change) -> &'static str {
    match c {
        Change::Add { .. } => "added",
        Change::Disable => "disabled",
        Change::Enable => "enabled",
        Change::Password(_) => "has a new password",
        Change::Role(_) => "has a new role",
    }
}

/// With the gateway stopped: the database itself.
async fn offline(store: &Store, request: Request) -> Result<Answer, UserCliError> {
    let accounts = store.accounts()?;
    let Request::Change(name, change) = request else {
        return Ok(Answer::List(staff::list(&accounts)?));
    };
    let what = verb(&change);
    // `add --replace` of an account that does not exist yet creates it, as it always did.
    let done = match change {
        Change::Password(pw) if accounts.user(&name)?.is_none() => {
            let password = pw.clone().unwrap_or_else(crate::web::generate_password);
            set_password(&accounts, &name, &password)?;
            let mut done = staff::apply(&accounts, &name, Change::Enable)?;
            done.generated = pw.is_none().then_some(password);
            done.act = crate::alert::Act::PasswordReset;
            done
        }
        c => staff::apply(&accounts, &name, c)?,
    };
    let by = Actor::named(who());
    let record = ActionRecord {
        at: pingan_drivers::Timestamp::now(),
        by: by.display(),
        account: None,
        via: Via::Cli,
        subject: ActionSubject::Account(done.account.user.clone()),
        act: done.act,
        note: None,
        ok: true,
        error: None,
    };
    store.record_action(&record).await?;
    Ok(Answer::Changed {
        account: done.account,
        what,
        password: done.generated,
    })
}

/// With the gateway running: its REST API.
async fn online(dir: &Path, request: Request) -> Result<Answer, UserCliError> {
    let (addr, token) = local_api::access(dir).map_err(UserCliError::Gateway)?;
    let (name, change) = match request {
        Request::List => {
            let a = local_api::get(addr, &token, "/api/v1/accounts")
                .await
                .map_err(UserCliError::Gateway)?;
            return parse(&a).map(Answer::List);
        }
        Request::Change(n, c) => (n, c),
    };
    let what = verb(&change);
    let by = who();
    let (path, body) = match change {
        Change::Add { role, password } => (
            "/api/v1/accounts".to_owned(),
            json!({"user": name, "role": role, "password": password, "name": by}),
        ),
        Change::Disable => (action(&name, "disable"), json!({"name": by})),
        Change::Enable => (action(&name, "enable"), json!({"name": by})),
        Change::Password(password) => (
            action(&name, "password"),
            json!({"password": password, "name": by}),
        ),
        Change::Role(role) => (action(&name, "role"), json!({"role": role, "name": by})),
    };
    let a = local_api::post(addr, &token, &path, &body)
        .await
        .map_err(UserCliError::Gateway)?;
    let v: serde_json::Value = parse(&a)?;
    let account = serde_json::from_value(v["account"].clone())
        .map_err(|e| UserCliError::Gateway(format!("unreadable answer: {e}")))?;
    Ok(Answer::Changed {
        account,
        what,
        password: v["password"].as_str().map(str::to_owned),
    })
}

fn action(name: &str, what: &str) -> String {
    format!("/api/v1/accounts/{}/{what}", encode(name))
}

fn parse<T: serde::de::DeserializeOwned>(a: &local_api::Answer) -> Result<T, UserCliError> {
    if a.status != 200 {
        return Err(UserCliError::Gateway(format!(
            "the gateway refused ({}): {}",
            a.status,
            local_api::error_of(a)
        )));
    }
    serde_json::from_slice(&a.body)
        .map_err(|e| UserCliError::Gateway(format!("unreadable answer from the gateway: {e}")))
}

fn print(answer: Answer, out: &mut impl Write) -> Result<(), UserCliError> {
    match answer {
        Answer::List(list) => {
            for a in list {
                let state = if a.disabled { "disabled" } else { "enabled" };
                writeln!(out, "{}\t{}\t{state}", a.user, a.role.as_str())?;
            }
        }
        Answer::Changed {
            account,
            what,
            password,
        } => {
            writeln!(
                out,
                "user {} {what} ({}{})",
                account.user,
                account.role.as_str(),
                if account.disabled { ", disabled" } else { "" }
            )?;
            if let Some(p) = password {
                writeln!(out, "password: {p}")?;
                writeln!(out, "(shown once; give it to the user and keep no copy)")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
