"""A quick, exploratory measure of the learned second stage against the rule-based confirmation on
the same candidates (NOT the model card's protocol: 2 folds of subjects, held streams only).
Superseded by second_stage_eval.py (the model card's folds and rules; docs/BENCHMARKS_FALL.md).

usage: second_stage_experiment.py --data DIR [--out FILE]   (OMP_NUM_THREADS=1, nice)

For each of 2 subject folds a first stage trained on the other fold replays this fold's held
streams (Rust fall_replay) twice: with the deployed rules (confirm.rs thresholds) and with every
candidate (score ≥ 0.5) and its second-stage features. A HistGradientBoosting second stage per
placement is trained on the other fold's candidates, its probability threshold chosen there (the
highest sensitivity within each of BUDGETS false alarms per hour on that fold's own out-of-fold
predictions), then applied here. Counting as in replay.py.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold

import cv
import model as mdl
import realdata as rd
import replay
import train

SEED = mdl.SEED + 2000
CANDIDATE = 0.5
BUDGETS = [0.2, 0.5, 1.0, 2.0, 5.0]  # false alarms per hour on the training fold
HGB = dict(max_iter=100, max_leaf_nodes=15, learning_rate=0.1, l2_regularization=1.0)


def label(streams, alarms):
    """Candidates inside a trial: (placement, subject, trial key, is_fall, features)."""
    rows = []
    for a in alarms:
        s = streams[a.stream]
        for sp in s.spans:
            end = sp.end_held if sp.trial.is_fall else sp.end
            if sp.start - 1e-6 <= a.t <= end + 1e-6:
                rows.append((s.placement, s.group, (a.stream, sp.trial.file), sp.trial.is_fall, a.features))
    return rows


def oof(clf, X, y, g) -> np.ndarray:
    """Out-of-subject probabilities (a split whose training part has one class predicts it)."""
    out = np.zeros(len(y))
    for tr, te in StratifiedGroupKFold(4, shuffle=True, random_state=SEED).split(X, y, g):
        if len(set(y[tr])) < 2:
            out[te] = float(y[tr][0])
        else:
            out[te] = clone(clf).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    return out


def pick_threshold(p_oof, y, keys, hours, budget) -> float:
    best = (0.99, -1.0)
    for th in np.arange(0.3, 0.9995, 0.001):
        hit = p_oof >= th
        det = len({k for k, h, yy in zip(keys, hit, y) if h and yy})
        fa = sum(1 for h, yy in zip(hit, y) if h and not yy)
        if fa / hours <= budget and det > best[1]:
            best = (float(th), det)
    return best[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cache", type=Path, help="pickle of the candidate replays (reused when present)")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "second_stage_experiment.json")
    args = ap.parse_args()
    t0 = time.time()
    log = lambda s: print(f"[{time.time() - t0:5.0f} s] {s}", flush=True)  # noqa: E731
    if args.cache and args.cache.exists():
        per_fold = pickle.loads(args.cache.read_bytes())
    else:
        per_fold = replays(args.data, log)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(per_fold))
    result = {"candidate_threshold": CANDIDATE, "budgets": BUDGETS, "hgb": HGB}
    for p in ("wrist", "waist"):
        result[p] = {"rules": rules(per_fold, p)}
        for budget in BUDGETS:
            result[p][f"second_stage_{budget}"] = trees(per_fold, p, budget)
        log(f"{p}: {json.dumps(result[p])}")
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


def replays(data, log):
    trials = rd.load(data)
    modes = train.prepare(trials, mdl.SEED)
    D = train.windows(modes, mdl.Featurizer(), mdl.SEED)
    groups = sorted({t.group for t in trials})
    fold = cv.folds(groups, 2, SEED, {t.group for t in trials if t.is_fall})
    base = replay.defaults()
    cand = {p: dict(base[p], threshold=CANDIDATE, recovered_threshold=CANDIDATE) for p in base}
    cfgs = {p: [base[p], cand[p]] for p in base}
    per_fold = []
    for f in range(2):
        clf = cv.fit_mask(D, np.array([g == "synthetic" or fold.get(g, -1) not in (f, -1) for g in D.group]), SEED + f)
        streams = [s for s in modes["held"] if fold.get(s.group) == f]
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "m.onnx"
            mdl.export(clf, path)
            alarms = replay.run(path, cfgs, streams, features=True)
        per_fold.append((streams, [a for a in alarms if a.config == 0], label(streams, [a for a in alarms if a.config == 1])))
        log(f"fold {f}: {len(per_fold[-1][2])} candidates")
    return per_fold


def rules(per_fold, p) -> dict:
    fired = set()
    for f, (streams, rule_alarms, _) in enumerate(per_fold):
        for n, a in enumerate(rule_alarms):
            s = streams[a.stream]
            if s.placement != p:
                continue
            for sp in s.spans:
                end = sp.end_held if sp.trial.is_fall else sp.end
                if sp.start - 1e-6 <= a.t <= end + 1e-6:
                    fired.add(((f, (a.stream, sp.trial.file)), n))
    return count(per_fold, p, fired)


def trees(per_fold, p, budget) -> dict:
    fired, ths = set(), []
    for f in range(2):
        tr_streams, _, tr_rows = per_fold[1 - f]
        tr = [r for r in tr_rows if r[0] == p]
        X, y = np.array([r[4] for r in tr]), np.array([int(r[3]) for r in tr])
        g = np.array([r[1] for r in tr])
        clf = HistGradientBoostingClassifier(random_state=SEED, **HGB)
        p_oof = oof(clf, X, y, g)
        hours = sum(sp.end - sp.start for s in tr_streams if s.placement == p for sp in s.spans
                    if not sp.trial.is_fall) / 3600
        th = pick_threshold(p_oof, y, [r[2] for r in tr], hours, budget)
        ths.append(round(th, 3))
        clf.fit(X, y)
        te = [r for r in per_fold[f][2] if r[0] == p]
        prob = clf.predict_proba(np.array([r[4] for r in te]))[:, 1]
        for n, (r, pr) in enumerate(zip(te, prob)):
            if pr >= th:
                fired.add(((f, r[2]), n))
    return {**count(per_fold, p, fired), "confirm_thresholds": ths}


def count(per_fold, p, fired) -> dict:
    det = fa = nf = 0
    hours = 0.0
    hits: dict = {}
    for (f, key), _ in fired:
        hits[(f, key)] = hits.get((f, key), 0) + 1
    for f, (streams, _, _) in enumerate(per_fold):
        for i, s in enumerate(streams):
            if s.placement != p:
                continue
            for sp in s.spans:
                k = (f, (i, sp.trial.file))
                if sp.trial.is_fall:
                    nf += 1
                    det += k in hits
                else:
                    hours += (sp.end - sp.start) / 3600
                    fa += hits.get(k, 0)
    return {"falls": nf, "sensitivity": round(det / nf, 3), "adl_hours": round(hours, 2),
            "false_alarms_per_hour": round(fa / hours, 3)}


if __name__ == "__main__":
    raise SystemExit(main())
