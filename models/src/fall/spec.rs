//! What the model is built for: its sample rate, window and hop, where the impact sits in a
//! window, and where the device is worn.

/// The model's sample rate (Hz).
pub const MODEL_HZ: f32 = 50.0;
/// Samples per window (4 s at 50 Hz).
pub const WINDOW: usize = 200;
/// Samples between window starts (0.5 s).
pub const HOP: usize = 25;
/// Where in the window the impact is expected: samples 75..125 (1.5–2.5 s).
pub const IMPACT_SEGMENT: std::ops::Range<usize> = 75..125;

/// Where the device is worn; the model and the confirmation rules depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// A wristband or watch.
    Wrist,
    /// A belt clip or a pendant (trunk-worn).
    Waist,
}

impl Placement {
    /// The model's `placement` input value: 0 = wrist, 1 = waist.
    pub fn model_input(self) -> f32 {
        match self {
            Self::Wrist => 0.0,
            Self::Waist => 1.0,
        }
    }
}

impl std::str::FromStr for Placement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wrist" => Ok(Self::Wrist),
            "waist" | "pendant" => Ok(Self::Waist),
            other => Err(format!(
                "unknown placement `{other}`: expected wrist or waist"
            )),
        }
    }
}
