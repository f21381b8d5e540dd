// The per-API controller on mocked timers: it samples on the 1 s grid, ticks
// every 10 s, sets the pool's desired count, logs once per change, and with a
// time scale plays the same decisions faster.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Autoscaler, autoscalerTimeScale, type AutoscalerOptions } from '../../src/autoscale/autoscaler.ts';
import type { Decision } from '../../src/autoscale/recommender.ts';
import { UsageError } from '../../src/errors.ts';
import { autoscaling } from '../helpers/api.ts';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

/** mock.timers.tick jumps straight to the end, so walk in steps to let every timer fire on time. */
function advance(ms: number, step = 1000): void {
  for (let done = 0; done < ms; done += step) mock.timers.tick(Math.min(step, ms - done));
}

interface Harness {
  autoscaler: Autoscaler;
  lines: string[];
  desired: number[];
  changes: [number, number][];
  replicas: { current: number };
}

function harness(inFlight: (virtualSecond: number) => number, opts: Partial<AutoscalerOptions> = {}): Harness {
  const lines: string[] = [];
  const desired: number[] = [];
  const changes: [number, number][] = [];
  const replicas = { current: 1 };
  const scale = opts.timeScale ?? 1;
  const autoscaler = new Autoscaler({
    api: 'iris',
    autoscaling: autoscaling(),
    readInFlight: () => inFlight((Date.now() * scale) / 1000),
    currentReplicas: () => replicas.current,
    setDesiredReplicas: (n) => {
      desired.push(n);
      replicas.current = n;
    },
    clock: Date.now,
    log: (line) => lines.push(line),
    onDecision: (from, to) => changes.push([from, to]),
    ...opts,
  });
  return { autoscaler, lines, desired, changes, replicas };
}

const exampleA = (t: number) => (t >= 30 ? 12 : 0);
const exampleALog = [
  'autoscaler api=iris avg_in_flight=3.3 recommendation=4 replicas 1→4 (3.3 in flight / target 1)',
  'autoscaler api=iris avg_in_flight=5.04 recommendation=6 replicas 4→6 (5.04 in flight / target 1)',
  'autoscaler api=iris avg_in_flight=8.2 recommendation=9 replicas 6→9 (8.2 in flight / target 1)',
  'autoscaler api=iris avg_in_flight=10.2 recommendation=11 replicas 9→11 (10.2 in flight / target 1)',
];

test('worked example A through the controller: one log line per change, none for unchanged ticks', () => {
  const h = harness(exampleA);
  h.autoscaler.start();
  advance(90_000);
  h.autoscaler.stop();
  assert.deepEqual(h.lines, exampleALog);
  assert.deepEqual(h.desired, [4, 6, 9, 11]);
  assert.deepEqual(h.changes, [[1, 4], [4, 6], [6, 9], [9, 11]]);
  assert.equal(h.autoscaler.lastDecision?.at, 90_000);
  assert.equal(h.autoscaler.lastDecision?.recommendation, 11);
});

test('ticks land on T = 10, 20, … s after start, each after that second\'s sample', () => {
  const ats: number[] = [];
  const h = harness(() => 0);
  h.autoscaler.start();
  for (let i = 0; i < 35; i++) {
    advance(1000);
    const at = h.autoscaler.lastDecision?.at;
    if (at !== undefined && at !== ats.at(-1)) ats.push(at);
  }
  assert.deepEqual(ats, [10_000, 20_000, 30_000]);
  h.autoscaler.stop();
});

test('timeScale 10 plays the same decisions in a tenth of the time', () => {
  const h = harness(exampleA, { timeScale: 10 });
  h.autoscaler.start();
  advance(9_000, 100);
  h.autoscaler.stop();
  assert.deepEqual(h.lines, exampleALog);
});

test('stabilization periods are virtual seconds too: timeScale 100 plays example B\'s scale-down in 10 s', () => {
  const h = harness((t) => (t >= 360 ? 0 : 8), { timeScale: 100 });
  h.autoscaler.start();
  advance(10_000, 10);
  h.autoscaler.stop();
  assert.deepEqual(h.changes, [[1, 8], [8, 7], [7, 6], [6, 4], [4, 3], [3, 2]]);
  assert.deepEqual(h.lines.slice(1).map((l) => l.replace(/ \(.*/, '')), [
    'autoscaler api=iris avg_in_flight=0 recommendation=4 replicas 8→7',
    'autoscaler api=iris avg_in_flight=0 recommendation=4 replicas 7→6',
    'autoscaler api=iris avg_in_flight=0 recommendation=3 replicas 6→4',
    'autoscaler api=iris avg_in_flight=0 recommendation=2 replicas 4→3',
    'autoscaler api=iris avg_in_flight=0 recommendation=2 replicas 3→2',
  ]);
});

test('current is the pool\'s desired count at each tick, not what the autoscaler last set', () => {
  const h = harness(() => 0, { autoscaling: autoscaling({ downscale_stabilization_period: 0 }) });
  h.replicas.current = 6;
  h.autoscaler.start();
  advance(10_000);
  assert.deepEqual(h.changes, [[6, 3]]);
  h.replicas.current = 10; // e.g. someone else raised it
  advance(10_000);
  assert.deepEqual(h.changes, [[6, 3], [10, 5]]);
  h.autoscaler.stop();
});

test('a slot the event loop slept through has no sample; virtual time keeps pace with the clock', () => {
  let reads = 0;
  const h = harness(() => {
    reads++;
    return 10;
  });
  h.autoscaler.start();
  mock.timers.tick(2500); // the 1 s timer fires late, at 2.5 s: slot 2 is due, slot 1 is lost
  assert.equal(reads, 1);
  advance(7500);
  assert.equal(reads, 9); // slots 2 … 10
  assert.equal(h.autoscaler.lastDecision?.at, 10_000);
  assert.equal(h.autoscaler.lastDecision?.avgInFlight, 10);
  h.autoscaler.stop();
});

test('stop() ends sampling; start() begins afresh (new window, new first period)', () => {
  let reads = 0;
  const h = harness(() => {
    reads++;
    return 0;
  }, { autoscaling: autoscaling({ downscale_stabilization_period: 20 }) });
  h.replicas.current = 8;
  h.autoscaler.start();
  advance(20_000);
  assert.deepEqual(h.changes, [[8, 4]]); // at T = 20 the first period is over
  h.autoscaler.stop();
  const before = reads;
  advance(30_000);
  assert.equal(reads, before);

  h.replicas.current = 8;
  h.autoscaler.start();
  assert.equal(h.autoscaler.lastDecision, null);
  advance(10_000);
  const first = h.autoscaler.lastDecision as Decision | null;
  assert.equal(first?.replicas, 8); // first period again
  assert.equal(first?.reason, 'downscale stabilization (first period)');
  h.autoscaler.stop();
});

test('a failing callback is logged and the autoscaler keeps running', () => {
  let calls = 0;
  const h = harness(() => {
    if (++calls === 1) throw new Error('pool is gone');
    return 12;
  });
  h.autoscaler.start();
  advance(10_000);
  h.autoscaler.stop();
  assert.equal(h.lines[0], 'autoscaler api=iris error: pool is gone');
  assert.equal(h.lines[1], 'autoscaler api=iris avg_in_flight=12 recommendation=10 replicas 1→10 (max_upscale_factor cap)');
});

test('timers are unref\'d: a running autoscaler does not keep the process alive', () => {
  mock.timers.reset();
  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const h = harness(() => 0, { clock: () => performance.now() });
  const before = timeouts();
  h.autoscaler.start();
  // An unref'd timeout is not listed among the resources keeping the loop alive.
  const running = timeouts();
  h.autoscaler.stop();
  assert.equal(running, before);
});

test('invalid intervals are programming errors', () => {
  assert.throws(() => harness(() => 0, { timeScale: 0 }), RangeError);
  assert.throws(() => harness(() => 0, { sampleIntervalMs: -1 }), RangeError);
  assert.throws(() => harness(() => 0, { tickIntervalMs: Number.NaN }), RangeError);
});

test('CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: 1 when unset, a positive number otherwise', () => {
  assert.equal(autoscalerTimeScale({}), 1);
  assert.equal(autoscalerTimeScale({ CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '' }), 1);
  assert.equal(autoscalerTimeScale({ CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '20' }), 20);
  assert.equal(autoscalerTimeScale({ CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '0.5' }), 0.5);
  for (const bad of ['0', '-2', 'fast', 'Infinity']) {
    assert.throws(() => autoscalerTimeScale({ CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: bad }), UsageError);
  }
});
