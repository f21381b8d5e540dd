import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planReplicas, replicaCapacity } from '../../src/pool/plan.ts';
import type { ReplicaState } from '../../src/pool/replica.ts';

const r = (id: number, state: ReplicaState) => ({ id, state });

test('scale-up adds pending replicas for the missing count; draining and stopped ones do not count', () => {
  assert.deepEqual(planReplicas([r(1, 'ready'), r(2, 'draining'), r(3, 'stopped')], 1, 4), { dropPending: 0, addPending: 2, drain: [] });
  assert.deepEqual(planReplicas([], 0, 3), { dropPending: 0, addPending: 3, drain: [] });
});

test('at the desired count nothing changes', () => {
  assert.deepEqual(planReplicas([r(1, 'ready'), r(2, 'starting')], 1, 3), { dropPending: 0, addPending: 0, drain: [] });
});

test('scale-down order: pending first, then failed, then starting, then ready, the newest of each first', () => {
  const replicas = [r(1, 'ready'), r(2, 'starting'), r(3, 'ready'), r(4, 'failed'), r(5, 'starting'), r(6, 'ready'), r(7, 'draining')];
  assert.deepEqual(planReplicas(replicas, 2, 7), { dropPending: 1, addPending: 0, drain: [] });
  assert.deepEqual(planReplicas(replicas, 2, 6), { dropPending: 2, addPending: 0, drain: [] });
  assert.deepEqual(planReplicas(replicas, 2, 5), { dropPending: 2, addPending: 0, drain: [4] });
  assert.deepEqual(planReplicas(replicas, 2, 3), { dropPending: 2, addPending: 0, drain: [4, 5, 2] });
  assert.deepEqual(planReplicas(replicas, 2, 1), { dropPending: 2, addPending: 0, drain: [4, 5, 2, 6, 3] });
  assert.deepEqual(planReplicas(replicas, 2, 0), { dropPending: 2, addPending: 0, drain: [4, 5, 2, 6, 3, 1] });
});

test('a replica with a worker restarting admits its live workers\' share of max_replica_concurrency, rounded up', () => {
  assert.equal(replicaCapacity(8, 2, 2), 8);
  assert.equal(replicaCapacity(8, 1, 2), 4);
  assert.equal(replicaCapacity(5, 1, 2), 3);
  assert.equal(replicaCapacity(1, 1, 2), 1, 'a replica that serves at all admits one');
  assert.equal(replicaCapacity(6, 2, 3), 4);
  assert.equal(replicaCapacity(6, 0, 3), 0);
});
