"""The learned second stage measured in the model card's own protocol, against the rules on the
same folds, first-stage models and candidates.

usage: second_stage_eval.py --data DIR [--cache DIR] [--out FILE] [--part subjects|datasets|all]
(through the training venv, OMP_NUM_THREADS=1, fall_replay built; see docs/BENCHMARKS_FALL.md)

- First stage exactly as evaluate.py: the same folds, seeds and models, the rules' thresholds of
  each test fold read from models/fall_evaluation.json (chosen there on the training folds only).
  Candidate replays (candidates.py) are cached per model and fold under --cache.
- Leave-subjects-out (5 folds). For test fold f the second stage of a placement learns from the
  training folds' out-of-fold candidates only: fold g ≠ f scored by evaluate.py's pair model that
  saw neither f nor g. Its probability threshold comes from an inner leave-one-training-fold-out
  CV: the smallest threshold whose false alarms per hour (the worse of held and recorded) meet the
  budget on the MEDIAN inner fold (the pooled choice is kept for comparison; it did not transfer in
  second_stage_experiment.py). The budget is the rules' own out-of-fold rate on those training
  folds, so a win means more falls at the same false-alarm rate. Then a second stage fitted on
  all training candidates decides the test fold's candidates.
- Leave-one-dataset-out: the same with evaluate.py's 3-fold split of the training dataset.
- Candidates: `rules` (the first stage's lower threshold of the fold, the rules' own candidates)
  and `wide` (min(0.5, that)); models: `trees` (second_stage_experiment.py's), `shallow_mono`
  (30 depth-2 trees, monotonic in the features with a known direction), `logistic` (standardised
  features; not exportable to fall_confirm.json, for comparison only).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import candidates as cand
import cv
import dataset as ds
import evaluate
import model as mdl
import realdata as rd
import replay
import train
from aftermath import FEATURE_NAMES

ROOT = Path(__file__).resolve().parents[2]
SEED = mdl.SEED + 3000
KINDS = ("trees", "shallow_mono", "logistic")
LEVELS = ("rules", "wide")
BUDGETS = ("matched", 0.2, 0.5, 1.0, 2.0, 5.0)
HOWS = ("median", "pooled", "worst")
TS = np.append(np.round(np.arange(0.0, 1.0 + 1e-9, 0.005), 3), 1.001)  # 1.001: nothing fires
# +1: more of it, more likely a fall; -1: less likely; 0: no constraint (orientation: waist only,
# the arm turns whatever the body does)
DIRECTION = {"score": 1, "peak_g": 1, "quiet_share": 1, "std_g": -1, "stretch_std_median_g": -1,
             "movements": -1, "longest_quiet_s": 1}


def make(kind: str, placement: str):
    if kind == "trees":
        return HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=15, learning_rate=0.1,
                                              l2_regularization=1.0, early_stopping=False, random_state=SEED)
    if kind == "shallow_mono":
        d = dict(DIRECTION, **({"orientation_change_deg": 1} if placement == "waist" else {}))
        return HistGradientBoostingClassifier(max_iter=30, max_depth=2, learning_rate=0.1, min_samples_leaf=30,
                                              l2_regularization=1.0, early_stopping=False, random_state=SEED,
                                              monotonic_cst=[d.get(n, 0) for n in FEATURE_NAMES])
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))


def fit_predict(kind, placement, X, y, Xt):
    if len(set(y.tolist())) < 2:
        return np.full(len(Xt), float(y[0]) if len(y) else 0.0)
    return make(kind, placement).fit(X, y).predict_proba(Xt)[:, 1]


def table(reps: dict, placement: str, level: float):
    """Candidates of several folds' replays: X, y, fold, mode, alarm index."""
    X, y, fo, mo, ix = [], [], [], [], []
    for f, by_mode in reps.items():
        for m, rp in by_mode.items():
            idx = cand.rows(rp, placement, level)
            X.append(rp.features[idx])
            y.append(np.array([rp.spans[rp.span[i]].is_fall for i in idx], int))
            fo += [f] * len(idx)
            mo += [m] * len(idx)
            ix.append(idx)
    return (np.concatenate(X), np.concatenate(y), np.array(fo), np.array(mo), np.concatenate(ix))


def fa_curve(p, y, sel, hours):
    neg = np.sort(p[sel & (y == 0)])
    return (len(neg) - np.searchsorted(neg, TS, "left")) / hours


def choose(p, y, fo, mo, reps, placement, budget):
    """Thresholds meeting `budget` on the median inner fold, pooled over them, and on every one (worst),
    with the inner figures."""
    hours = {(f, m): sum(s.hours for s in rp.spans if s.placement == placement and not s.is_fall)
             for f, by_mode in reps.items() for m, rp in by_mode.items()}
    folds = sorted(reps)
    per_fold = np.stack([np.max([fa_curve(p, y, (fo == f) & (mo == m), hours[(f, m)]) for m in cand.MODES], 0)
                         for f in folds])
    pooled = np.max([fa_curve(p, y, mo == m, sum(hours[(f, m)] for f in folds)) for m in cand.MODES], 0)
    out = {}
    for how, stat in (("median", np.median(per_fold, 0)), ("pooled", pooled), ("worst", per_fold.max(0))):
        ok = np.flatnonzero(stat <= budget + 1e-9)
        k = ok[0] if len(ok) else len(TS) - 1
        out[how] = {"threshold": float(TS[k]), "inner_fa_per_hour": [round(float(v), 3) for v in per_fold[:, k]],
                    "pooled_fa_per_hour": round(float(pooled[k]), 3)}
    return out


def second_stage(train_reps: dict, test: dict, rule: dict, log) -> dict:
    """Every kind, candidate level and budget for one test fold (both placements)."""
    res: dict = {}
    for p in ("wrist", "waist"):
        rth = rule[p]
        r = {"baseline": {m: cand.count(rp, p, np.flatnonzero(rp.config == 0)) for m, rp in test.items()},
             "baseline_old_adl": {m: cand.count(rp, p, np.flatnonzero(rp.config == 0), old_only=True)
                               for m, rp in test.items()},
             "trials": {m: cand.trials(rp, p) for m, rp in test.items()},
             "baseline_hits": {m: cand.hits(rp, p, np.flatnonzero(rp.config == 0)) for m, rp in test.items()}}
        for lv in LEVELS:
            level = rth["threshold"] if lv == "rules" else min(0.5, rth["threshold"])
            X, y, fo, mo, _ = table(train_reps, p, level)
            test_idx = {m: cand.rows(rp, p, level) for m, rp in test.items()}
            if lv == "rules":  # the rules re-derived from the candidates: a check of the bookkeeping
                r["rules_from_candidates"] = {m: cand.count(rp, p, test_idx[m][
                    rp.down[test_idx[m]] | (rp.score[test_idx[m]] >= rth["recovered_threshold"] - 1e-6)])
                    for m, rp in test.items()}
            r[lv] = {"level": level, "train_candidates": int(len(y)), "train_false": int((y == 0).sum())}
            for kind in KINDS:
                p_oof = np.zeros(len(y))
                for f in train_reps:
                    te = fo == f
                    p_oof[te] = fit_predict(kind, p, X[~te], y[~te], X[te])
                p_test = {m: fit_predict(kind, p, X, y, test.get(m).features[ix]) if len(ix) else np.zeros(0)
                          for m, ix in test_idx.items()}
                k = {"budgets": {}, "calibration": {
                    "oof_mean_p_false": round(float(p_oof[y == 0].mean()), 3) if (y == 0).any() else None,
                    "oof_mean_p_fall": round(float(p_oof[y == 1].mean()), 3) if (y == 1).any() else None,
                    "test_mean_p_false": _mean_p(test, test_idx, p_test, False),
                    "test_mean_p_fall": _mean_p(test, test_idx, p_test, True)}}
                for b in BUDGETS:
                    budget = rth["oof_false_alarms_per_hour"] if b == "matched" else b
                    ch = choose(p_oof, y, fo, mo, train_reps, p, budget)
                    ch["oracle_threshold"] = _oracle(test, test_idx, p_test, p, budget)
                    for how in HOWS:
                        c = ch[how]
                        c["budget"] = budget
                        c["test"] = {m: cand.count(rp, p, test_idx[m][p_test[m] >= c["threshold"]])
                                     for m, rp in test.items()}
                        c["test_old_adl"] = {m: cand.count(rp, p, test_idx[m][p_test[m] >= c["threshold"]],
                                                           old_only=True) for m, rp in test.items()}
                        if b == "matched":
                            c["hits"] = {m: cand.hits(rp, p, test_idx[m][p_test[m] >= c["threshold"]])
                                         for m, rp in test.items()}
                    k["budgets"][str(b)] = ch
                r[lv][kind] = k
        res[p] = r
        b = r['baseline']['held']
        log(f"  {p}: rules held {b['sensitivity']} @ {b['false_alarms_per_hour']}/h")
    return res


def _mean_p(test, test_idx, p_test, fall: bool):
    v = [p_test[m][j] for m, rp in test.items() for j, i in enumerate(test_idx[m]) if rp.spans[rp.span[i]].is_fall == fall]
    return round(float(np.mean(v)), 3) if v else None


def _oracle(test, test_idx, p_test, placement, budget):
    """The threshold that would have met the budget on the test fold itself (diagnostic only)."""
    worst = np.zeros(len(TS))
    for m, rp in test.items():
        hours = sum(s.hours for s in rp.spans if s.placement == placement and not s.is_fall)
        y = np.array([rp.spans[rp.span[i]].is_fall for i in test_idx[m]], int)
        if hours > 0:
            worst = np.maximum(worst, fa_curve(p_test[m], y, np.ones(len(y), bool), hours))
    ok = np.flatnonzero(worst <= budget + 1e-9)
    return float(TS[ok[0]]) if len(ok) else 1.0


def subjects(getD, modes, groups, fall_groups, base, thresholds, cache: Path, log) -> dict:
    k = train.K
    fold = cv.folds(groups, k, evaluate.SEED, fall_groups)
    by_fold = lambda f: {m: [s for s in modes[m] if fold.get(s.group) == f] for m in cand.MODES}  # noqa: E731
    pairs = {}
    for i in range(k):
        for j in range(i + 1, k):
            def pair(i=i, j=j):
                D = getD()
                mask = np.array([g == "synthetic" or fold.get(g, -1) not in (i, j, -1) for g in D.group])
                clf = cv.fit_mask(D, mask, evaluate.SEED + 10 * i + j)
                return {f: cand.run(clf, by_fold(f), base, None) for f in (i, j)}
            key = {"part": "subjects", "pair": (i, j), "seed": evaluate.SEED, "cands": cand.CANDS}
            pairs[(i, j)] = cand.cached(cache / f"subjects_pair{i}{j}.pkl", key, pair)
            log(f"pair model {i},{j}")
    res = []
    for f in range(k):
        def test(f=f):
            D = getD()
            mask = np.array([g == "synthetic" or fold.get(g, -1) not in (f, -1) for g in D.group])
            clf = cv.fit_mask(D, mask, evaluate.SEED + 100 + f)
            return cand.run(clf, by_fold(f), base, thresholds[f])
        key = {"part": "subjects", "test": f, "seed": evaluate.SEED, "cands": cand.CANDS, "rule": thresholds[f]}
        te = cand.cached(cache / f"subjects_test{f}.pkl", key, test)
        tr = {g: pairs[(min(f, g), max(f, g))][g] for g in range(k) if g != f}
        log(f"outer fold {f + 1}/{k}")
        res.append(second_stage(tr, te, thresholds[f], log))
    return {"folds": res}


def datasets(getD, modes, groups, fall_groups, base, thresholds: dict, cache: Path, log) -> dict:
    out = {}
    for train_set in ("umafall", "smartfallmm"):
        test_set = "smartfallmm" if train_set == "umafall" else "umafall"
        name = f"{train_set}_to_{test_set}"
        tr_groups = [g for g in groups if g.startswith(train_set + ":")]

        def sub(train_set=train_set):
            D = getD()
            Dm = np.array([g == "synthetic" or g.startswith(train_set + ":") for g in D.group])
            return ds.Windows(D.x[Dm], D.y[Dm], D.placement[Dm], D.group[Dm])
        seed = evaluate.SEED + 7  # train.oof_thresholds as evaluate.datasets calls it
        fold = cv.folds(tr_groups, 3, seed, fall_groups)
        tr = {}
        for f in range(3):
            def inner(f=f):
                S = sub()
                mask = np.array([fold.get(g, -1) not in (f, -1) or g == "synthetic" for g in S.group])
                clf = cv.fit_mask(S, mask, seed + f)
                return cand.run(clf, {m: [s for s in modes[m] if fold.get(s.group) == f] for m in cand.MODES},
                                base, None)
            key = {"part": name, "inner": f, "seed": seed, "cands": cand.CANDS}
            tr[f] = cand.cached(cache / f"{name}_inner{f}.pkl", key, inner)
            log(f"{name}: inner fold {f}")

        def test():
            S = sub()
            clf = cv.fit_mask(S, np.ones(len(S.y), bool), evaluate.SEED + 200)
            return cand.run(clf, {m: [s for s in modes[m] if s.dataset == test_set] for m in cand.MODES}, base,
                            thresholds[name])
        key = {"part": name, "test": True, "seed": evaluate.SEED, "cands": cand.CANDS, "rule": thresholds[name]}
        te = cand.cached(cache / f"{name}_test.pkl", key, test)
        out[name] = second_stage(tr, te, thresholds[name], log)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pingan_second_stage")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "second_stage_eval.json")
    ap.add_argument("--evaluation", type=Path, default=ROOT / "models/fall_evaluation.json",
                    help="evaluate.py's output: the rules' thresholds per fold")
    ap.add_argument("--part", choices=("all", "subjects", "datasets"), default="subjects")
    args = ap.parse_args()
    t0 = time.time()
    log = lambda s: print(f"[{time.time() - t0:5.0f} s] {s}", flush=True)  # noqa: E731
    ev = json.loads(args.evaluation.read_text())
    trials = rd.load(args.data)
    modes = train.prepare(trials, mdl.SEED)
    memo: dict = {}

    def getD():  # the windows only when a replay is not cached
        if "D" not in memo:
            memo["D"] = train.windows(modes, mdl.Featurizer(), mdl.SEED)
            log(f"{len(memo['D'].y)} windows")
        return memo["D"]
    groups = sorted({t.group for t in trials})
    fall_groups = {t.group for t in trials if t.is_fall}
    base = replay.defaults()
    log(f"{len(trials)} trials")
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    result.update({"seed": SEED, "candidate_levels": cand.CANDS, "kinds": list(KINDS), "budgets": list(map(str, BUDGETS))})
    if args.part in ("all", "subjects"):
        result["subjects"] = subjects(getD, modes, groups, fall_groups, base, ev["subjects"]["thresholds_per_fold"],
                                      args.cache, log)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    if args.part in ("all", "datasets"):
        th = {k: v["thresholds"] for k, v in ev["datasets"].items()}
        result["datasets"] = datasets(getD, modes, groups, fall_groups, base, th, args.cache, log)
    result["seconds"] = round(time.time() - t0, 1)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
