"""World-frame checks of the fall generator's physics (generator.py): |a| at rest, free-fall
minima, impact peaks, momentum balance. Prints them as JSON:

    python physics_checks.py [--seed 7] [--per-kind 20]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from generator import FALL_TYPES, PLACEMENTS, SIM_HZ, G, fall_trace, negative_trace, new_trace, still


def physics_checks(rng: np.random.Generator, n_per_kind: int = 20) -> dict:
    """World-frame checks of the simulator: |a| at rest, free-fall minima, impact peaks, momentum."""
    out: dict = {}
    rest = []
    for p in PLACEMENTS:
        tr = new_trace(rng, p, "upright")
        still(tr, 10.0)
        lin, rs = tr.world()
        rest.append(np.linalg.norm(lin + [0, 0, 1.0], axis=1))
    rest = np.concatenate(rest)
    out["rest_magnitude_g"] = {"mean": float(rest.mean()), "min": float(rest.min()), "max": float(rest.max())}
    per_kind = {}
    for kind in FALL_TYPES + ["sit_down_hard", "jump", "stumble_recovered", "device_drop"]:
        mins, peaks, resid, dur_ff = [], [], [], []
        for _ in range(n_per_kind):
            if kind in FALL_TYPES:
                tr, t_imp = fall_trace(rng, "waist", kind, post_s=5.0)
            else:
                tr = negative_trace(rng, "waist", kind)
                t_imp = next(t for k, t in tr.events if k == kind)
            lin, _ = tr.world()
            mag = np.linalg.norm(lin + [0, 0, 1.0], axis=1)
            i = int(t_imp * SIM_HZ)
            lo, hi = max(0, i - int(2.5 * SIM_HZ)), min(len(mag), i + int(0.5 * SIM_HZ))
            mins.append(float(mag[lo:i].min()))
            peaks.append(float(mag[i - 5 : hi].max()))
            dur_ff.append(float((mag[lo:i] < 0.6).sum() / SIM_HZ))
            # momentum: over each descent + impact, the vertical acceleration integrates to the
            # velocity change (zero for a body that ends at rest)
            for _, a, b, dv in tr.world_checks:
                resid.append(float(abs(lin[a:b, 2].sum() / SIM_HZ * G - dv)))
        per_kind[kind] = {
            "min_magnitude_before_impact_g": [round(float(np.percentile(mins, q)), 3) for q in (5, 50, 95)],
            "peak_magnitude_g": [round(float(np.percentile(peaks, q)), 3) for q in (5, 50, 95)],
            "time_below_0.6g_s": [round(float(np.percentile(dur_ff, q)), 3) for q in (5, 50, 95)],
            "vertical_velocity_residual_m_s_max": round(float(max(resid)), 3),
        }
    out["events"] = per_kind
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-kind", type=int, default=20)
    args = ap.parse_args()
    print(json.dumps(physics_checks(np.random.default_rng(args.seed), args.per_kind), indent=2))
