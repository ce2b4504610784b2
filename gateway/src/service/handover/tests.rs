use std::sync::atomic::{AtomicI64, Ordering};

use pingan_drivers::Timestamp;

use super::*;
use crate::alert::{AlertKind, AuditAction, Priority};
use crate::clock::{Clock, TokioClock};
use crate::config::{Config, LinkId};
use crate::report::testkit::{local, trail};

/// Tokio's paused clock plus an offset a test can change: a wall clock that is set back.
#[derive(Debug)]
struct JumpClock {
    tokio: TokioClock,
    offset_ms: AtomicI64,
}

impl Clock for JumpClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.tokio.now().millis() + self.offset_ms.load(Ordering::Relaxed))
    }
}

const SITE: &str = "[site]\nid = \"home\"\nname = \"Home\"\n[[drivers]]\nid = \"sim\"\ndriver = \"sim\"\n\
    [[floors]]\nid = \"1F\"\n[[rooms]]\nid = \"101\"\nfloor = \"1F\"\n\
    [[residents]]\nid = \"R1\"\nname = \"Chen\"\nbirth_year = 1940\nsex = \"female\"\nroom = \"101\"\n\
    [[devices]]\nid = \"w-1\"\nmodel = \"wristband\"\ndriver = \"sim\"\nresident = \"R1\"\n";

struct Rig {
    store: Store,
    outbox: Outbox,
    clock: Arc<JumpClock>,
    sources: HandoverSources,
}

fn rig(store: Store, at: Timestamp) -> Rig {
    let config = Config::parse(SITE, "site.toml").unwrap();
    let clock = Arc::new(JumpClock {
        tokio: TokioClock::starting_at(at),
        offset_ms: AtomicI64::new(0),
    });
    let shared: SharedClock = clock.clone();
    let sources = HandoverSources {
        setup: ReportSetup::from_config(&config),
        site: "home".into(),
        store: store.clone(),
        facility: crate::shared::Shared::new(Facility::from_config(&config)),
        live: Arc::default(),
        commands: DeviceCommands::default(),
        clock: shared,
    };
    Rig {
        outbox: store.outbox(&LinkId::local()).unwrap(),
        store,
        clock,
        sources,
    }
}

impl Rig {
    fn start(&self) -> (mpsc::Sender<HandoverRequest>, CancellationToken) {
        let builder = HandoverTask::builder();
        let input = builder.input();
        let stop = CancellationToken::new();
        let task = builder.build(
            self.sources.clone(),
            vec![self.outbox.clone()],
            Topics::new("home"),
            stop.clone(),
        );
        tokio::spawn(task.run());
        (input, stop)
    }

    /// Waits (in paused time, so minutes pass at once) until the outbox holds `n` messages.
    async fn outbox_holds(&self, n: usize, within: Duration) -> Vec<serde_json::Value> {
        let end = tokio::time::Instant::now() + within;
        while self.outbox.len() < n && tokio::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        self.outbox
            .after(None, 100)
            .unwrap()
            .into_iter()
            .map(|(_, e)| {
                assert_eq!((e.topic.as_str(), e.retain), ("pingan/home/handover", true));
                serde_json::from_str(&e.payload).unwrap()
            })
            .collect()
    }
}

impl Rig {
    /// Waits until the end of the shift last handed over is recorded (right after the handover
    /// is flushed to disk, which takes real time: the wait is in real time) and checks it is
    /// `end`.
    async fn remembers(&self, end: Timestamp) {
        let want = Some(end.millis().to_string());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.store.meta(LAST_END) != want && std::time::Instant::now() < deadline {
            let _ =
                tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5))).await;
        }
        assert_eq!(self.store.meta(LAST_END), want);
    }
}

fn put(store: &Store, t: &crate::alert::AlertTrail) {
    for e in &t.audit {
        store.put_alert_unflushed(&t.alert, Some(e)).unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn the_night_shift_is_handed_over_at_seven_and_published_without_notes() {
    let store = Store::temporary().unwrap();
    let sos = trail(
        1,
        AlertKind::Sos,
        Priority::High,
        local(2, 0),
        &[
            (AuditAction::Acknowledged, 1, Some("li")),
            (AuditAction::Resolved, 4, Some("li")),
        ],
    );
    put(&store, &sos);
    let r = rig(store, local(6, 58));
    let (_input, stop) = r.start();
    let got = r.outbox_holds(1, Duration::from_secs(600)).await;
    assert_eq!(got.len(), 1, "one handover at 07:00");
    let h = &got[0];
    assert_eq!(
        (h["v"].as_u64(), h["type"].as_str()),
        (Some(1), Some("handover"))
    );
    assert_eq!(
        (h["shift"].as_str(), h["shift_date"].as_str()),
        (Some("night"), Some("2026-06-30"))
    );
    assert_eq!(h["trigger"], "shift_end");
    assert_eq!(h["events"][0]["kind"], "sos");
    assert_eq!(h["events"][0]["outcome"], "resolved");
    assert_eq!(h["events"][0]["closed_by"], "li");
    assert!(
        !h.to_string().contains("at the bedside"),
        "notes stay on the dashboard: {h}"
    );
    assert!(r.clock.now() >= local(7, 0));
    let kept: Vec<Handover> = r.store.handovers(5).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].events[0].note.as_deref(), Some("at the bedside"));
    r.remembers(local(7, 0)).await;
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_clock_set_back_across_the_shift_end_does_not_hand_over_twice() {
    let r = rig(Store::temporary().unwrap(), local(6, 59));
    let (_input, stop) = r.start();
    assert_eq!(r.outbox_holds(1, Duration::from_secs(300)).await.len(), 1);
    // Someone sets the clock back ten minutes: 07:00 passes again.
    r.clock.offset_ms.store(-10 * 60_000, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    assert!(r.clock.now() > local(7, 5));
    assert_eq!(r.outbox.len(), 1, "handed over once");
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn on_demand_hands_over_the_current_shift_for_the_person_who_asked() {
    let r = rig(Store::temporary().unwrap(), local(9, 0));
    let (input, stop) = r.start();
    let (reply, rx) = oneshot::channel();
    input
        .send(HandoverRequest {
            by: "Wang Fang (station1)".into(),
            reply,
        })
        .await
        .unwrap();
    let h = rx.await.unwrap().unwrap();
    assert_eq!(
        (h.shift.shift.as_str(), h.trigger),
        ("day", Trigger::OnDemand)
    );
    assert_eq!(h.by.as_deref(), Some("Wang Fang (station1)"));
    let got = r.outbox_holds(1, Duration::from_secs(1)).await;
    assert_eq!(got[0]["by"], "Wang Fang (station1)");
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_shift_that_ended_while_the_gateway_was_stopped_is_handed_over_at_the_next_start() {
    let store = Store::temporary().unwrap();
    // The gateway last handed over the night shift, then stopped during the day shift.
    store
        .set_meta(LAST_END, &local(7, 0).millis().to_string())
        .unwrap();
    let r = rig(store.clone(), local(15, 30));
    let (_input, stop) = r.start();
    let got = r.outbox_holds(1, Duration::from_secs(5)).await;
    assert_eq!(got[0]["shift"], "day");
    r.remembers(local(15, 0)).await;
    stop.cancel();
    // Started again a little later: nothing new to hand over.
    let again = rig(store, local(15, 40));
    let (_input, stop) = again.start();
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(again.outbox.len(), 1);
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn the_first_start_of_a_new_gateway_hands_over_nothing_at_once() {
    let r = rig(Store::temporary().unwrap(), local(15, 30));
    let (_input, stop) = r.start();
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(r.outbox.is_empty());
    assert_eq!(
        r.store.meta(LAST_END),
        Some(local(15, 0).millis().to_string())
    );
    stop.cancel();
}
