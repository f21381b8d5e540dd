// examples/iris-onnx and examples/iris-tensorflow as their READMEs run them:
// make_model.py makes the model (nothing downloaded), then serve, then curl.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { testPython } from '../helpers/python.ts';
import { startServer } from '../helpers/server.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples');

const OTHER_SAMPLES: [Record<string, number>, string][] = [
  [{ sepal_length: 5.9, sepal_width: 2.8, petal_length: 4.3, petal_width: 1.3 }, 'versicolor'],
  [{ sepal_length: 6.7, sepal_width: 3.1, petal_length: 5.8, petal_width: 2.2 }, 'virginica'],
];

async function serveExample(name: string, signature: Record<string, unknown>): Promise<void> {
  // A copy, so the model the script writes stays out of the checkout.
  const dir = join(await mkdtemp(join(tmpdir(), `cortex-local-${name}-`)), name);
  try {
    await cp(join(examples, name), dir, { recursive: true });
    await promisify(execFile)(testPython, [join(dir, 'make_model.py')], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    const server = await startServer(dir, [], { waitForApis: ['iris-classifier'], env: { TF_CPP_MIN_LOG_LEVEL: '3' } });
    try {
      const url = server.url + '/iris-classifier';
      const sample = await readFile(join(dir, 'sample.json'));
      const r = await request(url, { method: 'POST', body: sample, headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.json(), 'setosa');
      for (const [payload, label] of OTHER_SAMPLES) {
        const other = await request(url, { method: 'POST', body: JSON.stringify(payload) });
        assert.equal(await other.body.json(), label);
      }
      const status = (await (await request(url)).body.json()) as any;
      assert.deepEqual(status.model_signature, signature);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
}

test('examples/iris-onnx: make_model.py, serve, and the README curl line answers "setosa"', () =>
  serveExample('iris-onnx', { input: { shape: [1, 4], type: 'float32' } }));

test('examples/iris-tensorflow: make_model.py, serve, and the README curl line answers "setosa"', () =>
  serveExample(
    'iris-tensorflow',
    Object.fromEntries(['petal_length', 'petal_width', 'sepal_length', 'sepal_width'].map((f) => [f, { shape: [-1], type: 'float64' }])),
  ));
