"""Detection as deployed: streams replayed through the Rust offline path (models/examples/
fall_replay.rs, the code of `pingan analyze fall`), and the counting of detected falls and false
alarms.

Counting: a fall is detected when an alarm's impact time lands inside its trial (from its start
to its end, the hold included); every alarm inside an activity (ADL) trial is a false alarm;
alarms elsewhere (the 0.5 s joins) count for nothing. Rates are per hour of ADL trials.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import realdata as rd

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "target/release/examples/fall_replay"


def defaults(binary: Path = REPLAY) -> dict:
    """The built-in confirmation configs (Rust `ConfirmerConfig::for_placement`)."""
    out = subprocess.run([str(binary), "--defaults"], check=True, capture_output=True, text=True).stdout
    return {k: v[0] for k, v in json.loads(out).items()}


def write_recordings(streams: list[rd.Stream], path: Path) -> None:
    with path.open("wb") as f:
        for i, s in enumerate(streams):
            f.write(struct.pack("<IBI", i, 1 if s.placement == "waist" else 0, len(s.t)))
            f.write(np.ascontiguousarray(s.t, "<f8").tobytes())
            f.write(np.ascontiguousarray(s.acc, "<f4").tobytes())


@dataclass
class Alarm:
    stream: int
    config: int
    t: float
    score: float
    aftermath: str
    features: tuple[float, ...] = ()  # the candidate's second-stage features (aftermath.py order)


def run(model: Path, configs: dict, streams: list[rd.Stream], binary: Path = REPLAY,
        features: bool = False) -> list[Alarm]:
    """Replays every stream with each configuration of its placement (with `features`, each
    alarm also carries its candidate's second-stage features). `model` is the exported .onnx; the
    replay reads the trees model.export wrote beside it (.json), as the gateway does."""
    with tempfile.TemporaryDirectory() as d:
        rec, cfg = Path(d) / "rec.bin", Path(d) / "cfg.json"
        write_recordings(streams, rec)
        cfg.write_text(json.dumps(configs))
        env = {**os.environ, "FALL_REPLAY_FEATURES": "1" if features else "0"}
        r = subprocess.run([str(binary), str(model.with_suffix(".json")), str(cfg), str(rec)], capture_output=True, text=True, env=env)
        if r.returncode != 0 or not r.stdout.rstrip().endswith(f"done {len(streams)}"):
            raise SystemExit(f"fall_replay failed ({r.returncode}): {r.stderr[-2000:]}")
    alarms = []
    for line in r.stdout.splitlines()[:-1]:
        i, k, t, s, a, *f = line.split()
        alarms.append(Alarm(int(i), int(k), float(t), float(s), a, tuple(map(float, f))))
    return alarms


@dataclass
class Outcome:
    """One trial's result under one configuration."""

    span: rd.Span
    placement: str
    alarms: int  # alarms inside the trial
    aftermath: str  # of the first alarm ("" when none)


def outcomes(streams: list[rd.Stream], alarms: list[Alarm], config: int) -> list[Outcome]:
    by_stream: dict[int, list[Alarm]] = {}
    for a in alarms:
        if a.config == config:
            by_stream.setdefault(a.stream, []).append(a)
    out = []
    for i, s in enumerate(streams):
        al = sorted(by_stream.get(i, []), key=lambda a: a.t)
        for sp in s.spans:
            end = sp.end_held if sp.trial.is_fall else sp.end
            inside = [a for a in al if sp.start - 1e-6 <= a.t <= end + 1e-6]
            out.append(Outcome(sp, s.placement, len(inside), inside[0].aftermath if inside else ""))
    return out


def summarize(outs: list[Outcome]) -> dict:
    falls = [o for o in outs if o.span.trial.is_fall]
    adl = [o for o in outs if not o.span.trial.is_fall]
    hours = sum(o.span.end - o.span.start for o in adl) / 3600
    fa = sum(o.alarms for o in adl)
    det = sum(o.alarms > 0 for o in falls)
    return {
        "falls": len(falls),
        "detected": det,
        "sensitivity": round(det / len(falls), 3) if falls else None,
        "adl_trials": len(adl),
        "adl_hours": round(hours, 3),
        "false_alarms": fa,
        "false_alarms_per_hour": round(fa / hours, 3) if hours > 0 else None,
    }
