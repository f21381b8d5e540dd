// An API's log ring: bounded, in order, read from a sequence number on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogRing, MAX_LINE_CHARS } from '../../src/logs/ring.ts';

test('keeps the newest lines in order, numbered from 1', () => {
  const ring = new LogRing({ lines: 3, clock: () => 42 });
  for (const t of ['a', 'b', 'c', 'd', 'e']) ring.push('iris/1/1', 'stdout', t);
  assert.equal(ring.last, 5);
  assert.deepEqual(ring.since(0).map((l) => [l.seq, l.text]), [[3, 'c'], [4, 'd'], [5, 'e']]);
  assert.deepEqual(ring.since(0)[0], { seq: 3, time: 42, source: 'iris/1/1', stream: 'stdout', level: 'info', text: 'c' });
});

test('since(after) gives what came after; limit keeps the newest of them', () => {
  const ring = new LogRing({ lines: 10 });
  for (let i = 1; i <= 6; i++) ring.push('server', 'server', `line ${i}`, i === 4 ? 'error' : 'info');
  assert.deepEqual(ring.since(4).map((l) => l.seq), [5, 6]);
  assert.deepEqual(ring.since(0, 2).map((l) => l.seq), [5, 6]);
  assert.deepEqual(ring.since(6), []);
  assert.equal(ring.since(3)[0].level, 'error');
});

test('a very long line is cut, saying how much', () => {
  const ring = new LogRing();
  ring.push('iris/1/1', 'stderr', 'x'.repeat(MAX_LINE_CHARS + 10));
  const text = ring.since(0)[0].text;
  assert.ok(text.startsWith('x'.repeat(MAX_LINE_CHARS)));
  assert.ok(text.endsWith('… (10 more characters)'));
});

test('a batch larger than the ring keeps its newest lines; the ones dropped still count, so a follower sees the gap', () => {
  const ring = new LogRing({ lines: 3 });
  ring.push('iris/1/1', 'stdout', 'before');
  ring.pushAll('iris/1/1', 'stdout', ['1', '2', '3', '4', '5']);
  assert.equal(ring.last, 6);
  assert.deepEqual(ring.since(1).map((l) => [l.seq, l.text]), [[4, '3'], [5, '4'], [6, '5']]);
  ring.pushAll('iris/1/1', 'stderr', ['6']);
  assert.deepEqual(ring.since(5).map((l) => [l.seq, l.stream, l.text]), [[6, 'stdout', '5'], [7, 'stderr', '6']]);
});
