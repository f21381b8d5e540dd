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

Predictions are written as json.dumps writes them (its ", " and ": "
separators, non-ASCII as \\u escapes), with or without orjson. orjson writes
them 2 to 10 times faster, and its text is used only where it is the same
bytes: see _orjson_encode for what sends a prediction to the standard
library instead.
"""
import gc
import json
import marshal
import math

try:
    import orjson as _orjson
except ImportError:
    _orjson = None


class BadRequest(Exception):
    pass


# Every digit as "0", everything else as itself: a run of N digits is then a
# run of N zeros, which a substring search finds far faster than a regular
# expression scans (a 100 kB body: 50 µs against 950).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= c <= 0x39 else c for c in range(256))

# orjson reads integers past the 64-bit range as floats; 19 digits reach
# below -2**63 (and 20 past 2**64 - 1).
_LONG_RUN = b"0" * 19


def _holds(text, needle):
    """`needle in text`, searched from the end: in JSON texts CPython 3.11
    found these needles 2 to 3 times faster backward than forward (a 100 kB
    body: "0" * 19 in 8 us against 20, "null" 17 against 41, "0.0000" 16
    against 44)."""
    return text.rfind(needle) != -1


def parse_payload(body):
    if not body:
        raise BadRequest("the request body is empty: send a JSON payload")
    # A parse makes a container per JSON object and array, and no cycle: the
    # collections that allocation would set off in the middle of it (every 700
    # containers, a full one now and then, over the predictor's objects too)
    # can find nothing to free. They run once, after it, instead. Only a
    # collector that was on is switched back on (the predictor may have
    # switched it off; with several threads, the first to pause it resumes it).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _parse(body)
    finally:
        if paused:
            gc.enable()


def _parse(body):
    if _orjson is not None and not _holds(body.translate(_DIGITS_AS_ZERO), _LONG_RUN):
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            # Everything orjson refuses that json.loads takes, and the error
            # message of what both refuse, come from json.loads below.
            pass
    try:
        return _loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest("invalid JSON payload: %s" % e) from None
    except RecursionError:
        raise BadRequest("invalid JSON payload: nested too deeply for the worker's JSON parser") from None


_scan = json.JSONDecoder().scan_once
_OPENERS = (0x7B, 0x5B)  # "{" and "["


def _loads(body):
    """json.loads(body), with its Python-level steps skipped where a body
    starts "{" or "[" with a second byte that is not 0, which json.loads reads
    as UTF-8 with no BOM (json.detect_encoding): 0.5 against 1.8 us for a
    small payload such as hello's. Anything that fails there, and text after
    the value other than JSON's whitespace, is read by json.loads, whose
    errors are reported."""
    if type(body) is bytes and len(body) > 1 and body[0] in _OPENERS and body[1]:
        try:
            text = body.decode("utf-8", "surrogatepass")
            value, end = _scan(text, 0)
        except (ValueError, StopIteration):
            return json.loads(body)
        if end == len(text) or not text[end:].strip(" \t\n\r"):
            return value
    return json.loads(body)


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


def _reusable_encoder():
    """The C encoder that _encoder.encode builds anew at every call (its
    circular-reference memo is per call), built once without that memo: 0.5
    against 1.4 us for a small prediction such as hello's. A circular
    prediction then ends in a RecursionError, and encode_prediction asks
    _encoder for the error it reports. None where this Python has no C
    encoder, or one that writes otherwise (json.encoder's c_make_encoder is
    not public)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    sample = {"a": [1, 2.5, -0.0, 1e300, "\u00e9\n", None, True, False, {}, []], "b": {"c": (1, 2)}, "": ""}
    try:
        encode = make(None, _to_json_compatible, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, False)
        same = "".join(encode(sample, 0)) == _encoder.encode(sample)
    except Exception:
        return None
    return encode if same else None


_reused = _reusable_encoder()


def encode_prediction(prediction):
    """Returns (is_bytes, payload)."""
    global _last_length
    if isinstance(prediction, (bytes, bytearray, memoryview)):
        return True, bytes(prediction)
    if _orjson_encodes and (_reused is None or _last_length >= _ORJSON_FROM):
        data = _orjson_attempt(prediction)
        if data is not None:
            _last_length = len(data)
            return False, data
    if _reused is not None:
        try:
            data = "".join(_reused(prediction, 0)).encode("utf-8")
        except Exception:
            # NaN, circular references and what the default refuses: reported
            # below as the standard library's encoder reports them.
            pass
        else:
            _last_length = len(data)
            return False, data
    try:
        return False, _encoder.encode(prediction).encode("utf-8")
    except ValueError:
        try:
            where = _non_finite(prediction, "prediction")
        except RecursionError:
            # A circular prediction (the encoder's error says so), or one
            # nested too deeply to walk again.
            where = None
        if where is None:
            raise
    raise ValueError(
        "%s is %s, which JSON cannot carry: return None or a string there "
        "(Cortex 0.15 sent it bare, and JSON parsers such as browsers' refuse the answer)" % where
    ) from None


# Where Python's float repr writes an exponent (below 1e-4, from 1e16 on),
# orjson may write another form ("0.00001" for 1e-05). In orjson's text such a
# number shows as a digit before an "e" (seen as "0e" once every digit reads
# "0" and "E" reads "e"), as "0.0000", or as 17 digits before a ".".
_NUMBER_SHAPES = bytes(0x30 if 0x30 <= c <= 0x39 else 0x65 if c == 0x45 else c for c in range(256))
_EXPONENT = b"0e"
_SMALL = b"0.0000"
_WIDE = b"0" * 17 + b"."

# orjson writes NaN and the infinities as null, as it writes None, where
# json.dumps refuses them. marshal writes a float as its 8 bytes, little-endian,
# and those of NaN and of an infinity end in a byte of 0xf0 or more (the
# exponent's low bits) followed by 0x7f or 0xff (the sign and the exponent's
# high bits); read as "A" and "B" below (0xff as "A"), such a pair shows as "AB"
# or "AA". Where marshal's bytes hold neither, every null orjson wrote is a
# None. Other bytes alike (a small negative int is 0xff bytes) only send the
# prediction to json.dumps.
_NON_FINITE_SHAPES = bytes(0x41 if c >= 0xF0 else 0x42 if c == 0x7F else 0x2E for c in range(256))


def _may_hold_non_finite(marshalled):
    shapes = marshalled.translate(_NON_FINITE_SHAPES)
    return _holds(shapes, b"AB") or _holds(shapes, b"AA")


# Everything but the quote and the two separators deleted, and ":" read as ","
# (both are separators alike there), to tell separators from text (below).
_NOT_QUOTE_OR_SEPARATOR = bytes(c for c in range(256) if c not in b'",:')
_COLON_AS_COMMA = bytes(0x2C if c == 0x3A else c for c in range(256))


def _orjson_encode(prediction):
    """orjson's text of the prediction spaced as json.dumps spaces it, or None
    where it could differ from json.dumps by a byte, and the standard library
    writes it:
    - anything but dict, list, tuple, str, int, float, bool and None, or a
      subclass of one (marshal takes exactly these built-in types, and sets and
      bytes, which orjson refuses): orjson writes enums, UUIDs, dataclasses and
      datetimes itself where json.dumps calls the encoder's default;
    - what orjson refuses: integers past 64 bits, keys that are not str, lone
      surrogates, nesting past 255 levels;
    - NaN and infinities, which orjson writes as null (json.dumps reports the
      place): a prediction where orjson wrote a null and marshal's bytes may
      hold one (see _may_hold_non_finite);
    - text that is not ASCII or holds DEL (json.dumps escapes both), or holds a
      backslash (an escape: strings are then not delimited by quotes alone);
    - a float where repr writes an exponent (see _NUMBER_SHAPES);
    - a string holding "," or ":", which the spacing below would change.
    """
    try:
        compact = _orjson.dumps(prediction)
    except (TypeError, _orjson.JSONEncodeError):
        return None
    try:
        typed = marshal.dumps(prediction)
    except ValueError:
        return None
    if (
        not compact.isascii()
        or b"\x7f" in compact
        or b"\\" in compact
        or _holds(compact, _SMALL)
        or (_holds(compact, b"null") and _may_hold_non_finite(typed))
    ):
        return None
    shapes = compact.translate(_NUMBER_SHAPES)
    if _holds(shapes, _EXPONENT) or _holds(shapes, _WIDE):
        return None
    # Without escapes every '"' opens or closes a string, and JSON puts a "," or
    # ":" between any two strings. Of the quotes and separators alone, a string
    # holding neither leaves '""', and one holding a separator leaves an
    # opening quote with a separator after it (its own first one) and a
    # separator (the one before the string) or nothing before it: ',",' or a
    # leading '",'. Neither occurs where every string's quotes touch.
    marks = compact.translate(_COLON_AS_COMMA, _NOT_QUOTE_OR_SEPARATOR)
    if _holds(marks, b',",') or marks.startswith(b'",'):
        return None
    return compact.replace(b",", b", ").replace(b":", b": ")


# Below about 1 kB the encoder built once (_reused) writes faster than orjson
# with the checks above (39 bytes: 0.7 against 1.9 us; 1 kB of floats: 13
# against 11 us; 4 kB of strings and integers: 27 against 31 us). An API's
# predictions are of a size: orjson is tried first while the last one written
# took at least that.
_ORJSON_FROM = 1024
_last_length = 0

# An API's predictions look alike: once orjson could not write one exactly, the
# next ones are written by json.dumps alone, and orjson is tried again only
# after _SKIP_AFTER_MISS of them (a miss costs its dump, a tenth of json.dumps').
_SKIP_AFTER_MISS = 31
_skip = 0


def _orjson_attempt(prediction):
    global _skip
    if _skip > 0:
        _skip -= 1
        return None
    data = _orjson_encode(prediction)
    if data is None:
        _skip = _SKIP_AFTER_MISS
    return data


def _orjson_matches_repr():
    """Whether this orjson writes numbers as json.dumps does where the checks
    above let its text through: a release that formats them otherwise is not
    used for writing at all."""
    sample = [0.0, -0.0, 0.1, 0.5, 1.0, 100.0, 1 / 3, 2 / 3, 0.0001, 0.00012345, 123.456, 1e15, 123456789012345.6, 9007199254740993.0,
              -2.5, 3.141592653589793, 2 ** 63, 2 ** 64 - 1, -(2 ** 63), 0, -1, 10 ** 16, True, False, "", "a\u0001\u001f\t"]
    sample += [i / 7 for i in range(1, 200)] + [1.1 ** i for i in range(-90, 380)]
    sample = [x for x in sample if not (isinstance(x, float) and (x != 0 and (abs(x) < 1e-4 or abs(x) >= 1e16)))]
    try:
        return _orjson.dumps(sample).replace(b",", b", ") == json.dumps(sample).encode("ascii")
    except (TypeError, ValueError):
        # A release that cannot write these at all is not used for writing either.
        return False


_orjson_encodes = _orjson is not None and _orjson_matches_repr()


def _non_finite(value, path):
    """The place of the first NaN or infinity the encoder would meet, as `prediction["a"][2]` and its value; None if none."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, _float_text(value))
    if isinstance(value, (str, int, bool, type(None))):
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, float) and not math.isfinite(k):
                return ("the key %r of %s" % (k, path), _float_text(k))
            found = _non_finite(v, "%s[%s]" % (path, json.dumps(k) if isinstance(k, str) else repr(k)))
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _non_finite(v, "%s[%d]" % (path, i))
            if found is not None:
                return found
        return None
    try:
        converted = _to_json_compatible(value)
    except TypeError:
        return None
    return _non_finite(converted, path)


def _float_text(value):
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
