"""The accelerometer model of the fall generator (generator.py): a simulated world-frame trace
rotated into the device frame, with the device's scale error, bias, noise, bandwidth, sample
rate, timing jitter, clock drift, resolution and range; and `resample`, the same linear
interpolation onto the model's rate as the Rust resampler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from generator import Trace

# The simulator's rate and the model's input rate.
SIM_HZ = 200.0
MODEL_HZ = 50.0


@dataclass
class Device:
    hz: float
    range_g: float
    noise_g: float
    bias: np.ndarray
    scale: np.ndarray
    drift: float
    jitter: float
    bits: int


def random_device(rng: np.random.Generator) -> Device:
    return Device(
        hz=float(rng.choice([25.0, 50.0, 50.0, 100.0])),
        range_g=float(rng.choice([4.0, 8.0, 8.0, 16.0])),
        noise_g=rng.uniform(0.003, 0.02),
        bias=rng.normal(0, 0.03, size=3),
        scale=1 + rng.normal(0, 0.02, size=3),
        drift=rng.normal(0, 0.005),
        jitter=rng.uniform(0.0, 0.15),
        bits=int(rng.choice([10, 12, 16])),
    )


def sense(tr: Trace, dev: Device) -> tuple[np.ndarray, np.ndarray]:
    """Device samples: (timestamps in s [N], acceleration in g [N,3]) from a simulated trace."""
    rng = tr.rng
    lin, rs = tr.world()
    f_world = lin + np.array([0, 0, 1.0])
    f_sensor = np.einsum("tji,tj->ti", rs, f_world)  # R^T f
    # anti-aliasing: the sensor's digital low-pass at about its output data rate / 2
    width = max(1, int(round(SIM_HZ / dev.hz)))
    if width > 1:
        ker = np.ones(width) / width
        f_sensor = np.stack([np.convolve(f_sensor[:, k], ker, mode="same") for k in range(3)], axis=1)
    duration = len(f_sensor) / SIM_HZ
    period = (1 + dev.drift) / dev.hz
    n = int(duration / period) - 1
    ts = np.arange(n) * period + rng.normal(0, dev.jitter * period, size=n).clip(-0.45 * period, 0.45 * period)
    ts = np.clip(ts, 0, duration - 1 / SIM_HZ)
    sim_t = np.arange(len(f_sensor)) / SIM_HZ
    out = np.stack([np.interp(ts, sim_t, f_sensor[:, k]) for k in range(3)], axis=1)
    out = out * dev.scale + dev.bias + rng.normal(0, dev.noise_g, size=out.shape)
    lsb = 2 * dev.range_g / (2**dev.bits)
    out = np.round(out / lsb) * lsb
    out = np.clip(out, -dev.range_g, dev.range_g)
    # the receiver stamps samples at the nominal rate: reported times carry drift, not jitter
    t_reported = np.arange(n) / dev.hz
    return t_reported, out.astype(np.float32)


def resample(t: np.ndarray, acc: np.ndarray, hz: float = MODEL_HZ) -> np.ndarray:
    """Linear interpolation onto a uniform grid starting at t[0] (the Rust resampler's algorithm)."""
    n = int(np.floor((t[-1] - t[0]) * hz + 1e-9)) + 1
    grid = t[0] + np.arange(n) / hz
    return np.stack([np.interp(grid, t, acc[:, k]) for k in range(3)], axis=1).astype(np.float32)
