//! Care records changed while the pipeline runs: the running pipeline and engine use them at
//! once, and they survive a restart (`care`).

use std::time::Duration;

use pingan_drivers::{Measurement, Reading, Timestamp};
use ulid::Ulid;

use super::{Pipeline, Site};
use crate::alert::{Act, ActionSubject, Actor, AlertKind, Output, Via};
use crate::analytics::testkit::{local, secs, site_config};
use crate::care::{CareError, CareRecords};
use crate::config::{CareFlag, EscalationPolicy};
use crate::store::Store;

fn occupancy(device: &str, at: Timestamp, in_bed: bool) -> Reading {
    Reading::new(
        device,
        at,
        Measurement::BedOccupancy {
            in_bed,
            heart_rate: None,
            respiration_rate: None,
        },
    )
}

/// A night bed exit of `bed3` (R3) from `start`: the alert kinds the pipeline raised.
fn night_exit(p: &mut Pipeline, start: Timestamp) -> Vec<AlertKind> {
    let mut ids = |_: &crate::analytics::Finding| Ulid::new();
    let mut out = Vec::new();
    out.extend(
        p.on_reading(occupancy("bed3", start, true), &mut ids)
            .outputs,
    );
    out.extend(
        p.on_reading(occupancy("bed3", secs(start, 10), false), &mut ids)
            .outputs,
    );
    for s in 10..=70 {
        out.extend(p.on_tick(secs(start, s), &mut ids));
    }
    out.extend(
        p.on_reading(occupancy("bed3", secs(start, 80), true), &mut ids)
            .outputs,
    );
    out.into_iter()
        .filter_map(|o| match o {
            Output::Changed { alert, .. } if alert.revision == 1 => Some(alert.kind),
            _ => None,
        })
        .collect()
}

fn nurse() -> Actor {
    Actor::account("admin.wang")
}

async fn open(site: &Site, store: &Store) -> CareRecords {
    CareRecords::open(
        site.config.clone(),
        store.clone(),
        site.facility.clone(),
        site.policies.clone(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn bed_exit_watch_set_on_the_dashboard_is_used_by_the_running_pipeline() {
    let site = Site::new(site_config());
    let store = Store::temporary().unwrap();
    let care = open(&site, &store).await;
    let mut pipeline = Pipeline::for_site(&site);
    assert!(
        !night_exit(&mut pipeline, local(2, 0)).contains(&AlertKind::BedExit),
        "R3 is not watched in the site file"
    );
    let record = care
        .set_flags(
            "R3",
            Some(vec![CareFlag::BedExitWatch, CareFlag::Dementia]),
            &nurse(),
            Via::Http,
            Some("falls at night".into()),
            local(2, 5),
        )
        .await
        .unwrap();
    assert_eq!(
        record.act,
        Act::CareFlags {
            before: vec![CareFlag::Dementia],
            after: vec![CareFlag::Dementia, CareFlag::BedExitWatch],
            reset: false
        }
    );
    assert!(
        night_exit(&mut pipeline, local(2, 10)).contains(&AlertKind::BedExit),
        "the same pipeline, without a restart, watches R3 now"
    );
    let audit = store.actions(None, 10).unwrap();
    assert_eq!(audit, [record]);
    assert_eq!(audit[0].subject, ActionSubject::Resident("R3".into()));
    assert_eq!(audit[0].account.as_deref(), Some("admin.wang"));
}

#[tokio::test]
async fn changes_survive_a_restart_and_a_reset_brings_back_the_site_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let site = Site::new(site_config());
        let care = open(&site, &store).await;
        care.set_flags("R1", Some(vec![]), &nurse(), Via::Http, None, local(9, 0))
            .await
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let site = Site::new(site_config());
    let care = open(&site, &store).await;
    let r1 = site.facility.get().resident("R1").unwrap().clone();
    assert!(
        r1.care_flags.is_empty(),
        "the stored change applies at start"
    );
    let view = care.view();
    let v = view.residents.iter().find(|r| r.id == "R1").unwrap();
    assert!(v.changed);
    assert_eq!(
        v.site_flags,
        [CareFlag::BedExitWatch, CareFlag::FallRisk],
        "the file is untouched"
    );
    care.set_flags("R1", None, &nurse(), Via::Http, None, local(9, 5))
        .await
        .unwrap();
    assert!(
        site.facility
            .get()
            .resident("R1")
            .unwrap()
            .has(CareFlag::FallRisk)
    );
    assert!(!care.view().residents.iter().any(|r| r.changed));
    assert!(matches!(
        care.set_flags("R404", Some(vec![]), &nurse(), Via::Http, None, local(9, 6))
            .await,
        Err(CareError::UnknownResident(_))
    ));
}

#[tokio::test]
async fn an_escalation_change_reaches_open_alerts_at_their_next_level() {
    let mut config = site_config();
    config.contacts = serde_json::from_value(serde_json::json!([
        {"id": "nurse", "name": "Nurse"}, {"id": "head", "name": "Head nurse"}
    ]))
    .unwrap();
    config.escalation.policies = serde_json::from_value(serde_json::json!([
        {"name": "all", "levels": [{"contacts": ["nurse"], "timeout": "1m"}, {"contacts": ["nurse"]}]}
    ]))
    .unwrap();
    let site = Site::new(config);
    let store = Store::temporary().unwrap();
    let care = open(&site, &store).await;
    let mut engine = site.engine();
    let t0 = local(10, 0);
    let ev = crate::alert::Event::raise(
        AlertKind::Sos,
        crate::alert::Subject::Resident("R1".into()),
        crate::alert::Priority::High,
        t0,
    );
    engine.on_event(ev, Ulid::new());
    let policies: Vec<EscalationPolicy> = serde_json::from_value(serde_json::json!([
        {"name": "all", "levels": [{"contacts": ["nurse"], "timeout": "1m"}, {"contacts": ["head"]}]}
    ]))
    .unwrap();
    let bad: Vec<EscalationPolicy> = serde_json::from_value(serde_json::json!([
        {"name": "all", "levels": [{"contacts": ["nobody"]}]}
    ]))
    .unwrap();
    assert!(matches!(
        care.set_escalation(Some(bad), &nurse(), Via::Http, None, t0)
            .await,
        Err(CareError::InvalidEscalation(_))
    ));
    care.set_escalation(Some(policies), &nurse(), Via::Http, None, t0)
        .await
        .unwrap();
    let told: Vec<Vec<String>> = engine
        .on_tick(t0.plus(Duration::from_secs(61)))
        .into_iter()
        .filter_map(|o| match o {
            Output::Notify { contacts, .. } => Some(contacts),
            _ => None,
        })
        .collect();
    assert_eq!(told, [vec!["head".to_owned()]]);
    assert!(care.view().escalation.changed);
}
