//! The service core in-process on paused tokio time: escalation, acknowledgement, cancel
//! windows, supervision, a restart after downtime and clock jumps, through the real pipeline
//! task, alert task, effects and store — minutes of policy in milliseconds of real time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pingan_drivers::{ButtonKind, Measurement, Reading, Timestamp};
use tokio::sync::{broadcast, oneshot};

use super::alerts::{AlertTask, CommandRequest, Receipt};
use super::core::{self, Core, CoreInputs};
use super::effects::Target;
use super::live::Live;
use super::task::Tasks;
use crate::alert::{Alert, AlertKind, AlertState, CommandError, Via};
use crate::clock::{Clock, TokioClock};
use crate::config::{Config, LinkId};
use crate::mqtt::Topics;
use crate::mqtt::command::Action;
use crate::pipeline::Site;
use crate::store::{Outbox, Store};

const SITE: &str = r#"
[site]
id = "t"
name = "T"
[alerts]
cancel_window = "15s"
[[drivers]]
id = "sim"
driver = "sim"
[[floors]]
id = "1F"
[[rooms]]
id = "101"
floor = "1F"
[[residents]]
id = "R1"
name = "A"
birth_year = 1940
sex = "female"
room = "101"
[[devices]]
id = "w1"
model = "wristband"
driver = "sim"
resident = "R1"
report_interval = "2m"
[[contacts]]
id = "nurse"
name = "Nurse"
[[contacts]]
id = "charge"
name = "Charge nurse"
[[contacts]]
id = "er"
name = "Hospital"
green_channel = true
[[escalation.policies]]
name = "medical"
kinds = ["sos", "fall", "vitals"]
[[escalation.policies.levels]]
contacts = ["nurse"]
timeout = "60s"
[[escalation.policies.levels]]
contacts = ["charge"]
timeout = "120s"
[[escalation.policies.levels]]
contacts = ["er"]
"#;

/// 2027-01-15: a plausible clock.
const T0: Timestamp = Timestamp(1_800_000_000_000);

struct Harness {
    core: Core,
    changes: broadcast::Receiver<Alert>,
    local: Outbox,
    clock: Arc<TokioClock>,
    // Dropped last: the store's directory.
    store: Store,
    _tasks: Tasks,
}

async fn start(store: Store, clock: Arc<TokioClock>) -> Harness {
    let config = Config::parse(SITE, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let site = Site::new(config);
    let local = store.outbox(&LinkId::local()).unwrap();
    let targets = BTreeMap::from([(
        LinkId::local(),
        Target {
            outbox: local.clone(),
            all_alerts: true,
        },
    )]);
    let mut tasks = Tasks::default();
    let core = core::start(
        CoreInputs {
            site,
            store: store.clone(),
            clock: clock.clone(),
            live: Arc::new(Live::default()),
            topics: Topics::new("t"),
            targets,
            telemetry: Vec::new(),
            watched: vec![(LinkId::local(), local.clone())],
            alerts: AlertTask::builder(),
            fall_detection: false,
            problems: Vec::new(),
        },
        &mut tasks,
    )
    .await
    .unwrap();
    let changes = core.changes.subscribe();
    Harness {
        core,
        changes,
        local,
        clock,
        store,
        _tasks: tasks,
    }
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

impl Harness {
    async fn reading(&self, m: Measurement) {
        let r = Reading::new("w1", self.clock.now(), m);
        self.core.sink.send(r).await.unwrap();
    }

    async fn sos(&self) {
        self.reading(Measurement::Button {
            button: ButtonKind::Sos,
        })
        .await;
    }

    /// The next alert change within `within` of (paused) time, if any.
    async fn next(&mut self, within: Duration) -> Option<Alert> {
        tokio::time::timeout(within, self.changes.recv())
            .await
            .ok()
            .map(|r| r.unwrap())
    }

    /// Waits (paused time) for a change that satisfies `want`.
    async fn until(&mut self, within: Duration, want: impl Fn(&Alert) -> bool) -> Alert {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(a) if want(&a) => return a,
                Some(_) => {}
                None => panic!("no matching alert change within {within:?}"),
            }
        }
    }

    async fn command(&self, id: ulid::Ulid, action: Action) -> Result<Alert, CommandError> {
        let (reply, rx) = oneshot::channel();
        let req = CommandRequest {
            id,
            action,
            by: crate::alert::Actor::account("Nurse Li"),
            note: None,
            via: Via::Http,
            reply: Some(reply),
        };
        self.core.commands.send(req).await.unwrap();
        rx.await.unwrap()
    }

    fn queued_topics(&self) -> Vec<String> {
        self.local
            .after(None, 1000)
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.topic)
            .collect()
    }

    fn elapsed_since(&self, t: Timestamp) -> Duration {
        self.clock.now().since(t)
    }
}

#[tokio::test(start_paused = true)]
async fn an_unacknowledged_sos_escalates_level_by_level_to_the_green_channel() {
    let (_dir, store) = temp_store();
    let mut h = start(store, Arc::new(TokioClock::starting_at(T0))).await;
    h.sos().await;
    let raised = h
        .until(Duration::from_secs(1), |a| a.kind == AlertKind::Sos)
        .await;
    assert!(
        h.queued_topics()
            .contains(&format!("pingan/t/notify/nurse/{}", raised.id))
    );
    let l1 = h
        .until(Duration::from_secs(120), |a| a.escalation_level == 1)
        .await;
    assert_eq!(l1.state, AlertState::Escalated);
    let after = h.elapsed_since(raised.raised_at);
    assert!(
        after >= Duration::from_secs(60) && after < Duration::from_secs(62),
        "level 1 after its 60 s timeout, not {after:?}"
    );
    assert!(
        h.queued_topics()
            .contains(&format!("pingan/t/notify/charge/{}", raised.id))
    );
    h.until(Duration::from_secs(200), |a| a.escalation_level == 2)
        .await;
    let after = h.elapsed_since(raised.raised_at);
    assert!(
        after >= Duration::from_secs(180) && after < Duration::from_secs(182),
        "{after:?}"
    );
    assert!(
        h.queued_topics()
            .contains(&format!("pingan/t/referrals/er/{}", raised.id))
    );
}

#[tokio::test(start_paused = true)]
async fn an_acknowledgement_inside_the_timeout_stops_escalation() {
    let (_dir, store) = temp_store();
    let mut h = start(store, Arc::new(TokioClock::starting_at(T0))).await;
    h.sos().await;
    let raised = h
        .until(Duration::from_secs(1), |a| a.kind == AlertKind::Sos)
        .await;
    tokio::time::sleep(Duration::from_secs(40)).await;
    let acked = h.command(raised.id, Action::Ack).await.unwrap();
    assert_eq!(acked.state, AlertState::Acknowledged);
    assert_eq!(acked.acknowledged_by.as_deref(), Some("Nurse Li"));
    // Ten minutes later nothing more happened to it.
    while let Some(a) = h.next(Duration::from_secs(600)).await {
        assert_ne!(a.state, AlertState::Escalated, "{a:?}");
    }
    assert!(!h.queued_topics().iter().any(|t| t.contains("/charge/")));
}

#[tokio::test(start_paused = true)]
async fn the_resident_may_cancel_inside_the_window_and_not_after() {
    let (_dir, store) = temp_store();
    let mut h = start(store, Arc::new(TokioClock::starting_at(T0))).await;
    let cancel = Measurement::Button {
        button: ButtonKind::Cancel,
    };
    h.sos().await;
    let first = h
        .until(Duration::from_secs(1), |a| a.kind == AlertKind::Sos)
        .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    h.reading(cancel.clone()).await;
    let done = h
        .until(Duration::from_secs(1), |a| {
            a.id == first.id && a.state == AlertState::Resolved
        })
        .await;
    assert_eq!(
        done.resolution.as_deref(),
        Some("cancelled by the resident")
    );

    h.sos().await;
    let second = h
        .until(Duration::from_secs(1), |a| {
            a.kind == AlertKind::Sos && a.id != first.id
        })
        .await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    h.reading(cancel).await;
    while let Some(a) = h.next(Duration::from_secs(5)).await {
        assert!(
            a.id != second.id || a.state != AlertState::Resolved,
            "cancelled too late"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_wristband_that_falls_silent_goes_offline_after_its_report_interval() {
    let (_dir, store) = temp_store();
    let mut h = start(store, Arc::new(TokioClock::starting_at(T0))).await;
    h.reading(Measurement::HeartRate { bpm: 72.0 }).await;
    let last = h.clock.now();
    let offline = h
        .until(Duration::from_secs(600), |a| {
            a.kind == AlertKind::DeviceOffline
        })
        .await;
    let silent = offline.raised_at.since(last);
    assert!(
        silent >= Duration::from_secs(120) && silent < Duration::from_secs(130),
        "offline after its 2 min report interval, not {silent:?}"
    );
    // It reports again: the alert clears (after the debounce).
    h.reading(Measurement::HeartRate { bpm: 70.0 }).await;
    h.until(Duration::from_secs(120), |a| {
        a.kind == AlertKind::DeviceOffline && a.condition_cleared || a.state == AlertState::Resolved
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn after_downtime_the_current_level_gets_its_full_timeout_from_the_restart() {
    let (_dir, store) = temp_store();
    let h = start(store.clone(), Arc::new(TokioClock::starting_at(T0))).await;
    h.sos().await;
    let mut h = h;
    let raised = h
        .until(Duration::from_secs(1), |a| a.kind == AlertKind::Sos)
        .await;
    drop(h);
    // Seven minutes of downtime: every deadline of the policy passed meanwhile.
    let back = T0.plus(Duration::from_secs(7 * 60));
    let mut h = start(store, Arc::new(TokioClock::starting_at(back))).await;
    let resumed = h.until(Duration::from_secs(1), |a| a.id == raised.id).await;
    assert_eq!(resumed.escalation_level, 0);
    assert_eq!(
        resumed.escalate_at,
        Some(back.plus(Duration::from_secs(60)))
    );
    let l1 = h
        .until(Duration::from_secs(120), |a| {
            a.id == raised.id && a.escalation_level == 1
        })
        .await;
    let after = h.elapsed_since(back);
    assert!(
        after >= Duration::from_secs(60) && after < Duration::from_secs(62),
        "{after:?}"
    );
    assert_eq!(
        l1.escalate_at,
        Some(back.plus(Duration::from_secs(60 + 120)))
    );
}

#[tokio::test(start_paused = true)]
async fn a_clock_jump_keeps_the_time_left_on_every_timer() {
    let (_dir, store) = temp_store();
    let clock = Arc::new(TokioClock::starting_at(T0));
    let mut h = start(store, clock.clone()).await;
    h.sos().await;
    let raised = h
        .until(Duration::from_secs(1), |a| a.kind == AlertKind::Sos)
        .await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    // NTP corrects the clock back by an hour: the nurse still has her remaining 30 s.
    clock.jump(-3_600_000);
    let l1 = h
        .until(Duration::from_secs(120), |a| {
            a.id == raised.id && a.escalation_level == 1
        })
        .await;
    let due = raised
        .raised_at
        .plus(Duration::from_secs(60))
        .minus(Duration::from_secs(3600));
    let late = clock.now().since(due);
    assert!(
        late < Duration::from_secs(2),
        "escalated {late:?} after the shifted deadline"
    );
    assert_eq!(l1.escalate_at, Some(due.plus(Duration::from_secs(120))));
}

#[tokio::test(start_paused = true)]
async fn a_clock_that_was_never_set_is_a_technical_alert() {
    let (_dir, store) = temp_store();
    // A box without RTC battery boots in 1970.
    let mut h = start(
        store,
        Arc::new(TokioClock::starting_at(Timestamp(86_400_000))),
    )
    .await;
    let a = h
        .until(Duration::from_secs(5), |a| a.kind == AlertKind::Technical)
        .await;
    assert_eq!(a.subject.key(), "gateway:clock");
    assert!(a.detail.contains("has not been set"), "{}", a.detail);
}

#[tokio::test(start_paused = true)]
async fn only_a_link_for_people_makes_an_alert_delivered() {
    let (_dir, store) = temp_store();
    let mut h = start(store, Arc::new(TokioClock::starting_at(T0))).await;
    h.sos().await;
    let raised = h
        .until(Duration::from_secs(1), |a| a.kind == AlertKind::Sos)
        .await;
    let receipt = |link: &str| Receipt {
        link: LinkId::new(link),
        alert: raised.id,
    };
    h.core.receipts.send(receipt("local")).await.unwrap();
    let seen = h.until(Duration::from_secs(1), |a| a.id == raised.id).await;
    assert_eq!(
        (seen.state, seen.delivered_to.clone()),
        (AlertState::Raised, vec!["local".to_owned()])
    );
    h.core.receipts.send(receipt("dashboard")).await.unwrap();
    let delivered = h.until(Duration::from_secs(1), |a| a.id == raised.id).await;
    assert_eq!(delivered.state, AlertState::Delivered);
    assert_eq!(delivered.delivered_to, vec!["dashboard", "local"]);
    let stored = h.store.alert(raised.id).unwrap().unwrap();
    assert_eq!(stored.delivered_to, vec!["dashboard", "local"]);
}
