"""The `onnx_client` an ONNXPredictor gets, as Cortex 0.15's ONNXClient
(pkg/workloads/cortex/lib/client/onnx.py): an onnxruntime session over the
model, `predict(model_input)` converting a list or dict to the model's inputs
and returning `session.run`'s outputs (a list, one entry per model output)."""
import sys

from .frameworks import import_framework
from .model_errors import ModelInputError, ModelLoadError
from .model_store import log as _log

# onnxruntime's input types -> numpy dtype names (the names GET <endpoint> shows)
ONNX_TO_NP_TYPE = {
    "tensor(float16)": "float16",
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int32)": "int32",
    "tensor(uint32)": "uint32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(uint16)": "uint16",
    "tensor(int64)": "int64",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class ONNXClient:
    def __init__(self, model_path, gpus=False, threads=None, log=_log):
        rt = import_framework("onnx", "onnxruntime")
        self._np = import_framework("onnx", "numpy")
        providers = ["CPUExecutionProvider"]
        if gpus:
            if "CUDAExecutionProvider" in rt.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            else:
                log(
                    "this replica has GPUs but the onnxruntime in %s has no CUDAExecutionProvider "
                    "(pip install onnxruntime-gpu); running on the CPU" % sys.executable
                )
        options = rt.SessionOptions()
        if threads:
            # The replica's CPU share, as OMP_NUM_THREADS gives it to BLAS pools.
            options.intra_op_num_threads = threads
        try:
            session = rt.InferenceSession(model_path, sess_options=options, providers=providers)
        except Exception as e:
            raise ModelLoadError("cannot load the ONNX model %s: %s" % (model_path, str(e).strip())) from None
        log("onnxruntime %s: %s on %s" % (rt.__version__, model_path, session.get_providers()[0]))
        self._session = session
        self._signature = session.get_inputs()
        self._input_signature = {
            meta.name: {"shape": meta.shape, "type": ONNX_TO_NP_TYPE.get(meta.type, meta.type)} for meta in self._signature
        }

    def predict(self, model_input):
        return self._session.run([], convert_to_onnx_input(self._np, model_input, self._signature))

    @property
    def session(self):
        return self._session

    @property
    def input_signature(self):
        return self._input_signature


def _target_shape(shape):
    # Named (str) and unnamed (None) dynamic dims may take any size; numpy can
    # infer one of them.
    return [d if isinstance(d, int) else -1 for d in shape]


def transform_to_numpy(np, value, meta):
    target_dtype = ONNX_TO_NP_TYPE.get(meta.type)
    if target_dtype is None:
        raise ModelInputError('key "%s": inputs of type %s cannot be made from JSON' % (meta.name, meta.type))
    target_shape = _target_shape(meta.shape)
    try:
        if isinstance(value, np.ndarray):
            array = value
            if np.issubdtype(array.dtype, np.number) != np.issubdtype(np.dtype(target_dtype), np.number):
                raise ValueError("expected dtype '%s' but found '%s'" % (target_dtype, array.dtype))
            if str(array.dtype) != target_dtype:
                array = array.astype(target_dtype)
        else:
            array = np.array(value, dtype=target_dtype)
        if target_shape.count(-1) <= 1:
            array = array.reshape(target_shape)
        return array
    except (ValueError, TypeError) as e:
        raise ModelInputError(
            'key "%s": failed to convert to a numpy array of type %s and shape %s: %s' % (meta.name, target_dtype, meta.shape, e)
        ) from None


def convert_to_onnx_input(np, model_input, signature):
    """One model input: `model_input` is its value, or a dict holding it under
    its name. Several: a dict with every input's name."""
    if len(signature) == 1:
        meta = signature[0]
        if isinstance(model_input, dict):
            if model_input.get(meta.name) is None:
                raise ModelInputError('missing key "%s"' % meta.name)
            return {meta.name: transform_to_numpy(np, model_input[meta.name], meta)}
        return {meta.name: transform_to_numpy(np, model_input, meta)}
    names = [meta.name for meta in signature]
    if not isinstance(model_input, dict):
        raise ModelInputError("expected model_input to be a dictionary with keys %s" % ", ".join('"%s"' % n for n in names))
    inputs = {}
    for meta in signature:
        if model_input.get(meta.name) is None:
            raise ModelInputError('missing key "%s"' % meta.name)
        inputs[meta.name] = transform_to_numpy(np, model_input[meta.name], meta)
    return inputs
