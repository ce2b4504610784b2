//! The learned second stage: gradient-boosted trees over the candidate's [`super::aftermath`]
//! features, evaluated in plain Rust by [`crate::trees`].
//!
//! File format (`models/fall_confirm.json`, written by models/training/second_stage.py from a
//! scikit-learn `HistGradientBoostingClassifier`):
//! `{"format": "pingan-fall-confirm/1", "features": [names…], "wrist": Forest, "waist": Forest}`,
//! a Forest being `{"baseline": f, "trees": [Tree…]}` as [`crate::trees`] describes. The
//! probability is the logistic of `baseline` + the sum of the leaves reached.

use std::sync::Arc;

use serde::Deserialize;

use super::aftermath::FEATURE_NAMES;
use super::spec::Placement;
use crate::trees::{Forest, check_header};

/// The format tag the loader accepts.
pub const FORMAT: &str = "pingan-fall-confirm/1";

/// Why a second-stage file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecondStageError {
    /// Not JSON of the expected shape.
    #[error("second stage: {0}")]
    Json(#[from] serde_json::Error),
    /// Another format version or feature list than this build computes.
    #[error("second stage: {0}")]
    Mismatch(String),
}

#[derive(Deserialize)]
struct File {
    format: String,
    features: Vec<String>,
    wrist: Forest,
    waist: Forest,
}

/// The second stage of both placements.
#[derive(Debug, Clone)]
pub struct SecondStage {
    wrist: Arc<Forest>,
    waist: Arc<Forest>,
}

impl SecondStage {
    /// Parses and checks a second-stage file.
    pub fn from_json(text: &str) -> Result<Self, SecondStageError> {
        let f: File = serde_json::from_str(text)?;
        check_header(&f.format, FORMAT, &f.features, &FEATURE_NAMES)
            .map_err(SecondStageError::Mismatch)?;
        for forest in [&f.wrist, &f.waist] {
            forest
                .check(FEATURE_NAMES.len())
                .map_err(SecondStageError::Mismatch)?;
        }
        Ok(Self {
            wrist: Arc::new(f.wrist),
            waist: Arc::new(f.waist),
        })
    }

    /// The ensemble of a placement.
    pub fn forest(&self, placement: Placement) -> &Arc<Forest> {
        match placement {
            Placement::Wrist => &self.wrist,
            Placement::Waist => &self.waist,
        }
    }

    /// Probability that the candidate with features `x` ([`super::aftermath::features`]) is a fall.
    pub fn predict(&self, placement: Placement, x: &[f64; FEATURE_NAMES.len()]) -> f64 {
        self.forest(placement).predict(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tree: &str) -> String {
        let names = serde_json::to_string(&FEATURE_NAMES).unwrap();
        format!(
            r#"{{"format":"{FORMAT}","features":{names},
               "wrist":{{"baseline":-1.0,"trees":[{tree}]}},
               "waist":{{"baseline":0.0,"trees":[]}}}}"#
        )
    }

    const STUMP: &str = r#"{"feature":[3,-1,-1],"threshold":[0.5,0,0],"left":[1,0,0],
        "right":[2,0,0],"missing_left":[false,false,false],"value":[0,-2.0,3.0]}"#;

    #[test]
    fn a_stump_splits_on_its_feature_and_nan_follows_missing_left() {
        let s = SecondStage::from_json(&file(STUMP)).unwrap();
        let mut x = [0.0; FEATURE_NAMES.len()];
        let f = s.forest(Placement::Wrist);
        x[3] = 0.5;
        assert!((f.raw(&x) - -3.0).abs() < 1e-12);
        x[3] = 0.9;
        assert!((f.raw(&x) - 2.0).abs() < 1e-12);
        x[3] = f64::NAN;
        assert!((f.raw(&x) - 2.0).abs() < 1e-12);
        assert!((s.predict(Placement::Waist, &x) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn malformed_files_are_refused() {
        let cycle = STUMP.replace(r#""left":[1,0,0]"#, r#""left":[0,0,0]"#);
        assert!(SecondStage::from_json(&file(&cycle)).is_err());
        let far = STUMP.replace(r#""feature":[3,"#, r#""feature":[99,"#);
        assert!(SecondStage::from_json(&file(&far)).is_err());
        let short = STUMP.replace(r#""value":[0,-2.0,3.0]"#, r#""value":[0]"#);
        assert!(SecondStage::from_json(&file(&short)).is_err());
        let other = file(STUMP).replace(FORMAT, "pingan-fall-confirm/0");
        assert!(SecondStage::from_json(&other).is_err());
    }
}
