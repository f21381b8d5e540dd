"""The `tensorflow_client` a TensorFlowPredictor gets, as Cortex 0.15's
TensorFlowClient (pkg/workloads/cortex/lib/client/tensorflow.py) behaved, with
the SavedModel loaded in this process instead of behind a TensorFlow Serving
sidecar reached over gRPC.

`predict(model_input)` takes a dict keyed by the signature's input names and
returns what Cortex's client returned: a dict of output name -> the output's
values as one flat list, written as TF Serving's PredictResponse read through
protobuf's JSON mapping (int64 as decimal strings, strings as base64). The
0.15 iris example reads `int(prediction["class_ids"][0])`.
"""
import base64

from .frameworks import import_framework
from .model_errors import ModelInputError, ModelLoadError
from .model_store import log as _log


def _quoted(keys):
    return ", ".join("'%s'" % k for k in keys)


def select_signature_key(available, signature_key, log=_log):
    """Cortex's rule: a configured key must exist; without one, the model's
    only signature, else the one named 'predict', else an error listing them."""
    if not available:
        raise ModelLoadError("unable to find signature defs in the model")
    if signature_key is None:
        if len(available) == 1:
            key = available[0]
        elif "predict" in available:
            key = "predict"
        else:
            raise ModelLoadError(
                "signature_key was not configured and the model has several signatures: %s; "
                "set predictor.signature_key to one of them" % _quoted(available)
            )
        log("signature_key was not configured; using signature '%s' (the model's signatures: %s)" % (key, _quoted(available)))
        return key
    if signature_key not in available:
        raise ModelLoadError(
            "signature_key '%s' was not found in the model; its signatures: %s" % (signature_key, _quoted(available))
        )
    return signature_key


def describe_shape(shape):
    """A TensorShape as GET <endpoint> shows it: -1 for an unknown dimension."""
    if shape.rank is None:
        return ["unknown"]
    if shape.rank == 0:
        return ["scalar"]
    return [-1 if d is None else int(d) for d in shape.as_list()]


class TensorFlowClient:
    def __init__(self, model_path, signature_key=None, log=_log):
        tf = import_framework("tensorflow", "tensorflow")
        self._tf = tf
        self._np = import_framework("tensorflow", "numpy")
        try:
            # The meta graph TF Serving serves.
            loaded = tf.saved_model.load(model_path, tags=["serve"])
        except Exception as e:
            raise ModelLoadError("cannot load the TensorFlow SavedModel at %s: %s" % (model_path, str(e).strip())) from None
        signatures = dict(loaded.signatures)
        self._signature_key = select_signature_key(sorted(signatures), signature_key, log)
        # The loaded object owns the variables the signature function reads.
        self._loaded = loaded
        self._function = signatures[self._signature_key]
        _, self._inputs = self._function.structured_input_signature
        self._input_signature = {
            name: {"shape": describe_shape(spec.shape), "type": spec.dtype.name} for name, spec in self._inputs.items()
        }
        log("tensorflow %s: %s, signature '%s'" % (tf.__version__, model_path, self._signature_key))

    @property
    def input_signature(self):
        return self._input_signature

    @property
    def signature_key(self):
        return self._signature_key

    def predict(self, model_input):
        if not isinstance(model_input, dict):
            raise ModelInputError(
                "expected model_input to be a dictionary with keys %s (the inputs of signature '%s'), got %s"
                % (_quoted(sorted(self._inputs)), self._signature_key, type(model_input).__name__)
            )
        for name in sorted(self._inputs):
            if name not in model_input:
                raise ModelInputError('missing key "%s"' % name)
        for name in model_input:
            if name not in self._inputs:
                raise ModelInputError(
                    'key "%s" is not an input of signature \'%s\' (its inputs: %s)' % (name, self._signature_key, _quoted(sorted(self._inputs)))
                )
        tensors = {name: self._tensor(name, value) for name, value in model_input.items()}
        outputs = self._function(**tensors)
        return {name: self._values(tensor) for name, tensor in outputs.items()}

    def _tensor(self, name, value):
        np, spec = self._np, self._inputs[name]
        try:
            array = np.asarray(value, dtype=object if spec.dtype == self._tf.string else spec.dtype.as_numpy_dtype)
        except (ValueError, TypeError) as e:
            raise ModelInputError('key "%s": expected %s values: %s' % (name, spec.dtype.name, e)) from None
        if not spec.shape.is_compatible_with(array.shape):
            # TF Serving fed a value of another shape to the graph as it came
            # (a scalar for a [-1] input, in Cortex's iris example): reshape
            # when the size allows it.
            target = [-1 if d is None else int(d) for d in spec.shape.as_list()]
            try:
                if target.count(-1) > 1:
                    raise ValueError("cannot infer more than one unknown dimension")
                array = array.reshape(target)
            except ValueError as e:
                raise ModelInputError(
                    'key "%s": expected shape %s, got %s (%s)' % (name, target, list(array.shape), e)
                ) from None
        return self._tf.constant(array, dtype=spec.dtype)

    def _values(self, tensor):
        np, tf = self._np, self._tf
        dtype = tensor.dtype
        array = tensor.numpy().ravel()
        if dtype == tf.string:
            return [base64.b64encode(v).decode("ascii") for v in array]
        if dtype in (tf.int64, tf.uint64):
            return [str(v) for v in array.tolist()]
        if dtype.is_complex:
            return np.column_stack((array.real, array.imag)).ravel().tolist()
        return array.tolist()
