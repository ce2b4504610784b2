//! Development server for the nurse-station dashboard: the real router over an in-memory
//! backend (the real alert engine, no storage, no MQTT) with a small facility and a few alerts;
//! an SOS is raised 1 s after start (`PINGAN_DEV_SOS_DELAY_MS` changes the delay).
//!
//! ```text
//! cargo run -p pingan-gateway --example dashboard_dev [ADDR]     # ADDR default 127.0.0.1:0
//! ```
//! Prints `url=…`, `user=…`, `password=…` (a fresh random password, no default), then one line
//! `alert <topic> <json>` per published alert change, as the gateway would publish it on MQTT.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use pingan_drivers::{DeviceId, HealthState, Timestamp};
use pingan_gateway::alert::{
    AlertKind, EngineSettings, Event, Level, Location, Policies, Priority, Subject,
};
use pingan_gateway::config::{CareFlag, DeviceModel};
use pingan_gateway::web::backend::{
    DeviceCommandView, DeviceView, News2View, ResidentView, StatusView, UplinkView, VitalsView,
};
use pingan_gateway::web::memory::MemoryBackend;
use tokio_util::sync::CancellationToken;

const SITE: &str = "demo";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let accounts = pingan_gateway::store::Store::temporary()?.accounts()?;
    let (user, password) = pingan_gateway::web::create_demo_user(&accounts)?;
    let backend = Arc::new(MemoryBackend::new(
        accounts,
        EngineSettings {
            cancel_window: Duration::from_secs(10),
            clear_debounce: Duration::from_secs(30),
        },
        std::sync::Arc::new(policies()),
        status(),
    ));
    let now = Timestamp::now();
    backend.set_residents(residents(now));
    backend.set_devices(devices(now));
    seed_alerts(&backend, now);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("url=http://{}/", listener.local_addr()?);
    println!("user={user}");
    println!("password={password}");

    let shutdown = CancellationToken::new();
    let mut rx = pingan_gateway::web::Backend::subscribe(&*backend);
    tokio::spawn(async move {
        while let Ok(a) = rx.recv().await {
            if let Ok(json) = serde_json::to_string(&a) {
                println!("alert pingan/{SITE}/alerts/{} {json}", a.id);
            }
        }
    });
    let sos_delay = std::env::var("PINGAN_DEV_SOS_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let b = backend.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(sos_delay)).await;
        let mut ev = Event::raise(
            AlertKind::Sos,
            Subject::Resident("R0101".into()),
            Priority::High,
            Timestamp::now(),
        );
        ev.location = loc("2", "201", Some("A"));
        ev.device = Some(DeviceId::new("w-201a"));
        ev.detail = "SOS button pressed".into();
        ev.evidence = serde_json::json!({ "button": "sos", "heart_rate": 96, "spo2": 95 });
        if let Some(a) = b.event(ev) {
            tokio::time::sleep(Duration::from_millis(150)).await;
            b.delivered(a.id, Timestamp::now());
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            b.tick(Timestamp::now());
        }
    });
    let s = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        s.cancel();
    });
    pingan_gateway::web::serve(listener, backend, shutdown).await?;
    Ok(())
}

fn loc(floor: &str, room: &str, bed: Option<&str>) -> Location {
    Location {
        floor: Some(floor.into()),
        room: Some(room.into()),
        bed: bed.map(Into::into),
    }
}

fn policies() -> Policies {
    let mut by_kind = HashMap::new();
    for kind in AlertKind::ALL {
        by_kind.insert(
            kind,
            vec![
                Level {
                    contacts: vec!["nurse-on-duty".into()],
                    timeout: Some(Duration::from_secs(90)),
                },
                Level {
                    contacts: vec!["charge-nurse".into()],
                    timeout: Some(Duration::from_secs(180)),
                },
                Level {
                    contacts: vec!["hospital".into()],
                    timeout: None,
                },
            ],
        );
    }
    Policies::new(by_kind, vec!["hospital".into()])
}

fn status() -> StatusView {
    StatusView {
        site: SITE.into(),
        site_name: "江门蓬江颐养院 · 二楼".into(),
        locale: "zh-CN".into(),
        uptime_s: 3 * 86_400 + 4_000,
        readings_per_s: 42.5,
        readings_total: 11_034_220,
        open_alerts: 0,
        uplinks: vec![
            UplinkView {
                id: "institution".into(),
                connected: true,
                outbox_depth: 0,
            },
            UplinkView {
                id: "hospital".into(),
                connected: false,
                outbox_depth: 3,
            },
        ],
        storage_bytes: 312 << 20,
        storage_max_bytes: 2 << 30,
        fall_detection: true,
        timezone: "Asia/Shanghai".into(),
    }
}

fn resident(
    id: &str,
    name: &str,
    l: Location,
    flags: Vec<CareFlag>,
    in_bed: Option<bool>,
) -> ResidentView {
    ResidentView {
        id: id.into(),
        name: name.into(),
        location: l,
        care_flags: flags,
        in_bed,
        away: None,
        vitals: VitalsView::default(),
        news2: None,
    }
}

fn residents(now: Timestamp) -> Vec<ResidentView> {
    let ago = |s: i64| Some(Timestamp(now.0 - s * 1000));
    let mut v = vec![
        resident(
            "R0101",
            "陈秀英",
            loc("2", "201", Some("A")),
            vec![CareFlag::FallRisk],
            Some(false),
        ),
        resident(
            "R0102",
            "李桂兰",
            loc("2", "201", Some("B")),
            vec![],
            Some(true),
        ),
        resident(
            "R0103",
            "黄志强",
            loc("2", "202", Some("A")),
            vec![CareFlag::Dementia, CareFlag::BedExitWatch],
            Some(true),
        ),
        resident(
            "R0104",
            "梁淑芬",
            loc("2", "203", Some("A")),
            vec![CareFlag::Hypercapnic],
            None,
        ),
        resident(
            "R0105",
            "吴建国",
            loc("3", "301", Some("A")),
            vec![CareFlag::LivesAlone],
            Some(false),
        ),
    ];
    let vitals = [
        (96.0, 95.0, 18.0, 36.8, 128.0, 1, "routine", 40),
        (72.0, 97.0, 16.0, 36.5, 122.0, 0, "routine", 120),
        (88.0, 94.0, 21.0, 37.9, 104.0, 4, "ward", 300),
        (112.0, 89.0, 26.0, 38.6, 92.0, 9, "emergency", 60),
        (64.0, 98.0, 14.0, 36.4, 135.0, 0, "routine", 900),
    ];
    for (r, (hr, spo2, rr, t, sbp, score, resp, age)) in v.iter_mut().zip(vitals) {
        r.vitals = VitalsView {
            heart_rate: Some(hr),
            spo2: Some(spo2),
            respiration_rate: Some(rr),
            temperature: Some(t),
            systolic: Some(sbp),
            at: ago(age),
        };
        r.away = Some(r.id == "R0105");
        r.news2 = Some(News2View {
            score,
            partial: false,
            response: resp.into(),
        });
    }
    v
}

fn devices(now: Timestamp) -> Vec<DeviceView> {
    let d =
        |id: &str, model, resident: Option<&str>, l, health, battery: Option<f32>, age_s: i64| {
            DeviceView {
                id: id.into(),
                model,
                resident: resident.map(Into::into),
                location: l,
                health,
                battery,
                last_seen: Some(Timestamp(now.0 - age_s * 1000)),
                commands: Vec::new(),
            }
        };
    let silence = || DeviceCommandView {
        name: "silence".into(),
        description: Some("Silence the local sounder".into()),
    };
    let mut list = vec![
        d(
            "w-201a",
            DeviceModel::Wristband,
            Some("R0101"),
            loc("2", "201", Some("A")),
            HealthState::Online,
            Some(76.0),
            2,
        ),
        d(
            "w-201b",
            DeviceModel::Wristband,
            Some("R0102"),
            loc("2", "201", Some("B")),
            HealthState::Online,
            Some(54.0),
            3,
        ),
        d(
            "bed-202a",
            DeviceModel::BedMat,
            Some("R0103"),
            loc("2", "202", Some("A")),
            HealthState::Online,
            None,
            1,
        ),
        d(
            "w-203a",
            DeviceModel::Wristband,
            Some("R0104"),
            loc("2", "203", Some("A")),
            HealthState::Degraded,
            Some(12.0),
            95,
        ),
        d(
            "panel-2",
            DeviceModel::CallPanel,
            None,
            loc("2", "corridor", None),
            HealthState::Online,
            None,
            5,
        ),
        d(
            "smoke-2",
            DeviceModel::SmokeDetector,
            None,
            loc("2", "corridor", None),
            HealthState::Offline,
            Some(40.0),
            7_200,
        ),
        d(
            "smoke-3",
            DeviceModel::SmokeDetector,
            None,
            loc("3", "corridor", None),
            HealthState::Online,
            None,
            4,
        ),
    ];
    // The detectors take their profile's commands (the in-memory backend carries them out;
    // the offline one fails).
    for d in list
        .iter_mut()
        .filter(|d| d.model == DeviceModel::SmokeDetector)
    {
        d.commands = vec![
            silence(),
            DeviceCommandView {
                name: "reset".into(),
                description: Some("Reset the latched alarm".into()),
            },
        ];
    }
    list
}

fn fall_samples() -> serde_json::Value {
    // 3 s at 25 Hz: standing (z ≈ 1 g), a 3.4 g impact, then lying still (x ≈ 1 g).
    let hz = 25.0_f32;
    let samples: Vec<[f32; 3]> = (0..75)
        .map(|i| {
            let t = i as f32 / hz;
            let wobble = (t * 9.0).sin() * 0.05;
            if t < 1.2 {
                [0.02 + wobble, 0.03, 0.98 - wobble]
            } else if t < 1.5 {
                let k = (t - 1.2) / 0.3;
                [2.6 * (k * 3.1).sin(), -1.2 * k, 0.2 + 3.2 * (k * 3.1).sin()]
            } else {
                [0.97 + wobble * 0.2, 0.05, 0.08]
            }
        })
        .collect();
    serde_json::json!({ "peak_g": 3.4, "hz": hz, "samples": samples, "heart_rate": 104 })
}

fn seed_alerts(b: &MemoryBackend, now: Timestamp) {
    let at = |s: i64| Timestamp(now.0 - s * 1000);
    let mut fall = Event::raise(
        AlertKind::Fall,
        Subject::Resident("R0104".into()),
        Priority::High,
        at(50),
    );
    fall.location = loc("2", "203", Some("A"));
    fall.device = Some(DeviceId::new("w-203a"));
    fall.detail = "fall detected, no movement after impact".into();
    fall.evidence = fall_samples();
    if let Some(a) = b.event(fall) {
        b.delivered(a.id, at(49));
    }
    let mut exit = Event::raise(
        AlertKind::BedExit,
        Subject::Resident("R0103".into()),
        Priority::Medium,
        at(200),
    );
    exit.location = loc("2", "202", Some("A"));
    exit.detail = "left the bed at night".into();
    if let Some(a) = b.event(exit) {
        b.delivered(a.id, at(199));
        let _ = b.command(
            a.id,
            &pingan_gateway::alert::Actor::account_with_name("station1", Some("王芳".into())),
            Some("已到房间，老人去洗手间"),
            pingan_gateway::alert::Via::Mqtt,
            false,
        );
    }
    let mut bat = Event::raise(
        AlertKind::LowBattery,
        Subject::Device(DeviceId::new("w-203a")),
        Priority::Low,
        at(900),
    );
    bat.location = loc("2", "203", Some("A"));
    bat.evidence = serde_json::json!({ "battery": 12 });
    b.event(bat);
    let mut env = Event::raise(
        AlertKind::Environment,
        Subject::Room("305".into()),
        Priority::Medium,
        at(1500),
    );
    env.location = loc("3", "305", None);
    env.evidence = serde_json::json!({ "temperature": 31.5, "humidity": 82 });
    if let Some(a) = b.event(env) {
        let _ = b.command(
            a.id,
            &pingan_gateway::alert::Actor::account_with_name("station1", Some("李明".into())),
            Some("空调已开"),
            pingan_gateway::alert::Via::Http,
            true,
        );
    }
}
