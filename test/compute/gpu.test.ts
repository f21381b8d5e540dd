// GPUs on a machine without any: a fake nvidia-smi on PATH is the seam; the
// workers are real processes that print the environment they got.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { ApiPool } from '../../src/pool/api-pool.ts';
import { ResourceLedger } from '../../src/pool/ledger.ts';
import { makeApi } from '../helpers/api.ts';
import { testPython } from '../helpers/python.ts';
import { eventually, startServer } from '../helpers/server.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const gpuDir = join(fixtures, 'gpu');

test('serve with 2 fake GPUs: disjoint CUDA_VISIBLE_DEVICES, the 3rd gpu:1 replica pending with its reason, CPU APIs see none', async () => {
  const server = await startServer(gpuDir, [], {
    waitForApis: ['gen', 'cpu-only'],
    env: { PATH: `${join(fixtures, 'fake-bin')}:${process.env.PATH}`, FAKE_GPU_COUNT: '2' },
  });
  try {
    assert.match(server.output(), /on http:\/\/127\.0\.0\.1:\d+ \(2 GPUs\)/);
    const status = await eventually(async () => {
      const s = (await (await request(server.url + '/gen')).body.json()) as any;
      return s.replicas.ready === 2 ? s : undefined;
    }, 'two gen replicas ready');
    assert.equal(status.replicas.pending, 1);
    const pending = status.detail.find((r: any) => r.state === 'pending');
    assert.equal(pending.reason, 'needs 1 GPU, 0 free of 2: held by gen replica 1, gen replica 2');
    const gpus = status.detail.filter((r: any) => r.state === 'ready').map((r: any) => r.gpus);
    assert.deepEqual(gpus.sort(), [[0], [1]]);
    await server.waitFor(/^\[gen\/3\] pending: needs 1 GPU, 0 free of 2/);

    const out = server.output();
    for (const replica of [1, 2]) {
      const cuda = String(replica - 1);
      for (const worker of [1, 2]) {
        assert.match(out, new RegExp(`^\\[gen/${replica}/${worker}\\] init-start \\S+ CUDA_VISIBLE_DEVICES='${cuda}' TF_FORCE_GPU_ALLOW_GROWTH='true'`, 'm'));
      }
      // Workers of a GPU replica start one after another.
      const start2 = Number(new RegExp(`^\\[gen/${replica}/2\\] init-start (\\S+)`, 'm').exec(out)![1]);
      const done1 = Number(new RegExp(`^\\[gen/${replica}/1\\] init-done (\\S+)`, 'm').exec(out)![1]);
      assert.ok(start2 >= done1, `replica ${replica}: worker 2 started at ${start2}, before worker 1 was ready at ${done1}`);
    }
    assert.match(out, /^\[cpu-only\/1\/1\] init-start \S+ CUDA_VISIBLE_DEVICES='' TF_FORCE_GPU_ALLOW_GROWTH=None OMP_NUM_THREADS='1'/m);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a replica pending for a GPU starts as soon as another API gives its GPU back', async () => {
  const ledger = new ResourceLedger({ cpu: 4, mem: 8 * 2 ** 30, gpus: [{ index: 0 }, { index: 1 }] });
  const lines: string[] = [];
  const opts = { projectDir: gpuDir, python: testPython, ledger, log: (l: string) => lines.push(l), output: () => {} };
  const hog = new ApiPool({ ...opts, api: makeApi('hog', gpuDir, { path: 'env_report.py', config: { init_seconds: 0 }, compute: { gpu: 1 } }) });
  const gen = new ApiPool({ ...opts, api: makeApi('gen', gpuDir, { path: 'env_report.py', config: { init_seconds: 0 }, compute: { gpu: 1 }, autoscaling: { min_replicas: 2 } }) });
  try {
    hog.start();
    gen.start();
    await eventually(() => (gen.readyReplicas === 1 && hog.readyReplicas === 1 ? true : undefined), 'one replica each');
    const pending = gen.status().detail.find((r) => r.state === 'pending');
    assert.equal(pending?.reason, 'needs 1 GPU, 0 free of 2: held by hog replica 1, gen replica 1');
    await hog.stop();
    await eventually(() => (gen.readyReplicas === 2 ? true : undefined), 'the pending gen replica to start');
    assert.deepEqual(gen.status().detail.map((r) => r.gpus).sort(), [[0], [1]]);
    assert.ok(lines.includes('[gen/2] pending: needs 1 GPU, 0 free of 2: held by hog replica 1, gen replica 1'));
  } finally {
    await Promise.all([hog.stop(), gen.stop()]);
  }
});
