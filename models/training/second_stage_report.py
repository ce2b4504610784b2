"""Markdown tables of second_stage_eval.py's JSON (pooled over the test folds), for docs/BENCHMARKS.md.

usage: second_stage_report.py [FILE]   (default /tmp/second_stage_eval.json)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from candidates import merge

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


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "second_stage_eval.json"
    result = json.loads(path.read_text())
    print("\n".join(main_table(result)))
    print()
    print("\n".join(choice_table(result)))
    print()
    for p in ("waist", "wrist"):
        print(f"{p}:")
        print("\n".join(diagnostics(result, p)))
        print()
    bad = check(result)
    print("rules from candidates vs replay:", "identical" if not bad else "; ".join(bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
