"""The client an onnx or tensorflow predictor is constructed with, built
before the predictor as Cortex did: framework checked, model fetched, loaded."""
import os

from . import frameworks
from .model_store import local_model


def build_client(init, environ=os.environ):
    """None for type python; else the onnx_client or tensorflow_client."""
    predictor_type = init["type"]
    if predictor_type == "python":
        return None
    # Before a download that may be large, so a missing framework fails at once.
    frameworks.require(predictor_type)
    path = local_model(init["model"], predictor_type, init["models_dir"], environ)
    if predictor_type == "onnx":
        from .onnx_client import ONNXClient

        threads = environ.get("OMP_NUM_THREADS", "")
        return ONNXClient(
            path,
            gpus=bool(environ.get("CUDA_VISIBLE_DEVICES")),
            threads=int(threads) if threads.isdigit() else None,
        )
    from .tensorflow_client import TensorFlowClient

    return TensorFlowClient(path, init.get("signature_key"))
