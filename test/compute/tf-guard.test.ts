// CORTEX_LOCAL_TF_MEMORY_LIMIT_MB: the runtime limits TensorFlow's GPU memory
// before the predictor is imported. A stand-in tensorflow package records the calls.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { joined } from '../../src/bytes.ts';
import { ApiPool } from '../../src/pool/api-pool.ts';
import { ResourceLedger } from '../../src/pool/ledger.ts';
import { makeApi } from '../helpers/api.ts';
import { testPython } from '../helpers/python.ts';
import { eventually } from '../helpers/server.ts';

const dir = join(import.meta.dirname, '..', 'fixtures', 'tf-guard');

function predictOnce(pool: ApiPool): Promise<unknown> {
  return new Promise((resolve, reject) => {
    assert.ok(pool.tryAdmit());
    pool.dispatch({
      body: Buffer.from('{}'),
      queuedAt: performance.now(),
      reply: (r) => (r.kind === 'prediction' ? resolve(JSON.parse(joined(r.body).toString())) : reject(new Error(JSON.stringify(r)))),
    });
  });
}

test('a GPU replica with a memory limit gets set_virtual_device_configuration instead of memory growth', async () => {
  const ledger = new ResourceLedger({ cpu: 2, mem: 2 ** 32, gpus: [{ index: 0 }] });
  const pool = new ApiPool({
    api: makeApi('tf', dir, { compute: { gpu: 1 }, env: { CORTEX_LOCAL_TF_MEMORY_LIMIT_MB: '1024' } }),
    projectDir: dir,
    python: testPython,
    ledger,
  });
  pool.start();
  try {
    await eventually(() => (pool.readyReplicas === 1 ? true : undefined), 'the replica to be ready', 20_000, () => JSON.stringify(pool.status()));
    assert.deepEqual(await predictOnce(pool), {
      tensorflow_imported_before_predictor: true,
      calls: [['/physical_device:GPU:0', [1024]]],
      allow_growth: null,
    });
  } finally {
    await pool.stop();
  }
});

test('without a limit, a GPU replica keeps memory growth and tensorflow is not imported for it', async () => {
  const ledger = new ResourceLedger({ cpu: 2, mem: 2 ** 32, gpus: [{ index: 0 }] });
  const pool = new ApiPool({ api: makeApi('tf', dir, { compute: { gpu: 1 } }), projectDir: dir, python: testPython, ledger });
  pool.start();
  try {
    await eventually(() => (pool.readyReplicas === 1 ? true : undefined), 'the replica to be ready', 20_000, () => JSON.stringify(pool.status()));
    assert.deepEqual(await predictOnce(pool), { tensorflow_imported_before_predictor: false, calls: null, allow_growth: 'true' });
  } finally {
    await pool.stop();
  }
});
