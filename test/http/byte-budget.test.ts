// --max-queued-bytes bookkeeping (issue 12): one count shared by every front
// door of the server, and a dead front-door thread's share given back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBudget, LocalByteBudget, type BodyBytes } from '../../src/http/byte-budget.ts';

for (const [kind, make] of [['shared', (limit: number) => new ByteBudget(limit)], ['local', (limit: number) => new LocalByteBudget(limit)]] as const) {
  test(`${kind}: takes up to the limit, refuses past it without counting, and gives back`, () => {
    const b: BodyBytes = make(100);
    assert.ok(b.tryTake(60));
    assert.ok(!b.tryTake(41), 'past the limit');
    assert.equal(b.held, 60, 'a refusal counts nothing');
    assert.ok(b.tryTake(40), 'up to the limit exactly');
    b.give(100);
    assert.equal(b.held, 0);
    b.give(0);
    assert.equal(b.held, 0);
  });

  test(`${kind}: counts past 2 GiB exactly`, () => {
    const b: BodyBytes = make(8 * 1024 ** 3);
    assert.ok(b.tryTake(3 * 1024 ** 3));
    assert.ok(b.tryTake(3 * 1024 ** 3 + 1));
    assert.equal(b.held, 6 * 1024 ** 3 + 1);
    assert.ok(!b.tryTake(2 * 1024 ** 3));
    b.give(6 * 1024 ** 3);
    assert.equal(b.held, 1);
  });
}

test('views on one buffer share the count; a holder\'s share is given back whole when it dies', () => {
  const main = new ByteBudget(1000);
  const share = ByteBudget.newShare();
  const thread = new ByteBudget(1000, main.buffer, share);
  const other = new ByteBudget(1000, main.buffer, ByteBudget.newShare());
  assert.ok(thread.tryTake(300));
  assert.ok(other.tryTake(200));
  thread.give(100);
  assert.equal(main.held, 400);
  assert.ok(!main.tryTake(601));
  assert.equal(main.giveBackShare(share), 200, 'the thread held 300 and gave back 100');
  assert.equal(main.held, 200, 'the other holder\'s bytes stay');
  assert.equal(main.giveBackShare(share), 0, 'given back once');
});

test('limits past 2 GiB are counted exactly', () => {
  const b = new ByteBudget(8 * 2 ** 30);
  for (let i = 0; i < 7; i++) assert.ok(b.tryTake(2 ** 30));
  assert.equal(b.held, 7 * 2 ** 30);
  assert.ok(b.tryTake(2 ** 30));
  assert.ok(!b.tryTake(1));
});
