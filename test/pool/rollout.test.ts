// The rolling-update plan: Kubernetes' rounding of max_surge and
// max_unavailable, and, driven through whole rollouts on a model of the pool
// (replicas becoming ready in any order, drains ending, a ledger with room
// for a number of replicas), the bounds it keeps at every step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaState } from '../../src/pool/replica.ts';
import { isRolling, planRollout, resolveStrategy, type RolloutInput, type UpdateStrategy } from '../../src/pool/rollout.ts';

test('max_surge rounds up and max_unavailable down, as Kubernetes resolves them', () => {
  assert.deepEqual(resolveStrategy({ max_surge: '25%', max_unavailable: '25%' }, 1), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(resolveStrategy({ max_surge: '25%', max_unavailable: '25%' }, 4), { maxSurge: 1, maxUnavailable: 1 });
  assert.deepEqual(resolveStrategy({ max_surge: '25%', max_unavailable: '25%' }, 5), { maxSurge: 2, maxUnavailable: 1 });
  assert.deepEqual(resolveStrategy({ max_surge: '10%', max_unavailable: '30%' }, 15), { maxSurge: 2, maxUnavailable: 4 });
  assert.deepEqual(resolveStrategy({ max_surge: 0, max_unavailable: 1 }, 3), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(resolveStrategy({ max_surge: 1, max_unavailable: 0 }, 3), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(resolveStrategy({ max_surge: '2', max_unavailable: '+1' }, 10), { maxSurge: 2, maxUnavailable: 1 }, 'an int written as a string is a count (intstr.Parse)');
  assert.deepEqual(resolveStrategy({ max_surge: '100%', max_unavailable: '0%' }, 3), { maxSurge: 3, maxUnavailable: 0 });
});

test('both rounding to zero makes max_unavailable 1; max_unavailable is capped at the desired count', () => {
  assert.deepEqual(resolveStrategy({ max_surge: 0, max_unavailable: '25%' }, 3), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(resolveStrategy({ max_surge: '0%', max_unavailable: '10%' }, 2), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(resolveStrategy({ max_surge: 0, max_unavailable: 5 }, 2), { maxSurge: 0, maxUnavailable: 2 });
});

const v = (id: number, state: ReplicaState) => ({ id, state });
const base = (over: Partial<RolloutInput>): RolloutInput => ({
  desired: 1,
  strategy: { max_surge: '25%', max_unavailable: '25%' },
  current: [],
  currentPending: 0,
  old: [],
  oldPending: 0,
  room: 100,
  currentFailing: false,
  ...over,
});

test('without older versions the plan is the scaling plan', () => {
  assert.equal(isRolling(base({})), false);
  assert.deepEqual(planRollout(base({ desired: 3, current: [v(1, 'ready')] })), { dropOldPending: 0, dropPending: 0, addPending: 2, drain: [] });
  assert.deepEqual(planRollout(base({ desired: 1, current: [v(1, 'ready'), v(2, 'ready')] })), { dropOldPending: 0, dropPending: 0, addPending: 0, drain: [2] });
});

test('the first step of a default rollout of one replica: one new replica, the old one kept until it is ready', () => {
  const step = planRollout(base({ old: [{ ...v(1, 'ready'), generation: 1 }] }));
  assert.deepEqual(step, { dropOldPending: 0, dropPending: 0, addPending: 1, drain: [] });
  const next = planRollout(base({ old: [{ ...v(1, 'ready'), generation: 1 }], current: [v(2, 'starting')] }));
  assert.deepEqual(next, { dropOldPending: 0, dropPending: 0, addPending: 0, drain: [] });
  const done = planRollout(base({ old: [{ ...v(1, 'ready'), generation: 1 }], current: [v(2, 'ready')] }));
  assert.deepEqual(done, { dropOldPending: 0, dropPending: 0, addPending: 0, drain: [1] });
});

test('old replicas of which none is ready are replaced at once, as Cortex recreated a deployment that never became ready', () => {
  const step = planRollout(base({ desired: 2, old: [{ ...v(1, 'failed'), generation: 1 }, { ...v(2, 'starting'), generation: 1 }], oldPending: 1 }));
  assert.deepEqual(step, { dropOldPending: 1, dropPending: 0, addPending: 1, drain: [2, 1] }, 'the draining ones still count against max_surge');
});

test('unhealthy old replicas go before ready ones, oldest version first', () => {
  const old = [
    { ...v(1, 'ready'), generation: 1 },
    { ...v(2, 'ready'), generation: 2 },
    { ...v(3, 'failed'), generation: 2 },
    { ...v(4, 'ready'), generation: 1 },
  ];
  const step = planRollout(base({ desired: 4, strategy: { max_surge: 0, max_unavailable: 2 }, old }));
  assert.deepEqual(step.drain, [3, 4], 'the failed one, then the newest replica of the oldest version');
});

test('a new version that fails __init__ stops the rollout: old replicas are drained no further than max_unavailable allows', () => {
  const old = [{ ...v(1, 'ready'), generation: 1 }, { ...v(2, 'ready'), generation: 1 }];
  const surge = planRollout(base({ desired: 2, strategy: { max_surge: 1, max_unavailable: 0 }, old, current: [v(3, 'failed')], currentFailing: true }));
  assert.deepEqual(surge, { dropOldPending: 0, dropPending: 0, addPending: 0, drain: [] });
  const unavailable = planRollout(base({ desired: 2, strategy: { max_surge: 0, max_unavailable: 1 }, old: [old[0]], current: [v(3, 'failed')], currentFailing: true }));
  assert.deepEqual(unavailable, { dropOldPending: 0, dropPending: 0, addPending: 0, drain: [] });
  const noRoom = planRollout(base({ desired: 2, strategy: { max_surge: 1, max_unavailable: 0 }, old, currentPending: 1, room: 0, currentFailing: true }));
  assert.deepEqual(noRoom.drain, [], 'no old replica makes room for a version that cannot start');
});

test('the autoscaler\'s count applies to the new version during a rollout', () => {
  const old = [{ ...v(1, 'ready'), generation: 1 }, { ...v(2, 'ready'), generation: 1 }];
  const up = planRollout(base({ desired: 6, strategy: { max_surge: 1, max_unavailable: 0 }, old, current: [v(3, 'ready')] }));
  assert.deepEqual(up, { dropOldPending: 0, dropPending: 0, addPending: 4, drain: [] }, 'new replicas up to 6 + 1 − 3; no old one drains while fewer than 6 − 0 are ready');
  const down = planRollout(base({ desired: 2, strategy: { max_surge: 1, max_unavailable: 0 }, old, current: [v(3, 'ready')] }));
  assert.deepEqual(down, { dropOldPending: 0, dropPending: 0, addPending: 0, drain: [2] }, 'at 2, one of the 3 ready is spare');
});

test('scaling down during a rollout trims the new version first, then old replicas drain as availability allows', () => {
  const old = [{ ...v(1, 'ready'), generation: 1 }, { ...v(2, 'ready'), generation: 1 }, { ...v(3, 'ready'), generation: 1 }];
  const step = planRollout(base({ desired: 1, strategy: { max_surge: 1, max_unavailable: 0 }, old, current: [v(4, 'ready'), v(5, 'starting')], currentPending: 1 }));
  assert.deepEqual(step, { dropOldPending: 0, dropPending: 1, addPending: 0, drain: [5, 3, 2, 1] });
});

test('with no compute to spare a rollout replaces one replica at a time, waiting for each new one to be ready', () => {
  const old = [{ ...v(1, 'ready'), generation: 1 }, { ...v(2, 'ready'), generation: 1 }];
  const strategy = { max_surge: 1, max_unavailable: 0 };
  const blocked = planRollout(base({ desired: 2, strategy, old, room: 0 }));
  assert.deepEqual(blocked, { dropOldPending: 0, dropPending: 0, addPending: 1, drain: [2] });
  const waiting = planRollout(base({ desired: 2, strategy, old: [old[0], { ...v(2, 'draining'), generation: 1 }], currentPending: 1, room: 0 }));
  assert.deepEqual(waiting.drain, [], 'while one drains, no other');
  const starting = planRollout(base({ desired: 2, strategy, old: [old[0]], current: [v(3, 'starting')], currentPending: 1, room: 0 }));
  assert.deepEqual(starting.drain, [], 'while the new one starts, no other');
  const next = planRollout(base({ desired: 2, strategy, old: [old[0]], current: [v(3, 'ready')], currentPending: 1, room: 0 }));
  assert.deepEqual(next.drain, [1]);
});

// A model of the pool for whole rollouts: the plan applied, pending replicas
// placed while the ledger has room, then one event at a time (a starting
// replica becomes ready, or a draining one stops), chosen by a seeded random.
interface ModelReplica {
  id: number;
  generation: number;
  state: ReplicaState;
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function rollout(opts: { desired: number; strategy: UpdateStrategy; capacity: number; seed: number; onStep: (replicas: ModelReplica[], pending: number) => void; autoscale?: (step: number) => number | undefined }) {
  const rand = random(opts.seed);
  let nextId = 1;
  let desired = opts.desired;
  let replicas: ModelReplica[] = [];
  let pending = 0;
  const place = (generation: number) => {
    while (pending > 0 && replicas.filter((r) => r.state !== 'stopped').length < opts.capacity) {
      pending--;
      replicas.push({ id: nextId++, generation, state: 'starting' });
    }
  };
  // Version 1 running: `desired` replicas ready (as many as fit).
  for (let i = 0; i < Math.min(desired, opts.capacity); i++) replicas.push({ id: nextId++, generation: 1, state: 'ready' });
  const generation = 2;
  for (let step = 0; step < 10_000; step++) {
    desired = opts.autoscale?.(step) ?? desired;
    const live = replicas.filter((r) => r.state !== 'stopped');
    const input: RolloutInput = {
      desired,
      strategy: opts.strategy,
      current: live.filter((r) => r.generation === generation),
      currentPending: pending,
      old: live.filter((r) => r.generation !== generation),
      oldPending: 0,
      room: opts.capacity - live.length,
      currentFailing: false,
    };
    const plan = planRollout(input);
    pending += plan.addPending - plan.dropPending;
    for (const id of plan.drain) replicas.find((r) => r.id === id)!.state = 'draining';
    place(generation);
    replicas = replicas.filter((r) => r.state !== 'stopped');
    opts.onStep(replicas, pending);
    const movable = replicas.filter((r) => r.state === 'starting' || r.state === 'draining');
    if (movable.length === 0) {
      if (plan.drain.length === 0 && plan.addPending === 0) return { replicas, pending, steps: step };
      continue;
    }
    const r = movable[Math.floor(rand() * movable.length)];
    r.state = r.state === 'starting' ? 'ready' : 'stopped';
  }
  throw new Error('the rollout did not end');
}

const strategies: UpdateStrategy[] = [
  { max_surge: 0, max_unavailable: 1 },
  { max_surge: 1, max_unavailable: 0 },
  { max_surge: '25%', max_unavailable: '25%' },
  { max_surge: 2, max_unavailable: 1 },
  { max_surge: '50%', max_unavailable: 0 },
  { max_surge: 0, max_unavailable: '50%' },
];

test('whole rollouts keep every replica count within desired + max_surge and every ready count at desired − max_unavailable or more, then end on the new version alone', () => {
  for (const strategy of strategies) {
    for (const desired of [1, 2, 3, 5]) {
      for (let seed = 1; seed <= 20; seed++) {
        const { maxSurge, maxUnavailable } = resolveStrategy(strategy, desired);
        const where = `${JSON.stringify(strategy)}, desired ${desired}, seed ${seed}`;
        const end = rollout({
          desired,
          strategy,
          capacity: 1000,
          seed,
          onStep: (replicas, pending) => {
            assert.ok(replicas.length + pending <= desired + maxSurge, `${where}: ${replicas.length} replicas + ${pending} pending > ${desired} + ${maxSurge}`);
            const ready = replicas.filter((r) => r.state === 'ready').length;
            assert.ok(ready >= desired - maxUnavailable, `${where}: ${ready} ready < ${desired} − ${maxUnavailable}`);
          },
        });
        assert.deepEqual(end.replicas.map((r) => `${r.generation}:${r.state}`), Array(desired).fill('2:ready'), where);
        assert.equal(end.pending, 0, where);
      }
    }
  }
});

test('a rollout with no compute to spare swaps one replica at a time: never more replicas than fit, never more than one fewer ready', () => {
  for (const strategy of strategies) {
    for (const [desired, capacity] of [[2, 2], [3, 3], [3, 2], [1, 1]]) {
      for (let seed = 1; seed <= 20; seed++) {
        const where = `${JSON.stringify(strategy)}, desired ${desired}, room for ${capacity}, seed ${seed}`;
        const { maxUnavailable } = resolveStrategy(strategy, desired);
        const end = rollout({
          desired,
          strategy,
          capacity,
          seed,
          onStep: (replicas) => {
            assert.ok(replicas.length <= capacity, `${where}: ${replicas.length} placed`);
            const ready = replicas.filter((r) => r.state === 'ready').length;
            assert.ok(ready >= Math.min(desired, capacity) - Math.max(1, maxUnavailable), `${where}: ${ready} ready`);
          },
        });
        assert.deepEqual(end.replicas.map((r) => `${r.generation}:${r.state}`), Array(Math.min(desired, capacity)).fill('2:ready'), where);
      }
    }
  }
});

test('the autoscaler raising or lowering the count mid-rollout: the new version ends at the last count', () => {
  for (const strategy of strategies) {
    for (let seed = 1; seed <= 20; seed++) {
      const where = `${JSON.stringify(strategy)}, seed ${seed}`;
      const up = rollout({ desired: 2, strategy, capacity: 1000, seed, onStep: () => {}, autoscale: (step) => (step === 3 ? 5 : undefined) });
      assert.deepEqual(up.replicas.map((r) => `${r.generation}:${r.state}`), Array(5).fill('2:ready'), where);
      const down = rollout({ desired: 4, strategy, capacity: 1000, seed, onStep: () => {}, autoscale: (step) => (step === 2 ? 1 : undefined) });
      assert.deepEqual(down.replicas.map((r) => `${r.generation}:${r.state}`), ['2:ready'], where);
    }
  }
});
