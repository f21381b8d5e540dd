"""The optional frameworks of the onnx and tensorflow predictor types: checked
before a model is downloaded, imported only by the client of that type."""
import importlib.util
import sys

# predictor type -> (module, what to pip install)
NEEDS = {
    "onnx": [("onnxruntime", "onnxruntime"), ("numpy", "numpy")],
    "tensorflow": [("tensorflow", "tensorflow"), ("numpy", "numpy")],
}


class MissingFramework(Exception):
    pass


def _fix(predictor_type, module, package):
    return "type %s needs %s in %s: pip install %s, or list it in requirements.txt" % (
        predictor_type,
        module,
        sys.executable,
        package,
    )


def require(predictor_type):
    for module, package in NEEDS[predictor_type]:
        if importlib.util.find_spec(module) is None:
            raise MissingFramework(_fix(predictor_type, module, package))


def import_framework(predictor_type, module):
    """Imports `module`, turning a broken install into the same actionable message."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        package = dict(NEEDS[predictor_type])[module]
        raise MissingFramework("%s (importing it failed: %s)" % (_fix(predictor_type, module, package), e)) from None
