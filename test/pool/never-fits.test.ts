// What this machine can never run is said at start, naming the field and what the machine has (issue 12).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neverFits } from '../../src/pool/never-fits.ts';
import { makeApi } from '../helpers/api.ts';

const machine = { cpu: 2, mem: 8 * 2 ** 30, gpus: [] };

test('cpu, mem and gpu larger than the machine, each named', () => {
  const api = makeApi('big', '/p', { compute: { cpu: 4, mem: 64 * 2 ** 30, gpu: 1 } });
  assert.deepEqual(neverFits(api, machine), [
    'api big: compute.cpu 4 is more than the 2 CPU cores this machine has, so its replicas can never start (they stay pending)',
    'api big: compute.mem 64Gi is more than the 8Gi of memory this machine has for replicas, so its replicas can never start (they stay pending)',
    'api big: compute.gpu 1, but this machine has no GPU (nvidia-smi found none; see --gpus), so its replicas can never start (they stay pending)',
  ]);
  assert.match(neverFits(makeApi('g', '/p', { compute: { gpu: 3 } }), { ...machine, gpus: [{ index: 0 }, { index: 1 }] })[0], /^api g: compute\.gpu 3, but this machine has 2 GPUs, /);
});

test('what fits, even exactly, says nothing', () => {
  assert.deepEqual(neverFits(makeApi('ok', '/p', { compute: { cpu: 2, mem: 8 * 2 ** 30, gpu: 0 } }), machine), []);
  assert.deepEqual(neverFits(makeApi('ok', '/p'), machine), []);
});
