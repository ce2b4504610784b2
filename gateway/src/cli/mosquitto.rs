//! `pingan mosquitto`: writes the LAN broker deployment of docs/SECURITY.md — `mosquitto.conf`,
//! the password file and the ACL file — from the site config and the staff MQTT accounts, plus
//! the gateway's own password file for its `[[uplinks]]` entry. The texts come from
//! `mqtt::mosquitto`.
//!
//! Re-running keeps the passwords of accounts still listed (only new accounts, and those named
//! with `--reset`, get new ones, printed once), drops accounts no longer listed, and rewrites
//! the ACL. Every file is written 0600 in a 0700 directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::Config;
use crate::mqtt::Topics;
use crate::mqtt::mosquitto::{self, Account, DeployError, Listener, Role};

/// Files written into `--out`.
pub const CONF: &str = "mosquitto.conf";
/// The password file.
pub const PASSWORDS: &str = "passwd";
/// The ACL file.
pub const ACL: &str = "acl";
/// The gateway's MQTT password, for `password_file` of its uplink.
pub const GATEWAY_PASSWORD: &str = "gateway.password";

/// `pingan mosquitto`
#[derive(Debug, Args)]
pub struct MosquittoArgs {
    /// The site config (its `[site] id` is in every topic).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Directory to write mosquitto.conf, passwd, acl and gateway.password into.
    #[arg(long)]
    pub out: PathBuf,
    /// A staff account (repeatable): reads alerts and acts on them under its own name.
    #[arg(long = "staff", value_name = "USER")]
    pub staff: Vec<String>,
    /// A file of staff user names, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub staff_file: Option<PathBuf>,
    /// A read-only account (repeatable): a platform or a wall display.
    #[arg(long = "observer", value_name = "USER")]
    pub observers: Vec<String>,
    /// The gateway's MQTT user name [default: pingan-{site id}].
    #[arg(long)]
    pub gateway_user: Option<String>,
    /// Address the broker listens on [default: 0.0.0.0:8883 with TLS, 127.0.0.1:1883 without].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The broker's TLS certificate (PEM), as the broker host sees it.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The broker's TLS private key (PEM), as the broker host sees it.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Directory the files will live in on the broker host [default: --out].
    #[arg(long, value_name = "DIR")]
    pub broker_dir: Option<PathBuf>,
    /// Give these accounts new passwords although they have one (repeatable).
    #[arg(long = "reset", value_name = "USER")]
    pub reset: Vec<String>,
}

/// Why `pingan mosquitto` failed.
#[derive(Debug, thiserror::Error)]
pub enum MosquittoCliError {
    /// The site config is invalid.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// Accounts or the existing password file.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MosquittoCliError + '_ {
    move |source| MosquittoCliError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs `pingan mosquitto`, printing new passwords and the uplink entry to `out`.
pub fn run(a: &MosquittoArgs, out: &mut impl Write) -> Result<(), MosquittoCliError> {
    let config = Config::load(&a.config)?;
    let site = config.site.id.clone();
    let topics = Topics::new(&site);
    let gateway_user = a
        .gateway_user
        .clone()
        .unwrap_or_else(|| format!("pingan-{site}"));
    let accounts = accounts(a, &gateway_user)?;
    mosquitto::check_accounts(&accounts)?;

    std::fs::create_dir_all(&a.out).map_err(io(&a.out))?;
    std::fs::set_permissions(&a.out, std::fs::Permissions::from_mode(0o700)).map_err(io(&a.out))?;
    let pw_path = a.out.join(PASSWORDS);
    let gw_path = a.out.join(GATEWAY_PASSWORD);
    let old = match std::fs::read_to_string(&pw_path) {
        Ok(text) => mosquitto::parse_password_file(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(io(&pw_path)(e)),
    };
    let gateway_secret_kept = std::fs::read_to_string(&gw_path)
        .ok()
        .map(|s| s.trim_end().to_owned())
        .filter(|pw| {
            old.get(&gateway_user)
                .is_some_and(|h| mosquitto::verify(h, pw))
        });
    let mut hashes = BTreeMap::new();
    let mut fresh = Vec::new();
    for acc in &accounts {
        let keep = match acc.role {
            Role::Gateway => gateway_secret_kept.is_some(),
            _ => !a.reset.contains(&acc.user),
        };
        match old.get(&acc.user).filter(|_| keep) {
            Some(h) => {
                hashes.insert(acc.user.clone(), h.clone());
            }
            None => {
                let pw = crate::web::generate_password();
                hashes.insert(acc.user.clone(), mosquitto::new_hash(&pw));
                fresh.push((acc.clone(), pw));
            }
        }
    }

    let broker_dir = a
        .broker_dir
        .clone()
        .unwrap_or_else(|| std::fs::canonicalize(&a.out).unwrap_or_else(|_| a.out.clone()));
    let tls = a
        .tls_cert
        .as_ref()
        .zip(a.tls_key.as_ref())
        .map(|(c, k)| (c.display().to_string(), k.display().to_string()));
    let listen = a.listen.unwrap_or_else(|| {
        if tls.is_some() {
            SocketAddr::from(([0, 0, 0, 0], 8883))
        } else {
            SocketAddr::from(([127, 0, 0, 1], 1883))
        }
    });
    let listener = Listener {
        addr: listen,
        tls: tls.clone(),
        password_file: broker_dir.join(PASSWORDS).display().to_string(),
        acl_file: broker_dir.join(ACL).display().to_string(),
    };
    write_private(&pw_path, &mosquitto::password_file(&hashes))?;
    write_private(&a.out.join(ACL), &mosquitto::acl_file(&topics, &accounts))?;
    write_private(&a.out.join(CONF), &mosquitto::conf_file(&site, &listener))?;

    let w = |out: &mut dyn Write, s: String| -> Result<(), MosquittoCliError> {
        out.write_all(s.as_bytes()).map_err(io(Path::new("stdout")))
    };
    for (acc, pw) in &fresh {
        if acc.role == Role::Gateway {
            write_private(&gw_path, &format!("{pw}\n"))?;
        } else {
            w(
                out,
                format!("{}\t{}\t{pw}\n", acc.user, role_word(acc.role)),
            )?;
        }
    }
    let removed: Vec<&String> = old.keys().filter(|u| !hashes.contains_key(*u)).collect();
    for u in removed {
        w(out, format!("# removed: {u}\n"))?;
    }
    let scheme = if tls.is_some() { "mqtts" } else { "mqtt" };
    let host = if listen.ip().is_unspecified() {
        "BROKER-HOST".to_owned()
    } else {
        listen.ip().to_string()
    };
    w(
        out,
        format!(
            "# Add to the gateway's config (copy {GATEWAY_PASSWORD} to where password_file says):\n\
             # [[uplinks]]\n# id = \"lan\"\n# url = \"{scheme}://{host}:{port}\"\n{ca}\
             # username = \"{gateway_user}\"\n# password_file = \"/etc/pingan/{GATEWAY_PASSWORD}\"\n\
             # alerts = true\n# commands = true\n# command_identity = \"topic\"\n# telemetry_interval = \"5s\"\n",
            port = listen.port(),
            ca = if tls.is_some() {
                "# ca_file = \"/etc/pingan/lan-ca.pem\"\n"
            } else {
                ""
            },
        ),
    )?;
    Ok(())
}

fn role_word(r: Role) -> &'static str {
    match r {
        Role::Gateway => "gateway",
        Role::Staff => "staff",
        Role::Observer => "observer",
    }
}

/// The gateway, then staff from flags and the file, then observers.
fn accounts(a: &MosquittoArgs, gateway_user: &str) -> Result<Vec<Account>, MosquittoCliError> {
    let mut v = vec![Account {
        user: gateway_user.to_owned(),
        role: Role::Gateway,
    }];
    let mut staff = a.staff.clone();
    if let Some(f) = &a.staff_file {
        let text = std::fs::read_to_string(f).map_err(io(f))?;
        staff.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    v.extend(staff.into_iter().map(|user| Account {
        user,
        role: Role::Staff,
    }));
    v.extend(a.observers.iter().map(|user| Account {
        user: user.clone(),
        role: Role::Observer,
    }));
    Ok(v)
}

/// Writes `text` to `path` with mode 0600 (also when the file existed with a wider mode).
fn write_private(path: &Path, text: &str) -> Result<(), MosquittoCliError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path, staff: &[&str]) -> MosquittoArgs {
        let config = dir.join("site.toml");
        std::fs::write(&config, "[site]\nid = \"t\"\nname = \"T\"\n").unwrap();
        MosquittoArgs {
            config,
            out: dir.join("broker"),
            staff: staff.iter().map(|s| s.to_string()).collect(),
            staff_file: None,
            observers: vec!["platform".into()],
            gateway_user: None,
            listen: None,
            tls_cert: None,
            tls_key: None,
            broker_dir: None,
            reset: Vec::new(),
        }
    }

    #[test]
    fn writes_private_files_and_prints_each_new_password_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(dir.path(), &["li.na", "wang"]);
        let mut out = Vec::new();
        run(&a, &mut out).unwrap();
        let printed = String::from_utf8(out).unwrap();
        assert_eq!(
            printed.lines().filter(|l| !l.starts_with('#')).count(),
            3,
            "{printed}"
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        for f in [CONF, PASSWORDS, ACL, GATEWAY_PASSWORD] {
            assert_eq!(mode(&a.out.join(f)), 0o600, "{f}");
        }
        assert_eq!(mode(&a.out), 0o700);
        let hashes = mosquitto::parse_password_file(
            &std::fs::read_to_string(a.out.join(PASSWORDS)).unwrap(),
        )
        .unwrap();
        let gw = std::fs::read_to_string(a.out.join(GATEWAY_PASSWORD)).unwrap();
        assert!(mosquitto::verify(&hashes["pingan-t"], gw.trim()));
        let li = printed.lines().find(|l| l.starts_with("li.na\t")).unwrap();
        assert!(mosquitto::verify(
            &hashes["li.na"],
            li.rsplit('\t').next().unwrap()
        ));
    }

    #[test]
    fn rerunning_keeps_existing_passwords_adds_new_ones_and_drops_the_unlisted() {
        let dir = tempfile::tempdir().unwrap();
        run(&args(dir.path(), &["li.na", "wang"]), &mut Vec::new()).unwrap();
        let read = |a: &MosquittoArgs| {
            mosquitto::parse_password_file(&std::fs::read_to_string(a.out.join(PASSWORDS)).unwrap())
                .unwrap()
        };
        let a = args(dir.path(), &["li.na", "zhao"]);
        let before = read(&a);
        let mut out = Vec::new();
        run(&a, &mut out).unwrap();
        let after = read(&a);
        let printed = String::from_utf8(out).unwrap();
        assert_eq!(after["li.na"], before["li.na"]);
        assert_eq!(after["pingan-t"], before["pingan-t"]);
        assert!(!after.contains_key("wang"));
        assert!(printed.contains("zhao\tstaff\t") && printed.contains("# removed: wang"));
        assert!(!printed.contains("li.na\t"));
        let mut r = args(dir.path(), &["li.na", "zhao"]);
        r.reset = vec!["li.na".into()];
        run(&r, &mut Vec::new()).unwrap();
        assert_ne!(read(&r)["li.na"], after["li.na"]);
    }

    #[test]
    fn bad_user_names_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(dir.path(), &["li/na"]);
        assert!(matches!(
            run(&a, &mut Vec::new()),
            Err(MosquittoCliError::Deploy(_))
        ));
        assert!(!a.out.exists());
    }
}
