"""Training windows from streams, cut exactly as the deployed path cuts them (stream.py).

Labels: a window is positive when a fall's impact (the trial's largest |a|) lies in its mid
segment (samples 75..125); extra positives are cut at other offsets of the impact inside that
segment. Windows with an impact just outside the mid segment (50..75, 125..150) are left out
(neither label fits); every other window is negative, also those of fall trials away from the
impact. Augmentation: a copy of each stream resampled to 20 Hz, the lowest rate accepted, so the
model sees the smoother impacts of slow sensors (the ±2 g clipping is part of the graph).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import realdata as rd
import stream as st

POS_OFFSETS = np.arange(77, 124, 4)  # impact position inside positive windows (12 offsets)


@dataclass
class Windows:
    x: np.ndarray  # [K,F] features (features.py)
    y: np.ndarray  # [K]
    placement: np.ndarray  # [K] 0 wrist 1 waist
    group: np.ndarray  # [K] subject group (dataset:subject)


def resample_to(t: np.ndarray, acc: np.ndarray, hz: float) -> tuple[np.ndarray, np.ndarray]:
    """A stream as a slower device would have recorded it (linear interpolation, per part)."""
    ts, accs = [], []
    for pt, pa in st.split_at_gaps(t, acc):
        grid = pt[0] + np.arange(int((pt[-1] - pt[0]) * hz) + 1) / hz
        ts.append(grid)
        accs.append(np.stack([np.interp(grid, pt, pa[:, k]) for k in range(3)], 1).astype(np.float32))
    return np.concatenate(ts), np.concatenate(accs)


def stream_windows(s: rd.Stream) -> tuple[list[np.ndarray], list[np.ndarray]]:
    impacts = np.array([sp.impact for sp in s.spans if sp.trial.is_fall])
    ws, ys = [], []
    for t0, x in st.parts(s.t, s.acc):
        n_real = len(x) - st.PAD
        t_end = t0 + (n_real - 1) / st.HZ
        # impact index in the padded part
        imp = [int(round((i - t0) * st.HZ)) + st.PAD for i in impacts if t0 <= i <= t_end]
        starts = st.window_starts(len(x))
        label = np.zeros(len(starts), np.int64)
        keep = np.ones(len(starts), bool)
        for i in imp:
            pos = i - starts
            keep &= ~((pos >= 50) & (pos < 150))
        ws.append(st.windows(x, starts[keep]))
        ys.append(label[keep])
        pstarts = np.array([i - p for i in imp for p in POS_OFFSETS if 0 <= i - p <= len(x) - st.WINDOW], np.int64)
        if len(pstarts):
            ws.append(st.windows(x, pstarts))
            ys.append(np.ones(len(pstarts), np.int64))
    return ws, ys


def build(streams: list[rd.Stream], feat, augment: bool = True) -> Windows:
    """Features of every training window; `feat(windows, placement)` runs the feature graph."""
    W, Y, P, G = [], [], [], []
    for s in streams:
        variants = [(s.t, s.acc)]
        if augment and s.dataset != "umafall":  # UMAFall's SensorTags already record at 20 Hz
            variants.append(resample_to(s.t, s.acc, 20.0))
        for t, acc in variants:
            v = rd.Stream(s.name, s.placement, s.dataset, s.group, t, acc, s.spans)
            ws, ys = stream_windows(v)
            for w, y in zip(ws, ys):
                if len(w) == 0:
                    continue
                W.append(feat(w, s.placement))
                Y.append(y)
                P.append(np.full(len(y), 1.0 if s.placement == "waist" else 0.0, np.float32))
                G.append(np.full(len(y), s.group))
    return Windows(np.concatenate(W), np.concatenate(Y), np.concatenate(P), np.concatenate(G))


# Generated falls only of the kinds the real trials lack: the real falls are young adults'
# falls from standing onto a mat (forward, backward, lateral, rotational); older people also
# collapse slowly (syncope), roll out of bed and slide off chairs.
SYNTHETIC_KINDS = ("syncope", "from_bed", "from_chair")


def synthetic(feat, n_per_kind: int, seed: int) -> Windows:
    """Windows of generated falls of SYNTHETIC_KINDS, cut like the real ones (group "synthetic")."""
    import generator as gen

    W, Y, P = [], [], []
    for pi, placement in enumerate(gen.PLACEMENTS):
        for ki, kind in enumerate(SYNTHETIC_KINDS):
            for i in range(n_per_kind):
                rng = np.random.default_rng(np.random.SeedSequence([seed, 7, pi, ki, i]))
                tr, t_imp = gen.fall_trace(rng, placement, kind, post_s=float(rng.uniform(10, 20)))
                dev = gen.random_device(tr.rng)
                t, acc = gen.sense(tr, dev)
                impact = t_imp / (1.0 + dev.drift)
                span = rd.Span(rd.Trial("gen", "generator", "gen", "", kind, True, placement, "gen", t, acc, impact),
                               0.0, float(t[-1]), float(t[-1]), impact)
                s = rd.Stream(f"gen:{kind}:{i}", placement, "generator", "synthetic", t, acc, [span])
                for w, y in zip(*stream_windows(s)):
                    if len(w):
                        W.append(feat(w, placement))
                        Y.append(y)
                        P.append(np.full(len(y), float(pi == 1), np.float32))
    y = np.concatenate(Y)
    return Windows(np.concatenate(W), y, np.concatenate(P), np.full(len(y), "synthetic"))


def concat(a: Windows, b: Windows) -> Windows:
    return Windows(np.concatenate([a.x, b.x]), np.concatenate([a.y, b.y]),
                   np.concatenate([a.placement, b.placement]), np.concatenate([a.group, b.group]))
