"""End-to-end evaluation of the shipped pipeline (model + confirmation rules, in Rust) on held-out
generated recordings, through the CLI: `<cmd> --input FILE --placement P` per recording.

usage: eval_pipeline.py N_PER_KIND STREAM_HOURS -- CMD...
  e.g. eval_pipeline.py 20 6 -- target/release/fall_inference analyze fall
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
    n, hours = int(sys.argv[1]), float(sys.argv[2])
    cmd = sys.argv[sep + 1 :]
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            make_cases.cases(Path(d) / "cases", n)
            make_cases.stream(Path(d) / "streams", hours)
        hits = defaultdict(list)
        alarms = defaultdict(list)
        streams = {}
        for line in buf.getvalue().splitlines():
            f = line.split()
            if f[0] == "fall":
                _, kind, p, path, t_imp = f
                found = detect(cmd, path, p)
                hits[(p, kind)].append(any(abs(x["t"] - float(t_imp)) < 1.0 for x in found))
            elif f[0] == "negative":
                _, kind, p, path = f
                alarms[(p, kind)].append(len(detect(cmd, path, p)) > 0)
            elif f[0] == "stream":
                _, p, path, h = f
                ev = detect(cmd, path, p)
                streams[p] = {"hours": float(h), "false_alarms": len(ev), "false_alarms_per_hour": round(len(ev) / float(h), 3)}
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
