#!/usr/bin/env python3
"""Writes the recorded traces of seeds/traces/ (readings as JSON lines) and their expected alerts.

Deterministic (fixed seeds, standard library only): `python3 seeds/traces/generate.py` rewrites
the same files. Every trace carries the background a real site produces — each device of
config.toml reporting at its normal rate — so that only the incident raises alerts.
"""

import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
# 2026-07-01 00:00 in Asia/Shanghai (UTC+8), in UTC milliseconds.
MIDNIGHT = 1_782_835_200_000
S = 1000
MIN = 60 * S
H = 60 * MIN

WRISTBANDS = {"w-101": "R0101", "w-102": "R0102", "w-103": "R0103", "w-104": "R0104"}
BEDS = {"bed-101": "R0101", "bed-103": "R0103", "bed-104": "R0104"}
DOORS = ["door-102", "door-exit"]


def local(h, m=0, s=0):
    return MIDNIGHT + h * H + m * MIN + s * S


class Trace:
    def __init__(self, name, seed):
        self.name = name
        self.rng = random.Random(seed)
        self.rows = []

    def add(self, device, at, kind, **fields):
        self.rows.append({"device": device, "at": int(at), "kind": kind, **fields})

    def background(self, start, end, in_bed, every=2 * MIN, skip=()):
        """Every device reporting normally every `every`, staggered by device."""
        r = self.rng
        devices = list(WRISTBANDS) + list(BEDS) + DOORS + ["env-104", "smoke-kitchen", "gas-kitchen", "leak-kitchen"]
        for i, dev in enumerate(devices):
            if dev in skip:
                continue
            t = start + i * 7 * S
            while t < end:
                if dev in WRISTBANDS:
                    self.add(dev, t, "heart_rate", bpm=float(r.randint(64, 78)))
                    self.add(dev, t, "spo2", percent=float(r.randint(95, 98)))
                    self.add(dev, t, "battery", percent=80.0)
                elif dev in BEDS:
                    ib = in_bed(dev, t)
                    self.add(dev, t, "bed_occupancy", in_bed=ib,
                             heart_rate=float(r.randint(58, 68)) if ib else None,
                             respiration_rate=float(r.randint(13, 17)) if ib else None)
                elif dev in DOORS:
                    self.add(dev, t, "door", open=False)
                elif dev == "env-104":
                    self.add(dev, t, "environment", temperature=round(26 + r.uniform(-0.3, 0.3), 1),
                             humidity=round(62 + r.uniform(-2, 2), 1), co2=float(r.randint(600, 800)))
                elif dev == "smoke-kitchen":
                    self.add(dev, t, "smoke", alarm=False)
                elif dev == "gas-kitchen":
                    self.add(dev, t, "gas", alarm=False, ppm=0.0)
                elif dev == "leak-kitchen":
                    self.add(dev, t, "water_leak", wet=False)
                t += every

    def walking(self, dev, at):
        ph = self.rng.uniform(0, 6.28)
        samples = [[0.05, 0.1, round(0.99 + 0.25 * math.sin(ph + i * 0.2), 3)] for i in range(25)]
        self.add(dev, at, "motion", samples=samples, hz=50.0)

    def write(self, expected):
        self.rows.sort(key=lambda r: (r["at"], r["device"], r["kind"]))
        with open(os.path.join(HERE, self.name + ".jsonl"), "w") as f:
            for row in self.rows:
                f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        with open(os.path.join(HERE, self.name + ".expected.jsonl"), "w") as f:
            for e in expected:
                f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")


def resident(r):
    return {"type": "resident", "id": r}


def night_bed_exit():
    """R0101 (bed-exit watch, fall risk) gets up at 02:00 and is back at 02:06."""
    t = Trace("night_bed_exit", 1)
    start, end = local(1, 45), local(2, 20)
    out = (local(2, 0), local(2, 6))
    t.background(start, end, lambda d, at: not (d == "bed-101" and out[0] <= at < out[1]))
    t.add("bed-101", out[0], "bed_occupancy", in_bed=False, heart_rate=None, respiration_rate=None)
    t.add("bed-101", out[1], "bed_occupancy", in_bed=True, heart_rate=66.0, respiration_rate=15.0)
    t.write([{"kind": "bed_exit", "subject": resident("R0101"), "priority": "high"}])


def dementia_exit_at_night():
    """R0103 (dementia) leaves her bed at 02:30, the exit door opens at 02:34; back at 03:00."""
    t = Trace("dementia_exit_at_night", 2)
    start, end = local(2, 15), local(3, 10)
    out = (local(2, 30), local(3, 0))
    t.background(start, end, lambda d, at: not (d == "bed-103" and out[0] <= at < out[1]))
    t.add("bed-103", out[0], "bed_occupancy", in_bed=False, heart_rate=None, respiration_rate=None)
    t.add("door-exit", local(2, 34), "door", open=True)
    t.add("door-exit", local(2, 34, 40), "door", open=False)
    t.add("bed-103", out[1], "bed_occupancy", in_bed=True, heart_rate=62.0, respiration_rate=14.0)
    t.write([
        {"kind": "wandering", "subject": {"type": "room", "id": "lobby"}, "priority": "high"},
        {"kind": "out_of_bed_too_long", "subject": resident("R0103"), "priority": "medium"},
    ])


def lives_alone_inactivity():
    """R0102 lives alone: up and about 07:00–08:10, then nothing moves until 13:00."""
    t = Trace("lives_alone_inactivity", 3)
    start, end = local(6, 30), local(13, 0)
    t.background(start, end, lambda d, at: False)
    for m in range(0, 70, 2):
        t.walking("w-102", local(7, m, 30))
    t.add("door-102", local(7, 40), "door", open=True)
    t.add("door-102", local(7, 41), "door", open=False)
    t.write([{"kind": "inactivity", "subject": resident("R0102"), "priority": "medium"}])


def heat_wave():
    """Room 104 heats up from 29 °C to 36 °C over an afternoon hour."""
    t = Trace("heat_wave", 4)
    start, end = local(14, 0), local(15, 10)
    t.background(start, end, lambda d, at: False, skip=("env-104",))
    for m in range(70):
        temp = round(29 + 7 * min(m, 60) / 60 + t.rng.uniform(-0.1, 0.1), 1)
        t.add("env-104", local(14, m), "environment", temperature=temp, humidity=58.0, co2=700.0)
    t.write([{"kind": "environment", "subject": {"type": "room", "id": "104"}, "priority": "high"}])


def news2_deterioration():
    """R0104 deteriorates in bed from 03:00 to 03:30 (sepsis-like: pulse, breathing, fever, SpO2)."""
    t = Trace("news2_deterioration", 5)
    start, end = local(2, 30), local(3, 45)
    t.background(start, end, lambda d, at: True, skip=("w-104", "bed-104"))
    r = t.rng
    at = start
    while at < end:
        k = min(max((at - local(3, 0)) / (30 * MIN), 0.0), 1.0)
        hr = round(70 + 55 * k + r.uniform(-2, 2))
        rr = round(15 + 11 * k + r.uniform(-1, 1))
        spo2 = round(96 - 7 * k + r.uniform(-0.6, 0.6))
        t.add("bed-104", at, "bed_occupancy", in_bed=True, heart_rate=float(hr), respiration_rate=float(rr))
        t.add("w-104", at + 3 * S, "heart_rate", bpm=float(hr))
        t.add("w-104", at + 3 * S, "spo2", percent=float(spo2))
        if (at - start) % (5 * MIN) == 0:
            t.add("w-104", at + 4 * S, "body_temperature", celsius=round(36.7 + 2.5 * k, 1))
            t.add("w-104", at + 4 * S, "battery", percent=77.0)
        at += 30 * S
    t.write([{"kind": "vitals", "subject": resident("R0104"), "priority": "high", "green_channel": True}])


def silent_device():
    """w-102 stops reporting at 10:00 (flat battery, left in a drawer)."""
    t = Trace("silent_device", 6)
    start, end = local(9, 30), local(10, 20)
    t.background(start, end, lambda d, at: False, skip=("w-102",))
    for m in range(0, 30, 2):
        t.add("w-102", local(9, 30 + m), "heart_rate", bpm=72.0)
    t.write([{"kind": "device_offline", "subject": {"type": "device", "id": "w-102"}, "priority": "medium"}])


def kitchen_smoke():
    """Smoke in the shared kitchen at 12:00, cleared at 12:05; a site-wide alarm."""
    t = Trace("kitchen_smoke", 7)
    start, end = local(11, 50), local(12, 15)
    t.background(start, end, lambda d, at: False, skip=("smoke-kitchen",))
    for m in range(25):
        at = local(11, 50 + m)
        t.add("smoke-kitchen", at, "smoke", alarm=local(12, 0) <= at < local(12, 5))
    t.write([{"kind": "smoke", "subject": {"type": "site"}, "priority": "high"}])


def quiet_night():
    """Nothing happens: a whole quiet hour of the site must raise nothing."""
    t = Trace("quiet_night", 8)
    t.background(local(3, 0), local(4, 0), lambda d, at: True)
    t.write([])


if __name__ == "__main__":
    for f in [night_bed_exit, dementia_exit_at_night, lives_alone_inactivity, heat_wave,
              news2_deterioration, silent_device, kitchen_smoke, quiet_night]:
        f()
