// The recommender against ../shared/spec/autoscaler.md §2 and §6: every rule,
// every boundary, and the worked examples with their exact replica counts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Recommender } from '../../src/autoscale/recommender.ts';
import { replay } from '../../src/autoscale/replay.ts';
import { autoscaling } from '../helpers/api.ts';

const s = (seconds: number) => seconds * 1000;
/** No stabilization at all, and the first periods long over: only §2's clamps act. */
const bare = (overrides = {}) => new Recommender(autoscaling({ downscale_stabilization_period: 0, upscale_stabilization_period: 0, ...overrides }), 0);

describe('recommendation = ceil(avg / target)', () => {
  test('ceil of the ratio, target may be fractional', () => {
    assert.equal(bare().tick(s(10), 3.3, 1).recommendation, 4);
    assert.equal(bare({ target_replica_concurrency: 2.5 }).tick(s(10), 5, 1).recommendation, 2);
    assert.equal(bare({ target_replica_concurrency: 2.5 }).tick(s(10), 5.01, 1).recommendation, 3);
  });

  test('raw equal to current keeps current', () => {
    const d = bare().tick(s(10), 5, 5);
    assert.equal(d.recommendation, 5);
    assert.equal(d.replicas, 5);
  });
});

describe('tolerances (strict on both sides)', () => {
  test('downscale: raw just above current × (1 − tol) keeps current', () => {
    const d = bare().tick(s(10), 18.5, 20);
    assert.equal(d.recommendation, 20);
    assert.equal(d.reason, 'within downscale tolerance');
  });

  test('downscale: raw exactly current × (1 − tol) is outside the band', () => {
    assert.equal(20 * (1 - 0.1), 18);
    assert.equal(bare().tick(s(10), 18, 20).recommendation, 18);
  });

  test('upscale: raw just below current × (1 + tol) keeps current', () => {
    const d = bare({ upscale_tolerance: 0.5 }).tick(s(10), 2.9, 2);
    assert.equal(d.recommendation, 2);
    assert.equal(d.reason, 'within upscale tolerance');
  });

  test('upscale: raw exactly current × (1 + tol) is outside the band', () => {
    assert.equal(bare({ upscale_tolerance: 0.5 }).tick(s(10), 3, 2).recommendation, 3);
  });

  test('the band is computed in doubles in the spec\'s order: 11 × 1.1 > 12.1, so raw 12.1 stays 11', () => {
    assert.ok(11 * (1 + 0.1) > 12.1);
    assert.equal(bare().tick(s(10), 12.1, 11).recommendation, 11);
  });

  test('zero tolerances never hold', () => {
    const r = bare({ downscale_tolerance: 0, upscale_tolerance: 0 });
    assert.equal(r.tick(s(10), 9.99, 10).recommendation, 10);
    assert.equal(r.tick(s(20), 10.01, 10).recommendation, 11);
  });
});

describe('max_downscale_factor and max_upscale_factor (each always allows ±1)', () => {
  test('floor = ceil(current × factor)', () => {
    const d = bare().tick(s(10), 0, 10);
    assert.equal(d.recommendation, 5);
    assert.equal(d.reason, 'max_downscale_factor cap');
    assert.equal(bare().tick(s(10), 0, 7).recommendation, 4);
  });

  test('floor always allows subtracting 1', () => {
    assert.equal(bare({ max_downscale_factor: 0.75 }).tick(s(10), 0, 2).recommendation, 1);
  });

  test('factor 0 allows going straight to 1 (clamped from 0)', () => {
    const d = bare({ max_downscale_factor: 0 }).tick(s(10), 0, 40);
    assert.equal(d.recommendation, 1);
    assert.equal(d.reason, 'at least 1 replica');
  });

  test('ceiling = ceil(current × factor)', () => {
    const d = bare().tick(s(10), 1000, 3);
    assert.equal(d.recommendation, 30);
    assert.equal(d.reason, 'max_upscale_factor cap');
    assert.equal(bare({ max_upscale_factor: 1.5 }).tick(s(10), 100, 3).recommendation, 5);
  });

  test('ceiling always allows adding 1', () => {
    assert.equal(bare({ max_upscale_factor: 1.01 }).tick(s(10), 100, 2).recommendation, 3);
  });

  test('a recommendation inside the caps is untouched', () => {
    assert.equal(bare().tick(s(10), 30, 3).recommendation, 30);
    assert.equal(bare().tick(s(10), 5, 10).recommendation, 5);
  });
});

describe('clamps after the caps: ≥ 1, min_replicas, max_replicas', () => {
  test('min_replicas beats the downscale floor', () => {
    const d = bare({ min_replicas: 8 }).tick(s(10), 0, 10);
    assert.equal(d.recommendation, 8);
    assert.equal(d.reason, 'min_replicas');
  });

  test('max_replicas beats the upscale ceiling', () => {
    const d = bare({ max_replicas: 3 }).tick(s(10), 100, 1);
    assert.equal(d.recommendation, 3);
    assert.equal(d.reason, 'max_replicas');
  });

  test('min_replicas raises a current count below it', () => {
    assert.equal(bare({ min_replicas: 4 }).tick(s(10), 0, 1).replicas, 4);
  });
});

describe('downscale stabilization', () => {
  const config = (period: number) => autoscaling({ downscale_stabilization_period: period, upscale_stabilization_period: 0 });

  test('first period: never below current while T − start < period', () => {
    const r = new Recommender(config(30), 0);
    const d = r.tick(s(10), 0, 4);
    assert.equal(d.recommendation, 2);
    assert.equal(d.replicas, 4);
    assert.equal(d.reason, 'downscale stabilization (first period)');
    assert.equal(r.tick(s(20), 0, 4).replicas, 4);
  });

  test('at T − start = period the records rule takes over', () => {
    const r = new Recommender(config(30), 0);
    r.tick(s(10), 0, 4);
    r.tick(s(20), 0, 4);
    assert.equal(r.tick(s(30), 0, 4).replicas, 2);
  });

  test('the first period counts from the start time given', () => {
    const r = new Recommender(config(30), s(5));
    assert.equal(r.tick(s(30), 0, 4).replicas, 4);
    assert.equal(r.tick(s(35), 0, 4).replicas, 2);
  });

  test('the highest record younger than the period holds; one exactly a period old does not', () => {
    const r = new Recommender(config(20), 0);
    assert.equal(r.tick(s(10), 8, 8).replicas, 8);
    const at20 = r.tick(s(20), 0, 8);
    assert.equal(at20.recommendation, 4);
    assert.equal(at20.replicas, 8);
    assert.equal(at20.reason, 'downscale stabilization');
    assert.equal(r.tick(s(30), 0, 8).replicas, 4);
  });

  test('the current tick\'s record is inside the period', () => {
    const r = new Recommender(config(20), -s(1000));
    assert.equal(r.tick(s(10), 0, 8).replicas, 4);
  });

  test('a period of 0 never stabilizes, even at start', () => {
    assert.equal(new Recommender(config(0), 0).tick(s(10), 0, 8).replicas, 4);
  });

  test('scale-ups pass through', () => {
    assert.equal(new Recommender(config(300), 0).tick(s(10), 6, 2).replicas, 6);
  });
});

describe('upscale stabilization', () => {
  const config = (period: number) => autoscaling({ upscale_stabilization_period: period, downscale_stabilization_period: 0 });

  test('first period: never above current while T − start < period', () => {
    const r = new Recommender(config(30), 0);
    const d = r.tick(s(20), 9, 2);
    assert.equal(d.recommendation, 9);
    assert.equal(d.replicas, 2);
    assert.equal(d.reason, 'upscale stabilization (first period)');
  });

  test('the lowest record younger than the period holds; one exactly a period old does not', () => {
    const r = new Recommender(config(20), -s(1000));
    assert.equal(r.tick(s(10), 2, 2).replicas, 2);
    const at20 = r.tick(s(20), 9, 2);
    assert.equal(at20.replicas, 2);
    assert.equal(at20.reason, 'upscale stabilization');
    assert.equal(r.tick(s(30), 9, 2).replicas, 9);
  });

  test('a period of 0 never stabilizes', () => {
    assert.equal(new Recommender(config(0), 0).tick(s(10), 9, 2).replicas, 9);
  });

  test('scale-downs pass through', () => {
    assert.equal(new Recommender(config(300), 0).tick(s(10), 1, 2).replicas, 1);
  });
});

test('when both stabilizations apply the upscale one wins (it runs last)', () => {
  const r = new Recommender(autoscaling({ downscale_stabilization_period: 100, upscale_stabilization_period: 100 }), -s(1000));
  assert.equal(r.tick(s(10), 2, 2).replicas, 2);
  assert.equal(r.tick(s(20), 10, 2).replicas, 2);
  // records {2, 10, 5}: downscale lifts 5 to 10, then upscale lowers it to 2
  const d = r.tick(s(30), 5, 2);
  assert.equal(d.recommendation, 5);
  assert.equal(d.replicas, 2);
  assert.equal(d.reason, 'upscale stabilization');
});

test('a tick without samples records nothing and changes nothing', () => {
  const r = new Recommender(autoscaling({ downscale_stabilization_period: 0, upscale_stabilization_period: 15 }), -s(1000));
  const d = r.tick(s(10), null, 3);
  assert.deepEqual(d, { at: s(10), avgInFlight: null, recommendation: null, previous: 3, replicas: 3, reason: 'no samples yet', steps: null });
  // Had the empty tick recorded anything, the upscale period would hold it.
  assert.equal(r.tick(s(20), 7, 3).replicas, 7);
});

test('the recommendation is recorded before stabilization: later ticks see it, not the request', () => {
  const r = new Recommender(autoscaling({ downscale_stabilization_period: 25 }), 0);
  r.tick(s(10), 0, 8); // records 4, requests 8 (first period)
  r.tick(s(20), 0, 8); // records 4, requests 8
  // At 30 the first period is over; records of 10 and 20 say 4, so 4 it is.
  assert.equal(r.tick(s(30), 0, 8).replicas, 4);
});

test('the default reason names the load and the target', () => {
  assert.equal(bare({ target_replica_concurrency: 2 }).tick(s(10), 6.8, 1).reason, '6.8 in flight / target 2');
});

describe('worked examples (spec §6)', () => {
  test('A: scale-up', () => {
    const d = replay({
      autoscaling: autoscaling({ target_replica_concurrency: 1 }),
      initialReplicas: 1,
      tick: 10,
      duration: 90,
      inFlight: [[0, 0], [30, 12]],
    });
    assert.deepEqual(d.map((x) => x.t), [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(d.map((x) => x.avgInFlight), [0, 0, 0.4, 3.3, 5.04, 6.2, 8.2, 10.2, 12]);
    assert.deepEqual(d.map((x) => x.recommendation), [1, 1, 1, 4, 6, 6, 9, 11, 11]);
    assert.deepEqual(d.map((x) => x.replicas), [1, 1, 1, 4, 6, 6, 9, 11, 11]);
  });

  test('B: downscale stabilization', () => {
    const d = replay({ autoscaling: autoscaling(), initialReplicas: 1, tick: 10, duration: 1000, inFlight: [[0, 8], [360, 0]] });
    const at = (t: number) => d[t / 10 - 1];
    assert.equal(d.length, 100);
    assert.deepEqual(d.map((x) => x.replicas), [
      ...Array(65).fill(8), // T = 10 … 650
      7, // 660
      6, // 670
      ...Array(29).fill(4), // 680 … 960
      3, // 970
      2, 2, 2, // 980, 990, 1000
    ]);
    assert.equal(at(360).avgInFlight?.toFixed(3), '7.867');
    assert.equal(at(370).avgInFlight?.toFixed(3), '6.533');
    assert.equal(at(390).avgInFlight?.toFixed(3), '3.867');
    assert.deepEqual([360, 370, 390].map((t) => at(t).recommendation), [8, 7, 4]);
    for (let t = 420; t <= 650; t += 10) assert.equal(at(t).recommendation, 4, `T=${t}`);
    assert.deepEqual([660, 670, 680].map((t) => at(t).recommendation), [4, 4, 3]);
    for (let t = 690; t <= 980; t += 10) assert.equal(at(t).recommendation, 2, `T=${t}`);
    assert.deepEqual([990, 1000].map((t) => at(t).recommendation), [1, 1]);
  });

  test('C: upscale stabilization and the first period', () => {
    const d = replay({
      autoscaling: autoscaling({ upscale_stabilization_period: 30, downscale_stabilization_period: 0, window: 10, max_upscale_factor: 2 }),
      initialReplicas: 2,
      tick: 10,
      duration: 120,
      inFlight: [[0, 2], [5, 9], [45, 5], [65, 20]],
    });
    assert.deepEqual(d.map((x) => x.avgInFlight), [6.2, 9, 9, 9, 6.6, 5, 14, 20, 20, 20, 20, 20]);
    assert.deepEqual(d.map((x) => x.recommendation), [4, 4, 4, 8, 7, 5, 10, 10, 10, 20, 20, 20]);
    assert.deepEqual(d.map((x) => x.replicas), [2, 2, 4, 4, 4, 5, 5, 5, 10, 10, 10, 20]);
  });
});
