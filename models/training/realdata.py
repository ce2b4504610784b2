"""Real recordings for training and evaluation: the data folder's manifest, its trials, and the long
streams they are played as.

The folder (passed as `--data DIR`, never stored in the repository) holds `manifest.csv` and
`trials/<dataset>/<placement>/<id>.csv` (`t,ax,ay,az`, seconds and g, native rate). A site can
retrain on its own recordings by laying them out the same way.

Streams: the trials of one subject and device, in a seeded random order, played one after another
with 0.5 s between them (the resampler interpolates across it, a short blend instead of a jump).
In the *held* variant each fall trial is followed by HOLD_S seconds of its last second's mean
value: the person lying after the fall, which cropped trials do not show.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import stream as st

# Manifest placements the gateway's two placements are trained and evaluated on.
PLACEMENT_OF = {"wrist": "wrist", "waist": "waist", "hip": "waist"}
JOIN_S = 0.5
HOLD_S = 12.0


@dataclass
class Trial:
    file: str
    dataset: str
    subject: str
    age_group: str
    activity: str
    is_fall: bool
    placement: str  # wrist | waist
    device: str
    t: np.ndarray = field(repr=False)
    acc: np.ndarray = field(repr=False)
    impact: float = float("nan")  # seconds from the trial's start (falls)

    @property
    def group(self) -> str:
        """Subjects are distinct per dataset."""
        return f"{self.dataset}:{self.subject}"


@dataclass
class Span:
    trial: Trial
    start: float  # stream seconds
    end: float
    end_held: float  # end including the hold (falls in held streams)
    impact: float  # stream seconds (nan for ADL)


@dataclass
class Stream:
    name: str
    placement: str
    dataset: str
    group: str
    t: np.ndarray = field(repr=False)
    acc: np.ndarray = field(repr=False)
    spans: list[Span] = field(default_factory=list)

    @property
    def adl_hours(self) -> float:
        return sum(s.end - s.start for s in self.spans if not s.trial.is_fall) / 3600


def impact_time(t: np.ndarray, acc: np.ndarray) -> float:
    """The largest |a| of the trial (on its 50 Hz resampling), seconds from its first sample."""
    r = st.resample_irregular(t, acc)
    mag = np.linalg.norm(r, axis=1)
    return float(np.argmax(mag) / st.HZ)


def load(data: Path, placements=("wrist", "waist")) -> list[Trial]:
    trials = []
    with open(data / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            p = PLACEMENT_OF.get(row["placement"])
            if p not in placements:
                continue
            t, acc = st.read_csv(data / row["file"])
            if len(t) < 2:
                continue
            tr = Trial(
                file=row["file"],
                dataset=row["dataset"],
                subject=row["subject"],
                age_group=row["age_group"],
                activity=row["activity"],
                is_fall=row["is_fall"] == "1",
                placement=p,
                device=row["device"],
                t=t - t[0],
                acc=acc,
            )
            if tr.is_fall:
                tr.impact = impact_time(tr.t, tr.acc)
            trials.append(tr)
    return trials


def _seed(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def build_streams(trials: list[Trial], held: bool, seed: int) -> list[Stream]:
    """One stream per subject and device."""
    groups: dict[tuple, list[Trial]] = {}
    for tr in trials:
        groups.setdefault((tr.dataset, tr.subject, tr.device, tr.placement), []).append(tr)
    out = []
    for key in sorted(groups):
        name = ":".join(key)
        order = sorted(groups[key], key=lambda x: x.file)
        rng = _seed(name, seed)
        order = [order[i] for i in rng.permutation(len(order))]
        ts, accs, spans = [], [], []
        now = 0.0
        for tr in order:
            start = now
            ts.append(tr.t + start)
            accs.append(tr.acc)
            end = start + float(tr.t[-1])
            end_held = end
            if held and tr.is_fall:
                dt = float(tr.t[-1]) / max(len(tr.t) - 1, 1)
                last = tr.acc[tr.t >= tr.t[-1] - 1.0].mean(axis=0)
                k = int(HOLD_S / dt)
                ts.append(end + dt * np.arange(1, k + 1))
                accs.append(np.repeat(last[None, :].astype(np.float32), k, axis=0))
                end_held = end + dt * k
            impact = start + tr.impact if tr.is_fall else float("nan")
            spans.append(Span(tr, start, end, end_held, impact))
            now = end_held + JOIN_S
        out.append(
            Stream(name, key[3], key[0], f"{key[0]}:{key[1]}", np.concatenate(ts), np.concatenate(accs), spans)
        )
    return out


def single_trial_streams(trials: list[Trial], held: bool) -> list[Stream]:
    """Every trial as a recording of its own (as a clinician plays them through the CLI)."""
    out = []
    for tr in trials:
        t, acc = tr.t, tr.acc
        end = float(t[-1])
        end_held = end
        if held and tr.is_fall:
            dt = end / max(len(t) - 1, 1)
            last = acc[t >= end - 1.0].mean(axis=0)
            k = int(HOLD_S / dt)
            t = np.concatenate([t, end + dt * np.arange(1, k + 1)])
            acc = np.concatenate([acc, np.repeat(last[None, :].astype(np.float32), k, axis=0)])
            end_held = float(t[-1])
        impact = tr.impact if tr.is_fall else float("nan")
        out.append(Stream(tr.file, tr.placement, tr.dataset, tr.group, t, acc, [Span(tr, 0.0, end, end_held, impact)]))
    return out
