"""Markdown tables of second_stage_eval.py's JSON (pooled over the test folds), for docs/BENCHMARKS_FALL.md.

usage: second_stage_report.py [FILE] [--summary OUT]   (FILE default /tmp/second_stage_eval.json)
--summary writes the compact figures model_card.py renders (models/fall_second_stage.json): the
rules against the pre-specified second stage (PRIMARY: second_stage_experiment.py's trees on every
candidate ≥ 0.5, threshold on the median inner fold at the rules' own false-alarm rate).
"""

from __future__ import annotations

import argparse
import datetime
import json
import tempfile
from pathlib import Path

import numpy as np

from candidates import merge

PRIMARY = ("wide", "trees", "median")
KIND_NAMES = {"trees": "trees (100 × 15 leaves)", "shallow_mono": "shallow monotonic (30 × depth 2)",
              "logistic": "logistic regression"}
PARTS = {"subjects": "held-out subjects (5 folds)", "umafall_to_smartfallmm": "trained on UMAFall, tested on SmartFallMM",
         "smartfallmm_to_umafall": "trained on SmartFallMM, tested on UMAFall"}


def fmt(s: dict) -> str:
    if not s["falls"]:
        return "–"
    return f"{100 * s['sensitivity']:.0f} % ({s['detected']}/{s['falls']})"


def rate(s: dict) -> str:
    r = s["false_alarms_per_hour"]
    return "–" if r is None else f"{r:.2f} ({s['false_alarms']} in {s['adl_hours']:.1f} h)"


def folds_of(result: dict, part: str) -> list[dict]:
    return result["subjects"]["folds"] if part == "subjects" else [result["datasets"][part]]


def pooled(folds, p, path, mode, old=False):
    out = []
    for f in folds:
        v = f[p]
        for k in path:
            v = v[k]
        out.append(v[("test_old_adl" if old else "test")][mode] if isinstance(v, dict) and "test" in v else v[mode])
    return merge(out)


def main_table(result: dict, how: str = "median", budget: str = "matched") -> list[str]:
    lines = ["| evaluation | placement | replay | decision | sensitivity | false alarms / h | older people's ADL |",
             "|---|---|---|---|---|---|---|"]
    for part, name in PARTS.items():
        if part != "subjects" and part not in result.get("datasets", {}):
            continue
        folds = folds_of(result, part)
        for p in ("wrist", "waist"):
            for mode, mname in (("held", "lying held"), ("recorded", "as recorded")):
                base = merge([f[p]["baseline"][mode] for f in folds])
                old = merge([f[p]["baseline_old_adl"][mode] for f in folds])
                lines.append(f"| {name} | {p} | {mname} | rules (deployed) | {fmt(base)} | {rate(base)} | {rate(old)} |")
                for lv in ("rules", "wide"):
                    level = "/".join(sorted({str(f[p][lv]["level"]) for f in folds}))
                    for kind in KIND_NAMES:
                        c = [f[p][lv][kind]["budgets"][budget][how] for f in folds]
                        s = merge([x["test"][mode] for x in c])
                        o = merge([x["test_old_adl"][mode] for x in c])
                        lines.append(f"| {name} | {p} | {mname} | {kind}, candidates ≥ {level} | {fmt(s)} | {rate(s)} "
                                     f"| {rate(o)} |")
    return lines


def choice_table(result: dict, part: str = "subjects") -> list[str]:
    """Held streams: how the threshold choice (median, pooled, every inner fold) changes the outcome."""
    folds = folds_of(result, part)
    lines = ["| placement | decision | median inner fold | pooled inner folds | every inner fold |", "|---|---|---|---|---|"]
    for p in ("wrist", "waist"):
        for lv in ("rules", "wide"):
            for kind in KIND_NAMES:
                cells = []
                for how in ("median", "pooled", "worst"):
                    s = merge([f[p][lv][kind]["budgets"]["matched"][how]["test"]["held"] for f in folds])
                    cells.append(f"{100 * s['sensitivity']:.0f} % at {s['false_alarms_per_hour']:.2f}/h")
                lines.append(f"| {p} | {kind}, {lv} candidates | " + " | ".join(cells) + " |")
    return lines


def diagnostics(result: dict, p: str = "waist", lv: str = "rules", kind: str = "trees") -> list[str]:
    folds = folds_of(result, "subjects")
    lines = [f"| fold | training candidates (false) | budget /h | threshold median / pooled / every / test oracle "
             f"| inner folds' false alarms/h at the median choice | test false alarms (held) | mean p: false cand. OOF / test |",
             "|---|---|---|---|---|---|---|"]
    for n, f in enumerate(folds):
        r = f[p][lv]
        b = r[kind]["budgets"]["matched"]
        cal = r[kind]["calibration"]
        ths = " / ".join(f"{b[h]['threshold']:.3f}" for h in ("median", "pooled", "worst")) + f" / {b['oracle_threshold']:.3f}"
        lines.append(f"| {n + 1} | {r['train_candidates']} ({r['train_false']}) | {b['median']['budget']:.3f} | {ths} "
                     f"| {', '.join(str(v) for v in b['median']['inner_fa_per_hour'])} "
                     f"| {b['median']['test']['held']['false_alarms']} in {b['median']['test']['held']['adl_hours']:.2f} h "
                     f"| {cal['oof_mean_p_false']} / {cal['test_mean_p_false']} |")
    return lines


def paired(result: dict, part: str, p: str, mode: str, lv: str, kind: str, how: str = "median",
           reps: int = 2000, seed: int = 20261202) -> dict:
    """Second stage minus rules on the same trials, with 95 % intervals from a bootstrap over
    subjects (each subject's trials resampled together)."""
    per: dict = {}
    for f in folds_of(result, part):
        r = f[p]
        var = r[lv][kind]["budgets"]["matched"][how]["hits"][mode]
        for (g, fall, hours, _), a, b in zip(r["trials"][mode], r["baseline_hits"][mode], var):
            v = per.setdefault(g, np.zeros(6))  # falls, detected rules / 2nd, ADL h, FA rules / 2nd
            if fall:
                v[:3] += [1, a > 0, b > 0]
            else:
                v[3:] += [hours, a, b]
    M = np.stack(list(per.values()))

    def stats(m):
        return (m[:, 2].sum() - m[:, 1].sum()) / m[:, 0].sum(), (m[:, 5].sum() - m[:, 4].sum()) / m[:, 3].sum()

    rng = np.random.default_rng(seed)
    boot = np.array([stats(M[rng.integers(0, len(M), len(M))]) for _ in range(reps)])
    ds, dfa = stats(M)
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    return {"d_sensitivity": round(float(ds), 3), "d_sensitivity_ci": [round(float(lo[0]), 3), round(float(hi[0]), 3)],
            "d_fa_per_hour": round(float(dfa), 3), "d_fa_per_hour_ci": [round(float(lo[1]), 3), round(float(hi[1]), 3)],
            "subjects": len(M)}


def paired_table(result: dict, part: str = "subjects", variants=(("wide", "trees"), ("wide", "shallow_mono"),
                                                                    ("rules", "trees"))) -> list[str]:
    lines = ["| placement | replay | decision | Δ sensitivity (95 % CI) | Δ false alarms / h (95 % CI) | folds better / worse |",
             "|---|---|---|---|---|---|"]
    for p in ("wrist", "waist"):
        for mode in ("held", "recorded"):
            for lv, kind in variants:
                d = paired(result, part, p, mode, lv, kind)
                better = worse = 0
                for f in folds_of(result, part):
                    a, b = f[p]["baseline"][mode], f[p][lv][kind]["budgets"]["matched"]["median"]["test"][mode]
                    if (b["detected"], -b["false_alarms"]) > (a["detected"], -a["false_alarms"]) and \
                            b["detected"] >= a["detected"] and b["false_alarms"] <= a["false_alarms"]:
                        better += 1
                    elif b["detected"] <= a["detected"] and b["false_alarms"] >= a["false_alarms"] and \
                            (b["detected"], b["false_alarms"]) != (a["detected"], a["false_alarms"]):
                        worse += 1
                lines.append(f"| {p} | {mode} | {kind}, {lv} candidates | {100 * d['d_sensitivity']:+.1f} pp "
                             f"({100 * d['d_sensitivity_ci'][0]:+.1f} … {100 * d['d_sensitivity_ci'][1]:+.1f}) "
                             f"| {d['d_fa_per_hour']:+.2f} ({d['d_fa_per_hour_ci'][0]:+.2f} … {d['d_fa_per_hour_ci'][1]:+.2f}) "
                             f"| {better} / {worse} |")
    return lines


def check(result: dict) -> list[str]:
    """The rules re-derived from the candidates must equal the rules' own replay."""
    out = []
    for part in PARTS:
        if part != "subjects" and part not in result.get("datasets", {}):
            continue
        for f in folds_of(result, part):
            for p in ("wrist", "waist"):
                for m in ("held", "recorded"):
                    a, b = f[p]["baseline"][m], f[p]["rules_from_candidates"][m]
                    if (a["detected"], a["false_alarms"]) != (b["detected"], b["false_alarms"]):
                        out.append(f"{part} {p} {m}: replay {a['detected']}/{a['false_alarms']} vs candidates "
                                   f"{b['detected']}/{b['false_alarms']}")
    return out


def summary(result: dict) -> dict:
    """Rules against PRIMARY per evaluation, placement and replay; paired deltas on held-out subjects;
    `ship` only when PRIMARY has more falls at no more false alarms in every held-out-subjects cell."""
    lv, kind, how = PRIMARY
    rows, beats = [], {}
    for part, name in PARTS.items():
        if part != "subjects" and part not in result.get("datasets", {}):
            continue
        folds = folds_of(result, part)
        for p in ("wrist", "waist"):
            for mode in ("held", "recorded"):
                c = [f[p][lv][kind]["budgets"]["matched"][how] for f in folds]
                row = {"evaluation": name, "placement": p, "replay": mode,
                       "rules": merge([f[p]["baseline"][mode] for f in folds]),
                       "rules_old_adl": merge([f[p]["baseline_old_adl"][mode] for f in folds]),
                       "second_stage": merge([x["test"][mode] for x in c]),
                       "second_stage_old_adl": merge([x["test_old_adl"][mode] for x in c])}
                if part == "subjects":
                    row["paired"] = paired(result, part, p, mode, lv, kind, how)
                    a, b = row["rules"], row["second_stage"]
                    beats[f"{p} {mode}"] = b["detected"] > a["detected"] and b["false_alarms"] <= a["false_alarms"]
                rows.append(row)
    waist = [f["waist"][lv] for f in folds_of(result, "subjects")]
    return {"date": datetime.date.today().isoformat(),
            "command": "second_stage_eval.py --data DIR --part all; second_stage_report.py --summary models/fall_second_stage.json",
            "primary": {"candidates": "score ≥ 0.5", "model": KIND_NAMES[kind],
                                                          "threshold": "median inner fold, rules' false-alarm rate"},
            "rows": rows, "beats_rules": beats, "ship": all(beats.values()),
            "waist_training_candidates": [[w["train_candidates"], w["train_false"]] for w in waist]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path, default=Path(tempfile.gettempdir()) / "second_stage_eval.json")
    ap.add_argument("--summary", type=Path, help="write the model card's compact figures here")
    args = ap.parse_args()
    result = json.loads(args.file.read_text())
    if args.summary:
        args.summary.write_text(json.dumps(summary(result), indent=1, ensure_ascii=False) + "\n")
        return 0
    print("\n".join(main_table(result)))
    print()
    print("\n".join(choice_table(result)))
    print()
    for p in ("waist", "wrist"):
        for lv in ("rules", "wide"):
            print(f"{p}, trees on {lv} candidates:")
            print("\n".join(diagnostics(result, p, lv)))
            print()
    print("\n".join(paired_table(result)))
    print()
    bad = check(result)
    print("rules from candidates vs replay:", "identical" if not bad else "; ".join(bad))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
