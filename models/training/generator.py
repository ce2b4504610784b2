"""Physics-based generator of 3-axis accelerometer traces for fall detection.

Everything is simulated in the world frame at SIM_HZ (z up, units of g), where the accelerometer
measures specific force f = a_linear + (0, 0, 1). A trace is a sequence of segments (activities,
transitions, fall or drop events); each segment advances the body orientation, the arm orientation
(wrist placement) and the linear acceleration. Vertical events (falls, sitting down hard, jumps,
device drops) are built from an impact velocity: the descent's acceleration deficit integrates to
that velocity and the impact pulse's impulse cancels it, so momentum balances by construction and
the impact peak follows from the contact duration (peak = v * pi / (2 * D * g)).

The sensor model (sensor.py) then rotates f into the device frame, adds scale error, bias and noise, low-pass
filters to the device's bandwidth, samples at the device rate with timing jitter and clock drift,
quantizes and clips to the device range. `resample` brings it back to the model rate (linear
interpolation, the same algorithm as the Rust resampler).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The sensor model (and the rates it shares with the simulator) lives in sensor.py; re-exported
# here because the training scripts use the generator as one namespace (gen.sense, gen.SIM_HZ).
from sensor import MODEL_HZ, SIM_HZ, Device, random_device, resample, sense  # noqa: F401

G = 9.80665

FALL_TYPES = ["forward", "backward", "lateral", "syncope", "from_bed", "from_chair"]
HARD_NEGATIVES = [
    "sit_down_hard",
    "lie_down",
    "jump",
    "stumble_recovered",
    "device_drop",
    "knock_on_table",
    "walker_walking",
    "bed_transfer",
    "hand_gestures",
]
PLACEMENTS = ["wrist", "waist"]


def rot(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices [T,3,3] about a fixed unit axis by angles [T] (Rodrigues)."""
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    angle = np.atleast_1d(np.asarray(angle, dtype=float))
    k = np.array(
        [[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]], dtype=float
    )
    s = np.sin(angle)[:, None, None]
    c = np.cos(angle)[:, None, None]
    return np.eye(3)[None] + s * k[None] + (1 - c) * (k @ k)[None]


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def min_jerk(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def smooth_noise(rng: np.random.Generator, n: int, std: float, width: int) -> np.ndarray:
    """Low-pass (moving-average) Gaussian noise [n,3] with roughly the given std."""
    width = max(1, int(width))
    raw = rng.normal(size=(n + width, 3))
    ker = np.ones(width) / np.sqrt(width)
    out = np.stack([np.convolve(raw[:, k], ker, mode="valid")[:n] for k in range(3)], axis=1)
    return out * std


def samples(seconds: float) -> int:
    return max(1, int(round(seconds * SIM_HZ)))


@dataclass
class Trace:
    """World-frame simulation state and the accumulated signal."""

    rng: np.random.Generator
    placement: str
    rb: np.ndarray = field(default_factory=lambda: np.eye(3))  # body -> world
    ra: np.ndarray = field(default_factory=lambda: np.eye(3))  # arm (wrist) -> body
    mount: np.ndarray = field(default_factory=lambda: np.eye(3))  # sensor -> arm/body
    detached: np.ndarray | None = None  # sensor -> world when the device is off the body
    posture: str = "upright"
    lin: list = field(default_factory=list)  # world linear acceleration [T,3] in g
    rs: list = field(default_factory=list)  # sensor -> world [T,3,3]
    events: list = field(default_factory=list)  # (kind, t_seconds)
    world_checks: list = field(default_factory=list)  # (name, f_world slice) for physics checks

    @property
    def t(self) -> float:
        return sum(len(x) for x in self.lin) / SIM_HZ

    def sensor_rot(self, rb: np.ndarray, ra: np.ndarray) -> np.ndarray:
        if self.placement == "waist":
            return rb @ self.mount
        return rb @ ra @ self.mount

    def push(self, lin: np.ndarray, rb: np.ndarray, ra: np.ndarray | None = None) -> None:
        n = len(lin)
        if ra is None:
            ra = np.broadcast_to(self.ra, (n, 3, 3))
        if self.detached is not None:
            self.rs.append(np.broadcast_to(self.detached, (n, 3, 3)).copy())
        else:
            self.rs.append(self.sensor_rot(rb, ra))
        self.lin.append(lin)
        self.rb = rb[-1].copy()
        self.ra = ra[-1].copy()

    def world(self) -> tuple[np.ndarray, np.ndarray]:
        lin = np.concatenate(self.lin)
        rs = np.concatenate(self.rs)
        return lin, rs


POSTURES = {
    # body rotation from upright, as (axis, degrees)
    "upright": ([0, 1, 0], 0.0),
    "sitting": ([0, 1, 0], -25.0),
    "lying": ([0, 1, 0], -90.0),
}


def posture_rot(name: str, rng: np.random.Generator) -> np.ndarray:
    axis, deg = POSTURES[name]
    jitter = rng.normal(0, 6.0)
    if name == "lying":
        # supine, or on a side: the roll about the head axis is random
        base = rot(axis, np.radians(deg + jitter))[0]
        roll = rng.choice([0.0, 90.0, -90.0]) + rng.normal(0, 10)
        return rot(base @ np.array([0, 0, 1.0]), np.radians(roll))[0] @ base
    return rot(axis, np.radians(deg + jitter))[0]


def arm_rest(rng: np.random.Generator, posture: str) -> np.ndarray:
    if posture == "upright":
        return rot([0, 1, 0], np.radians(rng.normal(0, 8)))[0]
    return rot([0, 1, 0], np.radians(rng.uniform(-100, -50)))[0] @ rot(
        [1, 0, 0], np.radians(rng.normal(0, 30))
    )[0]


# ----------------------------------------------------------------------------- activities


def still(tr: Trace, seconds: float, fidget: float = 1.0) -> None:
    """Standing, sitting or lying with sway, breathing and, for a wrist, small hand movements."""
    rng = tr.rng
    n = samples(seconds)
    tt = np.arange(n) / SIM_HZ
    lin = smooth_noise(rng, n, 0.004 * fidget, 20)
    if tr.posture != "upright":
        br = rng.uniform(0.15, 0.35)
        lin[:, 2] += rng.uniform(0.002, 0.006) * np.sin(2 * np.pi * br * tt)
    ra = np.broadcast_to(tr.ra, (n, 3, 3))
    if tr.placement == "wrist" and tr.detached is None:
        wob = smooth_noise(rng, n, np.radians(3.0) * fidget, 80)
        ra = tr.ra @ rot([0, 1, 0], wob[:, 0]) @ rot([1, 0, 0], wob[:, 1])
        lin += smooth_noise(rng, n, 0.01 * fidget, 30)
    tr.push(lin, np.broadcast_to(tr.rb, (n, 3, 3)), ra)


def walk(tr: Trace, seconds: float, walker: bool = False) -> None:
    """Elderly gait: slow cadence, stride-to-stride variability; with a walker, slower and flatter."""
    rng = tr.rng
    if tr.posture != "upright":
        transition(tr, "upright", rng.uniform(1.5, 3.0))
    n = samples(seconds)
    step_hz = rng.uniform(0.7, 1.2) if walker else rng.uniform(1.2, 1.9)
    inst = step_hz * (1 + smooth_noise(rng, n, 0.06, 200)[:, 0])
    phase = 2 * np.pi * np.cumsum(inst) / SIM_HZ + rng.uniform(0, 2 * np.pi)
    amp = (rng.uniform(0.04, 0.12) if walker else rng.uniform(0.1, 0.3)) * (
        1 + smooth_noise(rng, n, 0.12, 100)[:, 1]
    )
    lin = np.zeros((n, 3))
    lin[:, 2] = amp * (np.sin(phase) + 0.35 * np.sin(2 * phase + 0.6))
    lin[:, 0] = 0.6 * amp * np.sin(phase + 1.2)
    lin[:, 1] = 0.35 * amp * np.sin(0.5 * phase)
    # heel strikes
    strikes = np.maximum(0.0, np.sin(phase - 0.3)) ** 12
    lin[:, 2] += rng.uniform(0.05, 0.25) * (0.5 if walker else 1.0) * strikes
    lin += smooth_noise(rng, n, 0.01, 10)
    pitch = np.radians(rng.uniform(1, 3)) * np.sin(phase)
    rb = tr.rb @ rot([0, 1, 0], pitch)
    ra = None
    if tr.placement == "wrist":
        if walker:
            # hands on the walker's grips: forearm horizontal, lift-and-place bumps
            ra = tr.ra @ rot([0, 1, 0], np.radians(-70) + 0.05 * np.sin(0.5 * phase))
            lift = np.maximum(0.0, np.sin(0.5 * phase)) ** 20
            lin[:, 2] += rng.uniform(0.2, 0.6) * lift
        else:
            swing_amp = np.radians(rng.uniform(8, 25))
            swing = swing_amp * np.sin(0.5 * phase)
            ra = arm_rest(rng, "upright") @ rot([0, 1, 0], swing)
            # pendulum: tangential acceleration of a ~0.6 m arm
            omega = np.pi * step_hz
            lin[:, 0] += -(0.6 * swing_amp * omega**2 / G) * np.sin(0.5 * phase)
    tr.push(lin, rb, ra)


def transition(tr: Trace, to: str, seconds: float, peak: float = 0.15) -> None:
    """A controlled posture change (sit down, stand up, lie down) with a minimum-jerk profile."""
    rng = tr.rng
    n = samples(seconds)
    s = np.arange(n) / max(1, n - 1)
    target = posture_rot(to, rng)
    rel = target @ tr.rb.T
    angle = np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1))
    if angle < 1e-6:
        axis = np.array([0, 1.0, 0])
    else:
        axis = np.array([rel[2, 1] - rel[1, 2], rel[0, 2] - rel[2, 0], rel[1, 0] - rel[0, 1]])
        axis /= np.linalg.norm(axis)
    rb = rot(axis, angle * min_jerk(s)) @ tr.rb
    lin = np.zeros((n, 3))
    # a down-then-up (or up-then-down) velocity bell: acceleration integrates to zero
    sign = -1.0 if to != "upright" else 1.0
    lin[:, 2] = sign * peak * np.sin(2 * np.pi * s)
    lin[:, 0] = 0.5 * peak * np.sin(2 * np.pi * s + 0.5)
    lin += smooth_noise(rng, n, 0.01, 10)
    ra = None
    if tr.placement == "wrist":
        end = arm_rest(rng, to)
        rel_a = end @ tr.ra.T
        ang_a = np.arccos(np.clip((np.trace(rel_a) - 1) / 2, -1, 1))
        if ang_a > 1e-6:
            ax_a = np.array([rel_a[2, 1] - rel_a[1, 2], rel_a[0, 2] - rel_a[2, 0], rel_a[1, 0] - rel_a[0, 1]])
            ra = rot(ax_a, ang_a * min_jerk(s)) @ tr.ra
        lin += smooth_noise(rng, n, 0.05, 20)
    tr.posture = to
    tr.push(lin, rb, ra)


def struggle(tr: Trace, seconds: float) -> None:
    """Moving on the floor after a fall: attempts to get up, without regaining upright posture."""
    rng = tr.rng
    n = samples(seconds)
    lin = smooth_noise(rng, n, rng.uniform(0.05, 0.25), 15)
    wob = smooth_noise(rng, n, np.radians(rng.uniform(5, 20)), 60)
    rb = tr.rb @ rot([1, 0, 0], wob[:, 0]) @ rot([0, 1, 0], wob[:, 1])
    ra = None
    if tr.placement == "wrist":
        wa = smooth_noise(rng, n, np.radians(rng.uniform(15, 40)), 40)
        ra = tr.ra @ rot([0, 1, 0], wa[:, 0]) @ rot([1, 0, 0], wa[:, 1])
        lin += smooth_noise(rng, n, 0.1, 10)
    tr.push(lin, rb, ra)


def gestures(tr: Trace, seconds: float) -> None:
    """Waving, clapping, eating, brushing: large wrist rotations and short clap spikes."""
    rng = tr.rng
    n = samples(seconds)
    tt = np.arange(n) / SIM_HZ
    f = rng.uniform(1.0, 3.0)
    amp = np.radians(rng.uniform(20, 60))
    ang = amp * np.sin(2 * np.pi * f * tt)
    ra = tr.ra @ rot(rng.normal(size=3), ang)
    lin = np.zeros((n, 3))
    lin[:, 0] = -(0.35 * amp * (2 * np.pi * f) ** 2 / G) * np.sin(2 * np.pi * f * tt)
    if rng.random() < 0.5:  # clapping
        claps = (np.sin(2 * np.pi * f * tt) > 0.995).astype(float)
        lin[:, 1] += np.convolve(claps, np.hanning(5), mode="same") * rng.uniform(1.0, 3.0)
    lin += smooth_noise(rng, n, 0.05, 10)
    tr.push(lin, np.broadcast_to(tr.rb, (n, 3, 3)), ra)
    tr.ra = arm_rest(rng, tr.posture)


# ----------------------------------------------------------------------------- vertical events


def impact_pulse(n_contact: int, impulse_g_s: float) -> np.ndarray:
    """Half-sine pulse whose integral (g*s) equals the impulse."""
    shape = np.sin(np.pi * (np.arange(n_contact) + 0.5) / n_contact)
    # normalized on the discrete samples so that the impulse is exact even for 1-2 samples
    return shape * impulse_g_s / (shape.sum() / SIM_HZ)


def drop_event(
    tr: Trace,
    v: float,
    descent_s: float,
    contact_s: float,
    end_rb: np.ndarray,
    end_ra: np.ndarray | None = None,
    v_h: float = 0.0,
    heading: np.ndarray | None = None,
    ringing: float = 0.3,
    spin: float = 0.0,
    restitution: float = 0.0,
    label: str = "impact",
    v_in: float = 0.0,
) -> float:
    """Descent then impact: body (or device) reaches vertical speed `v` (m/s) and stops on contact.

    Returns the impact time in seconds from the start of the trace.
    """
    rng = tr.rng
    n_start = sum(len(x) for x in tr.lin)
    nd = samples(descent_s)
    s = (np.arange(nd) + 0.5) / nd
    prof = np.sin(np.pi / 2 * np.minimum(s / 0.4, 1.0)) ** 2
    depth = ((v + v_in) / G) / (descent_s * prof.mean())
    if depth > 1.0:  # cannot fall faster than free fall: stretch the descent
        descent_s = ((v + v_in) / G) / prof.mean() * 1.001
        return drop_event(
            tr, v, descent_s, contact_s, end_rb, end_ra, v_h, heading, ringing, spin, restitution, label, v_in
        )
    heading = np.array([1.0, 0, 0]) if heading is None else heading / np.linalg.norm(heading)
    lin = np.zeros((nd, 3))
    lin[:, 2] = -depth * prof
    lin[:, :] += (v_h / G / descent_s) * heading[None, :] * np.ones((nd, 1))
    # orientation: accelerating topple from the current to the end posture
    rel = end_rb @ tr.rb.T
    angle = np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1))
    if angle > 1e-6:
        axis = np.array([rel[2, 1] - rel[1, 2], rel[0, 2] - rel[2, 0], rel[1, 0] - rel[0, 1]])
        rb = rot(axis, angle * s**2) @ tr.rb
    else:
        rb = np.broadcast_to(tr.rb, (nd, 3, 3))
    ra = None
    if tr.placement == "wrist" and end_ra is not None:
        rel_a = end_ra @ tr.ra.T
        ang_a = np.arccos(np.clip((np.trace(rel_a) - 1) / 2, -1, 1))
        if ang_a > 1e-6:
            ax_a = np.array([rel_a[2, 1] - rel_a[1, 2], rel_a[0, 2] - rel_a[2, 0], rel_a[1, 0] - rel_a[0, 1]])
            ra = rot(ax_a, ang_a * min_jerk(s)) @ tr.ra
        lin += smooth_noise(rng, nd, 0.08, 10)
    if tr.detached is not None and spin > 0:
        w_axis = rng.normal(size=3)
        spun = rot(w_axis, spin * np.arange(nd) / SIM_HZ) @ tr.detached
        tr.rs.append(spun)
        tr.lin.append(lin)
        tr.detached = spun[-1].copy()
    else:
        tr.push(lin, rb, ra)
    t_impact = tr.t
    nc = max(1, samples(contact_s))
    imp = np.zeros((nc, 3))
    imp[:, 2] = impact_pulse(nc, (v / G) * (1 + restitution))
    imp += impact_pulse(nc, v_h / G)[:, None] * (-heading[None, :])
    # ringing of soft tissue / strap after the impact (zero-mean: integrates to ~0)
    nr = samples(0.25)
    tt = np.arange(nr) / SIM_HZ
    fr = rng.uniform(8, 20)
    ring = ringing * imp[:, 2].max() * np.exp(-tt / rng.uniform(0.03, 0.07)) * np.sin(2 * np.pi * fr * tt)
    ring -= ring.mean()
    tail = np.zeros((nr, 3))
    tail[:, 2] = ring
    tail += smooth_noise(rng, nr, 0.02, 5)
    block = np.concatenate([imp, tail])
    n = len(block)
    if tr.detached is not None:
        tr.rs.append(np.broadcast_to(tr.detached, (n, 3, 3)).copy())
        tr.lin.append(block)
    else:
        tr.push(block, np.broadcast_to(tr.rb, (n, 3, 3)))
    tr.events.append((label, t_impact + contact_s / 2))
    # expected velocity change over the event: from v_in upwards to restitution * v upwards
    tr.world_checks.append((label, n_start, sum(len(x) for x in tr.lin), restitution * v - v_in))
    return t_impact + contact_s / 2


# ----------------------------------------------------------------------------- scenarios


def new_trace(rng: np.random.Generator, placement: str, posture: str = "upright") -> Trace:
    tr = Trace(rng=rng, placement=placement)
    if placement == "waist":
        # belt clip or pendant: roughly upright, any yaw, some tilt
        tr.mount = rot([0, 0, 1], rng.uniform(0, 2 * np.pi))[0] @ rot(
            rng.normal(size=3), np.radians(rng.normal(0, 12))
        )[0]
    else:
        # watch face on the back of the wrist: x along the forearm, any small misplacement
        tr.mount = rot([0, 1, 0], np.radians(90))[0] @ rot(rng.normal(size=3), np.radians(rng.normal(0, 15)))[0]
    tr.posture = posture
    tr.rb = posture_rot(posture, rng)
    tr.ra = arm_rest(rng, posture)
    return tr


def fall_end_posture(tr: Trace, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Where the body ends (lying on the floor) and the fall's horizontal heading."""
    rng = tr.rng
    if kind == "forward":
        axis, deg, heading = [0, 1, 0], rng.uniform(75, 100), [1, 0, 0]
    elif kind == "backward":
        axis, deg, heading = [0, 1, 0], -rng.uniform(75, 100), [-1, 0, 0]
    elif kind == "lateral":
        side = rng.choice([-1.0, 1.0])
        axis, deg, heading = [1, 0, 0], side * rng.uniform(70, 100), [0, -side, 0]
    else:
        ang = rng.uniform(0, 2 * np.pi)
        heading = [np.cos(ang), np.sin(ang), 0]
        axis, deg = [-np.sin(ang), np.cos(ang), 0], rng.uniform(70, 100)
    end = rot(axis, np.radians(deg))[0]
    return end, np.array(heading, dtype=float)


def fall(tr: Trace, kind: str) -> float:
    """One fall of the given kind from the current state; returns the impact time (s)."""
    rng = tr.rng
    flail = random_rotation(rng) if tr.placement == "wrist" else None
    wrist_contact = 0.6 if tr.placement == "wrist" and rng.random() < 0.5 else 1.0
    if kind in ("forward", "backward", "lateral"):
        end, heading = fall_end_posture(tr, kind)
        v = rng.uniform(1.6, 3.2)
        t = drop_event(
            tr, v, rng.uniform(0.45, 0.9), rng.uniform(0.05, 0.16) * wrist_contact, end, flail,
            v_h=rng.uniform(0.3, 1.4), heading=heading, ringing=rng.uniform(0.1, 0.4), label=f"fall_{kind}",
        )
        if kind == "backward" and rng.random() < 0.5:  # buttocks first, then the back
            still(tr, 0.1, 2.0)
    elif kind == "syncope":
        end, heading = fall_end_posture(tr, kind)
        t = drop_event(
            tr, rng.uniform(1.1, 2.2), rng.uniform(0.9, 1.8), rng.uniform(0.08, 0.2), end, flail,
            v_h=rng.uniform(0.1, 0.6), heading=heading, ringing=rng.uniform(0.05, 0.2), label="fall_syncope",
        )
    elif kind == "from_bed":
        head = tr.rb @ np.array([0, 0, 1.0])
        end = rot(head, np.radians(rng.choice([-1, 1]) * rng.uniform(60, 120)))[0] @ tr.rb
        v = np.sqrt(2 * G * rng.uniform(0.35, 0.6))
        horiz = np.cross(head, [0, 0, 1.0])
        t = drop_event(
            tr, v, rng.uniform(0.3, 0.5), rng.uniform(0.05, 0.14) * wrist_contact, end, flail,
            v_h=rng.uniform(0.2, 0.8), heading=horiz if np.linalg.norm(horiz) > 0.1 else None,
            ringing=rng.uniform(0.1, 0.4), label="fall_from_bed",
        )
    elif kind == "from_chair":
        end, heading = fall_end_posture(tr, rng.choice(["forward", "lateral"]))
        v = np.sqrt(2 * G * rng.uniform(0.3, 0.5))
        t = drop_event(
            tr, v, rng.uniform(0.35, 0.7), rng.uniform(0.05, 0.15) * wrist_contact, end, flail,
            v_h=rng.uniform(0.3, 1.0), heading=heading, ringing=rng.uniform(0.1, 0.4), label="fall_from_chair",
        )
    else:
        raise ValueError(kind)
    tr.posture = "lying"
    return t


def fall_trace(rng: np.random.Generator, placement: str, kind: str, post_s: float = 30.0) -> tuple[Trace, float]:
    """Activity, the fall, then stillness or struggling on the floor."""
    if kind == "from_bed":
        tr = new_trace(rng, placement, "lying")
        still(tr, rng.uniform(6, 15), fidget=2.0)
    elif kind == "from_chair":
        tr = new_trace(rng, placement, "sitting")
        still(tr, rng.uniform(6, 15), fidget=2.0)
    else:
        tr = new_trace(rng, placement, "upright")
        if rng.random() < 0.7:
            walk(tr, rng.uniform(6, 15), walker=rng.random() < 0.2)
        else:
            still(tr, rng.uniform(6, 15), fidget=2.0)
    t = fall(tr, kind)
    if kind != "syncope" and rng.random() < 0.4:
        struggle(tr, rng.uniform(3, 12))
    still(tr, post_s, fidget=0.5)
    return tr, t


def negative(tr: Trace, kind: str) -> None:
    """One hard-negative event from the current state."""
    rng = tr.rng
    if kind == "sit_down_hard":
        if tr.posture != "upright":
            transition(tr, "upright", rng.uniform(1.5, 3))
        drop_event(
            tr, rng.uniform(0.7, 1.7), rng.uniform(0.35, 0.7), rng.uniform(0.07, 0.2),
            posture_rot("sitting", rng), arm_rest(rng, "sitting"), ringing=rng.uniform(0.05, 0.3), label="sit_down_hard",
        )
        tr.posture = "sitting"
        still(tr, rng.uniform(5, 20), fidget=1.5)
    elif kind == "lie_down":
        if tr.posture == "upright":
            transition(tr, "sitting", rng.uniform(1.5, 3), peak=0.2)
        transition(tr, "lying", rng.uniform(2, 4), peak=0.12)
        still(tr, rng.uniform(10, 30), fidget=0.7)
    elif kind == "jump":
        if tr.posture != "upright":
            transition(tr, "upright", rng.uniform(1.5, 3))
        v = rng.uniform(0.8, 1.6)
        n = samples(0.25)
        lin = np.zeros((n, 3))
        lin[:, 2] = impact_pulse(n, v / G)  # push-off
        tr.push(lin, np.broadcast_to(tr.rb, (n, 3, 3)))
        drop_event(tr, v, 2 * v / G, rng.uniform(0.05, 0.12), tr.rb.copy(), tr.ra.copy(), v_in=v, label="jump")
        walk(tr, rng.uniform(3, 8))
    elif kind == "stumble_recovered":
        if tr.posture != "upright":
            transition(tr, "upright", rng.uniform(1.5, 3))
        walk(tr, rng.uniform(2, 5))
        lean = tr.rb.copy()
        drop_event(
            tr, rng.uniform(0.3, 0.9), rng.uniform(0.2, 0.4), rng.uniform(0.06, 0.15),
            rot([0, 1, 0], np.radians(rng.uniform(10, 35)))[0] @ lean, arm_rest(rng, "upright") if tr.placement == "wrist" else None,
            v_h=rng.uniform(0.2, 0.6), label="stumble_recovered",
        )
        transition(tr, "upright", rng.uniform(0.8, 1.5), peak=0.3)
        walk(tr, rng.uniform(4, 10))
    elif kind == "device_drop":
        if tr.placement == "wrist":
            gestures(tr, 1.0)
        tr.detached = tr.rs[-1][-1].copy() if tr.rs else tr.sensor_rot(tr.rb[None], tr.ra[None])[0]
        h = rng.uniform(0.6, 1.3)
        v = np.sqrt(2 * G * h)
        e = rng.uniform(0.15, 0.45)
        drop_event(tr, v, v / G, rng.uniform(0.004, 0.015), tr.rb, None, spin=rng.uniform(2, 12),
                   restitution=e, ringing=0.5, label="device_drop")
        drop_event(tr, e * v, 2 * e * v / G, rng.uniform(0.004, 0.012), tr.rb, None, spin=rng.uniform(1, 6),
                   ringing=0.3, label="device_bounce", v_in=e * v)
        # at rest on the floor, flat on one of its faces
        face = random_rotation(rng)
        tr.detached = face
        n = samples(rng.uniform(10, 40))
        tr.rs.append(np.broadcast_to(face, (n, 3, 3)).copy())
        tr.lin.append(np.zeros((n, 3)))
        tr.detached = None  # picked up and put back on
        transition(tr, tr.posture, rng.uniform(1.5, 3), peak=0.3)
    elif kind == "knock_on_table":
        n = samples(0.6)
        lin = np.zeros((n, 3))
        nc = samples(rng.uniform(0.008, 0.03))
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        v = rng.uniform(0.15, 0.5) if tr.placement == "wrist" else rng.uniform(0.05, 0.2)
        lin[:nc] = impact_pulse(nc, v / G)[:, None] * d[None, :]
        lin[nc:] -= (v / G) / ((n - nc) / SIM_HZ) * d[None, :]  # the arm comes back
        lin += smooth_noise(rng, n, 0.03, 10)
        tr.push(lin, np.broadcast_to(tr.rb, (n, 3, 3)))
        tr.events.append(("knock_on_table", tr.t))
    elif kind == "walker_walking":
        walk(tr, rng.uniform(20, 60), walker=True)
    elif kind == "bed_transfer":
        transition(tr, "sitting", rng.uniform(1.5, 3), peak=0.25)
        still(tr, rng.uniform(2, 6), fidget=2.0)
        transition(tr, "lying", rng.uniform(1.5, 3.5), peak=0.2)
        still(tr, rng.uniform(3, 10), fidget=1.0)
        transition(tr, "sitting", rng.uniform(1.5, 3), peak=0.25)
        transition(tr, "upright", rng.uniform(1.5, 3), peak=0.3)
    elif kind == "hand_gestures":
        for _ in range(rng.integers(1, 4)):
            if tr.placement == "wrist":
                gestures(tr, rng.uniform(2, 8))
            else:
                still(tr, rng.uniform(2, 8), fidget=4.0)
    else:
        raise ValueError(kind)


def negative_trace(rng: np.random.Generator, placement: str, kind: str) -> Trace:
    tr = new_trace(rng, placement, rng.choice(["upright", "sitting"]) if kind != "bed_transfer" else "lying")
    still(tr, rng.uniform(3, 8), fidget=1.5)
    if tr.posture == "upright" and rng.random() < 0.6:
        walk(tr, rng.uniform(4, 10))
    negative(tr, kind)
    still(tr, rng.uniform(5, 15), fidget=1.0)
    return tr


def daily_stream(rng: np.random.Generator, placement: str, hours: float) -> Trace:
    """Continuous daily life of a care-home resident: hours, with hard negatives at plausible rates."""
    tr = new_trace(rng, placement, "sitting")
    total = hours * 3600
    events = ["walk", "walker", "stand", "sit", "rest_in_bed", "lie_down", "bed_transfer", "sit_down_hard",
              "stumble_recovered", "knock_on_table", "hand_gestures", "device_drop", "jump"]
    weights = np.array([20, 6, 8, 22, 6, 3, 3, 4, 1.0, 4, 8 if placement == "wrist" else 1, 0.5, 0.2])
    weights /= weights.sum()
    while tr.t < total:
        ev = rng.choice(events, p=weights)
        if ev == "walk":
            walk(tr, rng.uniform(10, 120))
        elif ev == "walker":
            walk(tr, rng.uniform(10, 120), walker=True)
        elif ev == "stand":
            if tr.posture != "upright":
                transition(tr, "upright", rng.uniform(1.5, 3))
            still(tr, rng.uniform(5, 60), fidget=1.5)
        elif ev == "sit":
            if tr.posture != "sitting":
                transition(tr, "sitting", rng.uniform(1.5, 3))
            still(tr, rng.uniform(30, 300), fidget=1.5)
        elif ev == "rest_in_bed":
            if tr.posture != "lying":
                transition(tr, "sitting", rng.uniform(1.5, 3))
                transition(tr, "lying", rng.uniform(2, 4), peak=0.12)
            still(tr, rng.uniform(60, 600), fidget=0.7)
        elif ev == "walker_walking":
            walk(tr, rng.uniform(20, 60), walker=True)
        else:
            negative(tr, ev)
    return tr
