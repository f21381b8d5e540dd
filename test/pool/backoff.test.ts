import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restartDelayMs } from '../../src/pool/backoff.ts';

test('first restart is immediate, then doubling from the base, capped', () => {
  const opts = { baseMs: 1000, capMs: 30_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => restartDelayMs(n, opts)), [0, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});
