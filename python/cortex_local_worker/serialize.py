"""Request parsing and prediction encoding, Cortex 0.15 style: JSON in, JSON out,
bytes out as application/octet-stream; numpy values become lists and numbers."""
import json

try:
    import orjson as _orjson
except ImportError:
    _orjson = None


class BadRequest(Exception):
    pass


if _orjson is not None:
    _loads = _orjson.loads
    _decode_errors = (_orjson.JSONDecodeError, UnicodeDecodeError, ValueError)
else:
    _loads = json.loads
    _decode_errors = (json.JSONDecodeError, UnicodeDecodeError, ValueError)


def parse_payload(body):
    if not body:
        raise BadRequest("the request body is empty: send a JSON payload")
    try:
        return _loads(body)
    except _decode_errors as e:
        raise BadRequest("invalid JSON payload: %s" % e) from None


def _to_json_compatible(value):
    # Looked up lazily so that numpy is never imported by us: a predictor that
    # returns numpy values has already imported it.
    tolist = getattr(value, "tolist", None)
    if tolist is not None and type(value).__module__ == "numpy":
        return tolist()
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


_encoder = json.JSONEncoder(default=_to_json_compatible)


def encode_prediction(prediction):
    """Returns (is_bytes, payload)."""
    if isinstance(prediction, (bytes, bytearray, memoryview)):
        return True, bytes(prediction)
    return False, _encoder.encode(prediction).encode("utf-8")
