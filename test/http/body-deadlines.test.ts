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
  d.start('c');
  d.done('c');
  now = 29_999;
  assert.deepEqual(d.expired(), []);
  now = 30_000;
  assert.deepEqual(d.expired(), ['a']);
  assert.deepEqual(d.expired(), [], 'expired once');
  now = 45_000;
  assert.deepEqual(d.expired(), ['b']);
  assert.equal(d.size, 0);
});
