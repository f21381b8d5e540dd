"""What the clients do without a model: Cortex 0.15's signature_key rule and
the ONNX input conversion (python/cortex_local_worker/*_client.py)."""
import collections
import unittest

import numpy as np

from cortex_local_worker.model_errors import ModelInputError, ModelLoadError
from cortex_local_worker.onnx_client import convert_to_onnx_input
from cortex_local_worker.tensorflow_client import select_signature_key

Meta = collections.namedtuple("Meta", "name shape type")


class SignatureKey(unittest.TestCase):
    def setUp(self):
        self.lines = []

    def select(self, available, key):
        return select_signature_key(available, key, self.lines.append)

    def test_a_configured_key_must_exist(self):
        self.assertEqual(self.select(["predict", "serving_default"], "serving_default"), "serving_default")
        with self.assertRaisesRegex(ModelLoadError, "signature_key 'x' was not found in the model; its signatures: 'a', 'b'"):
            self.select(["a", "b"], "x")

    def test_without_a_key_the_only_signature_then_predict(self):
        self.assertEqual(self.select(["serving_default"], None), "serving_default")
        self.assertEqual(self.select(["predict", "serving_default"], None), "predict")
        self.assertIn("using signature 'predict'", self.lines[-1])

    def test_without_a_key_several_signatures_and_no_predict_is_an_error(self):
        with self.assertRaisesRegex(ModelLoadError, "several signatures: 'a', 'b'; set predictor.signature_key"):
            self.select(["a", "b"], None)
        with self.assertRaisesRegex(ModelLoadError, "unable to find signature defs"):
            self.select([], None)


class OnnxInput(unittest.TestCase):
    one = [Meta("input", [None, 4], "tensor(float)")]
    two = [Meta("ids", ["batch", 3], "tensor(int64)"), Meta("mask", [1, 3], "tensor(bool)")]

    def test_one_input_from_a_list_or_a_dict(self):
        for given in ([1, 2, 3, 4], {"input": [[1, 2, 3, 4]]}):
            converted = convert_to_onnx_input(np, given, self.one)["input"]
            self.assertEqual((converted.dtype, converted.shape), (np.float32, (1, 4)))
        batch = convert_to_onnx_input(np, [[1, 2, 3, 4], [5, 6, 7, 8]], self.one)["input"]
        self.assertEqual(batch.shape, (2, 4))

    def test_one_input_errors(self):
        with self.assertRaisesRegex(ModelInputError, 'missing key "input"'):
            convert_to_onnx_input(np, {"x": [1, 2, 3, 4]}, self.one)
        with self.assertRaisesRegex(ModelInputError, r'key "input": failed to convert to a numpy array of type float32 and shape \[None, 4\]'):
            convert_to_onnx_input(np, [1, 2, 3], self.one)
        with self.assertRaisesRegex(ModelInputError, "could not convert string to float"):
            convert_to_onnx_input(np, ["a", 2, 3, 4], self.one)
        with self.assertRaisesRegex(ModelInputError, "expected dtype 'float32' but found '<U1'"):
            convert_to_onnx_input(np, np.array(["a", "b", "c", "d"]), self.one)

    def test_several_inputs_need_a_dict_with_each(self):
        converted = convert_to_onnx_input(np, {"ids": [1, 2, 3], "mask": [1, 0, 1]}, self.two)
        self.assertEqual((converted["ids"].dtype, converted["ids"].shape), (np.int64, (1, 3)))
        self.assertEqual(converted["mask"].tolist(), [[True, False, True]])
        with self.assertRaisesRegex(ModelInputError, 'expected model_input to be a dictionary with keys "ids", "mask"'):
            convert_to_onnx_input(np, [1, 2, 3], self.two)
        with self.assertRaisesRegex(ModelInputError, 'missing key "mask"'):
            convert_to_onnx_input(np, {"ids": [1, 2, 3]}, self.two)

    def test_numpy_values_are_cast_to_the_input_type(self):
        converted = convert_to_onnx_input(np, np.arange(4, dtype=np.int32), self.one)["input"]
        self.assertEqual(converted.dtype, np.float32)


if __name__ == "__main__":
    unittest.main()
