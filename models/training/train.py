"""Train the fall detector on real recordings (plus generated falls of kinds they lack), choose
its thresholds on out-of-fold replays through the Rust path, and export
`models/fall_detector.onnx` and `models/fall_detector.metrics.json`; the chosen thresholds are
written into models/src/fall/confirm.rs (WRIST_THRESHOLDS, WAIST_THRESHOLDS).

usage: train.py --data DIR [--out DIR] [--no-source-update]
Run through train.sh (pinned venv, OMP_NUM_THREADS=1, the Rust replay built). Deterministic: the
stream order, folds, negative subsampling, generated falls and the trees are all seeded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

import cv
import dataset as ds
import features as fx
import model as mdl
import realdata as rd
import replay
import stream as st

ROOT = Path(__file__).resolve().parents[2]
SEED = mdl.SEED
K = 5
N_SYNTHETIC = 60  # per generated kind and placement


def prepare(trials: list[rd.Trial], seed: int):
    """The training streams: every subject's trials as recorded, and with the lying period held."""
    modes = {"held": rd.build_streams(trials, True, seed), "recorded": rd.build_streams(trials, False, seed + 1)}
    return modes


def windows(modes: dict, feat, seed: int, synthetic: bool = True) -> ds.Windows:
    D = ds.build(modes["held"] + modes["recorded"], feat)
    if synthetic:
        D = ds.concat(D, ds.synthetic(feat, N_SYNTHETIC, seed))
    return D


def oof_thresholds(D: ds.Windows, modes: dict, groups: list[str], fall_groups: set[str], base: dict, seed: int,
                   k: int = K, log=print) -> tuple[dict, dict]:
    """Thresholds from a k-fold subject split of `groups` (the streams of those groups only)."""
    fold = cv.folds(groups, k, seed, fall_groups)
    outs = {m: {} for m in modes}
    for f in range(k):
        t0 = time.time()
        train_mask = np.array([fold.get(g, -1) not in (f, -1) or g == "synthetic" for g in D.group])
        clf = cv.fit_mask(D, train_mask, seed + f)
        for m, streams in modes.items():
            test = [s for s in streams if fold.get(s.group) == f]
            for key, o in cv.replay_grid(clf, test, base).items():
                outs[m].setdefault(key, []).extend(o)
        log(f"  fold {f + 1}/{k}: {time.time() - t0:.0f} s")
    return cv.choose(outs, base), outs


def write_thresholds_into_source(chosen: dict) -> None:
    path = ROOT / "models/src/fall/confirm.rs"
    src = path.read_text()
    for p, name in (("wrist", "WRIST_THRESHOLDS"), ("waist", "WAIST_THRESHOLDS")):
        c = chosen[p]
        src = re.sub(rf"pub const {name}: \(f32, f32\) = \([^)]*\);",
                     f"pub const {name}: (f32, f32) = ({c['threshold']}, {c['recovered_threshold']});", src)
    path.write_text(src)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder with manifest.csv and trials/")
    ap.add_argument("--out", type=Path, default=ROOT / "models", help="where the model and metrics go")
    ap.add_argument("--no-source-update", action="store_true", help="leave confirm.rs alone")
    args = ap.parse_args()
    t0 = time.time()
    trials = rd.load(args.data)
    if not trials:
        sys.exit(f"{args.data}: no wrist, waist or hip trials in manifest.csv")
    feat = mdl.Featurizer()
    modes = prepare(trials, SEED)
    D = windows(modes, feat, SEED)
    groups = sorted({t.group for t in trials})
    fall_groups = {t.group for t in trials if t.is_fall}
    print(f"{len(trials)} trials, {len(groups)} subjects, {len(D.y)} windows ({int(D.y.sum())} positive) "
          f"in {time.time() - t0:.0f} s", flush=True)
    base = replay.defaults()
    chosen, _ = oof_thresholds(D, modes, groups, fall_groups, base, SEED, log=lambda s: print(s, flush=True))
    print("thresholds", json.dumps(chosen), flush=True)
    t1 = time.time()
    clf = cv.fit_mask(D, np.ones(len(D.y), bool), SEED)
    fit_s = time.time() - t1
    onnx_path = args.out / "fall_detector.onnx"
    mdl.export(clf, onnx_path)
    data = onnx_path.read_bytes()
    # the exported graph (features + trees) must give scikit-learn's probabilities on raw windows
    import onnxruntime as ort

    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    check = modes["held"][0]
    _, x = st.parts(check.t, check.acc)[0]
    w = st.windows(x)
    p = np.full((len(w), 1), 1.0 if check.placement == "waist" else 0.0, np.float32)
    onnx_vs_sklearn = float(np.abs(sess.run(None, {"window": w, "placement": p})[0]
                                   - clf.predict_proba(feat(w, check.placement))[:, 1]).max())
    metrics = {
        "seed": SEED,
        "thresholds": chosen,
        "features": fx.FEATURE_NAMES,
        "clip_g": fx.CLIP_G,
        "classifier": {"kind": "HistGradientBoostingClassifier", **mdl.PARAMS, "positive_weight": mdl.POS_WEIGHT,
                       "negative_share_kept": cv.NEG_KEEP},
        "training": {
            "trials": len(trials),
            "falls": sum(t.is_fall for t in trials),
            "subjects": len(groups),
            "windows": int(len(D.y)),
            "positive_windows": int(D.y.sum()),
            "synthetic_windows": int((D.group == "synthetic").sum()),
            "synthetic_kinds": list(ds.SYNTHETIC_KINDS),
            "synthetic_per_kind_and_placement": N_SYNTHETIC,
            "by_source": {f"{d}/{p}": sum(1 for t in trials if t.dataset == d and t.device == p)
                          for d, p in sorted({(t.dataset, t.device) for t in trials})},
        },
        "onnx_bytes": len(data),
        "onnx_vs_sklearn_max_abs_diff": onnx_vs_sklearn,
        "onnx_sha256": hashlib.sha256(data).hexdigest(),
        "final_fit_seconds": round(fit_s, 1),
        "train_seconds": round(time.time() - t0, 1),
    }
    (args.out / "fall_detector.metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if not args.no_source_update:
        write_thresholds_into_source(chosen)
    print(json.dumps({k: metrics[k] for k in ("thresholds", "onnx_bytes", "train_seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
