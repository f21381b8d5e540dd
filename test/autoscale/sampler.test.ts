// The window average of ../shared/spec/autoscaler.md §1: samples with
// T − window < t ≤ T, fewer at start, none → null, bounded memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlightSampler } from '../../src/autoscale/sampler.ts';

const s = (seconds: number) => seconds * 1000;

test('no samples → null', () => {
  assert.equal(new InFlightSampler(60).window(s(10)).average, null);
});

test('the window is (T − window, T]: the sample exactly a window old is out, the one at T is in', () => {
  const sampler = new InFlightSampler(10);
  for (let t = 1; t <= 20; t++) sampler.record(s(t), t);
  // 11 … 20
  assert.equal(sampler.window(s(20)).average, 15.5);
});

test('during the first window the average is over the samples that exist', () => {
  const sampler = new InFlightSampler(60);
  sampler.record(s(1), 3);
  sampler.record(s(2), 0);
  sampler.record(s(3), 6);
  assert.equal(sampler.window(s(3)).average, 3);
  assert.equal(sampler.window(s(10)).average, 3);
});

test('samples after the asked time are not counted', () => {
  const sampler = new InFlightSampler(60);
  sampler.record(s(1), 2);
  sampler.record(s(2), 100);
  assert.equal(sampler.window(s(1)).average, 2);
});

test('a window with only old samples → null', () => {
  const sampler = new InFlightSampler(10);
  sampler.record(s(1), 5);
  assert.equal(sampler.window(s(11)).average, null);
});

test('sums oldest first in doubles (the result is reproducible to the bit)', () => {
  const sampler = new InFlightSampler(10);
  const values = [0.1, 0.2, 0.3, 1e16, -1e16, 0.7];
  values.forEach((v, i) => sampler.record(s(i + 1), v));
  let sum = 0;
  for (const v of values) sum += v;
  assert.equal(sampler.window(s(6)).average, sum / values.length);
});

test('keeps at most window / interval samples however long it runs', () => {
  const sampler = new InFlightSampler(60);
  for (let t = 1; t <= 10_000; t++) sampler.record(s(t), t % 7);
  assert.equal(sampler.size, 60);
});

test('times going backwards are a bug in the caller', () => {
  const sampler = new InFlightSampler(60);
  sampler.record(s(5), 1);
  assert.throws(() => sampler.record(s(4), 1), RangeError);
});
