import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GCProfiler } from 'node:v8';
import { BufferChurn, LARGE_BYTES } from '../src/buffer-churn.ts';
import { collectYoungGeneration } from '../src/v8-gc.ts';

test('one collection each time `every` bytes of large payloads have gone by; small ones are not counted', () => {
  let collections = 0;
  const churn = new BufferChurn(() => collections++, 1000 * LARGE_BYTES);
  for (let i = 0; i < 10_000; i++) churn.note(LARGE_BYTES - 1);
  assert.equal(collections, 0, 'payloads under LARGE_BYTES are views or pooled: not counted');
  for (let i = 0; i < 999; i++) churn.note(LARGE_BYTES);
  assert.equal(collections, 0);
  churn.note(LARGE_BYTES);
  assert.equal(collections, 1, 'the 1000th large payload');
  for (let i = 0; i < 999; i++) churn.note(LARGE_BYTES);
  assert.equal(collections, 1, 'counting starts again after a collection');
  churn.note(10 * 1000 * LARGE_BYTES);
  assert.equal(collections, 2, 'one payload larger than `every` brings one collection, not ten');
});

test('the young collection frees dead 100 kB Buffers without a full collection', () => {
  const arrayBuffers = () => process.memoryUsage().arrayBuffers;
  const profiler = new GCProfiler();
  profiler.start();
  const churn = new BufferChurn(collectYoungGeneration, 16_000_000);
  const before = arrayBuffers();
  // 150 bodies' worth, each dead once the next comes: under `every`, nothing collects them.
  for (let i = 0; i < 150; i++) churn.note(Buffer.allocUnsafe(100_000).fill(i).length);
  assert.ok(arrayBuffers() - before >= 14_000_000, `the dead Buffers are still held before a collection (${arrayBuffers() - before} bytes)`);
  for (let i = 0; i < 10; i++) churn.note(Buffer.allocUnsafe(100_000).fill(i).length);
  // Checked at once: left alone, V8 frees them too, in a collection of its own a few seconds later.
  assert.ok(arrayBuffers() - before < 4_000_000, `the dead Buffers were freed (${arrayBuffers() - before} bytes held)`);
  const kinds = (profiler.stop()?.statistics ?? []).map((s) => s.gcType);
  assert.ok(kinds.includes('Scavenge'), `a young collection ran: ${kinds.join(', ')}`);
  assert.ok(!kinds.includes('MarkSweepCompact'), `no full collection: ${kinds.join(', ')}`);
});
