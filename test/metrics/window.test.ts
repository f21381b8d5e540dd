// The per-second window of recent answers on an injected clock: counts by
// status class, rates, quantiles within a bucket's width, expiry after ten
// minutes, and the dashboard's series.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestWindow } from '../../src/metrics/window.ts';

function clocked(startMs = 1_000_000_000) {
  const clock = { now: startMs };
  return { clock, window: new RequestWindow({ clock: () => clock.now }) };
}

test('the last minute: counts by class, rate over the seconds covered, p50 and p99', () => {
  const { clock, window } = clocked();
  for (let s = 0; s < 60; s++) {
    for (let i = 0; i < 10; i++) window.record(200, 0.010);
    window.record(500, 0.100);
    window.record(404, null);
    clock.now += 1000;
  }
  clock.now -= 1000;
  const m = window.summary(60);
  assert.equal(m.seconds, 60);
  assert.deepEqual(m.codes, { '2xx': 600, '3xx': 0, '4xx': 60, '5xx': 60 });
  assert.equal(m.requests, 720);
  assert.equal(m.rate, 12);
  // Buckets are 2^(1/4) ≈ 19 % wide: a quantile lands within its value's bucket.
  assert.ok(Math.abs((m.p50 as number) - 0.010) / 0.010 < 0.2, `p50 ${m.p50}`);
  assert.ok(Math.abs((m.p99 as number) - 0.100) / 0.100 < 0.2, `p99 ${m.p99}`);
});

test('at start the rate is over the seconds since the window was made', () => {
  const { clock, window } = clocked();
  window.record(200, 0.001);
  clock.now += 4000;
  window.record(200, 0.001);
  const m = window.summary(60);
  assert.equal(m.seconds, 5);
  assert.equal(m.rate, 2 / 5);
});

test('answers older than the window are gone, and without latencies there is no quantile', () => {
  const { clock, window } = clocked();
  window.record(200, 0.5);
  clock.now += 61_000;
  window.add(503, 7);
  const m = window.summary(60);
  assert.deepEqual(m.codes, { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 7 });
  assert.equal(m.p50, null);
  clock.now += 600_000;
  assert.equal(window.summary(600).requests, 0);
});

test('a slot reused ten minutes later starts from zero', () => {
  const { clock, window } = clocked();
  window.record(200, 0.001);
  clock.now += 600_000;
  window.record(200, 0.001);
  assert.equal(window.summary(1).requests, 1);
});

test('series: steps oldest first, the last ending now; rate per second, 5xx counted as errors', () => {
  const { clock, window } = clocked(1_000_000_000);
  window.record(200, 0.002);
  window.record(502, 0.002);
  clock.now += 5000;
  for (let i = 0; i < 10; i++) window.record(200, 0.004);
  const series = window.series(5, 3);
  assert.equal(series.length, 3);
  // Steps of whole seconds: 999 991…999 995, 999 996…1 000 000 (the first answers), 1 000 001…1 000 005 (now).
  assert.deepEqual(series.map((p) => p.t), [999_991_000, 999_996_000, 1_000_001_000]);
  assert.deepEqual(series.map((p) => p.rate), [0, 2 / 5, 10 / 5]);
  assert.deepEqual(series.map((p) => p.errors), [0, 1, 0]);
  assert.equal(series[0].p50, null);
  assert.ok(Math.abs((series[2].p99 as number) - 0.004) / 0.004 < 0.2);
});
