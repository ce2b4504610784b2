"""Features of a fall candidate for the learned second stage, the same numbers as
models/src/fall/aftermath.rs (the parity test models/tests/second_stage.rs holds them within 1e-4).

Samples are (n, 3) arrays in g at 50 Hz; 1 s stretches are whole stretches of 50 samples from the
first aftermath sample (a partial tail is dropped).
"""

from __future__ import annotations

import numpy as np

HZ = 50
QUIET_G = 0.04
FEATURE_NAMES = [
    "score", "peak_g", "orientation_change_deg", "quiet_share", "mean_g", "std_g", "max_after_g",
    "stretch_mean_min_g", "stretch_mean_max_g", "stretch_std_median_g", "stretch_std_max_g",
    "movements", "longest_quiet_s", "evidence_s",
]


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-9 or nb < 1e-9:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


def features(score: float, pre: np.ndarray, impact: np.ndarray, after: np.ndarray) -> np.ndarray:
    pre, impact, after = (np.asarray(v, np.float32).astype(np.float64).reshape(-1, 3) for v in (pre, impact, after))
    mags = np.linalg.norm(after, axis=1)
    mean_g, std_g = (float(mags.mean()), float(mags.std())) if len(mags) else (0.0, 0.0)
    peak_g = float(np.linalg.norm(impact, axis=1).max()) if len(impact) else 0.0
    max_after = float(mags.max()) if len(mags) else 0.0
    orient = _angle(pre.mean(0), after.mean(0)) if len(pre) and len(after) else 0.0
    n = len(mags) // HZ
    st = mags[: n * HZ].reshape(n, HZ)
    means, stds = st.mean(1), st.std(1)
    quiet = stds <= QUIET_G
    movements = sum(1 for i in range(n) if not quiet[i] and (i == 0 or quiet[i - 1]))
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return np.array([
        float(np.float32(score)), peak_g, orient, float(quiet.mean()) if n else 0.0, mean_g, std_g, max_after,
        float(means.min()) if n else 0.0, float(means.max()) if n else 0.0,
        float(np.median(stds)) if n else 0.0, float(stds.max()) if n else 0.0,
        float(movements), float(longest), len(after) / HZ,
    ])
