//! The LAN broker deployment (docs/SECURITY.md): Mosquitto with per-user passwords and topic
//! ACLs, so that only the gateway publishes alert snapshots, status and readings, and a person
//! can only publish commands under a topic carrying their own MQTT user name
//! (`pingan/{site}/cmd/users/%u/…`), which the gateway takes as the acting identity. Pure: the
//! texts of `mosquitto.conf`, the password file and the ACL file; `pingan mosquitto` writes them.
//!
//! Passwords use Mosquitto's own `$7$` format (PBKDF2-HMAC-SHA512: `$7$iterations$salt$hash`,
//! salt and hash in standard base64), computed here with `ring` rather than by calling
//! `mosquitto_passwd`, so the command runs on a machine without Mosquitto installed (the gateway
//! host may not be the broker host) and no password ever appears on a command line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::command::check_user_name;
use super::topics::Topics;

/// PBKDF2 rounds of new password hashes. Mosquitto's own default is 101; more makes a stolen
/// password file slower to attack while a CONNECT still checks in milliseconds on a Pi.
pub const ITERATIONS: u32 = 10_000;
/// Salt bytes, as `mosquitto_passwd` makes them.
const SALT_LEN: usize = 12;

/// What an MQTT account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The gateway: publishes everything of the site, reads commands.
    Gateway,
    /// A nurse, guard or station app: reads alerts, notifications, status, devices and
    /// readings; acknowledges, resolves and runs device commands under its own name.
    Staff,
    /// A platform or dashboard: reads what the gateway publishes, acts on nothing.
    Observer,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Staff => "staff",
            Self::Observer => "observer",
        }
    }
}

/// One MQTT account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// User name (checked with `check_user_name`).
    pub user: String,
    /// Its rights.
    pub role: Role,
}

/// Why the deployment cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    /// A user name Pingan does not issue.
    #[error("{0}")]
    User(String),
    /// The same user twice.
    #[error("user {0:?} is listed twice")]
    Duplicate(String),
    /// A line of an existing password file is not `user:$7$…`.
    #[error("password file line {0}: not user:$7$iterations$salt$hash")]
    PasswordLine(usize),
}

/// Checks the accounts: valid, distinct user names.
pub fn check_accounts(accounts: &[Account]) -> Result<(), DeployError> {
    let mut seen = std::collections::HashSet::new();
    for a in accounts {
        check_user_name(&a.user).map_err(|e| DeployError::User(e.to_string()))?;
        if !seen.insert(a.user.as_str()) {
            return Err(DeployError::Duplicate(a.user.clone()));
        }
    }
    Ok(())
}

/// A `$7$` hash of `password` with `salt` and `iterations`.
pub fn hash_password(password: &str, salt: &[u8], iterations: NonZeroU32) -> String {
    let mut out = [0u8; 64];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        iterations,
        salt,
        password.as_bytes(),
        &mut out,
    );
    format!(
        "$7${iterations}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(out)
    )
}

/// A `$7$` hash of `password` with a fresh random salt.
pub fn new_hash(password: &str) -> String {
    let mut salt = [0u8; SALT_LEN];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    hash_password(
        password,
        &salt,
        NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN),
    )
}

/// Whether `password` matches a `$7$` hash (as Mosquitto checks it).
pub fn verify(hash: &str, password: &str) -> bool {
    let mut parts = hash.split('$');
    let (Some(""), Some("7"), Some(it), Some(salt), Some(want), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(it), Ok(salt), Ok(want)) = (
        it.parse::<NonZeroU32>(),
        STANDARD.decode(salt),
        STANDARD.decode(want),
    ) else {
        return false;
    };
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        it,
        &salt,
        password.as_bytes(),
        &want,
    )
    .is_ok()
}

/// Reads a password file: user → hash. Blank lines and `#` comments are skipped.
pub fn parse_password_file(text: &str) -> Result<BTreeMap<String, String>, DeployError> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((user, hash)) if hash.starts_with("$7$") && check_user_name(user).is_ok() => {
                out.insert(user.to_owned(), hash.to_owned());
            }
            _ => return Err(DeployError::PasswordLine(i + 1)),
        }
    }
    Ok(out)
}

/// The password file's text from user → hash.
pub fn password_file(hashes: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for (user, hash) in hashes {
        let _ = writeln!(s, "{user}:{hash}");
    }
    s
}

/// The ACL file for `site`'s accounts.
pub fn acl_file(topics: &Topics, accounts: &[Account]) -> String {
    let site = topics.site();
    let mut s = format!(
        "# Written by `pingan mosquitto` for site {site}: who may do what on this broker.\n\
         # Only the gateway publishes alert snapshots, status, readings and device results;\n\
         # a person publishes commands only under pingan/{site}/cmd/users/<their own user name>/,\n\
         # and the gateway takes that name as the acting identity (docs/SECURITY.md).\n\n\
         # Every account: commands under its own user name only.\n\
         pattern write {}%u/#\n",
        topics.user_commands_prefix()
    );
    let mut sorted: Vec<&Account> = accounts.iter().collect();
    sorted.sort_by(|a, b| (a.role, &a.user).cmp(&(b.role, &b.user)));
    for a in sorted {
        let _ = write!(s, "\n# {}\nuser {}\n", a.role.as_str(), a.user);
        let lines: Vec<(&str, String)> = match a.role {
            Role::Gateway => {
                let mut v: Vec<(&str, String)> =
                    ["alerts", "notify", "referrals", "readings", "devices"]
                        .iter()
                        .map(|p| ("write", topics.subtree(p)))
                        .collect();
                v.push(("write", topics.status()));
                v.push(("read", topics.commands_filter()));
                v
            }
            Role::Staff | Role::Observer => {
                let mut v: Vec<(&str, String)> = ["alerts", "notify", "readings", "devices"]
                    .iter()
                    .map(|p| ("read", topics.subtree(p)))
                    .collect();
                v.push(("read", topics.status()));
                if a.role == Role::Observer {
                    v.push(("read", topics.subtree("referrals")));
                }
                v
            }
        };
        for (access, topic) in lines {
            let _ = writeln!(s, "topic {access} {topic}");
        }
    }
    s
}

/// Where `mosquitto.conf` puts things and how it listens.
#[derive(Debug, Clone)]
pub struct Listener {
    /// Address to listen on, e.g. `0.0.0.0:8883`.
    pub addr: std::net::SocketAddr,
    /// TLS certificate and key (PEM) of the broker; without them the listener is plain.
    pub tls: Option<(String, String)>,
    /// The password file's path as the broker sees it.
    pub password_file: String,
    /// The ACL file's path as the broker sees it.
    pub acl_file: String,
}

/// The text of `mosquitto.conf`.
pub fn conf_file(site: &str, l: &Listener) -> String {
    let mut s = format!(
        "# Written by `pingan mosquitto` for site {site} (docs/SECURITY.md). Re-run it to add or\n\
         # remove accounts; existing passwords are kept.\n\
         per_listener_settings false\n\
         allow_anonymous false\n\
         password_file {}\n\
         acl_file {}\n\
         # The gateway's session survives a broker restart: nothing it sent is lost.\n\
         persistence true\n\
         # Alert snapshots carry fall evidence (tens of KB); nothing legitimate is larger.\n\
         message_size_limit 1048576\n\
         max_queued_messages 100000\n\n\
         listener {} {}\n",
        l.password_file,
        l.acl_file,
        l.addr.port(),
        l.addr.ip()
    );
    match &l.tls {
        Some((cert, key)) => {
            let _ = write!(s, "certfile {cert}\nkeyfile {key}\ntls_version tlsv1.2\n");
        }
        None => s.push_str(
            "# No TLS: passwords and alerts cross the network in clear. Give --tls-cert and\n\
             # --tls-key for anything but a test on one machine.\n",
        ),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_mosquitto_passwd() {
        // Made by `mosquitto_passwd -c -b pw alice secret123` (Mosquitto 2.0.11).
        let line = "$7$101$xFtuNtLagExYWuuS$CUKbQzy7H5NWqbCx/0arEut95RGlaxBk+zokEiG70SYeSkb2yeta+XvZUDbwMBmpMO7sGv8+9bGzLXqMScWQ/w==";
        assert!(verify(line, "secret123"));
        assert!(!verify(line, "secret124"));
        let salt = STANDARD.decode("xFtuNtLagExYWuuS").unwrap();
        let it = NonZeroU32::new(101).unwrap();
        assert_eq!(hash_password("secret123", &salt, it), line);
        let fresh = new_hash("pw");
        assert!(fresh.starts_with("$7$10000$") && verify(&fresh, "pw"));
        assert!(!verify("$6$x$y", "pw"));
    }

    #[test]
    fn password_files_round_trip_and_bad_lines_are_named() {
        let mut m = BTreeMap::new();
        m.insert("li.na".to_owned(), new_hash("a"));
        m.insert("pingan-t".to_owned(), new_hash("b"));
        assert_eq!(parse_password_file(&password_file(&m)), Ok(m));
        assert_eq!(
            parse_password_file("# c\n\nli:plain\n"),
            Err(DeployError::PasswordLine(3))
        );
    }

    #[test]
    fn the_acl_lets_only_the_gateway_publish_and_staff_act_under_their_own_name() {
        let t = Topics::new("t");
        let acl = acl_file(
            &t,
            &[
                Account {
                    user: "li.na".into(),
                    role: Role::Staff,
                },
                Account {
                    user: "pingan-t".into(),
                    role: Role::Gateway,
                },
                Account {
                    user: "platform".into(),
                    role: Role::Observer,
                },
            ],
        );
        assert!(acl.contains("pattern write pingan/t/cmd/users/%u/#\n"));
        let section = |user: &str| -> String {
            acl.split("\nuser ")
                .find(|s| s.starts_with(user))
                .unwrap_or_default()
                .to_owned()
        };
        let gw = section("pingan-t");
        assert!(gw.contains("topic write pingan/t/alerts/#"));
        assert!(gw.contains("topic write pingan/t/status"));
        assert!(gw.contains("topic read pingan/t/cmd/#"));
        let staff = section("li.na");
        assert!(staff.contains("topic read pingan/t/alerts/#"));
        assert!(!staff.contains("write"), "{staff}");
        assert!(section("platform").contains("topic read pingan/t/referrals/#"));
        assert!(!staff.contains("referrals"));
    }

    #[test]
    fn accounts_are_checked() {
        let a = |u: &str| Account {
            user: u.into(),
            role: Role::Staff,
        };
        assert!(check_accounts(&[a("li"), a("wang")]).is_ok());
        assert_eq!(
            check_accounts(&[a("li"), a("li")]),
            Err(DeployError::Duplicate("li".into()))
        );
        assert!(matches!(
            check_accounts(&[a("a/b")]),
            Err(DeployError::User(_))
        ));
        assert!(matches!(
            check_accounts(&[a("%u")]),
            Err(DeployError::User(_))
        ));
    }
}
