"""First-stage candidate replays for the second stage's evaluation (second_stage_eval.py), cached.

A replay is one first-stage model's pass over one fold's streams in one mode (held or recorded)
through the Rust offline path (fall_replay, features on), with the deployed rules (config 0, the
thresholds evaluate.py chose for that fold) and every candidate at each of CANDS (configs 1…: both
thresholds at the candidate level, so every candidate raises). Only what counting needs is kept
(no samples), so a fold's pickle is small; pickles live under --cache (default under /tmp), one
per model and fold, and are reused when their key matches.
"""

from __future__ import annotations

import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import model as mdl
import realdata as rd
import replay

CANDS = [0.3, 0.5, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]  # candidate levels replayed (GRID values)
MODES = ("held", "recorded")


@dataclass
class SpanRec:
    """One trial inside a replayed stream."""

    file: str
    is_fall: bool
    age_group: str
    dataset: str
    activity: str
    placement: str
    group: str
    hours: float  # the trial's length (ADL hours count towards the rates)


@dataclass
class Replay:
    """Alarms inside trials (alarms in the 0.5 s joins count for nothing and are dropped)."""

    spans: list[SpanRec]
    config: np.ndarray  # per alarm: 0 rules, 1 + index into CANDS
    span: np.ndarray  # per alarm: index into spans
    score: np.ndarray
    down: np.ndarray  # aftermath == "down"
    features: np.ndarray  # (n, 14), aftermath.FEATURE_NAMES order
    rule_thresholds: dict = field(default_factory=dict)


def configs(base: dict, rule: dict | None) -> dict:
    out = {}
    for p in base:
        r = dict(base[p], **({} if rule is None else {"threshold": rule[p]["threshold"],
                                                       "recovered_threshold": rule[p]["recovered_threshold"]}))
        out[p] = [r] + [dict(base[p], threshold=c, recovered_threshold=c) for c in CANDS]
    return out


def to_replay(streams: list[rd.Stream], alarms: list[replay.Alarm], rule: dict | None) -> Replay:
    spans, index = [], []
    for s in streams:
        idx = []
        for sp in s.spans:
            tr = sp.trial
            idx.append((sp.start, sp.end_held if tr.is_fall else sp.end, len(spans)))
            spans.append(SpanRec(tr.file, tr.is_fall, tr.age_group, tr.dataset, tr.activity, s.placement, s.group,
                                 (sp.end - sp.start) / 3600))
        index.append(idx)
    rows = []
    for a in alarms:
        for start, end, k in index[a.stream]:
            if start - 1e-6 <= a.t <= end + 1e-6:
                rows.append((a.config, k, a.score, a.aftermath == "down", a.features))
                break
    return Replay(spans, np.array([r[0] for r in rows], int), np.array([r[1] for r in rows], int),
                  np.array([r[2] for r in rows]), np.array([r[3] for r in rows], bool),
                  np.array([r[4] for r in rows], float).reshape(len(rows), -1), rule or {})


def run(clf, streams_by_mode: dict, base: dict, rule: dict | None) -> dict[str, Replay]:
    cfgs = configs(base, rule)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.onnx"
        mdl.export(clf, path)
        for m, streams in streams_by_mode.items():
            out[m] = to_replay(streams, replay.run(path, cfgs, streams, features=True), rule)
    return out


def cached(path: Path, key: dict, compute):
    """`compute()` unless `path` holds a pickle made with the same key."""
    if path.exists():
        k, v = pickle.loads(path.read_bytes())
        if k == key:
            return v
    v = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((key, v)))
    return v


def rows(rp: Replay, placement: str, cand: float) -> np.ndarray:
    """Indices of the alarms of candidate level `cand` at `placement`."""
    k = 1 + CANDS.index(cand)
    pl = np.array([rp.spans[s].placement == placement for s in rp.span], bool) if len(rp.span) else np.zeros(0, bool)
    return np.flatnonzero((rp.config == k) & pl)


def count(rp: Replay, placement: str, alarm_idx: np.ndarray, old_only: bool = False,
          dataset: str | None = None) -> dict:
    """Sensitivity and false alarms of the alarms `alarm_idx` of a replay (replay.summarize's keys)."""
    keep = [i for i, s in enumerate(rp.spans) if s.placement == placement
            and (dataset is None or s.dataset == dataset)
            and (not old_only or (s.age_group == "old" and not s.is_fall))]
    keep_set = set(keep)
    hits: dict[int, int] = {}
    for i in alarm_idx:
        k = int(rp.span[i])
        if k in keep_set:
            hits[k] = hits.get(k, 0) + 1
    falls = [k for k in keep if rp.spans[k].is_fall]
    adl = [k for k in keep if not rp.spans[k].is_fall]
    hours = sum(rp.spans[k].hours for k in adl)
    det = sum(1 for k in falls if k in hits)
    fa = sum(hits.get(k, 0) for k in adl)
    return {"falls": len(falls), "detected": det, "sensitivity": round(det / len(falls), 3) if falls else None,
            "adl_hours": round(hours, 3), "false_alarms": fa,
            "false_alarms_per_hour": round(fa / hours, 3) if hours > 0 else None}


def hits(rp: Replay, placement: str, alarm_idx: np.ndarray) -> list[int]:
    """Alarms per trial of `placement` (in replay order, as `trials` lists them), for paired
    comparisons over subjects."""
    n: dict[int, int] = {}
    for i in alarm_idx:
        n[int(rp.span[i])] = n.get(int(rp.span[i]), 0) + 1
    return [n.get(k, 0) for k, s in enumerate(rp.spans) if s.placement == placement]


def trials(rp: Replay, placement: str) -> list[list]:
    """[subject group, is_fall, ADL hours (0 for falls), older person's ADL] per trial of `placement`."""
    return [[s.group, int(s.is_fall), 0.0 if s.is_fall else round(s.hours, 6), int(s.age_group == "old" and not s.is_fall)]
            for s in rp.spans if s.placement == placement]


def merge(counts: list[dict]) -> dict:
    """Pooled figures of several folds' counts."""
    f = sum(c["falls"] for c in counts)
    d = sum(c["detected"] for c in counts)
    h = sum(c["adl_hours"] for c in counts)
    fa = sum(c["false_alarms"] for c in counts)
    return {"falls": f, "detected": d, "sensitivity": round(d / f, 3) if f else None, "adl_hours": round(h, 3),
            "false_alarms": fa, "false_alarms_per_hour": round(fa / h, 3) if h > 0 else None}
