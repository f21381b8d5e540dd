// --body-timeout bookkeeping (issue 12), on an injected clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyDeadlines } from '../../src/http/body-deadlines.ts';

test('bodies older than the timeout expire once, oldest first; finished ones never do', () => {
  let now = 0;
  const d = new BodyDeadlines<string>(30_000, () => now);
  d.start('a');
  now = 10_000;
  d.start('b');
  const c = d.start('c');
  d.done(c);
  now = 29_999;
  assert.deepEqual(d.expired(), []);
  now = 30_000;
  assert.deepEqual(d.expired(), ['a']);
  assert.deepEqual(d.expired(), [], 'expired once');
  now = 45_000;
  assert.deepEqual(d.expired(), ['b']);
  assert.equal(d.size, 0);
});

test('a body done in the middle, at either end, or twice leaves the others in order', () => {
  let now = 0;
  const d = new BodyDeadlines<string>(10, () => now);
  const all = ['a', 'b', 'c', 'd', 'e'].map((x) => d.start(x));
  d.done(all[2]);
  d.done(all[0]);
  d.done(all[4]);
  d.done(all[2]);
  assert.equal(d.size, 2);
  const f = d.start('f');
  now = 10;
  assert.deepEqual(d.expired(), ['b', 'd', 'f']);
  d.done(f);
  assert.equal(d.size, 0);
  d.start('g');
  now = 20;
  assert.deepEqual(d.expired(), ['g']);
});
