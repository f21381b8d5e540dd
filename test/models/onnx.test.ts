// type: onnx end to end: a real ONNX model built at test time, served through
// unchanged Cortex 0.15-style ONNXPredictors by onnxruntime, answers checked
// against numpy's; a corrupt model and a missing onnxruntime fail only their API.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { assertClose, buildOnnxModel, type OnnxExpected } from '../helpers/models.ts';
import { BIN, eventually, startServer, type ServerProcess } from '../helpers/server.ts';

// Cortex 0.15's examples/xgboost/iris-classifier/predictor.py, unchanged.
const IRIS_PREDICTOR = `labels = ["setosa", "versicolor", "virginica"]


class ONNXPredictor:
    def __init__(self, onnx_client, config):
        self.client = onnx_client

    def predict(self, payload):
        model_input = [
            payload["sepal_length"],
            payload["sepal_width"],
            payload["petal_length"],
            payload["petal_width"],
        ]

        prediction = self.client.predict(model_input)
        predicted_class_id = prediction[0][0]
        return labels[predicted_class_id]
`;

const RAW_PREDICTOR = `class ONNXPredictor:
    def __init__(self, onnx_client, config):
        self.client = onnx_client

    def predict(self, payload):
        return self.client.predict(payload)
`;

const HELLO_PREDICTOR = `class PythonPredictor:
    def __init__(self, config):
        pass

    def predict(self, payload):
        return "hello"
`;

const LABELS = ['setosa', 'versicolor', 'virginica'];

let dir: string;
let expected: OnnxExpected;

/** The predictors, in the project folder: cortex.yaml's predictor.path may not leave it. */
async function predictorsInto(project: string): Promise<void> {
  await writeFile(join(project, 'iris_predictor.py'), IRIS_PREDICTOR);
  await writeFile(join(project, 'raw_predictor.py'), RAW_PREDICTOR);
  await writeFile(join(project, 'hello.py'), HELLO_PREDICTOR);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cortex-local-onnx-'));
  expected = await buildOnnxModel(join(dir, 'models'), 21);
  await writeFile(join(dir, 'corrupt.onnx'), 'this is not an ONNX protobuf');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function post(server: ServerProcess, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await request(server.url + path, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.statusCode, body: await r.body.json() };
}

async function getStatus(server: ServerProcess, path: string): Promise<any> {
  const r = await request(server.url + path);
  return r.body.json();
}

test('an ONNX model answers as numpy computes it, through Cortex 0.15 ONNXPredictors; a corrupt model fails only its API', async () => {
  const project = join(dir, 'served');
  await mkdir(project);
  await predictorsInto(project);
  await writeFile(
    join(project, 'cortex.yaml'),
    `- name: iris
  predictor: {type: onnx, path: iris_predictor.py, model: ../models/model.onnx}
- name: raw
  predictor: {type: onnx, path: raw_predictor.py, model: ../models/model.onnx}
  autoscaling: {threads_per_worker: 2}
- name: corrupt
  predictor: {type: onnx, path: raw_predictor.py, model: ../corrupt.onnx}
- name: hello
  predictor: {type: python, path: hello.py}
`,
  );
  const server = await startServer(project, [], { waitForApis: ['iris', 'raw', 'hello'] });
  try {
    for (const [i, x] of expected.inputs.entries()) {
      const [sepal_length, sepal_width, petal_length, petal_width] = x;
      const r = await post(server, '/iris', { sepal_length, sepal_width, petal_length, petal_width });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body, LABELS[expected.labels[i]], `input ${i}`);
    }

    // The whole batch under the input's name: session.run's outputs, in order (label, scores).
    const batch = await post(server, '/raw', { input: expected.inputs });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    assert.deepEqual(batch.body[0], expected.labels);
    assertClose(batch.body[1].flat(), expected.scores.flat(), 'scores');

    // One row as a bare list: reshaped to the model's [None, 4].
    const one = await post(server, '/raw', expected.inputs[2]);
    assert.deepEqual(one.body[0], [expected.labels[2]]);
    assertClose(one.body[1][0], expected.scores[2], 'scores of row 2');

    const wrongSize = await post(server, '/raw', [1, 2, 3]);
    assert.equal(wrongSize.status, 500);
    assert.match(wrongSize.body.error, /key "input": failed to convert to a numpy array of type float32 and shape \[None, 4\]: cannot reshape array of size 3/);
    const missing = await post(server, '/raw', { inputs: [[1, 2, 3, 4]] });
    assert.equal(missing.status, 500);
    assert.match(missing.body.error, /missing key "input"/);

    // GET <endpoint> shows the model's inputs as Cortex 0.15 did (onnxruntime's shape, numpy's type name).
    assert.deepEqual((await getStatus(server, '/raw')).model_signature, { input: { shape: [null, 4], type: 'float32' } });
    assert.equal((await getStatus(server, '/hello')).model_signature, undefined);
    const port = new URL(server.url).port;
    const { stdout } = await promisify(execFile)(BIN, ['get', 'raw', '--port', port]);
    assert.match(stdout, /model signature:\ninput +type +shape\ninput +float32 +\[null,4\]\n/);

    const corrupt = await eventually(async () => {
      const s = await getStatus(server, '/corrupt');
      return s.last_error ? s : undefined;
    }, 'the corrupt model to fail');
    assert.equal(corrupt.status, 'error');
    assert.match(corrupt.last_error, new RegExp(`ModelLoadError: cannot load the ONNX model ${join(dir, 'corrupt.onnx')}: .+`));
    assert.equal((await post(server, '/hello', {})).body, 'hello');
    assert.equal((await post(server, '/iris', { sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1 })).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('without onnxruntime in the interpreter, the onnx API fails with the fix and the others serve', async () => {
  const bare = join(dir, 'bare-venv');
  const made = spawnSync(process.env.CORTEX_LOCAL_PYTHON ?? 'python3', ['-m', 'venv', '--without-pip', bare]);
  assert.equal(made.status, 0, made.stderr?.toString());
  const project = join(dir, 'bare');
  await mkdir(project);
  await predictorsInto(project);
  await writeFile(
    join(project, 'cortex.yaml'),
    `- name: iris
  predictor: {type: onnx, path: iris_predictor.py, model: ../models/model.onnx}
- name: hello
  predictor: {type: python, path: hello.py}
`,
  );
  const python = join(bare, 'bin', 'python');
  const server = await startServer(project, ['--python', python], { waitForApis: ['hello'] });
  try {
    const iris = await eventually(async () => {
      const s = await getStatus(server, '/iris');
      return s.last_error ? s : undefined;
    }, 'the onnx API to fail');
    assert.equal(iris.status, 'error');
    assert.ok(
      iris.last_error.includes(`MissingFramework: type onnx needs onnxruntime in ${python}: pip install onnxruntime, or list it in requirements.txt`),
      iris.last_error,
    );
    const refused = await post(server, '/iris', { sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1 });
    assert.equal(refused.status, 503);
    assert.equal((await post(server, '/hello', {})).body, 'hello');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
