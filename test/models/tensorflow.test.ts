// type: tensorflow end to end: a real SavedModel (tf.Module, two signatures)
// built at test time and loaded in the worker by tensorflow; answers checked
// against the model called directly; signature_key chosen as Cortex 0.15 did.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { assertClose, buildTensorFlowModel, type TensorFlowExpected } from '../helpers/models.ts';
import { testPython } from '../helpers/python.ts';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

// Cortex 0.15's examples/tensorflow/iris-classifier/predictor.py, unchanged.
const IRIS_PREDICTOR = `labels = ["setosa", "versicolor", "virginica"]


class TensorFlowPredictor:
    def __init__(self, tensorflow_client, config):
        self.client = tensorflow_client

    def predict(self, payload):
        prediction = self.client.predict(payload)
        predicted_class_id = int(prediction["class_ids"][0])
        return labels[predicted_class_id]
`;

const RAW_PREDICTOR = `class TensorFlowPredictor:
    def __init__(self, tensorflow_client, config):
        self.client = tensorflow_client

    def predict(self, payload):
        return self.client.predict(payload)
`;

const LABELS = ['setosa', 'versicolor', 'virginica'];

let dir: string;
let expected: TensorFlowExpected;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cortex-local-tf-'));
  expected = await buildTensorFlowModel(join(dir, 'tf'));
  // A zipped SavedModel, as Cortex 0.15 accepted one: saved_model.pb at the zip's top.
  await promisify(execFile)(testPython, ['-c', 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])', join(dir, 'model'), join(dir, 'tf', 'model')]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function post(server: ServerProcess, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await request(server.url + path, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.statusCode, body: await r.body.json() };
}

async function getStatus(server: ServerProcess, path: string): Promise<any> {
  return (await request(server.url + path)).body.json();
}

test('a SavedModel answers as the model itself does, with and without signature_key; a key it lacks fails only its API', async () => {
  const project = join(dir, 'served');
  await mkdir(project);
  // In the project folder: cortex.yaml's predictor.path may not leave it.
  await writeFile(join(project, 'iris_predictor.py'), IRIS_PREDICTOR);
  await writeFile(join(project, 'raw_predictor.py'), RAW_PREDICTOR);
  await writeFile(
    join(project, 'cortex.yaml'),
    `- name: iris
  predictor: {type: tensorflow, path: iris_predictor.py, model: ../tf/model}
- name: sum
  predictor: {type: tensorflow, path: raw_predictor.py, model: ../tf/model, signature_key: sum}
- name: zipped
  predictor: {type: tensorflow, path: raw_predictor.py, model: ../model.zip, signature_key: predict}
- name: versions
  predictor: {type: tensorflow, path: raw_predictor.py, model: ../tf/versions}
- name: wrong-key
  predictor: {type: tensorflow, path: raw_predictor.py, model: ../tf/model, signature_key: serving_default}
`,
  );
  const server = await startServer(project, [], { waitForApis: ['iris', 'sum', 'zipped', 'versions'], env: { TF_CPP_MIN_LOG_LEVEL: '3' } });
  try {
    // No signature_key and two signatures: Cortex's rule picks the one named "predict".
    assert.match(server.output(), /\[iris\/1\/1\] cortex-local: signature_key was not configured; using signature 'predict' \(the model's signatures: 'predict', 'sum'\)/);
    for (const [i, x] of expected.inputs.entries()) {
      const r = await post(server, '/iris', { x: [x] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body, LABELS[expected.class_ids[i]], `input ${i}`);
    }

    // Outputs as Cortex's client returned them: one flat list per output, int64 as strings.
    for (const api of ['/zipped', '/versions']) {
      const batch = await post(server, api, { x: expected.inputs });
      assert.equal(batch.status, 200, JSON.stringify(batch.body));
      assert.deepEqual(batch.body.class_ids, expected.class_ids.map(String), api);
      assertClose(batch.body.scores, expected.scores, `${api} scores`);
    }
    // One row where the signature wants [-1, 4]: reshaped, as TF Serving fed it.
    const one = await post(server, '/zipped', { x: expected.inputs[1] });
    assert.deepEqual(one.body.class_ids, [String(expected.class_ids[1])]);

    const sum = await post(server, '/sum', { a: expected.sum.a, k: expected.sum.k });
    assert.equal(sum.status, 200, JSON.stringify(sum.body));
    assert.deepEqual(sum.body, { total: [expected.sum.total] });
    assert.deepEqual((await getStatus(server, '/sum')).model_signature, {
      a: { shape: [-1], type: 'float64' },
      k: { shape: ['scalar'], type: 'int32' },
    });
    assert.deepEqual((await getStatus(server, '/iris')).model_signature, { x: { shape: [-1, 4], type: 'float32' } });

    const missing = await post(server, '/sum', { a: [1] });
    assert.equal(missing.status, 500);
    assert.match(missing.body.error, /missing key "k"/);
    const extra = await post(server, '/sum', { a: [1], k: 1, b: 2 });
    assert.equal(extra.status, 500);
    assert.match(extra.body.error, /key "b" is not an input of signature 'sum' \(its inputs: 'a', 'k'\)/);
    const wrongType = await post(server, '/sum', { a: ['x'], k: 1 });
    assert.equal(wrongType.status, 500);
    assert.match(wrongType.body.error, /key "a": expected float64 values/);

    const wrongKey = await eventually(async () => {
      const s = await getStatus(server, '/wrong-key');
      return s.last_error ? s : undefined;
    }, 'the API with a signature_key the model lacks to fail');
    assert.equal(wrongKey.status, 'error');
    assert.match(wrongKey.last_error, /ModelLoadError: signature_key 'serving_default' was not found in the model; its signatures: 'predict', 'sum'/);

    // The zip was extracted into the project's model cache, which git ignores.
    const cache = join(project, '.cortex-local', 'models');
    assert.ok((await readdir(cache)).some((e) => /^[0-9a-f]{16}$/.test(e)));
    assert.match(await readFile(join(project, '.cortex-local', '.gitignore'), 'utf8'), /^\*$/m);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
