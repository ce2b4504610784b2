#!/usr/bin/env bash
# The evaluation behind every figure of models/MODEL_CARD.md (see evaluate.py):
# Usage: models/training/evaluate.sh --data DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${VENV:-$root/.venv-train}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
(cd "$root" && nice -n 10 cargo build --quiet --release -p pingan-models --example fall_replay)
cd "$here"
nice -n 10 "$venv/bin/python" evaluate.py "$@"
"$venv/bin/python" model_card.py
