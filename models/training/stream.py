"""The deployed signal path before the model, in numpy: gaps, resampling, padding, windows.

This is a port of the Rust code that `pingan analyze fall` runs (models/src/fall/offline.rs and
resample.rs); models/tests/fall.rs checks that both give the same windows and scores within 1e-4.
Needs only numpy, so the project's .venv (no training stack) can run it.

  parts(t, acc)  -> [(t0, samples50)]  one per stretch without a gap > MAX_GAP_S, resampled to
                                        50 Hz on a grid starting at the part's first sample, with
                                        PAD samples (the first value held) in front
  windows(x)     -> [K, 200, 3]        windows every HOP samples from the start of a padded part
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HZ = 50.0
WINDOW = 200
HOP = 25
# Mid segment of a window, where the model expects the impact (samples 75..125, 1.5-2.5 s).
IMPACT = (75, 125)
# Gaps longer than this split a recording: nothing is interpolated across them.
MAX_GAP_S = 1.0
# The first value held for 1.5 s before a recording starts, so an impact in its first second can
# still fall into a window's mid segment (a recording often starts just before the event).
PAD = 75
# Parts shorter than this (s, real samples) cannot fill a window even with the padding.
MIN_PART_S = (WINDOW - PAD - 1) / HZ


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A `t,ax,ay,az` file: times (s, float64) and acceleration (g, float32)."""
    d = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return d[:, 0].astype(np.float64), d[:, 1:4].astype(np.float32)


def resample_irregular(t: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Linear interpolation onto a 50 Hz grid starting at t[0] (Rust `resample_irregular`)."""
    n = min(len(t), len(acc))
    if n == 0:
        return np.zeros((0, 3), np.float32)
    t = t[:n]
    count = int(np.floor((t[-1] - t[0]) * HZ + 1e-9)) + 1
    tk = t[0] + np.arange(count, dtype=np.float64) * (1.0 / HZ)
    j = np.clip(np.searchsorted(t, tk, side="left") - 1, 0, n - 1)
    jb = np.minimum(j + 1, n - 1)
    ta, tb = t[j], t[jb]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(tb > ta, np.clip((tk - ta) / np.where(tb > ta, tb - ta, 1.0), 0.0, 1.0), 0.0)
    w = w.astype(np.float32)[:, None]
    a, b = acc[j], acc[jb]
    return (a + (b - a) * w).astype(np.float32)


def split_at_gaps(t: np.ndarray, acc: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    cut = np.flatnonzero(np.diff(t) > MAX_GAP_S) + 1
    bounds = [0, *cut.tolist(), len(t)]
    return [(t[a:b], acc[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def parts(t: np.ndarray, acc: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Padded 50 Hz parts: (time of the first real sample, samples with PAD held in front)."""
    out = []
    for pt, pa in split_at_gaps(t, acc):
        r = resample_irregular(pt, pa)
        if len(r) + PAD < WINDOW:
            continue
        out.append((float(pt[0]), np.concatenate([np.repeat(r[:1], PAD, axis=0), r])))
    return out


def window_starts(n: int) -> np.ndarray:
    """Start indices of the windows of a padded part of n samples."""
    k = (n - WINDOW) // HOP + 1
    return np.arange(max(k, 0)) * HOP


def windows(x: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
    if starts is None:
        starts = window_starts(len(x))
    if len(starts) == 0:
        return np.zeros((0, WINDOW, 3), np.float32)
    idx = starts[:, None] + np.arange(WINDOW)[None, :]
    return x[idx].astype(np.float32)
