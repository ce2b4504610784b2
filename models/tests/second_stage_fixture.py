"""Writes models/tests/fixtures/second_stage_parity.json for the Rust-vs-Python test
(models/tests/second_stage.rs): generated (never recorded) candidates — lying still, an arm moving
on the floor, getting up at once, sitting down hard — their features from
models/training/aftermath.py, and a small second stage fitted on generated candidates, exported by
models/training/second_stage.py, with its outputs.

usage: python second_stage_fixture.py      (in the training venv: .venv-train/bin/python)
"""

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import aftermath as am  # noqa: E402
import second_stage as ss  # noqa: E402

HZ = am.HZ
OUT = Path(__file__).resolve().parent / "fixtures/second_stage_parity.json"
KINDS = ("lying_still", "arm_moving_on_floor", "got_up_at_once", "sat_down_hard")


def candidate(kind: str, rng: np.random.Generator):
    t = np.arange(int(8.5 * HZ)) / HZ
    pre = np.tile([0.0, 0.0, 1.0], (100, 1)) + rng.normal(0, 0.01, (100, 3))
    impact = np.tile([0.3, 0.2, 1.0], (10, 1)) * rng.uniform(1.5, 4.0)
    lying = np.tile([1.0, 0.0, 0.05], (len(t), 1))
    if kind == "lying_still":
        after = lying + rng.normal(0, 0.008, lying.shape)
    elif kind == "arm_moving_on_floor":
        after = lying + rng.normal(0, 0.01, lying.shape)
        on = (np.sin(2 * np.pi * t / rng.uniform(2.5, 4.0)) > 0.3)[:, None]
        after += on * 0.25 * np.sin(2 * np.pi * 1.5 * t)[:, None] * np.array([0.2, 1.0, 0.5])
    elif kind == "got_up_at_once":
        step = 0.3 * np.sin(2 * np.pi * 1.8 * t)[:, None]
        after = np.tile([0.0, 0.1, 1.0], (len(t), 1)) + step * np.array([0.3, 0.4, 1.0])
        after += rng.normal(0, 0.02, after.shape)
    else:  # sat down hard: trunk tilted back a little, then still-ish
        after = np.tile([0.35, 0.0, 0.94], (len(t), 1)) + rng.normal(0, 0.015, (len(t), 3))
    score = float(rng.uniform(0.5, 1.0))
    r4 = lambda a: np.round(a, 4).astype(np.float32)  # noqa: E731
    return score, r4(pre), r4(impact), r4(after)


def main() -> None:
    rng = np.random.default_rng(20261202)
    X, y = [], []
    for _ in range(60):
        for k in KINDS:
            X.append(am.features(*candidate(k, rng)))
            y.append(int(k in KINDS[:2]))
    forests = {}
    for p, seed in (("wrist", 1), ("waist", 2)):
        clf = HistGradientBoostingClassifier(max_iter=12, max_leaf_nodes=6, random_state=seed)
        clf.fit(np.array(X), np.array(y))
        forests[p] = ss.export_forest(clf)
        check = clf.predict_proba(np.array(X))[:, 1]
        mine = np.array([ss.predict(forests[p], x) for x in X])
        assert np.abs(check - mine).max() < 1e-9, "export differs from scikit-learn"
    cases = []
    for k in KINDS:
        score, pre, impact, after = candidate(k, rng)
        f = am.features(score, pre, impact, after)
        short = lambda a: np.round(a.astype(np.float64), 4).tolist()  # noqa: E731
        cases.append({"kind": k, "score": score, "pre": short(pre), "impact": short(impact),
                      "after": short(after), "features": f.tolist(),
                      "wrist": ss.predict(forests["wrist"], f), "waist": ss.predict(forests["waist"], f)})
    OUT.write_text(json.dumps({"model": ss.export(forests), "cases": cases}) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
