"""End-to-end evaluation of the shipped pipeline (model + confirmation rules, in Rust) on held-out
generated recordings, through the CLI: `<cmd> --input FILE --placement P` per recording.

usage: eval_pipeline.py N_PER_KIND STREAM_HOURS STREAMS -- CMD...
  e.g. eval_pipeline.py 20 6 4 -- target/release/fall_inference analyze fall
  (STREAMS streams of STREAM_HOURS each per placement; generated and analysed one at a time)
Writes models/fall_pipeline.metrics.json. Needs only numpy (the project's .venv is enough).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import make_cases

OUT = Path(__file__).resolve().parent.parent / "fall_pipeline.metrics.json"


def detect(cmd: list[str], path: str, placement: str) -> list[dict]:
    r = subprocess.run(cmd + ["--input", path, "--placement", placement], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{path}: exit {r.returncode}: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines()]


def main() -> int:
    sep = sys.argv.index("--")
    n, hours, count = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    cmd = sys.argv[sep + 1 :]
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            make_cases.cases(Path(d) / "cases", n)
        hits = defaultdict(list)
        alarms = defaultdict(list)
        streams = {p: {"hours": 0.0, "false_alarms": 0} for p in ("wrist", "waist")}
        lines = buf.getvalue().splitlines()
        for i in range(count):
            # one stream at a time: an hours-long CSV is large
            sbuf = io.StringIO()
            sdir = Path(d) / f"streams_{i}"
            with contextlib.redirect_stdout(sbuf):
                make_cases.stream_one(sdir, hours, i)
            for line in sbuf.getvalue().splitlines():
                _, p, path, h = line.split()
                streams[p]["hours"] += float(h)
                streams[p]["false_alarms"] += len(detect(cmd, path, p))
                Path(path).unlink()
        for p, s in streams.items():
            s["hours"] = round(s["hours"], 2)
            s["false_alarms_per_hour"] = round(s["false_alarms"] / s["hours"], 3)
        for line in lines:
            f = line.split()
            if f[0] == "fall":
                _, kind, p, path, t_imp = f
                found = detect(cmd, path, p)
                hits[(p, kind)].append(any(abs(x["t"] - float(t_imp)) < 1.0 for x in found))
            elif f[0] == "negative":
                _, kind, p, path = f
                alarms[(p, kind)].append(len(detect(cmd, path, p)) > 0)
    res = {
        "recordings_per_kind_and_placement": n,
        "sensitivity": {p: {k: round(sum(v) / len(v), 3) for (pp, k), v in hits.items() if pp == p} for p in ("wrist", "waist")},
        "hard_negative_alarm_rate": {p: {k: round(sum(v) / len(v), 3) for (pp, k), v in alarms.items() if pp == p} for p in ("wrist", "waist")},
        "streams": streams,
        "seconds": round(time.time() - t0, 1),
    }
    for p in ("wrist", "waist"):
        s = res["sensitivity"][p]
        s["all"] = round(sum(s.values()) / len(s), 3)
    OUT.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
