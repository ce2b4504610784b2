//! The site as every part sees it: the validated config with the facility and escalation
//! policies resolved from it, once.

use std::sync::Arc;

use crate::alert::{Engine, EngineSettings, Policies};
use crate::config::Config;
use crate::facility::Facility;
use crate::shared::Shared;

/// The site as every part sees it: the validated config and what is resolved from it.
#[derive(Debug, Clone)]
pub struct Site {
    /// The validated config.
    pub config: Arc<Config>,
    /// Residents, rooms and device bindings; swapped when a care record changes.
    pub facility: Shared<Facility>,
    /// Escalation levels per alert kind; swapped when the escalation changes.
    pub policies: Shared<Policies>,
}

impl Site {
    /// Resolves a validated config.
    pub fn new(config: Config) -> Self {
        let facility = Shared::new(Facility::from_config(&config));
        let policies = Shared::new(Policies::from_config(&config));
        Self {
            config: Arc::new(config),
            facility,
            policies,
        }
    }

    /// An alert engine with no open alerts, for this site's settings and policies.
    pub fn engine(&self) -> Engine {
        Engine::new(
            EngineSettings {
                cancel_window: self.config.alerts.cancel_window,
                clear_debounce: self.config.alerts.clear_debounce,
            },
            self.policies.clone(),
        )
    }
}
