import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGpuList, parseNvidiaSmi } from '../../src/pool/gpus.ts';

test('nvidia-smi csv lines become GPUs', () => {
  const out = '0, GPU-aaa, NVIDIA H100 80GB HBM3, 81559\n1, GPU-bbb, NVIDIA H100 80GB HBM3, 81559\n';
  assert.deepEqual(parseNvidiaSmi(out), [
    { index: 0, uuid: 'GPU-aaa', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 },
    { index: 1, uuid: 'GPU-bbb', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 },
  ]);
});

test('--gpus takes a comma list, or none', () => {
  assert.deepEqual(parseGpuList('0,2'), [{ index: 0 }, { index: 2 }]);
  assert.deepEqual(parseGpuList(''), []);
  assert.deepEqual(parseGpuList('none'), []);
  assert.throws(() => parseGpuList('0,x'), /invalid GPU index "x"/);
});
