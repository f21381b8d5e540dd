import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fifo } from '../../src/pool/fifo.ts';

test('shift returns items in push order', () => {
  const q = new Fifo<number>();
  for (let i = 0; i < 3000; i++) q.push(i);
  for (let i = 0; i < 3000; i++) assert.equal(q.shift(), i);
  assert.equal(q.shift(), undefined);
  assert.equal(q.size, 0);
});

test('unshiftAll puts items back at the front in their order', () => {
  const q = new Fifo<string>();
  q.push('c');
  q.push('d');
  q.shift();
  q.unshiftAll(['a', 'b']);
  assert.equal(q.size, 3);
  assert.deepEqual(q.drain(), ['a', 'b', 'd']);
  assert.equal(q.size, 0);
});
