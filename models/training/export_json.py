#!/usr/bin/env python3
"""Writes the gateway's plain-Rust model files from the shipped ONNX graphs.

The gateway evaluates the trees and the SVM itself (models/src/trees.rs, models/src/anomaly.rs),
so it needs no ONNX Runtime on the box. The ONNX files stay the training's artefact and the
reference the Rust tests compare against (models/tests/fall.rs, through Python onnxruntime); the
JSON is read out of them, never out of scikit-learn, so both evaluate the very same numbers
(thresholds and leaf values already rounded to float32 as the graph holds them).

    python3 models/training/export_json.py            # both models, in models/
    python3 models/training/export_json.py --check    # exit 1 when a JSON file is out of date

model.py (fall) and anomaly/train.py call the same functions when they retrain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import onnx
from onnx import helper

MODELS = Path(__file__).resolve().parents[1]
FALL_FORMAT = "pingan-fall-trees/1"
ANOMALY_FORMAT = "pingan-anomaly-svm/1"
ANOMALY_FEATURES = ["resting_hr", "resting_rr", "bed_exits", "restlessness", "daytime_activity"]


def _node(model: onnx.ModelProto, op: str) -> onnx.NodeProto:
    nodes = [n for n in model.graph.node if n.op_type == op]
    if len(nodes) != 1:
        raise ValueError(f"expected one {op} node, found {len(nodes)}")
    return nodes[0]


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def fall_trees(model: onnx.ModelProto, feature_names: list[str]) -> dict:
    """The TreeEnsembleRegressor of the fall graph as per-tree parallel arrays (trees.rs)."""
    a = _attrs(_node(model, "TreeEnsembleRegressor"))
    if a.get("aggregate_function", b"SUM") != b"SUM" or a.get("post_transform", b"NONE") != b"NONE":
        raise ValueError("only a summed ensemble without post transform is exported")
    trees: dict[int, dict] = {}
    for i, (t, n) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"])):
        tree = trees.setdefault(t, {k: {} for k in ("feature", "threshold", "left", "right", "missing_left", "value")})
        leaf = a["nodes_modes"][i] == b"LEAF"
        if not leaf and a["nodes_modes"][i] != b"BRANCH_LEQ":
            raise ValueError(f"node mode {a['nodes_modes'][i]!r} is not exported")
        tree["feature"][n] = -1 if leaf else int(a["nodes_featureids"][i])
        tree["threshold"][n] = 0.0 if leaf else float(a["nodes_values"][i])
        tree["left"][n] = 0 if leaf else int(a["nodes_truenodeids"][i])
        tree["right"][n] = 0 if leaf else int(a["nodes_falsenodeids"][i])
        tree["missing_left"][n] = bool(a["nodes_missing_value_tracks_true"][i]) if not leaf else False
        tree["value"][n] = 0.0
    for t, n, w in zip(a["target_treeids"], a["target_nodeids"], a["target_weights"]):
        trees[t]["value"][n] += float(w)
    out = []
    for t in sorted(trees):
        tree = trees[t]
        n = len(tree["feature"])
        if sorted(tree["feature"]) != list(range(n)):
            raise ValueError(f"tree {t}: node ids are not 0..{n}")
        out.append({k: [v[i] for i in range(n)] for k, v in tree.items()})
    return {
        "format": FALL_FORMAT,
        "features": list(feature_names),
        "baseline": float(a["base_values"][0]),
        "trees": out,
    }


def anomaly_svm(model: onnx.ModelProto) -> dict:
    """The SVMRegressor (RBF) of the anomaly graph: score = Σ cᵢ·exp(−γ‖x − svᵢ‖²) + ρ."""
    a = _attrs(_node(model, "SVMRegressor"))
    if a["kernel_type"] != b"RBF" or a.get("one_class", 0) != 0 or a.get("post_transform", b"NONE") != b"NONE":
        raise ValueError("only an RBF SVMRegressor without post transform is exported")
    n, d = int(a["n_supports"]), len(ANOMALY_FEATURES)
    sv = [float(v) for v in a["support_vectors"]]
    if len(sv) != n * d or len(a["coefficients"]) != n:
        raise ValueError("support vectors and coefficients do not match n_supports")
    return {
        "format": ANOMALY_FORMAT,
        "features": ANOMALY_FEATURES,
        "gamma": float(a["kernel_params"][0]),
        "rho": float(a["rho"][0]),
        "coefficients": [float(c) for c in a["coefficients"]],
        "support_vectors": [sv[i * d : (i + 1) * d] for i in range(n)],
    }


def text(doc: dict) -> str:
    # compact: the fall file is embedded in the binary
    return json.dumps(doc, separators=(",", ":")) + "\n"


def outputs() -> dict[Path, str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import features  # noqa: PLC0415 (the feature graph module pulls in numpy only when needed)

    fall = onnx.load(MODELS / "fall_detector.onnx")
    anomaly = onnx.load(MODELS / "anomaly.onnx")
    return {
        MODELS / "fall_detector.json": text(fall_trees(fall, features.FEATURE_NAMES)),
        MODELS / "anomaly.json": text(anomaly_svm(anomaly)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    args = ap.parse_args()
    stale = 0
    for path, body in outputs().items():
        if args.check:
            if not path.exists() or path.read_text() != body:
                print(f"{path.name} is out of date: run models/training/export_json.py", file=sys.stderr)
                stale += 1
        else:
            path.write_text(body)
            print(f"wrote {path.relative_to(MODELS.parent)} ({len(body)} bytes)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
