// predictor.model on S3, against a local S3-compatible server (moto, loopback,
// signatures checked): public objects unsigned, private ones signed with keys
// from the environment or a profile, downloaded once into the project's
// cache and reused, fetched again when S3 has a new object, used from the
// cache when S3 cannot be reached, verified against the ETag.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { assertClose, buildOnnxModel, buildTensorFlowModel, type OnnxExpected, type TensorFlowExpected } from '../helpers/models.ts';
import { startLocalS3, type LocalS3, type S3Request } from '../helpers/s3.ts';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const ONNX_PREDICTOR = `class ONNXPredictor:
    def __init__(self, onnx_client, config):
        self.client = onnx_client

    def predict(self, payload):
        return self.client.predict(payload)
`;

// Cortex 0.15's examples/tensorflow/iris-classifier/predictor.py, unchanged.
const TF_PREDICTOR = `labels = ["setosa", "versicolor", "virginica"]


class TensorFlowPredictor:
    def __init__(self, tensorflow_client, config):
        self.client = tensorflow_client

    def predict(self, payload):
        prediction = self.client.predict(payload)
        predicted_class_id = int(prediction["class_ids"][0])
        return labels[predicted_class_id]
`;

const LABELS = ['setosa', 'versicolor', 'virginica'];

let dir: string;
let home: string;
let s3: LocalS3;
let model21: OnnxExpected;
let model0: OnnxExpected;
let tf: TensorFlowExpected;

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cortex-local-s3-'));
  home = join(dir, 'home');
  await mkdir(home);
  model21 = await buildOnnxModel(join(dir, 'm21'), 21);
  model0 = await buildOnnxModel(join(dir, 'm0'), 0);
  await buildOnnxModel(join(dir, 'big'), 21, 9);
  tf = await buildTensorFlowModel(join(dir, 'tf'));
  const versions = join(dir, 'tf', 'versions');
  s3 = await startLocalS3(
    {
      buckets: { 'public-models': { public: true }, 'private-models': {} },
      objects: [
        { bucket: 'public-models', key: 'iris/model.onnx', file: join(dir, 'm21', 'model.onnx') },
        { bucket: 'private-models', key: 'iris/model.onnx', file: join(dir, 'm21', 'model.onnx') },
        { bucket: 'private-models', key: 'big/model.onnx', file: join(dir, 'big', 'model.onnx') },
        { bucket: 'private-models', key: 'corrupt/model.onnx', file: join(dir, 'm21', 'model.onnx') },
        { bucket: 'private-models', key: 'cut/model.onnx', file: join(dir, 'm21', 'model.onnx') },
        ...(await filesUnder(versions)).map((file) => ({ bucket: 'private-models', key: `tf/${relative(versions, file)}`, file })),
      ],
      corrupt: ['private-models/corrupt/model.onnx'],
      cut_once: ['private-models/cut/model.onnx'],
    },
    dir,
  );
});

after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The environment of a user with no AWS settings but the local endpoint, plus `extra`. */
function awsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const cleared = Object.fromEntries(
    ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_ENDPOINT_URL_S3'].map((k) => [k, undefined]),
  );
  return { ...cleared, HOME: home, AWS_ENDPOINT_URL: s3.endpoint, ...extra };
}

async function project(name: string, yaml: string): Promise<string> {
  const p = join(dir, name);
  await mkdir(p, { recursive: true });
  await writeFile(join(p, 'cortex.yaml'), yaml);
  // In the project folder: cortex.yaml's predictor.path may not leave it.
  await writeFile(join(p, 'onnx_predictor.py'), ONNX_PREDICTOR);
  await writeFile(join(p, 'tf_predictor.py'), TF_PREDICTOR);
  return p;
}

function onnxApi(name: string, model: string, autoscaling = ''): string {
  return `- name: ${name}\n  predictor: {type: onnx, path: onnx_predictor.py, model: "${model}"}\n${autoscaling ? `  autoscaling: ${autoscaling}\n` : ''}`;
}

async function predictScores(server: ServerProcess, api: string, expected: OnnxExpected): Promise<void> {
  const r = await request(`${server.url}/${api}`, { method: 'POST', body: JSON.stringify({ input: expected.inputs }) });
  const body = (await r.body.json()) as any;
  assert.equal(r.statusCode, 200, JSON.stringify(body));
  assert.deepEqual(body[0], expected.labels, `${api} labels`);
  assertClose(body[1].flat(), expected.scores.flat(), `${api} scores`);
}

async function failure(server: ServerProcess, api: string): Promise<string> {
  return eventually(async () => {
    const s = (await (await request(`${server.url}/${api}`)).body.json()) as any;
    return s.last_error ?? undefined;
  }, `API ${api} to fail`);
}

function gets(since: number, path: string): S3Request[] {
  return s3.requests.slice(since).filter((r) => r.method === 'GET' && r.path === path);
}

test('a public object downloads unsigned with no credentials; a private one fails with what to set', async () => {
  const p = await project('unsigned', onnxApi('public', 's3://public-models/iris/model.onnx') + onnxApi('private', 's3://private-models/iris/model.onnx'));
  const since = s3.requests.length;
  const server = await startServer(p, [], { waitForApis: ['public'], env: awsEnv() });
  try {
    await predictScores(server, 'public', model21);
    const downloads = gets(since, '/public-models/iris/model.onnx');
    assert.equal(downloads.length, 1);
    assert.deepEqual(downloads.map((r) => [r.signed, r.status]), [[false, 200]]);
    const why = await failure(server, 'private');
    assert.match(why, /ModelSourceError: cannot download the model: s3:\/\/private-models\/iris\/model\.onnx: HTTP 403 \(the request was unsigned because no AWS credentials were found: the object is not public; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE\)/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('signed with keys from the environment: fetched once by four workers starting at once, verified, only the highest SavedModel version; then reused, refetched when changed, used offline', async () => {
  const p = await project(
    'signed',
    onnxApi('private', 's3://private-models/iris/model.onnx', '{min_replicas: 2, workers_per_replica: 2}') +
      onnxApi('big', 's3://private-models/big/model.onnx') +
      onnxApi('corrupt', 's3://private-models/corrupt/model.onnx') +
      onnxApi('cut', 's3://private-models/cut/model.onnx') +
      '- name: tf\n  predictor: {type: tensorflow, path: tf_predictor.py, model: s3://private-models/tf}\n',
  );
  const env = awsEnv({ AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, TF_CPP_MIN_LOG_LEVEL: '3' });
  let since = s3.requests.length;
  let server = await startServer(p, [], { waitForApis: ['private', 'big', 'tf', 'cut'], env });
  try {
    await predictScores(server, 'private', model21);
    assert.equal(gets(since, '/private-models/iris/model.onnx').length, 1, 'four workers, one download');
    assert.ok(s3.requests.slice(since).every((r) => r.signed), 'every request signed');

    await predictScores(server, 'big', model21);
    for (const pct of [10, 50, 100]) {
      assert.match(server.output(), new RegExp(`\\[big/1/1\\] cortex-local: downloading s3://private-models/big/model\\.onnx: ${pct}% \\(`));
    }

    for (const [i, x] of tf.inputs.entries()) {
      const r = await request(`${server.url}/tf`, { method: 'POST', body: JSON.stringify({ x: [x] }) });
      assert.equal(await r.body.json(), LABELS[tf.class_ids[i]]);
    }
    const tfGets = s3.requests.slice(since).filter((r) => r.method === 'GET' && r.path.startsWith('/private-models/tf/'));
    assert.ok(tfGets.length > 0 && tfGets.every((r) => r.path.startsWith('/private-models/tf/2/')), JSON.stringify(tfGets));

    // A download cut short fails that start; the next start resumes it where it stopped, then verifies the whole.
    // The replica logs the worker's report once (issue 12): its summary is the error's message.
    assert.match(server.output(), /^\[cut\/1\] predictor failed to initialize; retrying in [\d.]+s:\n {4}ModelSourceError: the download of s3:\/\/private-models\/cut\/model\.onnx stopped after .* it resumes from there on the next start$/m);
    const cutGets = gets(since, '/private-models/cut/model.onnx');
    assert.equal(cutGets.length, 2, JSON.stringify(cutGets));
    assert.equal(cutGets[0].range, null);
    assert.match(cutGets[1].range ?? '', /^bytes=[1-9]\d*-$/);
    await predictScores(server, 'cut', model21);

    const corrupt = await failure(server, 'corrupt');
    assert.match(corrupt, /ModelSourceError: the download of s3:\/\/private-models\/corrupt\/model\.onnx is corrupt: its MD5 differs from the ETag S3 gave/);
  } finally {
    assert.equal(await server.stop(), 0);
  }

  // Next start: S3 is asked whether the object changed (HEAD), not for the object.
  await writeFile(join(p, 'cortex.yaml'), onnxApi('private', 's3://private-models/iris/model.onnx'));
  since = s3.requests.length;
  server = await startServer(p, [], { waitForApis: ['private'], env });
  try {
    await predictScores(server, 'private', model21);
    assert.equal(gets(since, '/private-models/iris/model.onnx').length, 0);
    assert.equal(s3.requests.slice(since).filter((r) => r.method === 'HEAD').length, 1);
    assert.match(server.output(), /cortex-local: using the copy of s3:\/\/private-models\/iris\/model\.onnx in .*\.cortex-local\/models\/[0-9a-f]{16} \(unchanged on S3\)/);
  } finally {
    assert.equal(await server.stop(), 0);
  }

  // A new object on S3 replaces the cached copy.
  await s3.put('private-models', 'iris/model.onnx', join(dir, 'm0', 'model.onnx'));
  since = s3.requests.length;
  server = await startServer(p, [], { waitForApis: ['private'], env });
  try {
    await predictScores(server, 'private', model0);
    assert.equal(gets(since, '/private-models/iris/model.onnx').length, 1);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const replaced = (await readdir(join(p, '.cortex-local', 'models'))).filter((e) => /\.old-\d+$/.test(e));
  assert.deepEqual(replaced, [], 'the replaced copy is removed');

  // S3 unreachable: the cached copy serves, and the log says so.
  await s3.stop();
  server = await startServer(p, [], { waitForApis: ['private'], env });
  try {
    await predictScores(server, 'private', model0);
    assert.match(server.output(), /cortex-local: cannot check s3:\/\/private-models\/iris\/model\.onnx for changes \(.*cannot reach http:\/\/127\.0\.0\.1:\d+.*\); using the copy downloaded \S+ in /);
  } finally {
    assert.equal(await server.stop(), 0);
    s3 = await restartS3();
  }
});

/** A fresh local S3 holding the private model again, for the tests after the offline one. */
async function restartS3(): Promise<LocalS3> {
  return startLocalS3(
    { buckets: { 'private-models': {} }, objects: [{ bucket: 'private-models', key: 'iris/model.onnx', file: join(dir, 'm21', 'model.onnx') }] },
    dir,
  );
}

test('keys from a profile in ~/.aws/credentials sign the requests; a wrong secret fails with S3\'s reason', async () => {
  await mkdir(join(home, '.aws'), { recursive: true });
  await writeFile(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[reader]\naws_access_key_id = ${s3.accessKey}\naws_secret_access_key = ${s3.secretKey}\n`);
  await writeFile(join(home, '.aws', 'config'), '[profile reader]\nregion = eu-west-1\n');
  try {
    const p = await project('profile', onnxApi('private', 's3://private-models/iris/model.onnx'));
    const since = s3.requests.length;
    let server = await startServer(p, [], { waitForApis: ['private'], env: awsEnv({ AWS_PROFILE: 'reader' }) });
    try {
      await predictScores(server, 'private', model21);
      assert.ok(s3.requests.slice(since).every((r) => r.signed));
      assert.match(server.output(), /signed with the keys of profile 'reader' in .*\.aws\/credentials/);
    } finally {
      assert.equal(await server.stop(), 0);
    }

    const q = await project('wrong-secret', onnxApi('private', 's3://private-models/iris/model.onnx'));
    server = await startServer(q, [], { env: awsEnv({ AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }) });
    try {
      const why = await failure(server, 'private');
      assert.match(why, /HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.* \(signed with the keys of the AWS_ACCESS_KEY_ID environment variable\)/);
      await assert.rejects(stat(join(q, '.cortex-local', 'models', 'nothing')));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  } finally {
    await rm(join(home, '.aws'), { recursive: true, force: true });
  }
});
