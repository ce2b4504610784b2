use super::*;
use crate::alert::{AlertKind, AlertState, Location, Priority, Subject};
use crate::config::CareFlag;
use pingan_drivers::{DeviceId, Timestamp};
use ulid::Ulid;

fn alert() -> Alert {
    Alert {
        id: Ulid::from_parts(1, 1),
        revision: 3,
        kind: AlertKind::Fall,
        priority: Priority::High,
        subject: Subject::Resident("R0107".into()),
        resident: Some("R0107".into()),
        location: Location {
            floor: Some("2F".into()),
            room: Some("201".into()),
            bed: Some("201-A".into()),
        },
        device: Some(DeviceId::new("w-201a")),
        raised_at: Timestamp(1_700_000_000_000),
        last_seen: Timestamp(1_700_000_000_000),
        count: 1,
        state: AlertState::Escalated,
        escalation_level: 2,
        escalate_at: None,
        condition_cleared: false,
        cancel_until: None,
        green_channel: true,
        delivered_to: Vec::new(),
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_at: None,
        resolution: None,
        detail: String::new(),
        evidence: serde_json::Value::Null,
    }
}

fn resident() -> ResidentInfo {
    ResidentInfo {
        id: "R0107".into(),
        name: "陈伯".into(),
        birth_year: 1938,
        sex: Sex::Male,
        location: Location::default(),
        care_flags: vec![CareFlag::FallRisk],
    }
}

fn contact(share: bool, format: ReferralFormat) -> Contact {
    Contact {
        id: "h".into(),
        name: "Hospital".into(),
        phone: None,
        uplink: None,
        green_channel: true,
        share_identity: share,
        format,
    }
}

fn vitals() -> Vec<StoredReading> {
    vec![
        StoredReading {
            device: "w-201a".into(),
            at: Timestamp(1_699_999_990_000),
            value: serde_json::json!({"kind": "heart_rate", "bpm": 112.0}),
        },
        StoredReading {
            device: "w-201a".into(),
            at: Timestamp(1_699_999_990_000),
            value: serde_json::json!({"kind": "motion_summary", "n": 25}),
        },
    ]
}

#[test]
fn json_referral_is_pseudonymous_by_default() {
    let (a, r, v, c) = (
        alert(),
        resident(),
        vitals(),
        contact(false, ReferralFormat::Json),
    );
    let p = build(&ReferralInput {
        alert: &a,
        resident: Some(&r),
        vitals: &v,
        contact: &c,
        site: ("home", "Home"),
        callback_phone: Some("+86 750 1"),
        year: 2026,
    });
    assert_eq!(p["resident"], "R0107");
    assert_eq!(p["name"], serde_json::Value::Null);
    assert_eq!(p["age_band"], "80-89");
    assert_eq!(p["sex"], "male");
    assert_eq!(p["bed"], "201-A");
    assert_eq!(p["care_flags"], serde_json::json!(["fall_risk"]));
    assert_eq!(p["callback_phone"], "+86 750 1");
    assert_eq!(
        p["vitals"].as_array().unwrap().len(),
        1,
        "motion summaries are not vitals"
    );
    assert!(!p.to_string().contains("陈伯"));
}

#[test]
fn identity_is_shared_only_with_permitted_contacts() {
    let (a, r, v, c) = (
        alert(),
        resident(),
        vitals(),
        contact(true, ReferralFormat::Json),
    );
    let p = build(&ReferralInput {
        alert: &a,
        resident: Some(&r),
        vitals: &v,
        contact: &c,
        site: ("home", "Home"),
        callback_phone: None,
        year: 2026,
    });
    assert_eq!(p["name"], "陈伯");
}

#[test]
fn fhir_referral_is_a_bundle_with_communication_and_observations() {
    let (a, r, v, c) = (
        alert(),
        resident(),
        vitals(),
        contact(false, ReferralFormat::Fhir),
    );
    let p = build(&ReferralInput {
        alert: &a,
        resident: Some(&r),
        vitals: &v,
        contact: &c,
        site: ("home", "Home"),
        callback_phone: None,
        year: 2026,
    });
    assert_eq!(p["resourceType"], "Bundle");
    let types: Vec<&str> = p["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["Communication", "Patient", "Observation"]);
    let obs = &p["entry"][2]["resource"];
    assert_eq!(obs["code"]["coding"][0]["code"], "8867-4");
    assert_eq!(obs["valueQuantity"]["value"], 112.0);
    assert_eq!(obs["subject"]["reference"], "Patient/R0107");
    assert!(!p.to_string().contains("陈伯"));
}
