// One JSON semantics whatever the worker's Python has (issue 12): the
// worker's serialize module, run by the test interpreter with and without
// orjson importable, reads every payload as json.loads does, writes every
// prediction as the bytes json.dumps writes (issue 18), and never writes
// invalid JSON.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { orjsonPath, testPython, withoutOrjson } from '../helpers/python.ts';

const runtime = join(import.meta.dirname, '..', '..', 'python');
const scratch = mkdtempSync(join(tmpdir(), 'serialize-'));
const noOrjson = withoutOrjson(scratch);
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `script` (reading the cases as hex on stdin) with the runtime on the path, and orjson too when asked. */
function run(script: string, input: unknown, withOrjson: boolean): any {
  const out = execFileSync(testPython, ['-c', script], {
    input: JSON.stringify(input),
    env: { ...process.env, PYTHONPATH: `${runtime}:${withOrjson ? orjsonPath : noOrjson}` },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

const PARSE = `
import json, sys
from cortex_local_worker import serialize
out = {"orjson": serialize._orjson is not None, "results": []}
for hexed in json.load(sys.stdin):
    try:
        out["results"].append(["ok", repr(serialize.parse_payload(bytes.fromhex(hexed)))])
    except serialize.BadRequest as e:
        out["results"].append(["400", str(e)])
print(json.dumps(out))
`;

const hex = (b: Buffer | string) => Buffer.from(b).toString('hex');
const utf16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);

const cases: [string, Buffer | string, [string, string]][] = [
  ['2**70 stays an exact int', '{"n": 1180591620717411303424}', ['ok', "{'n': 1180591620717411303424}"]],
  ['-(2**63) - 1 (19 digits) stays an exact int', '[-9223372036854775809, 18446744073709551616]', ['ok', '[-9223372036854775809, 18446744073709551616]']],
  ['NaN, Infinity and -Infinity are read as Python does', '[NaN, Infinity, -Infinity]', ['ok', '[nan, inf, -inf]']],
  ['1e400 is inf', '{"x": 1e400, "y": -1e400, "z": 1e-400}', ['ok', "{'x': inf, 'y': -inf, 'z': 0.0}"]],
  ['a UTF-8 BOM is skipped', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a": "é"}')]), ['ok', "{'a': 'é'}"]],
  ['UTF-16 with a BOM is decoded', utf16('{"a": [1, "é"]}'), ['ok', "{'a': [1, 'é']}"]],
  ['UTF-16 without a BOM is decoded', Buffer.from('{"a": 1}', 'utf16le'), ['ok', "{'a': 1}"]],
  ['a lone surrogate escape is kept', '"\\ud800"', ['ok', "'\\ud800'"]],
  ['a duplicate key keeps its last value', '{"a": 1, "b": 2, "a": 3}', ['ok', "{'a': 3, 'b': 2}"]],
  ['an ordinary payload', '{"sepal_length": 5.2, "tags": ["x", null, true], "n": 123456789012345678}', ['ok', "{'sepal_length': 5.2, 'tags': ['x', None, True], 'n': 123456789012345678}"]],
  ['truncated JSON is a 400 with the standard library message', '{"a": ', ['400', 'invalid JSON payload: Expecting value: line 1 column 7 (char 6)']],
  ['an empty body is a 400', '', ['400', 'the request body is empty: send a JSON payload']],
  ['invalid UTF-8 is a 400', Buffer.from([0x22, 0xff, 0x22]), ['400', "invalid JSON payload: 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"]],
  ['JSON whitespace after the value is skipped', '{"a": [1, 2]} \r\n\t', ['ok', "{'a': [1, 2]}"]],
  ['text after the value is a 400 with the standard library message', '[1, 2] x', ['400', 'invalid JSON payload: Extra data: line 1 column 8 (char 7)']],
  ['a no-break space after the value is not JSON whitespace', '{"a": 1}\u00a0', ['400', 'invalid JSON payload: Extra data: line 1 column 9 (char 8)']],
  ['an unterminated string is a 400 with the standard library message', '{"a": "b', ['400', 'invalid JSON payload: Unterminated string starting at: line 1 column 7 (char 6)']],
  ['a UTF-8-encoded surrogate is kept, as json.loads keeps it', Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]), ['ok', "['\\ud800']"]],
  ['a lone "{" is a 400', '{', ['400', 'invalid JSON payload: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)']],
  ['nesting too deep for the parser is a 400, not a crash', '['.repeat(100_000) + ']'.repeat(100_000), ['400', "invalid JSON payload: nested too deeply for the worker's JSON parser"]],
];

test('the same answers with and without orjson, each as json.loads reads it', () => {
  const input = cases.map(([, body]) => hex(body));
  const plain = run(PARSE, input, false);
  const fast = run(PARSE, input, true);
  assert.equal(plain.orjson, false);
  assert.equal(fast.orjson, true, 'orjson is importable in the second run');
  cases.forEach(([what, , expected], i) => {
    assert.deepEqual(plain.results[i], expected, `${what} (standard library)`);
    assert.deepEqual(fast.results[i], expected, `${what} (with orjson)`);
  });
});

const ENCODE = `
import json, math, sys
import numpy as np
from cortex_local_worker.serialize import encode_prediction
cases = [
    {"scores": [0.5, float("nan")]},
    [{"x": {"y": -math.inf}}],
    {"arr": np.array([1.0, np.inf], dtype=np.float32)},
    {1.5: "float key", "n": np.float64("nan")},
    {"big": 2**70, "ok": [1, 2.5, None], "s": "\\u2028"},
    b"raw",
]
out = []
for c in cases:
    try:
        is_bytes, data = encode_prediction(c)
        out.append(["ok", is_bytes, data.decode("latin-1")])
    except ValueError as e:
        out.append(["500", str(e)])
print(json.dumps(out))
`;

test('a prediction holding NaN or Infinity fails naming the place; everything else is valid JSON', () => {
  for (const withOrjson of [false, true]) {
    const out = run(ENCODE, null, withOrjson) as [string, ...unknown[]][];
    assert.deepEqual(out.slice(0, 4).map((r) => r[0]), ['500', '500', '500', '500']);
    assert.match(String(out[0][1]), /^prediction\["scores"\]\[1\] is NaN, which JSON cannot carry: return None or a string there/);
    assert.match(String(out[1][1]), /^prediction\[0\]\["x"\]\["y"\] is -Infinity, which JSON cannot carry/);
    assert.match(String(out[2][1]), /^prediction\["arr"\]\[1\] is Infinity/);
    assert.match(String(out[3][1]), /^prediction\["n"\] is NaN/);
    assert.equal(out[4][0], 'ok');
    assert.deepEqual(JSON.parse(String(out[4][2])), { big: 2 ** 70, ok: [1, 2.5, null], s: '\u2028' });
    assert.match(String(out[4][2]), /"big": 1180591620717411303424/, 'the big int is written exactly');
    assert.deepEqual(out[5], ['ok', true, 'raw']);
  }
});

const IDENTICAL = `
import collections, dataclasses, datetime, enum, hashlib, json, math, random, sys, uuid
import numpy as np
from cortex_local_worker import serialize

class Color(enum.Enum):
    RED = 1

class Level(enum.IntEnum):
    HIGH = 3

class Name(str):
    pass

@dataclasses.dataclass
class Point:
    x: int

random.seed(7)
floats = [random.random() * 10 ** random.randint(-12, 20) * random.choice([1, -1]) for _ in range(300)]
fixed = [x for x in (random.random() * 10 ** random.randint(-3, 15) for _ in range(3000)) if 1e-4 <= x < 1e16]
cases = {
    "plain": {"label": "setosa", "scores": [0.25, 0.5, 1.0, 123.456, -0.0, 0.0001], "n": 3, "ok": True},
    "nested": [{"a": {"b": [[], {}, [1, [2, [3]]]]}}, (1, 2), "x"],
    "scalars": [0, -1, 2 ** 63, 2 ** 64 - 1, -(2 ** 63), 1e15, 123456789012345.6],
    "top-level string": "just text",
    "top-level number": 2.5,
    "top-level None": None,
    "with None": {"a": None},
    "fixed-range floats": fixed,
    "random floats": floats,
    "tiny and huge floats": [1e-05, 1.5e-05, 1e-06, 2.5e-10, 5e-324, 1e16, 1.5e17, 1e22, 1.7976931348623157e308],
    "wide integer": [12345678901234567],
    "big int": [2 ** 70, -(2 ** 64)],
    "commas and colons in text": {"msg": "Hello, cortex: hi", "k:ey": 1, "a,b": 2, ":": ",", "": ""},
    "a comma in the last string only": [["a", "b"], {"c": ""}, "d,"],
    "a colon in a key after plain strings": [{"a": "b"}, {"c:": 1}],
    "quotes, backslashes, control characters": {"q": 'say "hi"', "b": "a\\\\b", "c": "line\\nnext\\ttab\\u0001\\u001f", "d": "\\u007f"},
    "non-ASCII": {"é": "naïve ☃ 😀", "s": "\\u2028"},
    "non-str keys": {1: "a", 2.5: "b", True: "c", None: "d"},
    "enum": {"c": Color.RED},
    "int enum": {"l": Level.HIGH},
    "uuid": {"u": uuid.UUID(int=1)},
    "datetime": {"t": datetime.datetime(2020, 1, 2, 3, 4, 5)},
    "dataclass": {"p": Point(1)},
    "str subclass": {"n": Name("abc")},
    "dict subclass": collections.OrderedDict([("b", 1), ("a", 2)]),
    "set": {"s": {3}},
    "numpy": {"arr": np.array([[1.5, 2.0], [3.0, 4.25]]), "i": np.int64(7), "f": np.float32(0.5)},
    "NaN": {"x": float("nan")},
    "infinity": [math.inf],
    "None beside NaN": [None, float("nan")],
    "None beside a shared infinity": [math.inf, None, {"k": -math.inf}] * 2,
    "None beside negative NaN deep down": {"a": [None, {"b": [0.5, -float("nan")]}]},
    "many Nones": [{"id": i, "label": None, "score": i / 7} for i in range(2000)],
    "None beside negative ints": {"a": None, "n": [-1, -200]},
    "deep": json.loads("[" * 300 + "]" * 300),
    "many strings": [{"name": "item-%d" % i, "tags": ["a", "b"]} for i in range(12000)],
}

def mixed(depth):
    """Text of quotes, separators and letters, nested: where a separator lies inside a string or between strings is what the spacing must tell apart."""
    text = lambda n: "".join(random.choice('a,:" ') for _ in range(random.randint(0, n)))
    r = random.random()
    if depth > 3 or r < 0.35:
        return text(3)
    if r < 0.45:
        return random.randint(0, 99)
    if r < 0.75:
        return [mixed(depth + 1) for _ in range(random.randint(0, 4))]
    return {text(2): mixed(depth + 1) for _ in range(random.randint(0, 3))}

for i in range(400):
    cases["mixed text %d" % i] = mixed(0)
out = {"orjson": serialize._orjson is not None, "fast": [], "differs": [], "results": {}}
for name, case in cases.items():
    # encode_prediction skips orjson for a while after a miss: its text is checked here on every case.
    written = serialize._orjson_encode(case) if serialize._orjson is not None else None
    if written is not None:
        out["fast"].append(name)
        if written != json.dumps(case).encode():
            out["differs"].append([name, written.decode("latin-1")])
    try:
        is_bytes, data = serialize.encode_prediction(case)
        out["results"][name] = ["ok", hashlib.sha256(data).hexdigest(), data[:60].decode("latin-1")]
        if not is_bytes and data != json.dumps(case, default=serialize._to_json_compatible, allow_nan=False).encode():
            out["results"][name] = ["not json.dumps' bytes", data.decode("latin-1")]
    except Exception as e:
        out["results"][name] = ["error", type(e).__name__, str(e)]
print(json.dumps(out))
`;

test('with orjson a prediction is the same bytes as json.dumps writes, or json.dumps writes it', () => {
  const plain = run(IDENTICAL, null, false);
  const fast = run(IDENTICAL, null, true);
  assert.equal(plain.orjson, false);
  assert.equal(fast.orjson, true);
  assert.deepEqual(fast.results, plain.results, 'every case gives the same bytes, or the same error, with and without orjson');
  for (const [name, r] of Object.entries(plain.results) as [string, string[]][]) assert.notEqual(r[0], "not json.dumps' bytes", name);
  assert.deepEqual(plain.results.NaN.slice(0, 2), ['error', 'ValueError']);
  assert.deepEqual(plain.results.enum.slice(0, 2), ['error', 'TypeError'], 'an enum is not JSON, whoever writes it');
  assert.deepEqual(plain.results.uuid.slice(0, 2), ['error', 'TypeError']);
  assert.deepEqual(fast.differs, [], "orjson's text is json.dumps' bytes wherever it is used");
  const mixedFast = fast.fast.filter((name: string) => name.startsWith('mixed text')).length;
  assert.ok(mixedFast > 50 && mixedFast < 350, `the random texts go both ways (${mixedFast} of 400 written by orjson)`);
  for (const name of ['None beside NaN', 'None beside a shared infinity', 'None beside negative NaN deep down']) assert.deepEqual(plain.results[name].slice(0, 2), ['error', 'ValueError'], name);
  assert.deepEqual(
    fast.fast.filter((name: string) => !name.startsWith('mixed text')),
    ['plain', 'nested', 'scalars', 'top-level string', 'top-level number', 'top-level None', 'with None', 'fixed-range floats', 'wide integer', 'many Nones', 'many strings'],
    'orjson writes these itself, and none of the others',
  );
});

const LOADS_FUZZ = `
import json, random
from cortex_local_worker import serialize
random.seed(11)
def value(depth):
    r = random.random()
    if depth > 3 or r < 0.4:
        return random.choice([1, -2.5e3, 0.1, None, True, "a", "\\u00e9", "\\ud800", "x\\"y", float("nan"), 10 ** 30])
    if r < 0.7:
        return [value(depth + 1) for _ in range(random.randint(0, 3))]
    return {random.choice(["k", "", "\\u00e9"]): value(depth + 1) for _ in range(random.randint(0, 3))}
def outcome(f, body):
    try:
        return ["ok", repr(f(body))]
    except (ValueError, RecursionError) as e:
        return [type(e).__name__, str(e)]
differs = []
kinds = {"ok": 0, "error": 0}
for _ in range(20000):
    top = random.choice([[], {}])
    top = [value(1) for _ in range(random.randint(0, 3))] if isinstance(top, list) else {"k%d" % i: value(1) for i in range(random.randint(0, 3))}
    text = json.dumps(top, separators=random.choice([(",", ":"), (", ", ": "), (" ,\\n", " :\\t")]), ensure_ascii=random.random() < 0.5)
    r = random.random()
    if r < 0.3:
        text += random.choice([" ", "\\n", "\\r\\n\\t ", "\\u00a0", "x", ",", "}", "]", " 1", "\\u0000"])
    elif r < 0.45:
        text = text[: random.randint(1, len(text))]
    body = text.encode("utf-8", "surrogatepass")
    expected = outcome(json.loads, body)
    kinds["ok" if expected[0] == "ok" else "error"] += 1
    if outcome(serialize._loads, body) != expected:
        differs.append(text)
print(json.dumps({"differs": differs[:5], "kinds": kinds}))
`;

test('the payload reader without json.loads wrappers reads every body as json.loads does, errors included', () => {
  const out = run(LOADS_FUZZ, null, false);
  assert.deepEqual(out.differs, []);
  assert.ok(out.kinds.ok > 5000 && out.kinds.error > 2000, `the random bodies go both ways (${JSON.stringify(out.kinds)})`);
});

const CIRCULAR = `
import json
from cortex_local_worker import serialize
a = {"x": [1]}
a["x"].append(a)
try:
    serialize.encode_prediction(a)
    out = ["ok"]
except ValueError as e:
    out = ["ValueError", str(e)]
print(json.dumps({"reused": serialize._reused is not None, "out": out, "after": serialize.encode_prediction({"m": "Hello, cortex!"})[1].decode()}))
`;

test('the encoder built once reports a circular prediction as json.dumps does, and writes on after it', () => {
  for (const withOrjson of [false, true]) {
    const out = run(CIRCULAR, null, withOrjson);
    assert.equal(out.reused, true, "this Python's C encoder is reused");
    assert.deepEqual(out.out, ['ValueError', 'Circular reference detected']);
    assert.equal(out.after, '{"m": "Hello, cortex!"}');
  }
});
