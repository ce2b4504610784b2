//! The care-record overlay: what people changed over the site file from the dashboard — a
//! resident's care flags, the escalation policies — and how it is laid over the file. Pure.
//!
//! The site file stays the source of the building, the devices, the residents themselves and the
//! contacts; the overlay holds only the fields people may change while the gateway runs, and for
//! those it wins until an admin resets it (docs/CONFIG.md, "Care records").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{CareFlag, Config, EscalationPolicy};

/// What people changed over the site file (stored in the `care` tree, docs/STORAGE.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareOverlay {
    /// Care flags per resident id, in force instead of the site file's.
    #[serde(default)]
    pub residents: BTreeMap<String, Vec<CareFlag>>,
    /// Escalation policies in force instead of the site file's `[[escalation.policies]]`.
    #[serde(default)]
    pub escalation: Option<Vec<EscalationPolicy>>,
}

/// Why a care-record change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CareError {
    /// No resident with this id in the site file.
    #[error("no resident {0}")]
    UnknownResident(String),
    /// The escalation policies do not hold together (unknown contact, missing timeout, …).
    #[error("invalid escalation: {0}")]
    InvalidEscalation(String),
    /// Storing the change failed; nothing changed.
    #[error("storing the care record failed: {0}")]
    Store(String),
}

/// The flags once each, in the order of [`CareFlag`]'s declaration (so before/after compare).
pub fn normalize(flags: &[CareFlag]) -> Vec<CareFlag> {
    ALL_FLAGS
        .iter()
        .copied()
        .filter(|f| flags.contains(f))
        .collect()
}

/// Every care flag, in declaration order.
pub const ALL_FLAGS: [CareFlag; 6] = [
    CareFlag::FallRisk,
    CareFlag::Dementia,
    CareFlag::BedExitWatch,
    CareFlag::LivesAlone,
    CareFlag::Hypercapnic,
    CareFlag::SupplementalOxygen,
];

impl CareOverlay {
    /// The site file's config with the overlay laid over it.
    pub fn apply(&self, base: &Config) -> Config {
        let mut c = base.clone();
        for r in &mut c.residents {
            if let Some(flags) = self.residents.get(&r.id) {
                r.care_flags = flags.clone();
            }
        }
        if let Some(p) = &self.escalation {
            c.escalation.policies = p.clone();
        }
        c
    }

    /// Drops what no longer fits the site file: residents it no longer has, and escalation
    /// policies that name contacts it no longer has (or fail its checks otherwise). Returns a
    /// line for the log per dropped part.
    pub fn prune(&mut self, base: &Config) -> Vec<String> {
        let mut dropped = Vec::new();
        self.residents.retain(|id, _| {
            let known = base.residents.iter().any(|r| &r.id == id);
            if !known {
                dropped.push(format!(
                    "resident {id} is no longer in the site file; its stored care flags are dropped"
                ));
            }
            known
        });
        if let Some(p) = &self.escalation {
            if let Err(e) = check_escalation(base, p) {
                dropped.push(format!(
                    "the stored escalation no longer fits the site file ({e}); the site file's applies"
                ));
                self.escalation = None;
            }
        }
        dropped
    }
}

/// Checks escalation policies against the site file (contacts exist, one policy per kind, a
/// timeout on every level but the last, timeouts within a day): the config's own checks.
pub fn check_escalation(base: &Config, policies: &[EscalationPolicy]) -> Result<(), CareError> {
    let mut c = base.clone();
    c.escalation.policies = policies.to_vec();
    let problems: Vec<String> = c
        .problems()
        .into_iter()
        .filter(|(k, _)| k.starts_with("escalation"))
        .map(|(k, m)| format!("{k}: {m}"))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CareError::InvalidEscalation(problems.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = r#"
[site]
id = "t"
name = "T"
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
care_flags = ["fall_risk"]
[[contacts]]
id = "nurse"
name = "Nurse"
[[contacts]]
id = "head"
name = "Head nurse"
[[escalation.policies]]
name = "default"
[[escalation.policies.levels]]
contacts = ["nurse"]
"#;

    fn base() -> Config {
        Config::parse(SITE, "t.toml").unwrap()
    }

    fn two_levels(contact: &str) -> Vec<EscalationPolicy> {
        serde_json::from_value(serde_json::json!([{
            "name": "default", "kinds": [],
            "levels": [{"contacts": ["nurse"], "timeout": "2m"}, {"contacts": [contact]}]
        }]))
        .unwrap()
    }

    #[test]
    fn the_overlay_wins_for_its_fields_and_the_file_for_the_rest() {
        let mut o = CareOverlay::default();
        o.residents
            .insert("R1".into(), vec![CareFlag::BedExitWatch]);
        o.escalation = Some(two_levels("head"));
        let c = o.apply(&base());
        assert_eq!(c.residents[0].care_flags, [CareFlag::BedExitWatch]);
        assert_eq!(c.residents[0].room, "101");
        assert_eq!(c.escalation.policies[0].levels.len(), 2);
        assert!(c.problems().is_empty());
    }

    #[test]
    fn escalation_naming_an_unknown_contact_or_lacking_a_timeout_is_refused() {
        let e = check_escalation(&base(), &two_levels("nobody")).unwrap_err();
        assert!(e.to_string().contains("contacts[0]"), "{e}");
        let mut p = two_levels("head");
        p[0].levels[0].timeout = None;
        assert!(check_escalation(&base(), &p).is_err());
        assert!(check_escalation(&base(), &two_levels("head")).is_ok());
    }

    #[test]
    fn a_resident_gone_from_the_file_drops_its_flags_with_a_log_line() {
        let mut o = CareOverlay::default();
        o.residents.insert("R1".into(), vec![]);
        o.residents.insert("R9".into(), vec![CareFlag::Dementia]);
        o.escalation = Some(two_levels("gone"));
        let lines = o.prune(&base());
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("R9"));
        assert_eq!(o.residents.keys().collect::<Vec<_>>(), ["R1"]);
        assert_eq!(o.escalation, None);
    }

    #[test]
    fn flags_are_kept_once_in_a_fixed_order() {
        use CareFlag::*;
        assert_eq!(
            normalize(&[Dementia, FallRisk, Dementia]),
            [FallRisk, Dementia]
        );
    }
}
