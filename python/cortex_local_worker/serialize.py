"""Request parsing and prediction encoding, Cortex 0.15 style: JSON in, JSON out,
bytes out as application/octet-stream; numpy values become lists and numbers.

One JSON semantics whatever the worker's Python has installed: payloads are
read as the standard library reads them (Cortex 0.15's serve.py used
json.loads through Starlette): integers of any size stay exact, NaN, Infinity
and out-of-range numbers such as 1e400 are accepted (as nan and inf), and a
UTF-8 BOM or a UTF-16/32 body is decoded. orjson is used only where its result
is the same: it refuses NaN, 1e400, a BOM, UTF-16 and lone surrogates, and
such a body is read again by json.loads; the one silent difference, integers
past 64 bits read as floats, is avoided by sending any body holding a run of
19 or more digits straight to json.loads.

A prediction is never sent as invalid JSON: Cortex 0.15 wrote NaN and Infinity
out bare (json.dumps' default), which JSON parsers such as a browser's refuse,
so here a prediction holding one fails with the place named (a 500).
"""
import json
import math
import re

try:
    import orjson as _orjson
except ImportError:
    _orjson = None


class BadRequest(Exception):
    pass


# orjson reads integers past the 64-bit range as floats; 19 digits reach
# below -2**63 (and 20 past 2**64 - 1).
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def parse_payload(body):
    if not body:
        raise BadRequest("the request body is empty: send a JSON payload")
    if _orjson is not None and _LONG_DIGITS.search(body) is None:
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            # Everything orjson refuses that json.loads takes, and the error
            # message of what both refuse, come from json.loads below.
            pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest("invalid JSON payload: %s" % e) from None
    except RecursionError:
        raise BadRequest("invalid JSON payload: nested too deeply for the worker's JSON parser") from None


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


_encoder = json.JSONEncoder(default=_to_json_compatible, allow_nan=False)


def encode_prediction(prediction):
    """Returns (is_bytes, payload)."""
    if isinstance(prediction, (bytes, bytearray, memoryview)):
        return True, bytes(prediction)
    try:
        return False, _encoder.encode(prediction).encode("utf-8")
    except ValueError:
        where = _non_finite(prediction, "prediction", 0)
        if where is None:
            raise
    raise ValueError(
        "%s is %s, which JSON cannot carry: return None or a string there "
        "(Cortex 0.15 sent it bare, and JSON parsers such as browsers' refuse the answer)" % where
    ) from None


def _non_finite(value, path, depth):
    """The place of the first NaN or infinity the encoder would meet, as `prediction["a"][2]` and its value; None if none."""
    if depth > 1000:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, _float_text(value))
    if isinstance(value, (str, int, bool, type(None))):
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, float) and not math.isfinite(k):
                return ("the key %r of %s" % (k, path), _float_text(k))
            found = _non_finite(v, "%s[%s]" % (path, json.dumps(k) if isinstance(k, str) else repr(k)), depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _non_finite(v, "%s[%d]" % (path, i), depth + 1)
            if found is not None:
                return found
        return None
    try:
        converted = _to_json_compatible(value)
    except TypeError:
        return None
    return _non_finite(converted, path, depth + 1)


def _float_text(value):
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
