#!/usr/bin/env bash
# Reproducible training of the fall detector on a folder of recordings (see realdata.py for the
# layout): creates (once) a training-only venv from the pinned requirements, builds the Rust
# replay used to choose the thresholds, trains, and regenerates the model card.
# Usage: models/training/train.sh --data DIR     (VENV=/path to choose the venv; default .venv-train)
# The same command with another folder retrains for a site on its own recordings.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${VENV:-$root/.venv-train}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
# one thread everywhere: reproducible trees, and a shared 2-core machine stays usable
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
(cd "$root" && nice -n 10 cargo build --quiet --release -p pingan-models --example fall_replay)
cd "$here"
nice -n 10 "$venv/bin/python" train.py "$@"
"$venv/bin/python" model_card.py
