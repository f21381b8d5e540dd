"""Imports the user's predictor file and builds the predictor, the way Cortex 0.15 did."""
import importlib.util
import inspect
import sys

CLASS_NAMES = {"python": "PythonPredictor", "tensorflow": "TensorFlowPredictor", "onnx": "ONNXPredictor"}


class PredictorDefinitionError(Exception):
    pass


def add_python_path(python_path):
    if python_path not in sys.path:
        sys.path.insert(0, python_path)


def load_predictor(predictor_type, path, config, client=None):
    """`client`: the onnx_client or tensorflow_client the predictor of those types is built with."""
    class_name = CLASS_NAMES[predictor_type]
    spec = importlib.util.spec_from_file_location("predictor", path)
    if spec is None or spec.loader is None:
        raise PredictorDefinitionError("cannot import %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["predictor"] = module
    spec.loader.exec_module(module)

    cls = getattr(module, class_name, None)
    if cls is None:
        raise PredictorDefinitionError("%s: class %s is not defined" % (path, class_name))
    if not inspect.isclass(cls):
        raise PredictorDefinitionError("%s: %s is not a class" % (path, class_name))
    if not callable(getattr(cls, "predict", None)):
        raise PredictorDefinitionError("%s: %s must define predict(self, payload)" % (path, class_name))
    if predictor_type == "python":
        return cls(config)
    return cls(client, config)
