import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineDepth, type PipelineLimits } from '../../src/pool/pipeline-depth.ts';

const limits: PipelineLimits = { min: 8, max: 64, budgetMs: 1 };
const at = (t: number) => () => t;

/** `n` requests answered one after another, `ms` each, the worker never idle meanwhile; returns the clock. */
function serve(d: PipelineDepth, n: number, ms: number, start = 0): number {
  let now = start;
  d.sent(at(now), 0);
  for (let i = 1; i < n; i++) d.sent(at(now), i);
  for (let left = n - 1; left >= 0; left--) {
    now += ms;
    d.answered(at(now), left);
  }
  return now;
}

test('a new worker holds the minimum', () => {
  assert.equal(new PipelineDepth(limits).depth, 8);
});

test('a fast worker is given about budgetMs of its work, up to the maximum', () => {
  const d = new PipelineDepth(limits);
  // 1/16 ms a request: 16 fit in 1 ms
  serve(d, 400, 1 / 16);
  assert.equal(d.depth, 16);
  const e = new PipelineDepth(limits);
  serve(e, 2000, 1 / 128);
  assert.equal(e.depth, 64, 'capped');
});

test('a slow worker keeps the minimum', () => {
  const d = new PipelineDepth(limits);
  serve(d, 100, 2);
  assert.equal(d.depth, 8);
});

test('time spent idle is not counted as work', () => {
  const d = new PipelineDepth(limits);
  let now = 0;
  for (let i = 0; i < 500; i++) {
    d.sent(at(now), 0);
    now += 1 / 16;
    d.answered(at(now), 0);
    now += 100; // idle between requests
  }
  assert.equal(d.depth, 16);
});

test('nothing moves before enough answers and enough busy time', () => {
  const d = new PipelineDepth(limits);
  serve(d, 31, 1);
  assert.equal(d.depth, 8, 'too few answers');
  const e = new PipelineDepth(limits);
  serve(e, 256, 1 / 128);
  assert.equal(e.depth, 8, '2 ms of work is too short to judge');
});

test('the depth follows a worker that slows down, and a new process starts over', () => {
  const d = new PipelineDepth(limits);
  const t = serve(d, 1000, 1 / 32);
  assert.equal(d.depth, 32);
  const u = serve(d, 100, 0.5, t);
  assert.equal(d.depth, 8);
  serve(d, 1000, 1 / 32, u + 100);
  assert.equal(d.depth, 32);
  d.reset();
  assert.equal(d.depth, 8);
});
