//! Escalation policies resolved from the config: for each alert kind, the ordered levels of
//! contacts and their timeouts.

use std::collections::HashMap;
use std::time::Duration;

use super::types::AlertKind;
use crate::config::{Config, Contact};

/// One level: who is told, and how long they have before the next level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// Contact ids told at this level.
    pub contacts: Vec<String>,
    /// Time to acknowledge before the next level; `None` on the last level.
    pub timeout: Option<Duration>,
}

/// Escalation levels for every alert kind.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    by_kind: HashMap<AlertKind, Vec<Level>>,
    green_channel: Vec<String>,
}

impl Policies {
    /// Resolves the config's policies (already validated: contact ids exist).
    pub fn from_config(config: &Config) -> Self {
        let green: Vec<&Contact> = config.contacts.iter().filter(|c| c.green_channel).collect();
        let levels_of = |p: &crate::config::EscalationPolicy, kind: AlertKind| -> Vec<Level> {
            p.levels
                .iter()
                .map(|l| Level {
                    // Hospitals take referrals for medical emergencies only.
                    contacts: l
                        .contacts
                        .iter()
                        .filter(|c| kind.is_medical() || !green.iter().any(|g| &g.id == *c))
                        .cloned()
                        .collect(),
                    timeout: l.timeout,
                })
                .collect()
        };
        let default = config
            .escalation
            .policies
            .iter()
            .find(|p| p.kinds.is_empty());
        let mut by_kind = HashMap::new();
        for kind in AlertKind::ALL {
            let policy = config
                .escalation
                .policies
                .iter()
                .find(|p| p.kinds.contains(&kind))
                .or(default);
            if let Some(p) = policy {
                by_kind.insert(kind, levels_of(p, kind));
            }
        }
        Self {
            by_kind,
            green_channel: green.iter().map(|c| c.id.clone()).collect(),
        }
    }

    /// A policy table for tests and tools.
    pub fn new(by_kind: HashMap<AlertKind, Vec<Level>>, green_channel: Vec<String>) -> Self {
        Self {
            by_kind,
            green_channel,
        }
    }

    /// The levels for `kind` (empty when no policy covers it: local dashboard only).
    pub fn levels(&self, kind: AlertKind) -> &[Level] {
        self.by_kind.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// Green-channel contact ids.
    pub fn green_channel(&self) -> &[String] {
        &self.green_channel
    }
}
