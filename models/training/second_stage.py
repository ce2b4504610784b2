"""Export of the second stage (a scikit-learn HistGradientBoostingClassifier per placement) to
the JSON that models/src/fall/second_stage.rs evaluates, and the same evaluation in Python.

Format (see second_stage.rs): {"format", "features", "wrist": Forest, "waist": Forest}, a Forest
{"baseline", "trees": [{"feature", "threshold", "left", "right", "missing_left", "value"}]}.
"""

from __future__ import annotations

import numpy as np

from aftermath import FEATURE_NAMES

FORMAT = "pingan-fall-confirm/1"


def export_forest(clf) -> dict:
    """A fitted binary HistGradientBoostingClassifier (numeric features only) as a Forest."""
    trees = []
    for (pred,) in clf._predictors:
        nodes = pred.nodes
        trees.append({
            "feature": [-1 if leaf else int(f) for leaf, f in zip(nodes["is_leaf"], nodes["feature_idx"])],
            "threshold": [float(t) if np.isfinite(t) else 0.0 for t in nodes["num_threshold"]],
            "left": [int(v) for v in nodes["left"]],
            "right": [int(v) for v in nodes["right"]],
            "missing_left": [bool(v) for v in nodes["missing_go_to_left"]],
            "value": [float(v) for v in nodes["value"]],
        })
    return {"baseline": float(np.ravel(clf._baseline_prediction)[0]), "trees": trees}


def export(forests: dict) -> dict:
    return {"format": FORMAT, "features": FEATURE_NAMES, **forests}


def raw(forest: dict, x: np.ndarray) -> float:
    total = forest["baseline"]
    for t in forest["trees"]:
        i = 0
        while t["feature"][i] >= 0:
            v = x[t["feature"][i]]
            left = t["missing_left"][i] if np.isnan(v) else v <= t["threshold"][i]
            i = t["left"][i] if left else t["right"][i]
        total += t["value"][i]
    return total


def predict(forest: dict, x: np.ndarray) -> float:
    return float(1.0 / (1.0 + np.exp(-raw(forest, x))))
