"""Writes accelerometer recordings as `t,ax,ay,az` CSV (seconds, g) from the generator.

Needs only numpy (runs in the project's .venv as well as the training venv). Seeds are disjoint
from training (split id 4 and above), so these are held-out data.

  python make_cases.py fixtures OUT_DIR        the CLI test fixtures (committed)
  python make_cases.py cases OUT_DIR N         N recordings per fall type and hard negative, per placement
  python make_cases.py stream OUT_DIR HOURS [K] K daily-life streams (default 1) per placement
Each written file is listed on stdout as `<kind> <placement> <path> [impact_seconds]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import generator as gen

SEED = 20261123


def rng(split: int, placement: str, kind: str, i: int) -> np.random.Generator:
    kinds = gen.FALL_TYPES + gen.HARD_NEGATIVES + ["stream", "adl"]
    return np.random.default_rng(
        np.random.SeedSequence([SEED, split, gen.PLACEMENTS.index(placement), kinds.index(kind), i])
    )


def write_csv(path: Path, t: np.ndarray, acc: np.ndarray) -> None:
    with path.open("w") as f:
        f.write("t,ax,ay,az\n")
        for ti, a in zip(t, acc):
            f.write(f"{ti:.4f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n")


def record(tr: gen.Trace, hz: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    dev = gen.random_device(tr.rng)
    if hz is not None:
        dev.hz = hz
    t, acc = gen.sense(tr, dev)
    return t, acc, 1.0 / (1.0 + dev.drift)


def fixtures(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tr, t_imp = gen.fall_trace(rng(4, "waist", "forward", 0), "waist", "forward", post_s=20.0)
    t, acc, k = record(tr, 50.0)
    write_csv(out / "fall_forward_waist_50hz.csv", t, acc)
    print("forward waist", out / "fall_forward_waist_50hz.csv", round(t_imp * k, 2))
    tr, t_imp = gen.fall_trace(rng(4, "wrist", "lateral", 0), "wrist", "lateral", post_s=20.0)
    t, acc, k = record(tr, 25.0)
    write_csv(out / "fall_lateral_wrist_25hz.csv", t, acc)
    print("lateral wrist", out / "fall_lateral_wrist_25hz.csv", round(t_imp * k, 2))
    r = rng(4, "waist", "adl", 0)
    tr = gen.new_trace(r, "waist", "upright")
    gen.walk(tr, 20)
    gen.negative(tr, "sit_down_hard")
    gen.transition(tr, "upright", 2.0)
    gen.walk(tr, 15, walker=True)
    gen.negative(tr, "lie_down")
    t, acc, _ = record(tr, 50.0)
    write_csv(out / "adl_waist_50hz.csv", t, acc)
    print("adl waist", out / "adl_waist_50hz.csv")
    (out / "malformed_header.csv").write_text("time,x,y,z\n0.00,0,0,1\n0.02,0,0,1\n")
    (out / "malformed_value.csv").write_text("t,ax,ay,az\n0.00,0,0,1\n0.02,0,zero,1\n0.04,0,0,1\n")
    (out / "malformed_time_order.csv").write_text("t,ax,ay,az\n0.00,0,0,1\n0.04,0,0,1\n0.02,0,0,1\n")
    slow = "t,ax,ay,az\n" + "".join(f"{i * 0.1:.2f},0,0,1\n" for i in range(100))
    (out / "malformed_rate_10hz.csv").write_text(slow)


def fixtures_devices(out: Path) -> None:
    """Recordings like awkward real devices, for the Rust-vs-Python path test: a 200 Hz waist
    sensor with a +-16 g range, and a watch whose samples arrive in bursts (several stamped
    within milliseconds, then a pause) with a dropout longer than a second."""
    out.mkdir(parents=True, exist_ok=True)
    tr, t_imp = gen.fall_trace(rng(4, "waist", "backward", 1), "waist", "backward", post_s=8.0)
    dev = gen.random_device(tr.rng)
    dev.hz, dev.range_g = 200.0, 16.0
    t, acc = gen.sense(tr, dev)
    write_csv(out / "fall_backward_waist_200hz.csv", t, acc)
    print("backward waist", out / "fall_backward_waist_200hz.csv", round(t_imp / (1 + dev.drift), 2))
    tr, t_imp = gen.fall_trace(rng(4, "wrist", "forward", 1), "wrist", "forward", post_s=8.0)
    t, acc, k = record(tr, 33.0)
    r = np.random.default_rng(20261201)
    # delivery stamps: samples reach the phone in bursts of 2-4, stamped 1-3 ms apart
    stamps, i = [], 0
    while i < len(t):
        b = int(r.integers(2, 5))
        stamps.extend(t[min(i + b - 1, len(t) - 1)] + 0.002 * np.arange(min(b, len(t) - i)))
        i += b
    stamps = np.maximum.accumulate(np.array(stamps))
    stamps = stamps + 1e-3 * np.arange(len(stamps))  # strictly increasing
    cut = len(stamps) // 3
    stamps[cut:] += 1.6  # a dropout
    write_csv(out / "fall_forward_wrist_bursty.csv", stamps, acc)
    print("forward wrist", out / "fall_forward_wrist_bursty.csv", round(t_imp * k, 2))


def cases(out: Path, n: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for p in gen.PLACEMENTS:
        for kind in gen.FALL_TYPES:
            for i in range(n):
                tr, t_imp = gen.fall_trace(rng(5, p, kind, i), p, kind, post_s=20.0)
                t, acc, k = record(tr)
                path = out / f"fall_{kind}_{p}_{i}.csv"
                write_csv(path, t, acc)
                print("fall", kind, p, path, round(t_imp * k, 3))
        for kind in gen.HARD_NEGATIVES:
            for i in range(n):
                tr = gen.negative_trace(rng(5, p, kind, i), p, kind)
                t, acc, _ = record(tr)
                path = out / f"neg_{kind}_{p}_{i}.csv"
                write_csv(path, t, acc)
                print("negative", kind, p, path)


def stream_one(out: Path, hours: float, i: int) -> None:
    """Stream number i of each placement."""
    out.mkdir(parents=True, exist_ok=True)
    for p in gen.PLACEMENTS:
        tr = gen.daily_stream(rng(6, p, "stream", i), p, hours)
        t, acc, _ = record(tr)
        path = out / f"stream_{p}_{i}.csv"
        write_csv(path, t, acc)
        print("stream", p, path, round(float(t[-1]) / 3600, 3))


def stream(out: Path, hours: float, count: int = 1) -> None:
    for i in range(count):
        stream_one(out, hours, i)


if __name__ == "__main__":
    mode, target = sys.argv[1], Path(sys.argv[2])
    if mode == "fixtures":
        fixtures(target)
        fixtures_devices(target)
    elif mode == "cases":
        cases(target, int(sys.argv[3]))
    elif mode == "stream":
        stream(target, float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    else:
        sys.exit(f"unknown mode {mode}")
