"""Writes model.onnx here: the iris classifier of examples/iris (nearest
centroid over the per-class means of Fisher's iris data set) as an ONNX graph
with the inputs and outputs of Cortex 0.15's examples/xgboost/iris-classifier
export (input "input" float [1, 4]; outputs label int64 [1] and probabilities
float [1, 3]). Needs the onnx package (pip install onnx); nothing is downloaded.

    python make_model.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CENTROIDS = np.array(
    [
        [5.006, 3.428, 1.462, 0.246],  # setosa
        [5.936, 2.770, 4.260, 1.326],  # versicolor
        [6.588, 2.974, 5.552, 2.026],  # virginica
    ],
    dtype=np.float32,
)

# The nearest centroid is the one with the highest x·c - |c|²/2 (a linear layer).
weights = CENTROIDS.T
bias = -0.5 * (CENTROIDS**2).sum(axis=1)

graph = helper.make_graph(
    [
        helper.make_node("MatMul", ["input", "weights"], ["xw"]),
        helper.make_node("Add", ["xw", "bias"], ["scores"]),
        helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0),
        helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1),
    ],
    "iris-nearest-centroid",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
    [
        helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 3]),
    ],
    initializer=[numpy_helper.from_array(weights, "weights"), numpy_helper.from_array(bias, "bias")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.onnx")
onnx.save(model, path)
print("wrote", path)
