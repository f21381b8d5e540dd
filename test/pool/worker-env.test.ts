import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResolvedApi } from '../../src/config/types.ts';
import { workerEnv } from '../../src/pool/worker-env.ts';

function api(cpu: number, workers: number, env: Record<string, string> = {}): ResolvedApi {
  return {
    predictor: { env },
    compute: { cpu, gpu: 0, mem: null },
    autoscaling: { workers_per_replica: workers },
  } as unknown as ResolvedApi;
}

test('a CPU replica gets an empty CUDA_VISIBLE_DEVICES and no TF guard', () => {
  const env = workerEnv({ PATH: '/bin' }, api(1, 1), []);
  assert.equal(env.CUDA_VISIBLE_DEVICES, '');
  assert.equal(env.TF_FORCE_GPU_ALLOW_GROWTH, undefined);
  assert.equal(env.PATH, '/bin');
});

test('a GPU replica sees only its GPUs, with TensorFlow memory growth on', () => {
  const env = workerEnv({}, api(1, 1), [{ index: 2 }, { index: 3 }]);
  assert.equal(env.CUDA_VISIBLE_DEVICES, '2,3');
  assert.equal(env.TF_FORCE_GPU_ALLOW_GROWTH, 'true');
});

test('BLAS/OpenMP threads follow the CPU share per worker unless the user set them', () => {
  const env = workerEnv({ MKL_NUM_THREADS: '7' }, api(4, 2, { OPENBLAS_NUM_THREADS: '3' }), []);
  assert.equal(env.OMP_NUM_THREADS, '2');
  assert.equal(env.MKL_NUM_THREADS, '7');
  assert.equal(env.OPENBLAS_NUM_THREADS, '3');
  assert.equal(workerEnv({}, api(0.2, 1), []).OMP_NUM_THREADS, '1');
});

test('predictor.env overrides the server environment', () => {
  assert.equal(workerEnv({ MODEL: 'a' }, api(1, 1, { MODEL: 'b' }), []).MODEL, 'b');
});
