//! `pingan alerts list|ack|resolve|audit`: the store seen from the command line.
//!
//! With the gateway stopped, the CLI opens the database itself and applies acknowledgements
//! through the same engine (they are published from the outboxes at the next start). With the
//! gateway running (the database is locked), `ack` and `resolve` are sent as MQTT commands to the
//! embedded broker, the same path a nurse app uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ulid::Ulid;

use crate::alert::{Actor, Engine, EngineSettings, Locale, Policies, Via};
use crate::clock::SystemClock;
use crate::config::{Config, LinkId};
use crate::facility::Facility;
use crate::mqtt::command::Action;
use crate::mqtt::{Topics, payload};
use crate::service::{Effects, EffectsSite, Target};
use crate::store::{Store, StoreError};

/// Where the database is.
#[derive(Debug, clap::Args)]
pub struct Location {
    /// Data directory of the gateway.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Site config (its storage.data_dir is used).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Alert subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Every alert ever raised, oldest first.
    List {
        /// One JSON object per line (the MQTT alert payload).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: Location,
    },
    /// Acknowledge an alert as a person.
    Ack {
        /// Alert id (ULID).
        id: String,
        /// Who acknowledges.
        #[arg(long)]
        by: String,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        at: Location,
    },
    /// Resolve an alert as a person.
    Resolve {
        /// Alert id (ULID).
        id: String,
        /// Who resolves.
        #[arg(long)]
        by: String,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        at: Location,
    },
    /// An alert's audit trail.
    Audit {
        /// Alert id (ULID).
        id: String,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: Location,
    },
}

/// Runs an alerts subcommand.
pub async fn run(cmd: AlertsCommand) -> ExitCode {
    match execute(cmd).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("pingan alerts: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The data directory `at` names (`--data-dir`, the config's, or the default's).
pub(crate) fn data_dir(at: &Location) -> Result<PathBuf, String> {
    if let Some(d) = &at.data_dir {
        return Ok(d.clone());
    }
    if let Some(c) = &at.config {
        return Config::load(c)
            .map(|c| c.storage.data_dir)
            .map_err(|e| e.to_string());
    }
    Ok(Config::default_config().storage.data_dir)
}

fn locale(store: &Store) -> Locale {
    Locale::from_tag(store.meta("locale").as_deref().unwrap_or_default())
}

fn parse_id(id: &str) -> Result<Ulid, String> {
    crate::alert::parse_alert_id(id).map_err(|e| e.to_string())
}

async fn execute(cmd: AlertsCommand) -> Result<(), String> {
    match cmd {
        AlertsCommand::List { json, at } => {
            let store = Store::open(&data_dir(&at)?).map_err(|e| e.to_string())?;
            let loc = locale(&store);
            for a in store.alerts().map_err(|e| e.to_string())? {
                if json {
                    println!("{}", payload::alert(&a, loc, &[]));
                } else {
                    println!(
                        "{}  {:<19}  {:<6}  {:<12}  {:<10}  {:<6}  {}",
                        a.id,
                        payload::rfc3339(a.raised_at),
                        format!("{:?}", a.priority).to_lowercase(),
                        format!("{:?}", a.state).to_lowercase(),
                        a.kind,
                        a.location.room.as_deref().unwrap_or("-"),
                        a.resident.as_deref().unwrap_or("-"),
                    );
                }
            }
            Ok(())
        }
        AlertsCommand::Audit { id, json, at } => {
            let id = parse_id(&id)?;
            let store = Store::open(&data_dir(&at)?).map_err(|e| e.to_string())?;
            let trail = store.audit(id).map_err(|e| e.to_string())?;
            if trail.is_empty() {
                return Err(format!("no alert with id {id}"));
            }
            for e in trail {
                if json {
                    println!("{}", serde_json::to_string(&e).unwrap_or_default());
                } else {
                    println!(
                        "{}  r{:<3} {:<18} {:<8} {:<12} {}",
                        payload::rfc3339(e.at),
                        e.revision,
                        e.action,
                        format!("{:?}", e.via).to_lowercase(),
                        e.by.as_deref().unwrap_or("-"),
                        e.note.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        AlertsCommand::Ack { id, by, note, at } => person(Action::Ack, &id, &by, note, &at).await,
        AlertsCommand::Resolve { id, by, note, at } => {
            person(Action::Resolve, &id, &by, note, &at).await
        }
    }
}

async fn person(
    action: Action,
    id: &str,
    by: &str,
    note: Option<String>,
    at: &Location,
) -> Result<(), String> {
    let id = parse_id(id)?;
    let by = crate::alert::check_person(by).map_err(|e| format!("--by: {e}"))?;
    let dir = data_dir(at)?;
    match Store::open(&dir) {
        Ok(store) => offline(&store, action, id, by, note.as_deref()).await,
        Err(StoreError::Locked { .. }) => online(&dir, action, id, by, note).await,
        Err(e) => Err(e.to_string()),
    }
}

/// The gateway is stopped: apply through the engine and the gateway's own effects path (store,
/// the outboxes of the links that carry every alert, one flush); the links publish the change at
/// the next start.
async fn offline(
    store: &Store,
    action: Action,
    id: Ulid,
    by: &str,
    note: Option<&str>,
) -> Result<(), String> {
    let policies = crate::shared::Shared::new(Policies::default());
    let mut engine = Engine::new(
        EngineSettings {
            cancel_window: Duration::ZERO,
            clear_debounce: Duration::ZERO,
        },
        policies.clone(),
    );
    engine.restore(store.alerts().map_err(|e| e.to_string())?);
    let clock = SystemClock::shared();
    let now = clock.now();
    let outputs = match action {
        Action::Ack => engine.acknowledge(id, &Actor::named(by), note, Via::Cli, now),
        Action::Resolve => engine.resolve(id, &Actor::named(by), note, Via::Cli, now),
    };
    let outputs = outputs.map_err(|e| match store.alert(id) {
        Ok(Some(a)) if !a.state.is_open() => format!("alert {id} is already resolved"),
        _ => e.to_string(),
    })?;
    let site = store.meta("site_id").unwrap_or_else(|| "unknown".into());
    let locale = locale(store);
    let topics = Topics::new(&site);
    let site = EffectsSite {
        policies,
        facility: crate::shared::Shared::new(Facility::default()),
        contacts: BTreeMap::new(),
        topics,
        locale,
        site: (site.clone(), site),
        callback_phone: None,
    };
    let effects = Effects::new(store.clone(), alert_targets(store)?, site, clock);
    let applied = effects.apply(outputs).await;
    if let Some(e) = applied.failure {
        return Err(format!("the change could not be stored: {e}"));
    }
    for a in applied.changed {
        println!("{}", payload::alert(&a, locale, &[]));
    }
    Ok(())
}

/// The links that receive every alert, as the gateway recorded them at its last start (every
/// outbox in the store for a database written before that was recorded).
fn alert_targets(store: &Store) -> Result<BTreeMap<LinkId, Target>, String> {
    let links: Vec<LinkId> = match store.meta("alert_links") {
        Some(list) => list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(LinkId::new)
            .collect(),
        None => store.outbox_links(),
    };
    links
        .into_iter()
        .map(|id| {
            let outbox = store.outbox(&id).map_err(|e| e.to_string())?;
            Ok((
                id,
                Target {
                    outbox,
                    all_alerts: true,
                },
            ))
        })
        .collect()
}

/// The gateway is running: send the command over MQTT and wait for the new revision.
async fn online(
    dir: &Path,
    action: Action,
    id: Ulid,
    by: &str,
    note: Option<String>,
) -> Result<(), String> {
    let meta = |key: &str| -> Result<String, String> {
        std::fs::read_to_string(dir.join(format!("pingan-{key}"))).map_err(|_| {
            format!(
                "the gateway holds {} and did not leave its {key}; use the dashboard or MQTT",
                dir.display()
            )
        })
    };
    let site = meta("site")?;
    let broker = meta("mqtt")?;
    let (host, port) = broker.trim().rsplit_once(':').ok_or("bad broker address")?;
    let port: u16 = port.parse().map_err(|_| "bad broker port")?;
    let topics = Topics::new(site.trim());
    let verb = match action {
        Action::Ack => "ack",
        Action::Resolve => "resolve",
    };
    let mut opts = rumqttc::MqttOptions::new(format!("pingan-cli-{}", Ulid::new()), host, port);
    opts.set_max_packet_size(512 * 1024, 512 * 1024);
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 10);
    client
        .subscribe(topics.alert(id), rumqttc::QoS::AtLeastOnce)
        .await
        .map_err(|e| e.to_string())?;
    let body = serde_json::json!({"by": by, "note": note}).to_string();
    let cmd_topic = topics.alert_command(id, verb);
    let want = match action {
        Action::Ack => "acknowledged",
        Action::Resolve => "resolved",
    };
    let wait = async {
        let mut sent = false;
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) if !sent => {
                    sent = true;
                    client
                        .publish(
                            cmd_topic.clone(),
                            rumqttc::QoS::AtLeastOnce,
                            false,
                            body.clone(),
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&p.payload).unwrap_or_default();
                    if v["state"] == want || (action == Action::Ack && v["state"] == "resolved") {
                        println!("{v}");
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(format!("MQTT {host}:{port}: {e}")),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .map_err(|_| format!("no confirmation from the gateway within 5 s (unknown or already {want} alert?); see the gateway log"))?
}
