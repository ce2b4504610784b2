"""Reference decision values of models/anomaly.onnx from Python onnxruntime, for the Rust test.

usage: anomaly_reference.py MODEL.onnx Z.f32 OUT.f32
Inputs are raw little-endian float32: z [N*5] (already clipped). Writes the `scores` output [N].
"""

import sys

import numpy as np
import onnxruntime as ort

model, z, out = sys.argv[1:4]
x = np.fromfile(z, dtype="<f4").reshape(-1, 5)
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
sess.run(["scores"], {"z": x})[0].reshape(-1).astype("<f4").tofile(out)
