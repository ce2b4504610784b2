//! Regression-tree ensembles evaluated in plain Rust: the fall detector's boosted trees and the
//! fall second stage share this evaluator. A few thousand comparisons per window need no
//! inference runtime, and leaving the ONNX Runtime out of the process saves ~20 MiB of RSS.
//!
//! A [`Tree`] holds its nodes in parallel arrays (node 0 the root): `feature` (−1 for a leaf),
//! `threshold`, `left`, `right`, `missing_left`, `value` (leaf values, raw log-odds). A sample
//! goes left when `x[feature] <= threshold` (NaN: `missing_left`), as in scikit-learn and in
//! ONNX's `TreeEnsembleRegressor` with `BRANCH_LEQ`.

use serde::Deserialize;

/// One regression tree, nodes in parallel arrays (node 0 the root).
#[derive(Debug, Clone, Deserialize)]
pub struct Tree {
    feature: Vec<i32>,
    threshold: Vec<f64>,
    left: Vec<u32>,
    right: Vec<u32>,
    missing_left: Vec<bool>,
    value: Vec<f64>,
}

/// A boosted ensemble: a baseline plus the sum of one leaf per tree, in log-odds.
#[derive(Debug, Clone, Deserialize)]
pub struct Forest {
    baseline: f64,
    trees: Vec<Tree>,
}

/// Checks a model file's `format` tag and feature list against what this build computes: a file
/// of another version, or trained on other features, must be refused rather than mis-scored.
///
/// # Errors
/// A message naming the mismatch.
pub fn check_header(
    format: &str,
    expected_format: &str,
    features: &[String],
    expected_features: &[&str],
) -> Result<(), String> {
    if format != expected_format {
        return Err(format!("format {format:?}, expected {expected_format:?}"));
    }
    if features != expected_features {
        return Err(format!(
            "features {features:?}, expected {expected_features:?}"
        ));
    }
    Ok(())
}

impl Tree {
    /// Checks the arrays' lengths, the feature indices and that every child comes after its
    /// parent (no cycles, so evaluation always ends and never indexes out of bounds).
    ///
    /// # Errors
    /// A message naming what is malformed.
    pub fn check(&self, n_features: usize) -> Result<(), String> {
        let n = self.feature.len();
        if n == 0
            || [
                self.threshold.len(),
                self.left.len(),
                self.right.len(),
                self.missing_left.len(),
                self.value.len(),
            ]
            .iter()
            .any(|&l| l != n)
        {
            return Err("tree arrays of different lengths".into());
        }
        for i in 0..n {
            let f = self.feature[i];
            if f < 0 {
                continue;
            }
            #[allow(clippy::cast_sign_loss)]
            let bad_feature = f as usize >= n_features;
            let bad_child = [self.left[i], self.right[i]]
                .iter()
                .any(|&c| c as usize >= n || c as usize <= i);
            if bad_feature || bad_child {
                return Err(format!("tree node {i} is malformed"));
            }
        }
        Ok(())
    }

    /// The value of the leaf `x` reaches. `x` must have the features [`Tree::check`] was given.
    fn leaf<X: Copy + Into<f64>>(&self, x: &[X]) -> f64 {
        let mut i = 0usize;
        loop {
            let f = self.feature[i];
            if f < 0 {
                return self.value[i];
            }
            #[allow(clippy::cast_sign_loss)]
            let v: f64 = x[f as usize].into();
            let go_left = if v.is_nan() {
                self.missing_left[i]
            } else {
                v <= self.threshold[i]
            };
            i = if go_left { self.left[i] } else { self.right[i] } as usize;
        }
    }
}

impl Forest {
    /// An ensemble from its parts (call [`Forest::check`] before evaluating it).
    pub fn new(baseline: f64, trees: Vec<Tree>) -> Self {
        Self { baseline, trees }
    }

    /// Checks every tree (see [`Tree::check`]).
    ///
    /// # Errors
    /// The first malformed tree's message.
    pub fn check(&self, n_features: usize) -> Result<(), String> {
        if !self.baseline.is_finite() {
            return Err("the baseline is not a finite number".into());
        }
        self.trees.iter().try_for_each(|t| t.check(n_features))
    }

    /// Raw log-odds of a fall. `x` must have the features [`Forest::check`] was given.
    pub fn raw<X: Copy + Into<f64>>(&self, x: &[X]) -> f64 {
        self.baseline + self.trees.iter().map(|t| t.leaf(x)).sum::<f64>()
    }

    /// Probability (0..1): the logistic of [`Forest::raw`].
    pub fn predict<X: Copy + Into<f64>>(&self, x: &[X]) -> f64 {
        1.0 / (1.0 + (-self.raw(x)).exp())
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// No trees (predicts the baseline).
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// Number of nodes over all trees (the model's size).
    pub fn nodes(&self) -> usize {
        self.trees.iter().map(|t| t.feature.len()).sum()
    }
}
