import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResourceLedger } from '../../src/pool/ledger.ts';

const gpus = [{ index: 0 }, { index: 1 }];

test('whole GPUs go to one replica each; the third waits with a reason naming the holders', () => {
  const l = new ResourceLedger({ cpu: 8, mem: 16 * 2 ** 30, gpus });
  const a = l.tryReserve('gen replica 1', { cpu: 1, mem: null, gpu: 1 });
  const b = l.tryReserve('gen replica 2', { cpu: 1, mem: null, gpu: 1 });
  assert.ok(a.ok && b.ok);
  assert.deepEqual([a.reservation.gpus, b.reservation.gpus], [[{ index: 0 }], [{ index: 1 }]]);
  const c = l.tryReserve('gen replica 3', { cpu: 1, mem: null, gpu: 1 });
  assert.equal(c.ok, false);
  assert.equal(!c.ok && c.reason, 'needs 1 GPU, 0 free of 2: held by gen replica 1, gen replica 2');
  let released = 0;
  l.on('released', () => released++);
  l.release('gen replica 1');
  assert.equal(released, 1);
  const d = l.tryReserve('gen replica 3', { cpu: 1, mem: null, gpu: 1 });
  assert.ok(d.ok);
  assert.deepEqual(d.reservation.gpus, [{ index: 0 }]);
});

test('cpu and memory requests are counted against capacity', () => {
  const l = new ResourceLedger({ cpu: 0.5, mem: 1024 ** 3, gpus: [] });
  assert.ok(l.tryReserve('a replica 1', { cpu: 0.2, mem: 512 * 1024 ** 2, gpu: 0 }).ok);
  assert.ok(l.tryReserve('a replica 2', { cpu: 0.3, mem: null, gpu: 0 }).ok, '0.2 + 0.3 fits in 0.5 despite float rounding');
  const cpu = l.tryReserve('a replica 3', { cpu: 0.2, mem: null, gpu: 0 });
  assert.equal(!cpu.ok && cpu.reason, 'needs 200m cpu, 0 free of 500m: held by a replica 1, a replica 2');
  l.release('a replica 2');
  const mem = l.tryReserve('b replica 1', { cpu: 0.1, mem: 600 * 1024 ** 2, gpu: 0 });
  assert.equal(!mem.ok && mem.reason, 'needs 600Mi memory, 512Mi free: held by a replica 1');
});

test('a machine without GPUs says so', () => {
  const l = new ResourceLedger({ cpu: 2, mem: 2 ** 30, gpus: [] });
  const r = l.tryReserve('x replica 1', { cpu: 0.2, mem: null, gpu: 1 });
  assert.match(!r.ok ? r.reason : '', /this machine has none/);
});

test('room: how many more replicas of a request fit now, the scarcest resource deciding', () => {
  const l = new ResourceLedger({ cpu: 2, mem: 4 * 2 ** 30, gpus });
  assert.equal(l.room({ cpu: 0.2, mem: null, gpu: 0 }), 10, '0.2 cores ten times in 2, float error aside');
  assert.equal(l.room({ cpu: 0.5, mem: 2 ** 30, gpu: 1 }), 2, 'two GPUs');
  assert.equal(l.room({ cpu: 0.5, mem: 3 * 2 ** 30, gpu: 0 }), 1, 'memory');
  assert.ok(l.tryReserve('gen replica 1', { cpu: 0.5, mem: 2 ** 30, gpu: 1 }).ok);
  assert.equal(l.room({ cpu: 0.5, mem: 2 ** 30, gpu: 1 }), 1);
  assert.ok(l.tryReserve('gen replica 2', { cpu: 0.5, mem: 2 ** 30, gpu: 1 }).ok);
  assert.equal(l.room({ cpu: 0.5, mem: 2 ** 30, gpu: 1 }), 0, 'no GPU left');
  assert.equal(l.room({ cpu: 0.5, mem: null, gpu: 0 }), 2);
});
