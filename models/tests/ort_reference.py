"""Reference scores from Python onnxruntime, for the Rust-vs-Python test.

usage: ort_reference.py MODEL.onnx WINDOWS.f32 PLACEMENTS.f32 OUT.f32
Inputs are raw little-endian float32: windows [N*200*3], placements [N]. Writes scores [N].
"""

import sys

import numpy as np
import onnxruntime as ort

model, windows, placements, out = sys.argv[1:5]
p = np.fromfile(placements, dtype="<f4").reshape(-1, 1)
w = np.fromfile(windows, dtype="<f4").reshape(len(p), 200, 3)
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
score = sess.run(["score"], {"window": w, "placement": p})[0]
score.astype("<f4").tofile(out)
