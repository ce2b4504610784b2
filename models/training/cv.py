"""Folds, fits and threshold choice shared by train.py and evaluate.py.

Thresholds are chosen on out-of-fold replays only: the models that score a stream never saw its
subject. For each placement the grid of (down, recovered) thresholds is replayed through Rust and
the pair with the highest sensitivity within the false-alarm budget wins (budget relaxed step by
step when no pair reaches SENS_FLOOR within it, so a placement never ends up detecting nothing;
beyond the last budget, the pair with the fewest false alarms).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import dataset as ds
import model as mdl
import realdata as rd
import replay

GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]
BUDGETS = [0.2, 0.5, 1.0, 2.0, 5.0]  # false alarms per hour of ADL, tried in turn
SENS_FLOOR = 0.85
NEG_KEEP = 0.5  # share of negative windows kept for fitting (halves the fit time)


def folds(groups: list[str], k: int, seed: int, has_falls: set[str]) -> dict[str, int]:
    """Subjects to k folds, subjects with falls and without spread separately."""
    rng = np.random.default_rng(seed)
    out = {}
    for subset in (sorted(g for g in groups if g in has_falls), sorted(g for g in groups if g not in has_falls)):
        for n, i in enumerate(rng.permutation(len(subset))):
            out[subset[i]] = n % k
    return out


def grid_configs(base: dict) -> tuple[dict, list[tuple[float, float]]]:
    pairs = [(a, b) for a in GRID for b in GRID if b >= a]
    cfgs = {p: [dict(base[p], threshold=a, recovered_threshold=b) for a, b in pairs] for p in base}
    return cfgs, pairs


def fit_mask(D: ds.Windows, mask: np.ndarray, seed: int):
    rng = np.random.default_rng(seed)
    keep = mask & ((D.y == 1) | (rng.random(len(D.y)) < NEG_KEEP))
    return mdl.fit(D.x[keep], D.y[keep])


def replay_grid(clf, streams: list[rd.Stream], base: dict) -> dict:
    """Outcomes per grid pair index, for the given streams."""
    cfgs, pairs = grid_configs(base)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.onnx"
        mdl.export(clf, path)
        alarms = replay.run(path, cfgs, streams)
    return {k: replay.outcomes(streams, alarms, k) for k in range(len(pairs))}


def choose(outs_by_mode: dict[str, dict[int, list]], base: dict) -> dict:
    """Per placement: the grid pair to deploy, with the out-of-fold figures it was chosen on."""
    _, pairs = grid_configs(base)
    chosen = {}
    for p in ("wrist", "waist"):
        rows = []
        for k, pair in enumerate(pairs):
            sens, fa = [], []
            for outs in outs_by_mode.values():
                s = replay.summarize([o for o in outs[k] if o.placement == p])
                sens.append(s["sensitivity"] or 0.0)
                fa.append(s["false_alarms_per_hour"] or 0.0)
            rows.append((pair, float(np.mean(sens)), float(max(fa))))
        pick = None
        for budget in BUDGETS:
            ok = [r for r in rows if r[2] <= budget]
            if ok:
                best = max(ok, key=lambda r: (round(r[1], 3), -r[2], -r[0][0]))
                pick = (best, budget)
                if best[1] >= SENS_FLOOR:
                    break
        if pick is None:  # over every budget: the fewest false alarms there are
            best = min(rows, key=lambda r: (r[2], -r[1]))
            pick = (best, None)
        (pair, sens, fa), budget = pick
        chosen[p] = {"threshold": pair[0], "recovered_threshold": pair[1], "oof_sensitivity": round(sens, 3),
                     "oof_false_alarms_per_hour": round(fa, 3), "budget": budget}
    return chosen


def base_with(base: dict, chosen: dict) -> dict:
    return {p: dict(base[p], threshold=chosen[p]["threshold"], recovered_threshold=chosen[p]["recovered_threshold"]) for p in base}
