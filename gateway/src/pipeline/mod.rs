//! The pure pipeline: a reading is normalized (resident, location), analytics conclude findings,
//! and the alert engine turns them into alert changes. Built once from the config as a [`Site`];
//! the running service, `pingan replay` and the benchmarks all run this same code.
//!
//! - [`Site`]: the config with the facility and escalation policies resolved from it, once.
//! - [`Processor`]: normalization and analytics (the service's pipeline task owns one).
//! - [`Pipeline`]: a processor and an alert engine in one value, for synchronous runs (replay,
//!   benches); the service splits it with [`Pipeline::into_parts`] because analytics and the engine
//!   run on different tasks there.
//! - [`replay`]: a recorded trace through the pipeline.
//!
//! Nothing here does I/O; time comes in as a value.

#[cfg(test)]
mod care_tests;
mod processor;
pub mod replay;
mod site;

use pingan_drivers::{Reading, Timestamp};
use ulid::Ulid;

pub use processor::{Processed, Processor};
pub use site::Site;

use crate::alert::{Engine, Output};
use crate::analytics::{Analytics, Finding};

/// Feeds one finding to the engine: the step between analytics and alerting. `id` is the id a
/// new alert would get.
pub fn step(engine: &mut Engine, finding: Finding, id: Ulid) -> Vec<Output> {
    match finding {
        Finding::Event(ev) => engine.on_event(ev, id),
        Finding::Cancel { subject, at } => engine.cancel(&subject, at),
    }
}

/// Normalization, analytics and the alert engine in one synchronous value.
#[derive(Debug)]
pub struct Pipeline {
    processor: Processor,
    engine: Engine,
}

/// What one reading did.
#[derive(Debug, Default)]
pub struct Stepped {
    /// The reading's device is not in the config (it is counted and ignored).
    pub unknown: bool,
    /// Alert changes the reading caused.
    pub outputs: Vec<Output>,
}

impl Pipeline {
    /// The pipeline of `site` running `analytics`.
    pub fn new(site: &Site, analytics: Analytics) -> Self {
        Self {
            processor: Processor::new(site, analytics),
            engine: site.engine(),
        }
    }

    /// The pipeline of `site` with its configured analytics.
    pub fn for_site(site: &Site) -> Self {
        Self::new(site, Analytics::for_site(&site.config))
    }

    /// One reading through normalization, analytics and the engine; `ids` gives the id of each
    /// alert a finding would raise.
    pub fn on_reading(
        &mut self,
        reading: Reading,
        ids: &mut impl FnMut(&Finding) -> Ulid,
    ) -> Stepped {
        match self.processor.on_reading(reading) {
            Processed::Unknown { .. } => Stepped {
                unknown: true,
                outputs: Vec::new(),
            },
            Processed::Known(_, findings) => Stepped {
                unknown: false,
                outputs: self.findings(findings, ids),
            },
        }
    }

    /// Time passes: analytics timers, then the engine's (debounce, escalation).
    pub fn on_tick(
        &mut self,
        now: Timestamp,
        ids: &mut impl FnMut(&Finding) -> Ulid,
    ) -> Vec<Output> {
        let findings = self.processor.on_tick(now);
        let mut out = self.findings(findings, ids);
        out.extend(self.engine.on_tick(now));
        out
    }

    fn findings(
        &mut self,
        findings: Vec<Finding>,
        ids: &mut impl FnMut(&Finding) -> Ulid,
    ) -> Vec<Output> {
        findings
            .into_iter()
            .flat_map(|f| {
                let id = ids(&f);
                step(&mut self.engine, f, id)
            })
            .collect()
    }

    /// The two halves, for callers that run analytics and the engine on different tasks.
    pub fn into_parts(self) -> (Processor, Engine) {
        (self.processor, self.engine)
    }
}
