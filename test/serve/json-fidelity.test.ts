// One JSON semantics whatever the worker's Python has (issue 12), over HTTP:
// two APIs serve the same predictor, one with orjson importable (on its
// PYTHONPATH through predictor.env), one without; the four cases that used
// to differ get the same answers from both, as json.loads reads them, and a
// prediction holding NaN is a 500 naming the place, never invalid JSON.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { orjsonPath, withoutOrjson } from '../helpers/python.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

let dir = '';
let server: ServerProcess;

const PREDICTOR = `import sys


class PythonPredictor:
    def __init__(self, config):
        pass

    def predict(self, payload):
        if payload == {"nan_out": True}:
            return {"scores": [0.5, float("nan")]}
        return {"repr": repr(payload), "orjson": "orjson" in sys.modules}
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'json-fidelity-'));
  await writeFile(join(dir, 'predictor.py'), PREDICTOR);
  await writeFile(
    join(dir, 'cortex.yaml'),
    `- name: plain\n  predictor: {type: python, path: predictor.py, env: {PYTHONPATH: ${JSON.stringify(withoutOrjson(dir))}}}\n- name: fast\n  predictor: {type: python, path: predictor.py, env: {PYTHONPATH: ${JSON.stringify(orjsonPath)}}}\n`,
  );
  server = await startServer(dir, [], { waitForApis: ['plain', 'fast'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
  await rm(dir, { recursive: true, force: true });
});

async function post(api: string, body: Buffer | string) {
  const res = await request(`${server.url}/${api}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, contentType: res.headers['content-type'], body: (await res.body.json()) as Record<string, unknown> };
}

const cases: [string, Buffer, string][] = [
  ['an integer past 64 bits (2**70)', Buffer.from('{"n": 1180591620717411303424}'), "{'n': 1180591620717411303424}"],
  ['NaN and 1e400', Buffer.from('[NaN, 1e400, -Infinity]'), '[nan, inf, -inf]'],
  ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a": "é"}')]), "{'a': 'é'}"],
  ['UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a": [1, "é"]}', 'utf16le')]), "{'a': [1, 'é']}"],
];

for (const [what, body, expected] of cases) {
  test(`${what}: the same answer with and without orjson, as json.loads reads it`, async () => {
    const plain = await post('plain', body);
    const fast = await post('fast', body);
    assert.equal(plain.body.orjson, false);
    assert.equal(fast.body.orjson, true, 'orjson is imported in the worker of the API that has it');
    assert.equal(plain.status, 200);
    assert.equal(fast.status, 200);
    assert.equal(plain.body.repr, expected);
    assert.equal(fast.body.repr, expected);
  });
}

test('a prediction holding NaN is a 500 naming where, with and without orjson; the answer is valid JSON', async () => {
  for (const api of ['plain', 'fast']) {
    const r = await post(api, '{"nan_out": true}');
    assert.equal(r.status, 500);
    assert.equal(r.contentType, 'application/json');
    assert.match(String(r.body.error), /^ValueError: prediction\["scores"\]\[1\] is NaN, which JSON cannot carry: return None or a string there/);
  }
});
