// The once-a-second summary of 503s (issue 12): one line per API that refused
// requests since the last tick, its reason from the API's state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefusalLog, type RefusalSubject } from '../../src/http/refusal-log.ts';
import { RefusalTally, RefusedFor } from '../../src/http/refusal-tally.ts';

function setup() {
  const iris: RefusalSubject = { name: 'iris', maxReplicaConcurrency: 4, readyReplicas: 2, initError: null };
  const gen: RefusalSubject = { name: 'gen', maxReplicaConcurrency: 1, readyReplicas: 0, initError: null };
  const tally = new RefusalTally(2);
  return { iris, gen, tally, log: new RefusalLog(tally, [iris, gen], 256 * 2 ** 20) };
}

test('at capacity: the count with thousands separators, and the capacity it came from', () => {
  const { tally, log } = setup();
  for (let i = 0; i < 1284; i++) tally.count(0, RefusedFor.Capacity);
  assert.deepEqual(log.tick(), ['api iris: 1,284 requests refused in the last 1 s: at capacity 8 (max_replica_concurrency 4 × 2 ready replicas)']);
  assert.deepEqual(log.tick(), [], 'nothing new, nothing said');
  tally.count(0, RefusedFor.Capacity);
  assert.deepEqual(log.tick(0.4), ['api iris: 1 request refused in the last 0.4 s: at capacity 8 (max_replica_concurrency 4 × 2 ready replicas)']);
});

test('no ready replica, a failing __init__, shutting down, the body cap; several reasons in one line', () => {
  const { gen, tally, log } = setup();
  tally.count(1, RefusedFor.Capacity);
  assert.deepEqual(log.tick(), ['api gen: 1 request refused in the last 1 s: no ready replica yet']);
  (gen as { initError: string | null }).initError = 'predictor.py:3: class PythonPredictor not found (found: Predictor)\nmore';
  tally.count(1, RefusedFor.Capacity);
  assert.deepEqual(log.tick(), ['api gen: 1 request refused in the last 1 s: its predictor failed to initialize: predictor.py:3: class PythonPredictor not found (found: Predictor)']);
  tally.count(0, RefusedFor.Capacity);
  tally.count(0, RefusedFor.Capacity);
  tally.count(0, RefusedFor.QueuedBytes);
  tally.count(0, RefusedFor.Closing);
  assert.deepEqual(log.tick(), [
    'api iris: 4 requests refused in the last 1 s: 2: at capacity 8 (max_replica_concurrency 4 × 2 ready replicas); 1: the bodies of requests not yet answered hold 256 MiB (--max-queued-bytes); 1: the server is shutting down',
  ]);
});

test('counts made on another thread, on the same buffer, are summarised here', () => {
  const { tally, log } = setup();
  const elsewhere = new RefusalTally(2, tally.buffer);
  elsewhere.count(1, RefusedFor.Closing);
  assert.deepEqual(log.tick(), ['api gen: 1 request refused in the last 1 s: the server is shutting down']);
});
