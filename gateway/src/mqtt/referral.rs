//! Green-channel referral packets for hospital contacts: minimal and pseudonymous unless the
//! contact may see identities; JSON or an HL7 FHIR R4 Bundle. Pure: data in, JSON out.

use chrono::Datelike;
use serde_json::{Value, json};

use super::payload::{VERSION, rfc3339};
use crate::alert::Alert;
use crate::config::{Contact, ReferralFormat, Sex};
use crate::facility::ResidentInfo;
use crate::store::StoredReading;
use pingan_drivers::Measurement;

/// What a referral is built from.
#[derive(Debug)]
pub struct ReferralInput<'a> {
    /// The alert.
    pub alert: &'a Alert,
    /// The resident, when the alert is about one.
    pub resident: Option<&'a ResidentInfo>,
    /// Readings of the resident's devices over the last 10 minutes.
    pub vitals: &'a [StoredReading],
    /// The contact receiving it.
    pub contact: &'a Contact,
    /// Site id and name.
    pub site: (&'a str, &'a str),
    /// The facility's callback number.
    pub callback_phone: Option<&'a str>,
    /// The current year (for the age band).
    pub year: i32,
}

/// A ten-year age band such as `"80-89"`; exact ages identify people.
pub fn age_band(birth_year: u16, year: i32) -> String {
    let age = (year - i32::from(birth_year)).max(0);
    let low = age / 10 * 10;
    format!("{low}-{}", low + 9)
}

fn sex_str(s: Sex) -> &'static str {
    match s {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Other => "other",
    }
}

/// Builds the referral in the contact's format.
pub fn build(input: &ReferralInput<'_>) -> Value {
    match input.contact.format {
        ReferralFormat::Json => json_packet(input),
        ReferralFormat::Fhir => fhir_bundle(input),
    }
}

fn vitals_json(readings: &[StoredReading]) -> Vec<Value> {
    readings
        .iter()
        .filter(|r| r.value.get("kind").and_then(Value::as_str) != Some("motion_summary"))
        .map(|r| {
            let mut v = r.value.clone();
            if let Value::Object(m) = &mut v {
                m.insert("at".into(), json!(rfc3339(r.at)));
                m.insert("device".into(), json!(r.device));
            }
            v
        })
        .collect()
}

fn json_packet(i: &ReferralInput<'_>) -> Value {
    let a = i.alert;
    let r = i.resident;
    json!({
        "v": VERSION,
        "type": "referral",
        "alert_id": a.id.to_string(),
        "revision": a.revision,
        "site": i.site.0,
        "facility": i.site.1,
        "callback_phone": i.callback_phone,
        "resident": a.resident,
        "name": if i.contact.share_identity { r.map(|r| r.name.clone()) } else { None },
        "age_band": r.map(|r| age_band(r.birth_year, i.year)),
        "sex": r.map(|r| sex_str(r.sex)),
        "floor": a.location.floor,
        "room": a.location.room,
        "bed": a.location.bed,
        "kind": a.kind,
        "priority": a.priority,
        "state": a.state,
        "raised_at": rfc3339(a.raised_at),
        "escalation_level": a.escalation_level,
        "care_flags": r.map(|r| r.care_flags.clone()).unwrap_or_default(),
        "vitals": vitals_json(i.vitals),
        "evidence": a.evidence,
    })
}

/// LOINC coding of the vitals Pingan measures.
fn observation(r: &StoredReading, subject: &str, id: usize) -> Option<Value> {
    let m = r.measurement()?;
    let quantity = |code: &str, display: &str, value: f32, unit: &str, ucum: &str| {
        json!({
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum},
        })
    };
    let body = match m {
        Measurement::HeartRate { bpm } => {
            quantity("8867-4", "Heart rate", bpm, "beats/minute", "/min")
        }
        Measurement::SpO2 { percent } => quantity(
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
            percent,
            "%",
            "%",
        ),
        Measurement::RespirationRate { per_min } => quantity(
            "9279-1",
            "Respiratory rate",
            per_min,
            "breaths/minute",
            "/min",
        ),
        Measurement::BodyTemperature { celsius } => {
            quantity("8310-5", "Body temperature", celsius, "Cel", "Cel")
        }
        Measurement::BloodPressure {
            systolic,
            diastolic,
            ..
        } => json!({
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]},
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic blood pressure"}]},
                 "valueQuantity": {"value": systolic, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4", "display": "Diastolic blood pressure"}]},
                 "valueQuantity": {"value": diastolic, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
            ]
        }),
        _ => return None,
    };
    let mut obs = json!({
        "resourceType": "Observation",
        "id": format!("obs-{id}"),
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "subject": {"reference": subject},
        "effectiveDateTime": rfc3339(r.at),
    });
    if let (Value::Object(o), Value::Object(b)) = (&mut obs, body) {
        o.extend(b);
    }
    Some(obs)
}

fn fhir_bundle(i: &ReferralInput<'_>) -> Value {
    let a = i.alert;
    let pid = a.resident.clone().unwrap_or_else(|| "unknown".into());
    let patient_ref = format!("Patient/{pid}");
    let mut patient = json!({
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": format!("urn:pingan:{}:resident", i.site.0), "value": pid}],
    });
    if let (Some(r), Value::Object(p)) = (i.resident, &mut patient) {
        p.insert("gender".into(), json!(sex_str(r.sex)));
        // Only the birth decade leaves the site unless identities may be shared.
        if i.contact.share_identity {
            p.insert("name".into(), json!([{"text": r.name}]));
            p.insert("birthDate".into(), json!(format!("{:04}", r.birth_year)));
        } else {
            p.insert("extension".into(), json!([{"url": "urn:pingan:age-band", "valueString": age_band(r.birth_year, i.year)}]));
        }
    }
    let observations: Vec<Value> = i
        .vitals
        .iter()
        .enumerate()
        .filter_map(|(n, r)| observation(r, &patient_ref, n))
        .collect();
    let text = format!(
        "{} alert for resident {pid} at {} room {} bed {} since {}; callback {}",
        a.kind,
        i.site.1,
        a.location.room.as_deref().unwrap_or("-"),
        a.location.bed.as_deref().unwrap_or("-"),
        rfc3339(a.raised_at),
        i.callback_phone.unwrap_or("-"),
    );
    let communication = json!({
        "resourceType": "Communication",
        "id": a.id.to_string(),
        "status": "in-progress",
        "priority": "stat",
        "category": [{"text": "green-channel referral"}],
        "subject": {"reference": patient_ref},
        "sent": rfc3339(a.raised_at),
        "payload": [{"contentString": text}],
        "about": observations.iter().filter_map(|o| o.get("id")).map(|id| json!({"reference": format!("Observation/{}", id.as_str().unwrap_or(""))})).collect::<Vec<_>>(),
    });
    let mut entries = vec![communication, patient];
    entries.extend(observations);
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "id": format!("{}-{}", a.id, a.revision),
        "timestamp": rfc3339(a.last_seen),
        "meta": {"tag": [{"system": "urn:pingan", "code": "v1"}]},
        "entry": entries.into_iter().map(|r| json!({"fullUrl": format!("urn:pingan:{}/{}", r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or("")), "resource": r})).collect::<Vec<_>>(),
    })
}

/// The year (UTC) of a time: age bands need no more precision.
pub fn year_of(at: pingan_drivers::Timestamp) -> i32 {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .year()
}

#[cfg(test)]
mod tests;
