import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectAllGarbage, IdleTrim } from '../src/idle-trim.ts';

test('no trim before any traffic, one after traffic stops for idleMs, none while traffic goes on', () => {
  const t = new IdleTrim(10_000);
  const ticks = (from: number, to: number, seen: (s: number) => number) => {
    const out: number[] = [];
    for (let s = from; s <= to; s++) if (t.tick(s * 1000, seen(s))) out.push(s);
    return out;
  };
  assert.deepEqual(ticks(0, 30, () => 5), [], 'requests seen before the first tick are not traffic');
  assert.deepEqual(ticks(31, 40, (s) => 5 + s), [], 'busy');
  assert.deepEqual(ticks(41, 70, () => 45), [50], 'quiet from 40 s: trimmed at 50 s, once');
  assert.deepEqual(ticks(71, 71, () => 46), []);
  assert.deepEqual(ticks(72, 90, () => 46), [81], 'a single request is traffic too');
});

test('a memory-reducing collection runs, and leaves the heap usable', () => {
  const before = process.memoryUsage().heapTotal;
  const junk = Array.from({ length: 100_000 }, (_, i) => ({ i, s: `item-${i}` }));
  assert.equal(junk.length, 100_000);
  junk.length = 0;
  collectAllGarbage();
  collectAllGarbage();
  assert.ok(process.memoryUsage().heapTotal <= before * 1.5, 'the heap did not grow past what it was');
});
