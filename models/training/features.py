"""The fall detector's feature extraction, as an ONNX graph.

The same graph runs in training (through onnxruntime, to compute the training features) and is the
first half of the shipped model, so Python and Rust can never disagree about features: the Rust side
feeds raw windows and nothing else.

Input `window`: float32 [N, 200, 3], acceleration in g at 50 Hz (4 s). Input `placement`: float32
[N, 1], 0 = wrist, 1 = waist. Output `features`: float32 [N, len(FEATURE_NAMES)] (names in FEATURE_NAMES).
Segments: pre = samples 0..75 (0-1.5 s), mid = 75..125 (1.5-2.5 s, where the impact is expected),
post = 125..200 (2.5-4 s); "late" = 150..200 (the last second) for the post-impact orientation.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WINDOW = 200
HOP = 25
HZ = 50.0
OPSET = 18
SEGMENTS = {"pre": (0, 75), "mid": (75, 125), "post": (125, 200)}

# Every axis is clipped to +-CLIP_G inside the graph before anything else: a +-2 g sensor (common in
# wristbands) and a +-16 g one then give the model the same picture of an impact.
CLIP_G = 2.0
AUTOCORR_LAGS = (10, 15, 20, 25, 30, 40, 50)  # 0.2-1 s: strokes of arm work
SMOOTH = 5  # moving average (samples) for the rate-robust features: 20 Hz and 200 Hz look alike

FEATURE_NAMES = (
    [f"{seg}_{stat}" for seg in SEGMENTS for stat in ("min", "max", "mean", "std")]
    + [
        "min",
        "seconds_below_0.6g",
        "seconds_below_0.8g",
        "seconds_above_1.5g",
        "seconds_above_2g",
        "seconds_from_min_to_max",
        "mid_max_jerk",
        "pre_mean_abs_jerk",
        "post_mean_abs_jerk",
        "smooth_mid_max",
        "smooth_mid_min",
        "smooth_pre_min",
        "cos_orientation_pre_late",
        "cos_orientation_pre_post",
        "late_mean_vector_norm",
        "pre_axis_variance",
        "post_axis_variance",
        "late_axis_variance",
        "vertical_mid_min",
        "vertical_mid_max",
        "vertical_post_mean",
        "vertical_late_mean",
        "mid_mean_abs_deviation",
        "post_mean_abs_deviation",
        "late_std",
        "autocorrelation_max",
        "rises_above_1.4g",
        "pre_rises_above_1.4g",
        "post_rises_above_1.4g",
        "placement",
    ]
)


class _G:
    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.k = 0

    def const(self, value, dtype=np.int64) -> str:
        self.k += 1
        name = f"fx_c{self.k}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        self.k += 1
        out = f"fx_t{self.k}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"fx_n{self.k}", **attrs))
        return out

    def slice(self, x: str, start: int, end: int, axis: int) -> str:
        return self.op("Slice", [x, self.const([start]), self.const([end]), self.const([axis])])

    def reduce(self, kind: str, x: str, axis: int, keepdims: int = 0) -> str:
        return self.op(kind, [x, self.const([axis])], keepdims=keepdims)


def build_feature_nodes(g: _G, window: str, placement: str, out: str) -> None:
    lim = g.const(CLIP_G, np.float32)
    window = g.op("Clip", [window, g.op("Neg", [lim]), lim])
    sq = g.op("Mul", [window, window])
    mag = g.op("Sqrt", [g.reduce("ReduceSum", sq, 2)])  # [N,200]
    cols = []

    def col(x: str) -> None:
        cols.append(g.op("Unsqueeze", [x, g.const([1])]))

    def std(x: str, axis: int) -> tuple[str, str]:
        mean = g.reduce("ReduceMean", x, axis)
        msq = g.reduce("ReduceMean", g.op("Mul", [x, x]), axis)
        var = g.op("Relu", [g.op("Sub", [msq, g.op("Mul", [mean, mean])])])
        return mean, var

    for a, b in SEGMENTS.values():
        seg = g.slice(mag, a, b, 1)
        col(g.reduce("ReduceMin", seg, 1))
        col(g.reduce("ReduceMax", seg, 1))
        mean, var = std(seg, 1)
        col(mean)
        col(g.op("Sqrt", [var]))
    col(g.reduce("ReduceMin", mag, 1))
    inv_hz = g.const(1.0 / HZ, np.float32)

    def seconds(cmp: str, level: float) -> None:
        hit = g.op("Cast", [g.op(cmp, [mag, g.const(level, np.float32)])], to=TensorProto.FLOAT)
        col(g.op("Mul", [g.reduce("ReduceSum", hit, 1), inv_hz]))

    seconds("Less", 0.6)
    seconds("Less", 0.8)
    seconds("Greater", 1.5)
    seconds("Greater", 2.0)
    amax = g.op("Cast", [g.op("ArgMax", [mag], axis=1, keepdims=0)], to=TensorProto.FLOAT)
    amin = g.op("Cast", [g.op("ArgMin", [mag], axis=1, keepdims=0)], to=TensorProto.FLOAT)
    col(g.op("Mul", [g.op("Sub", [amax, amin]), inv_hz]))
    jerk = g.op("Abs", [g.op("Sub", [g.slice(mag, 1, WINDOW, 1), g.slice(mag, 0, WINDOW - 1, 1)])])  # [N,199]
    col(g.reduce("ReduceMax", g.slice(jerk, 74, 125, 1), 1))
    col(g.reduce("ReduceMean", g.slice(jerk, 0, 74, 1), 1))
    col(g.reduce("ReduceMean", g.slice(jerk, 125, WINDOW - 1, 1), 1))
    # moving average over SMOOTH samples: index i covers samples i..i+SMOOTH-1
    pooled = g.op("AveragePool", [g.op("Unsqueeze", [mag, g.const([1])])], kernel_shape=[SMOOTH], strides=[1])
    smooth = g.op("Squeeze", [pooled, g.const([1])])  # [N,196]
    h = SMOOTH // 2
    col(g.reduce("ReduceMax", g.slice(smooth, 75 - h, 125 - h, 1), 1))
    col(g.reduce("ReduceMin", g.slice(smooth, 75 - h, 125 - h, 1), 1))
    col(g.reduce("ReduceMin", g.slice(smooth, 0, 75 - h, 1), 1))
    pre_v = g.reduce("ReduceMean", g.slice(window, 0, 75, 1), 1)  # [N,3]
    post_v = g.reduce("ReduceMean", g.slice(window, 125, 200, 1), 1)
    late_v = g.reduce("ReduceMean", g.slice(window, 150, 200, 1), 1)
    n_pre = g.op("Sqrt", [g.reduce("ReduceSum", g.op("Mul", [pre_v, pre_v]), 1)])
    eps = g.const(1e-6, np.float32)

    def cosine(v: str) -> str:
        dot = g.reduce("ReduceSum", g.op("Mul", [pre_v, v]), 1)
        nv = g.op("Sqrt", [g.reduce("ReduceSum", g.op("Mul", [v, v]), 1)])
        return g.op("Div", [dot, g.op("Add", [g.op("Mul", [n_pre, nv]), eps])]), nv

    c_late, n_late = cosine(late_v)
    col(c_late)
    col(cosine(post_v)[0])
    col(n_late)
    for a, b in (SEGMENTS["pre"], SEGMENTS["post"], (150, 200)):
        _, var = std(g.slice(window, a, b, 1), 1)  # [N,3]
        col(g.reduce("ReduceSum", var, 1))
    # acceleration along the gravity direction before the event (up = +1 g at rest)
    up = g.op("Div", [pre_v, g.op("Add", [g.op("Unsqueeze", [n_pre, g.const([1])]), eps])])  # [N,3]
    vert = g.reduce("ReduceSum", g.op("Mul", [window, g.op("Unsqueeze", [up, g.const([1])])]), 2)  # [N,200]
    vmid = g.slice(vert, 75, 125, 1)
    col(g.reduce("ReduceMin", vmid, 1))
    col(g.reduce("ReduceMax", vmid, 1))
    col(g.reduce("ReduceMean", g.slice(vert, 125, 200, 1), 1))
    col(g.reduce("ReduceMean", g.slice(vert, 150, 200, 1), 1))
    dev = g.op("Abs", [g.op("Sub", [mag, g.const(1.0, np.float32)])])
    col(g.reduce("ReduceMean", g.slice(dev, 75, 125, 1), 1))
    col(g.reduce("ReduceMean", g.slice(dev, 125, 200, 1), 1))
    _, var = std(g.slice(mag, 150, 200, 1), 1)
    col(g.op("Sqrt", [var]))
    # periodic arm work (waving, sweeping, washing, clapping) repeats itself; a fall does not
    centred = g.op("Sub", [mag, g.reduce("ReduceMean", mag, 1, keepdims=1)])
    energy = g.op("Add", [g.reduce("ReduceSum", g.op("Mul", [centred, centred]), 1), eps])
    lags = []
    for lag in AUTOCORR_LAGS:
        prod = g.op("Mul", [g.slice(centred, lag, WINDOW, 1), g.slice(centred, 0, WINDOW - lag, 1)])
        lags.append(g.op("Unsqueeze", [g.op("Div", [g.reduce("ReduceSum", prod, 1), energy]), g.const([1])]))
    col(g.reduce("ReduceMax", g.op("Concat", lags, axis=1), 1))
    # how many separate bursts above 1.4 g: one impact, or many strokes
    above = g.op("Cast", [g.op("Greater", [mag, g.const(1.4, np.float32)])], to=TensorProto.FLOAT)
    rises = g.op("Relu", [g.op("Sub", [g.slice(above, 1, WINDOW, 1), g.slice(above, 0, WINDOW - 1, 1)])])  # [N,199]
    col(g.reduce("ReduceSum", rises, 1))
    col(g.reduce("ReduceSum", g.slice(rises, 0, 74, 1), 1))
    col(g.reduce("ReduceSum", g.slice(rises, 124, WINDOW - 1, 1), 1))
    cols.append(placement)
    g.nodes.append(helper.make_node("Concat", cols, [out], axis=1, name="fx_concat"))


def feature_model() -> onnx.ModelProto:
    g = _G()
    build_feature_nodes(g, "window", "placement", "features")
    graph = helper.make_graph(
        g.nodes,
        "fall_features",
        [
            helper.make_tensor_value_info("window", TensorProto.FLOAT, ["N", WINDOW, 3]),
            helper.make_tensor_value_info("placement", TensorProto.FLOAT, ["N", 1]),
        ],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", len(FEATURE_NAMES)])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def windows(acc50: np.ndarray, hop: int = HOP) -> np.ndarray:
    """All windows [K,200,3] of a 50 Hz trace, starting at sample 0, every `hop` samples."""
    n = (len(acc50) - WINDOW) // hop + 1
    if n <= 0:
        return np.zeros((0, WINDOW, 3), np.float32)
    idx = np.arange(n)[:, None] * hop + np.arange(WINDOW)[None, :]
    return acc50[idx].astype(np.float32)
