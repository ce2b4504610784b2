"""Honest evaluation of the training procedure on subjects and datasets it never saw, detection
as deployed (streams replayed through the Rust offline path of `pingan analyze fall`).

usage: evaluate.py --data DIR [--out FILE]      (through evaluate.sh: pinned venv, Rust built)

- Leave-subjects-out: 5 folds of subjects. For each test fold the thresholds come from the other
  four folds alone (each scored by a model that saw neither it nor the test fold), then a model
  trained on the four folds is replayed on the test fold.
- Leave-one-dataset-out: train (and choose thresholds by a 3-fold subject split) on one dataset,
  test on the other: the closer estimate of a new site with other devices.
- Replays: `held` streams (each fall followed by HOLD_S s of its last second: lying after the
  fall), `recorded` streams (as recorded: the next trial follows at once), and every trial alone
  (`trial_held`, `trial_recorded`, how a clinician plays recordings through the CLI).
Writes models/fall_evaluation.json, which model_card.py turns into the model card's tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import cv
import dataset as ds
import model as mdl
import realdata as rd
import replay
import train

ROOT = Path(__file__).resolve().parents[2]
SEED = mdl.SEED + 1000  # folds other than the ones train.py chose thresholds on


def replay_chosen(clf, streams_by_mode: dict, cfg: dict) -> dict:
    cfgs = {p: [cfg[p]] for p in cfg}
    out = {}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.onnx"
        mdl.export(clf, path)
        for m, streams in streams_by_mode.items():
            out[m] = replay.outcomes(streams, replay.run(path, cfgs, streams), 0)
    return out


def breakdown(outs: list) -> dict:
    """Summaries per placement, dataset, fall type, age group and activity."""
    res: dict = {"all": replay.summarize(outs)}
    for p in ("wrist", "waist"):
        po = [o for o in outs if o.placement == p]
        r = {"all": replay.summarize(po)}
        for dset in sorted({o.span.trial.dataset for o in po}):
            r[dset] = replay.summarize([o for o in po if o.span.trial.dataset == dset])
        r["old_adl"] = replay.summarize([o for o in po if o.span.trial.age_group == "old" and not o.span.trial.is_fall])
        r["fall_types"] = {a: replay.summarize([o for o in po if o.span.trial.is_fall and o.span.trial.activity == a])
                           for a in sorted({o.span.trial.activity for o in po if o.span.trial.is_fall})}
        adl = defaultdict(list)
        for o in po:
            if not o.span.trial.is_fall:
                adl[f"{o.span.trial.dataset}: {o.span.trial.activity}"].append(o)
        r["adl_activities"] = {a: replay.summarize(v) for a, v in sorted(adl.items())}
        r["aftermath_of_detected_falls"] = dict(sorted(
            {a: sum(1 for o in po if o.span.trial.is_fall and o.alarms and o.aftermath == a)
             for a in ("down", "recovered", "unknown")}.items()))
        r["examples"] = {
            "missed_falls": [o.span.trial.file for o in po if o.span.trial.is_fall and not o.alarms][:8],
            "false_alarms": [o.span.trial.file for o in po if not o.span.trial.is_fall and o.alarms][:8],
        }
        res[p] = r
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "models/fall_evaluation.json")
    ap.add_argument("--part", choices=("all", "subjects", "datasets"), default="all",
                    help="run one evaluation and merge it into an existing --out (to resume)")
    args = ap.parse_args()
    t0 = time.time()
    log = lambda s: print(f"[{time.time() - t0:5.0f} s] {s}", flush=True)  # noqa: E731
    trials = rd.load(args.data)
    feat = mdl.Featurizer()
    modes = train.prepare(trials, mdl.SEED)
    singles = {"trial_held": rd.single_trial_streams(trials, True),
               "trial_recorded": rd.single_trial_streams(trials, False)}
    D = train.windows(modes, feat, mdl.SEED)
    base = replay.defaults()
    groups = sorted({t.group for t in trials})
    fall_groups = {t.group for t in trials if t.is_fall}
    log(f"{len(trials)} trials, {len(D.y)} windows")
    result: dict = {"seed": SEED, "hold_s": rd.HOLD_S, "budgets": cv.BUDGETS, "sens_floor": cv.SENS_FLOOR}
    if args.part != "all" and args.out.exists():
        result = {**json.loads(args.out.read_text()), **result}
    for part, run in (("subjects", subjects), ("datasets", datasets)):
        if args.part in ("all", part):
            t1 = time.time()
            result[part] = run(D, modes, singles, base, groups, fall_groups, log)
            result.setdefault("seconds", {})[part] = round(time.time() - t1, 1)
            args.out.write_text(json.dumps(result, indent=1) + "\n")
    if "subjects" not in result or "datasets" not in result:
        return 0
    report(result)
    return 0


def subjects(D, modes, singles, base, groups, fall_groups, log) -> dict:
    """Leave subjects out; thresholds from pair models (trained without the test fold and one more)."""
    k = train.K
    fold = cv.folds(groups, k, SEED, fall_groups)
    pair_outs: dict = {}
    for i in range(k):
        for j in range(i + 1, k):
            mask = np.array([g == "synthetic" or fold.get(g, -1) not in (i, j, -1) for g in D.group])
            clf = cv.fit_mask(D, mask, SEED + 10 * i + j)
            for m, streams in modes.items():
                for f in (i, j):
                    test = [s for s in streams if fold.get(s.group) == f]
                    pair_outs[(i, j, f, m)] = cv.replay_grid(clf, test, base)
            log(f"pair model {i},{j}")
    cv_outs = defaultdict(list)
    cv_thresholds = []
    for f in range(k):
        inner = {m: defaultdict(list) for m in modes}
        for (i, j, ff, m), by_cfg in pair_outs.items():
            if f in (i, j) and ff != f:
                for key, o in by_cfg.items():
                    inner[m][key].extend(o)
        chosen = cv.choose(inner, base)
        cv_thresholds.append(chosen)
        mask = np.array([g == "synthetic" or fold.get(g, -1) not in (f, -1) for g in D.group])
        clf = cv.fit_mask(D, mask, SEED + 100 + f)
        test = {m: [s for s in v if fold.get(s.group) == f] for m, v in {**modes, **singles}.items()}
        for m, o in replay_chosen(clf, test, cv.base_with(base, chosen)).items():
            cv_outs[m].extend(o)
        log(f"outer fold {f + 1}/{k}: {json.dumps(chosen)}")
    return {"thresholds_per_fold": cv_thresholds, "modes": {m: breakdown(o) for m, o in cv_outs.items()}}


def datasets(D, modes, singles, base, groups, fall_groups, log) -> dict:
    """Leave one dataset out."""
    res = {}
    for train_set in ("umafall", "smartfallmm"):
        test_set = "smartfallmm" if train_set == "umafall" else "umafall"
        tr_groups = [g for g in groups if g.startswith(train_set + ":")]
        Dm = np.array([g == "synthetic" or g.startswith(train_set + ":") for g in D.group])
        sub = ds.Windows(D.x[Dm], D.y[Dm], D.placement[Dm], D.group[Dm])
        tr_modes = {m: [s for s in v if s.dataset == train_set] for m, v in modes.items()}
        chosen, _ = train.oof_thresholds(sub, tr_modes, tr_groups, fall_groups, base, SEED + 7, k=3, log=log)
        clf = cv.fit_mask(sub, np.ones(len(sub.y), bool), SEED + 200)
        test = {m: [s for s in v if s.dataset == test_set] for m, v in {**modes, **singles}.items()}
        outs = replay_chosen(clf, test, cv.base_with(base, chosen))
        res[f"{train_set}_to_{test_set}"] = {"thresholds": chosen, "modes": {m: breakdown(o) for m, o in outs.items()}}
        log(f"trained on {train_set}, tested on {test_set}: {json.dumps(chosen)}")
    return res


def report(result: dict) -> None:
    for name, r in [("subjects", result["subjects"])] + list(result["datasets"].items()):
        for m in ("held", "recorded", "trial_held", "trial_recorded"):
            for p in ("wrist", "waist"):
                s = r["modes"][m][p]["all"]
                o = r["modes"][m][p]["old_adl"]
                print(f"{name:28s} {m:15s} {p:6s} sens {s['sensitivity']} fa/h {s['false_alarms_per_hour']} "
                      f"old fa/h {o['false_alarms_per_hour']}")


if __name__ == "__main__":
    sys.exit(main())
