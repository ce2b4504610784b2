//! The gateway's MQTT links, built from the config: the local link to the embedded broker and
//! one per uplink, each with its durable outbox, counters and telemetry queue. An uplink that
//! cannot be set up (unreadable certificate or password file) is left out and reported, so it
//! never stops local alerting.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pingan_drivers::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::effects::Target;
use super::pipeline::TelemetryOut;
use crate::config::{CommandIdentity, Config, LinkId, UplinkConfig};
use crate::mqtt::broker::LocalEndpoints;
use crate::mqtt::interest::Interest;
use crate::mqtt::link::{
    LinkEvent, LinkSettings, LinkStats, LinkTask, LocalLinkTask, TelemetryMsg,
};
use crate::mqtt::{Topics, payload, tls};
use crate::store::{Outbox, Store, StoreError};

/// One link as the status view sees it.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    /// The local broker's link or the uplink's id.
    pub id: LinkId,
    /// Counters.
    pub stats: Arc<LinkStats>,
    /// Its outbox.
    pub outbox: Outbox,
}

/// How a link connects.
#[derive(Debug)]
pub(super) enum Connect {
    /// In-process to the embedded broker's router.
    Local {
        endpoints: LocalEndpoints,
        subscribe: String,
        status: (String, String, String),
    },
    /// Over the network to an uplink's broker.
    Uplink(LinkSettings),
}

/// One link, ready to run.
#[derive(Debug)]
pub(super) struct Planned {
    /// How it connects.
    pub connect: Connect,
    /// Its status and outbox.
    pub info: LinkInfo,
    /// Its telemetry queue.
    pub telemetry: mpsc::Receiver<TelemetryMsg>,
}

impl Planned {
    /// The link's task: it reports to `events` and stops on `stop`.
    pub(super) async fn run(self, events: mpsc::Sender<LinkEvent>, stop: CancellationToken) {
        let Self {
            connect,
            info,
            telemetry,
        } = self;
        match connect {
            Connect::Local {
                endpoints,
                subscribe,
                status,
            } => {
                LocalLinkTask {
                    endpoints,
                    outbox: info.outbox,
                    telemetry,
                    events,
                    stats: info.stats,
                    subscribe,
                    status,
                    shutdown: stop,
                }
                .run()
                .await;
            }
            Connect::Uplink(settings) => {
                LinkTask {
                    settings,
                    outbox: info.outbox,
                    telemetry,
                    events,
                    stats: info.stats,
                    shutdown: stop,
                }
                .run()
                .await;
            }
        }
    }
}

/// Every link of the site.
#[derive(Debug, Default)]
pub(super) struct LinkPlan {
    /// The links, local first.
    pub links: Vec<Planned>,
    /// Effects targets by link.
    pub targets: BTreeMap<LinkId, Target>,
    /// Telemetry destinations (the local broker first).
    pub telemetry: Vec<TelemetryOut>,
    /// Links whose commands are accepted, with where each takes the acting person from.
    pub command_links: HashMap<LinkId, CommandIdentity>,
    /// Uplinks left out, with the reason.
    pub broken: Vec<(LinkId, String)>,
}

impl LinkPlan {
    /// Plans the local link (in-process to rumqttd's router over `local`) and every uplink of
    /// `config`.
    pub(super) fn new(
        config: &Config,
        store: &Store,
        topics: &Topics,
        now: Timestamp,
        local: LocalEndpoints,
        interest: Arc<Interest>,
    ) -> Result<Self, StoreError> {
        let mut plan = Self::default();
        let local = Connect::Local {
            endpoints: local,
            subscribe: topics.commands_filter(),
            status: (
                topics.status(),
                status_payload(config, true, now),
                status_payload(config, false, now),
            ),
        };
        plan.add(
            store,
            LinkId::local(),
            local,
            true,
            Some((config.mqtt.readings_min_interval, Some(interest))),
        )?;
        // Only the box reaches the loopback broker: its commands name their person in the body.
        plan.command_links
            .insert(LinkId::local(), CommandIdentity::Body);
        for u in &config.uplinks {
            let id = LinkId::new(&u.id);
            match uplink_settings(config, u, topics, now) {
                Ok(settings) => {
                    if u.commands {
                        plan.command_links.insert(id, u.command_identity);
                    }
                    let id = settings.id.clone();
                    let every = u.telemetry_interval;
                    let telemetry = every.map(|e| (e, None));
                    plan.add(store, id, Connect::Uplink(settings), u.alerts, telemetry)?;
                }
                Err(why) => {
                    tracing::error!(uplink = %u.id, error = %why, "uplink left out");
                    plan.broken.push((id, why));
                }
            }
        }
        Ok(plan)
    }

    fn add(
        &mut self,
        store: &Store,
        id: LinkId,
        connect: Connect,
        all_alerts: bool,
        telemetry: Option<(Duration, Option<Arc<Interest>>)>,
    ) -> Result<(), StoreError> {
        let outbox = store.outbox(&id)?;
        let stats = Arc::new(LinkStats::default());
        let (tx, rx) = mpsc::channel(4096);
        if let Some((interval, interest)) = telemetry {
            let out = TelemetryOut::new(interval, tx, stats.clone());
            self.telemetry.push(match interest {
                Some(i) => out.only_for_listeners(i),
                None => out,
            });
        }
        self.targets.insert(
            id.clone(),
            Target {
                outbox: outbox.clone(),
                all_alerts,
            },
        );
        let info = LinkInfo { id, stats, outbox };
        self.links.push(Planned {
            connect,
            info,
            telemetry: rx,
        });
        Ok(())
    }

    /// The links' status views.
    pub(super) fn infos(&self) -> Vec<LinkInfo> {
        self.links.iter().map(|l| l.info.clone()).collect()
    }
}

/// The gateway's well-known client id; the broker guard refuses it to every outside client, so
/// nobody can pass for the gateway on the local broker.
pub(super) fn local_client_id(config: &Config) -> String {
    format!("pingan-{}-gateway", config.site.id)
}

fn status_payload(config: &Config, online: bool, at: Timestamp) -> String {
    payload::status(&config.site.id, online, at).to_string()
}

fn uplink_settings(
    config: &Config,
    u: &UplinkConfig,
    topics: &Topics,
    now: Timestamp,
) -> Result<LinkSettings, String> {
    let urls = u.endpoints("uplink").map_err(|problems| {
        problems
            .into_iter()
            .map(|(_, why)| why)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let tls = match (&u.ca_file, urls.iter().any(|n| n.tls)) {
        (Some(ca), true) => {
            let client = u.client_cert.as_deref().zip(u.client_key.as_deref());
            Some(tls::client_config(ca, client).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    let credentials = match (&u.username, &u.password_file) {
        (Some(user), Some(file)) => Some((user.clone(), read_secret(file)?)),
        (Some(user), None) => Some((user.clone(), String::new())),
        _ => None,
    };
    Ok(LinkSettings {
        id: LinkId::new(&u.id),
        urls,
        client_id: u
            .client_id
            .clone()
            .unwrap_or_else(|| format!("pingan-{}-{}", config.site.id, u.id)),
        credentials,
        tls,
        clean_session: false,
        subscribe: u.commands.then(|| topics.commands_filter()),
        status_topic: topics.status(),
        online_payload: status_payload(config, true, now),
        offline_payload: status_payload(config, false, now),
        ack_timeout: u.ack_timeout,
        telemetry_interval: u.telemetry_interval,
        topics: topics.clone(),
        site: config.site.id.clone(),
    })
}

fn read_secret(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
        .map_err(|e| format!("cannot read password file {}: {e}", path.display()))
}
