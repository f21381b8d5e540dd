// The autoscaler's explain records: the controller on mocked timers, fed the
// trace of a simulate fixture, keeps the same ticks `cortex-local simulate
// --explain --json` prints for that trace (the last 60 of them), and each
// intermediate value follows ../shared/spec/autoscaler.md §2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { promisify } from 'node:util';
import { Autoscaler, EXPLAINED_TICKS } from '../../src/autoscale/autoscaler.ts';
import { explainTick, formatTicks, type ExplainedTick } from '../../src/autoscale/explain.ts';
import { Recommender } from '../../src/autoscale/recommender.ts';
import { resolveAutoscalingBlock } from '../../src/config/autoscaling.ts';
import type { AutoscalingConfig } from '../../src/config/types.ts';
import { autoscaling } from '../helpers/api.ts';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'simulate');
const bin = join(root, 'bin', 'cortex-local');

async function simulateExplain(fixture: string): Promise<ExplainedTick[]> {
  const { stdout, stderr } = await promisify(execFile)(bin, ['simulate', fixture, '--explain', '--json'], { cwd: fixtures });
  assert.equal(stderr, '');
  return (JSON.parse(stdout) as { ticks: ExplainedTick[] }).ticks;
}

interface Trace {
  autoscaling?: unknown;
  initial_replicas?: number;
  duration: number;
  in_flight: [number, number][];
}

/** Runs the serve-side controller (mocked timers, 1 s samples, 10 s ticks) over a simulate fixture's trace. */
function controllerTicks(fixture: string): readonly ExplainedTick[] {
  const trace = JSON.parse(readFileSync(join(fixtures, fixture), 'utf8')) as Trace;
  const block = resolveAutoscalingBlock(trace.autoscaling ?? {});
  assert.ok(block.ok);
  const config = block.value as AutoscalingConfig;
  const valueAt = (second: number) => {
    let v = 0;
    for (const [t, value] of trace.in_flight) if (t <= second) v = value;
    return v;
  };
  let current = Math.min(Math.max(trace.initial_replicas ?? config.init_replicas, config.min_replicas), config.max_replicas);
  const autoscaler = new Autoscaler({
    api: 'traced',
    autoscaling: config,
    readInFlight: () => valueAt(Date.now() / 1000),
    currentReplicas: () => current,
    setDesiredReplicas: (n) => {
      current = n;
    },
    clock: Date.now,
    log: () => {},
  });
  autoscaler.start();
  for (let ms = 0; ms < trace.duration * 1000; ms += 1000) mock.timers.tick(1000);
  autoscaler.stop();
  return autoscaler.ticks;
}

describe('serve\'s explain records equal simulate --explain on the same trace', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  for (const fixture of ['example-a.json', 'example-b.json', 'example-c.json']) {
    test(fixture, async () => {
      const expected = await simulateExplain(fixture);
      const ticks = controllerTicks(fixture);
      assert.ok(expected.length > 0);
      // Example B runs 100 ticks: the controller keeps the last 60.
      assert.equal(ticks.length, Math.min(expected.length, EXPLAINED_TICKS));
      assert.deepEqual(ticks, expected.slice(-EXPLAINED_TICKS));
    });
  }
});

describe('intermediate values', () => {
  const s = (seconds: number) => seconds * 1000;
  const long = (overrides: Partial<AutoscalingConfig> = {}) =>
    new Recommender(autoscaling({ downscale_stabilization_period: 0, upscale_stabilization_period: 0, ...overrides }), 0);

  test('raw, its ceiling, the tolerance band and the factor caps', () => {
    const tick = explainTick(10, 6, long().tick(s(10), 6.2, 6));
    assert.equal(tick.raw, 6.2);
    assert.equal(tick.raw_recommendation, 7);
    assert.deepEqual(tick.tolerance_band, [6 * (1 - 0.1), 6 * (1 + 0.1)]);
    assert.equal(tick.tolerance, 'upscale');
    assert.equal(tick.factor_floor, 3);
    assert.equal(tick.factor_ceiling, 60);
    assert.equal(tick.factor_cap, null);
    assert.equal(tick.recommendation, 6);
    assert.equal(tick.request, 6);
    assert.equal(tick.samples, 6);
    assert.equal(tick.reason, 'within upscale tolerance');
  });

  test('a factor cap, then a clamp', () => {
    const capped = explainTick(10, 1, long().tick(s(10), 1000, 3));
    assert.equal(capped.factor_cap, 'ceiling');
    assert.equal(capped.recommendation, 30);
    const clamped = explainTick(10, 1, long({ max_replicas: 12 }).tick(s(10), 1000, 3));
    assert.equal(clamped.factor_cap, 'ceiling');
    assert.equal(clamped.clamp, 'max_replicas');
    assert.equal(clamped.recommendation, 12);
    // floor = min(7, ceil(8 × 0.5)) = 4 lifts 0 to 4; min_replicas then lifts it to 5.
    const floor = explainTick(10, 1, long({ min_replicas: 5 }).tick(s(10), 0, 8));
    assert.equal(floor.factor_floor, 4);
    assert.equal(floor.factor_cap, 'floor');
    assert.equal(floor.clamp, 'min_replicas');
    assert.equal(floor.recommendation, 5);
    assert.equal(floor.reason, 'min_replicas');
  });

  test('stabilization floor and ceiling, inside and after the first periods', () => {
    const r = new Recommender(autoscaling({ downscale_stabilization_period: 30, upscale_stabilization_period: 20 }), 0);
    const first = explainTick(10, 10, r.tick(s(10), 0, 4));
    assert.equal(first.first_downscale_period, true);
    assert.equal(first.first_upscale_period, true);
    assert.equal(first.stabilization_floor, 4);
    assert.equal(first.stabilization_ceiling, 4);
    assert.equal(first.recommendation, 2);
    assert.equal(first.request, 4);
    assert.equal(first.reason, 'downscale stabilization (first period)');
    r.tick(s(20), 0, 4);
    const later = explainTick(30, 10, r.tick(s(30), 9, 4));
    assert.equal(later.first_downscale_period, false);
    assert.equal(later.first_upscale_period, false);
    // records: 10 → 2, 20 → 2, 30 → 9; within 30 s: all three; within 20 s: 20 and 30.
    assert.equal(later.stabilization_floor, 9);
    assert.equal(later.stabilization_ceiling, 2);
    assert.equal(later.request, 2);
    assert.equal(later.reason, 'upscale stabilization');
  });

  test('a tick without samples changes nothing and says so', () => {
    const tick = explainTick(10, 0, long().tick(s(10), null, 3));
    assert.equal(tick.avg_in_flight, null);
    assert.equal(tick.raw, null);
    assert.equal(tick.recommendation, null);
    assert.equal(tick.request, 3);
    assert.equal(tick.reason, 'no samples yet');
  });
});

test('the table: one row per tick, bounds that acted starred, changes as from->to', async () => {
  const text = formatTicks(await simulateExplain('example-c.json'));
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0], /^t\s+samples\s+avg\s+current\s+raw\s+band\s+caps\s+rec\s+stab floor\s+stab ceil\s+request\s+reason$/);
  assert.equal(lines.length, 1 + 12 + 1);
  assert.match(lines[1], /^10\s+10\s+6\.2\s+2\s+6\.2→7\s+\(1\.8, 2\.2\)\s+\[1, 4\]\*\s+4\s+-\s+2 \(first\)\s+2\s+upscale stabilization \(first period\)$/);
  assert.match(lines[3], /^30\s.*\s2->4\s+max_upscale_factor cap$/);
  assert.equal(formatTicks([]), 'no autoscaler tick yet (the first comes 10 s after the API starts)\n');
});
