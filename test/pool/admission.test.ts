// Admission counters: capacity, close and a stop that waits for the last
// release, the same in shared memory and on one thread; in shared memory, the
// same figures whichever thread admits, and a stop that waits for a release
// made on another thread.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Admission, LocalAdmission, type AdmissionCounters } from '../../src/pool/admission.ts';

const ADMITTER = new URL('../fixtures/threads/admitter.ts', import.meta.url);

// The same rules whether the counters are in shared memory (front-door threads admit too) or plain numbers (one thread).
const KINDS: [string, (perReplica: number) => AdmissionCounters][] = [
  ['in shared memory', (n) => new Admission(n)],
  ['on one thread', (n) => new LocalAdmission(n)],
];

for (const [name, make] of KINDS) {
  test(`${name}: admits up to ready replicas × max_replica_concurrency, then refuses; a release makes room`, () => {
    const a = make(2);
    assert.equal(a.tryAdmit(), false, 'no ready replica: nothing admitted');
    a.setReadyReplicas(2);
    assert.equal(a.capacity, 4);
    for (let i = 0; i < 4; i++) assert.equal(a.tryAdmit(), true);
    assert.equal(a.tryAdmit(), false);
    assert.equal(a.inFlight, 4);
    a.release();
    assert.equal(a.tryAdmit(), true);
    a.setReadyReplicas(1);
    assert.equal(a.tryAdmit(), false, 'fewer ready replicas: over capacity until releases');
  });

  test(`${name}: after close() nothing is admitted, and the refused request leaves no count behind`, () => {
    const a = make(8);
    a.setReadyReplicas(1);
    assert.equal(a.tryAdmit(), true);
    a.close();
    assert.equal(a.stopped, true);
    assert.equal(a.tryAdmit(), false);
    assert.equal(a.inFlight, 1);
  });

  test(`${name}: stop() resolves at once with nothing in flight, and otherwise when the last request is released`, async () => {
    const idle = make(1);
    await idle.stop();
    const a = make(4);
    a.setReadyReplicas(1);
    a.tryAdmit();
    a.tryAdmit();
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    a.release();
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'one request still in flight');
    a.release();
    await stopping;
    assert.equal(a.inFlight, 0);
  });

  test(`${name}: every stop() waiting for the last release resolves with it`, async () => {
    const a = make(2);
    a.setReadyReplicas(1);
    a.tryAdmit();
    const both = Promise.all([a.stop(), a.stop()]);
    assert.equal(a.tryAdmit(), false, 'stopped');
    a.release();
    await both;
    assert.equal(a.inFlight, 0);
  });
}

test('threads admitting at once never pass the capacity; stop() waits for releases made on another thread', async () => {
  const a = new Admission(25);
  a.setReadyReplicas(4);
  const threads = Array.from({ length: 3 }, () => new Worker(ADMITTER, { workerData: { buffer: a.buffer, tries: 60, per: 25 } }));
  // Listened for from the start: a thread may exit while this test awaits something else.
  const exited = threads.map((t) => once(t, 'exit'));
  let mine = 0;
  for (let i = 0; i < 60; i++) if (a.tryAdmit()) mine++;
  const theirs = (await Promise.all(threads.map(async (t) => (await once(t, 'message'))[0] as number))).reduce((x, y) => x + y, 0);
  assert.equal(mine + theirs, 100, 'exactly the capacity admitted, over four threads');
  assert.equal(a.inFlight, 100);
  assert.equal(a.tryAdmit(), false);
  for (let i = 0; i < mine; i++) a.release();
  const stopping = a.stop();
  for (const t of threads) t.postMessage('release');
  await stopping;
  assert.equal(a.inFlight, 0);
  await Promise.all(exited);
});
