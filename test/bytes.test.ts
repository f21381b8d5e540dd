import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteLength, copyInto, isParts, joined } from '../src/bytes.ts';

test('a payload in parts: its length, its bytes joined in order, copied in order', () => {
  const parts = [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')];
  assert.ok(isParts(parts));
  assert.equal(byteLength(parts), 5);
  assert.equal(joined(parts).toString(), 'abcde');
  const target = Buffer.alloc(8, '.');
  assert.equal(copyInto(parts, target, 2), 7);
  assert.equal(target.toString(), '..abcde.');
});

test('one buffer is itself: not copied to be joined, its own length', () => {
  const one = Buffer.from('xyz');
  assert.ok(!isParts(one));
  assert.equal(joined(one), one);
  assert.equal(joined([one]), one);
  assert.equal(byteLength(one), 3);
  const target = Buffer.alloc(4, '.');
  assert.equal(copyInto(one, target, 1), 4);
  assert.equal(target.toString(), '.xyz');
  assert.equal(joined([]).length, 0);
});
