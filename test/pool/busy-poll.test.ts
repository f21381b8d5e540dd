// Which workers are told to look for their next request before they block:
// only while every serving worker can have a CPU and Node keeps one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusyPollBudget, type BusyPoller } from '../../src/pool/busy-poll.ts';

function worker(name: string, told: string[]): BusyPoller {
  return { busyPoll: (us) => told.push(`${name}:${us}`) };
}

test('one worker on 2 CPUs looks; a second makes both block; when one leaves the other looks again', () => {
  const told: string[] = [];
  const budget = new BusyPollBudget({ spareCpus: 1, microseconds: 100 });
  const a = worker('a', told);
  const b = worker('b', told);
  budget.join(a, true);
  assert.deepEqual(told, ['a:100']);
  budget.join(b, true);
  assert.deepEqual(told, ['a:100', 'a:0'], 'b was never told to look, so it is not told to stop');
  budget.leave(a);
  assert.deepEqual(told, ['a:100', 'a:0', 'b:100']);
  budget.leave(a);
  budget.leave(b);
  assert.deepEqual(told, ['a:100', 'a:0', 'b:100'], 'a worker that leaves is told nothing');
});

test('a worker with several threads is never told to look, and counts against the CPUs like any other', () => {
  const told: string[] = [];
  const budget = new BusyPollBudget({ spareCpus: 2, microseconds: 100 });
  const threaded = worker('threaded', told);
  budget.join(threaded, false);
  budget.join(worker('a', told), true);
  assert.deepEqual(told, ['a:100']);
  budget.join(worker('b', told), true);
  assert.deepEqual(told, ['a:100', 'a:0']);
  budget.leave(threaded);
  assert.deepEqual(told, ['a:100', 'a:0', 'a:100', 'b:100']);
});

test('with 0 microseconds (serve --no-busy-poll), or no CPU to spare, no worker is told anything', () => {
  for (const opts of [{ spareCpus: 15, microseconds: 0 }, { spareCpus: 0, microseconds: 100 }, { spareCpus: -2, microseconds: 100 }]) {
    const told: string[] = [];
    const budget = new BusyPollBudget(opts);
    const a = worker('a', told);
    budget.join(a, true);
    budget.join(worker('b', told), true);
    budget.leave(a);
    assert.deepEqual(told, [], JSON.stringify(opts));
  }
});
