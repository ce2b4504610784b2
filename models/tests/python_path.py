"""The training's signal path (models/training/stream.py: gaps, resampling, padding, windows) and
Python onnxruntime on recordings, for the Rust-vs-Python test in fall.rs.

usage: python_path.py MODEL.onnx OUT.f32 PLACEMENT=FILE.csv...
Writes, per file in order, the score of every window as little-endian float32.
"""

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import stream as st  # noqa: E402

model, out, *files = sys.argv[1:]
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
scores = []
for arg in files:
    placement, path = arg.split("=", 1)
    t, acc = st.read_csv(Path(path))
    for _, x in st.parts(t, acc):
        w = st.windows(x)
        p = np.full((len(w), 1), 1.0 if placement == "waist" else 0.0, np.float32)
        scores.append(sess.run(["score"], {"window": w, "placement": p})[0])
np.concatenate(scores).astype("<f4").tofile(out)
