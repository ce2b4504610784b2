//! Settings of the analytics rules (`[analytics]` in the site config).

use serde::{Deserialize, Serialize};

/// Analytics settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfig {}
