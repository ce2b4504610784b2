#!/usr/bin/env bash
# Reproducible training of the fall detector. Creates (once) a training-only venv from the pinned
# requirements, then regenerates models/fall_detector.onnx, its metrics and the model card.
# Usage: models/training/train.sh            (VENV=/path to choose the venv; default .venv-train in the repository)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${VENV:-$(cd "$(dirname "$0")/../.." && pwd)/.venv-train}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
cd "$here"
"$venv/bin/python" train.py
"$venv/bin/python" model_card.py
