// The pool's fault rules with fake workers: restarts and backoff, the
// capacity of a replica with a worker down, requeue onto live workers, pick
// order, scale-down order, drain, giving up on __init__, abandoned requests,
// and a stop that runs out of grace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AutoscalingConfig, ResolvedApi } from '../../src/config/types.ts';
import { ApiPool } from '../../src/pool/api-pool.ts';
import { ResourceLedger } from '../../src/pool/ledger.ts';
import type { Reply } from '../../src/pool/reply.ts';
import { makeApi } from '../helpers/api.ts';
import { fakeSpawner, FakeTimers, recordingJob, settle, type FakeWorker } from '../helpers/fake-worker.ts';

function setup(autoscaling: Partial<AutoscalingConfig>, opts: { compute?: Partial<ResolvedApi['compute']>; cpu?: number; gpus?: number; predictTimeoutMs?: number; maxInitAttempts?: number } = {}) {
  const { spawn, workers } = fakeSpawner();
  const timers = new FakeTimers();
  const log: string[] = [];
  const workdirs = { made: [] as string[], removed: [] as string[] };
  const pool = new ApiPool({
    api: makeApi('iris', '/project', { autoscaling: { max_replicas: 10, ...autoscaling }, compute: opts.compute }),
    projectDir: '/project',
    python: 'python3',
    ledger: new ResourceLedger({ cpu: opts.cpu ?? 8, mem: 2 ** 34, gpus: Array.from({ length: opts.gpus ?? 0 }, (_, index) => ({ index })) }),
    spawn: () => spawn,
    timers,
    log: (line) => log.push(line),
    predictTimeoutMs: opts.predictTimeoutMs,
    maxInitAttempts: opts.maxInitAttempts,
    workdirs: {
      create: (name) => {
        workdirs.made.push(name);
        return `/work/${name}`;
      },
      remove: (dir) => workdirs.removed.push(dir),
    },
  });
  const send = (body: string) => {
    assert.ok(pool.tryAdmit(), `${body} admitted`);
    const job = recordingJob(body);
    const ticket = pool.dispatch(job);
    return { job, ticket };
  };
  const live = () => workers.filter((w) => !w.exited);
  const states = () => pool.status().detail.map((r) => `${r.id}:${r.state}`);
  return { pool, workers, timers, log, workdirs, send, live, states };
}

const kinds = (replies: Reply[]) => replies.map((r) => r.kind);

test('a replica with a worker down keeps serving on the other, its capacity lowered by that worker\'s share, and gets it back', async () => {
  const s = setup({ min_replicas: 1, workers_per_replica: 2, max_replica_concurrency: 4 });
  s.pool.start();
  assert.equal(s.workers.length, 2);
  s.workers[0].ready();
  assert.equal(s.pool.capacity, 0, 'not ready until every worker of a new replica is');
  s.workers[1].ready();
  assert.equal(s.pool.capacity, 4);
  const a = s.send('a');
  const b = s.send('b');
  assert.deepEqual([s.workers[0].sent.length, s.workers[1].sent.length], [1, 1], 'spread over both workers');
  s.workers[0].start('a');
  s.workers[0].exit({ code: null, signal: 'SIGKILL' });
  assert.deepEqual(kinds(a.job.replies), ['worker-crashed']);
  assert.equal(s.pool.status().replicas.ready, 1, 'the replica still serves');
  assert.equal(s.pool.capacity, 2, 'its capacity is the live worker\'s share');
  assert.equal(s.pool.readyReplicas, 1);
  assert.deepEqual(s.log, ['[iris/1/1] worker was killed by SIGKILL; 1 request(s) failed; restarting']);
  const c = s.send('c');
  assert.deepEqual(s.workers[1].sent.map((x) => x.body), ['b', 'c'], 'new requests go to the live worker');
  s.timers.advance(0);
  assert.equal(s.workers.length, 3, 'the first restart is immediate');
  s.workers[2].ready();
  assert.equal(s.pool.capacity, 4);
  s.workers[1].answer('b');
  s.workers[1].answer('c');
  assert.deepEqual([kinds(b.job.replies), kinds(c.job.replies)], [['prediction'], ['prediction']]);
  assert.equal(s.pool.status().detail[0].restarts, 1);
});

test('requests a dead worker never started run on the other worker, ahead of the ones queued after them', () => {
  const s = setup({ min_replicas: 1, workers_per_replica: 2, threads_per_worker: 1, max_replica_concurrency: 40 }, {});
  s.pool.start();
  s.workers[0].ready();
  s.workers[1].ready();
  const sent = Array.from({ length: 20 }, (_, i) => s.send(`r${i}`));
  // threads 1 + pipeline 8: each worker holds 9, the rest wait in the API queue.
  assert.deepEqual([s.workers[0].sent.length, s.workers[1].sent.length, s.pool.status().queued], [9, 9, 2]);
  s.workers[0].start('r0');
  s.workers[0].exit();
  assert.deepEqual(kinds(sent[0].job.replies), ['worker-crashed']);
  const done = new Set<string>();
  while (done.size < 19) {
    const next = s.workers[1].sent.find((x) => !done.has(x.body));
    assert.ok(next !== undefined, `the live worker has work (${done.size} done)`);
    s.workers[1].start(next.body);
    s.workers[1].answer(next.body);
    done.add(next.body);
  }
  const requeued = ['r2', 'r4', 'r6', 'r8', 'r10', 'r12', 'r14', 'r16'];
  assert.deepEqual(s.workers[1].sent.map((x) => x.body).slice(9), [...requeued, 'r18', 'r19'], 'requeued first, in their order, then the queue');
  assert.deepEqual(sent.slice(1).map((x) => kinds(x.job.replies)), Array(19).fill(['prediction']));
});

test('a worker that answers fast is sent more at a time than one that answers slowly (pipeline-depth.ts)', () => {
  const s = setup({ min_replicas: 1, workers_per_replica: 2, threads_per_worker: 1, max_replica_concurrency: 200 });
  s.pool.start();
  s.workers[0].ready();
  s.workers[1].ready();
  const answered = new Set<string>();
  const answerNext = (w: FakeWorker) => {
    const next = w.sent.find((x) => !answered.has(x.body)) as { body: string };
    w.start(next.body);
    w.answer(next.body);
    answered.add(next.body);
  };
  let n = 0;
  // On one clock, worker 1 answers every 1/32 ms, worker 2 every 2 ms; both always have work.
  for (let tick = 1; tick <= 2000; tick++) {
    while (s.pool.inFlight < 200) s.send(`r${n++}`);
    s.timers.advance(1 / 32);
    answerNext(s.workers[0]);
    if (tick % 64 === 0) answerNext(s.workers[1]);
  }
  while (s.pool.inFlight < 200) s.send(`r${n++}`);
  const held = (w: FakeWorker) => w.sent.filter((x) => !answered.has(x.body)).length;
  assert.deepEqual([held(s.workers[0]), held(s.workers[1])], [1 + 64, 1 + 8], 'threads + 2 ms of its work (64), threads + the minimum (8)');
  assert.ok(s.pool.status().queued > 0, 'the rest wait in the API queue');
});

test('the least-loaded worker takes each request, the first of equals', () => {
  const s = setup({ min_replicas: 1, workers_per_replica: 3, threads_per_worker: 1, max_replica_concurrency: 30 });
  s.pool.start();
  for (const w of s.workers) w.ready();
  for (const b of ['a', 'b', 'c', 'd']) s.send(b);
  assert.deepEqual(s.workers.map((w) => w.sent.map((x) => x.body)), [['a', 'd'], ['b'], ['c']]);
  s.workers[1].answer('b');
  s.send('e');
  assert.deepEqual(s.workers[1].sent.map((x) => x.body), ['b', 'e']);
});

test('a dead worker restarts at once; with backoff when it fails __init__ or dies again before answering; an answer resets it', async () => {
  const s = setup({ min_replicas: 1 }, {});
  s.pool.start();
  s.workers[0].ready();
  s.workers[0].exit();
  assert.equal(s.pool.status().replicas.starting, 1, 'its only worker down: the replica is starting again');
  assert.equal(s.pool.capacity, 0);
  s.timers.advance(0);
  assert.equal(s.workers.length, 2);
  s.workers[1].exit({ code: 1, signal: null });
  assert.match(s.log.at(-1) as string, /^\[iris\/1\/1\] predictor failed to initialize; retrying in 1\.0s:\n    the worker exited with code 1 before it was ready$/);
  s.timers.advance(999);
  assert.equal(s.workers.length, 2);
  s.timers.advance(1);
  assert.equal(s.workers.length, 3);
  s.workers[2].ready();
  assert.equal(s.pool.status().replicas.ready, 1);
  s.workers[2].exit();
  s.timers.advance(0);
  assert.equal(s.workers.length, 3, 'dead again before answering anything: backoff');
  s.timers.advance(1000);
  assert.equal(s.workers.length, 4);
  s.workers[3].ready();
  s.send('a');
  s.workers[3].start('a');
  s.workers[3].answer('a');
  s.workers[3].exit();
  s.timers.advance(0);
  assert.equal(s.workers.length, 5, 'a worker that answered again restarts at once');
});

test('a new replica whose __init__ keeps failing is retried with backoff, then given up after maxInitAttempts: the API is marked failed', async () => {
  const s = setup({ min_replicas: 1, workers_per_replica: 2 }, { maxInitAttempts: 3 });
  let failed: unknown = null;
  s.pool.on('failed', (why) => (failed = why));
  s.pool.start();
  s.workers[0].events.initError('Traceback…\nImportError: no sklearn');
  s.workers[0].exit({ code: 1, signal: null });
  assert.deepEqual(s.workers[1].signals, ['SIGKILL'], 'its sibling is stopped too');
  await settle();
  assert.deepEqual(s.states(), ['1:failed']);
  assert.equal(s.pool.initError, 'Traceback…\nImportError: no sklearn');
  assert.deepEqual(s.timers.pending, [1000]);
  s.timers.advance(1000);
  assert.equal(s.workers.length, 4, 'the whole replica starts again');
  s.workers[2].exit({ code: 1, signal: null });
  await settle();
  s.timers.advance(2000);
  assert.equal(s.workers.length, 6);
  s.workers[4].exit({ code: 1, signal: null });
  await settle();
  assert.equal(failed, 'the worker exited with code 1 before it was ready');
  assert.deepEqual(s.timers.pending, [], 'no retry scheduled');
  assert.match(s.log.join('\n'), /\[iris\/1\] predictor failed to initialize 3 times in a row; giving up/);
  assert.match(s.log.join('\n'), /api iris failed: its predictor failed to initialize 3 times in a row; no replica of it starts any more/);
  s.pool.setDesiredReplicas(2);
  assert.equal(s.workers.length, 6, 'no new replica starts either');
  assert.equal(s.pool.status().replicas.failed, 1);
});

test('GPU replicas start their workers one after another', () => {
  const s = setup({ min_replicas: 1, workers_per_replica: 3 }, { compute: { gpu: 1 }, gpus: 1 });
  s.pool.start();
  assert.equal(s.workers.length, 1);
  s.workers[0].ready();
  assert.equal(s.workers.length, 2);
  s.workers[1].ready();
  s.workers[2].ready();
  assert.equal(s.pool.readyReplicas, 1);
});

test('scale-down drains the newest ready replica: it takes no new request, finishes its own, then stops its workers and its folder is removed', async () => {
  const s = setup({ min_replicas: 2, max_replica_concurrency: 4 });
  s.pool.start();
  s.workers[0].ready();
  s.workers[1].ready();
  assert.deepEqual(s.workdirs.made, ['iris-1', 'iris-2']);
  const a = s.send('a');
  const b = s.send('b');
  assert.deepEqual([s.workers[0].sent.length, s.workers[1].sent.length], [1, 1]);
  s.pool.setDesiredReplicas(1);
  assert.deepEqual(s.states(), ['1:ready', '2:draining']);
  assert.equal(s.pool.capacity, 4);
  s.send('c');
  assert.deepEqual(s.workers[0].sent.map((x) => x.body), ['a', 'c']);
  assert.equal(s.workers[1].shutdownAsked, false, 'not while it has a request');
  s.workers[1].start('b');
  s.workers[1].answer('b');
  assert.equal(s.workers[1].shutdownAsked, true);
  s.workers[1].exit({ code: 0, signal: null });
  await settle();
  assert.deepEqual(s.states(), ['1:ready']);
  assert.deepEqual(s.workdirs.removed, ['/work/iris-2']);
  assert.deepEqual(kinds(b.job.replies), ['prediction']);
  assert.equal(a.job.replies.length, 0);
});

test('a replica that does not fit stays pending with the reason, and starts when room is given back', async () => {
  const s = setup({ min_replicas: 2 }, { compute: { cpu: 3 }, cpu: 4 });
  s.pool.start();
  assert.deepEqual(s.states(), ['1:starting', '2:pending']);
  assert.match(s.pool.status().detail[1].reason as string, /^needs 3 cpu, 1 free of 4: held by iris replica 1$/);
  s.workers[0].ready();
  s.pool.setDesiredReplicas(3);
  s.pool.setDesiredReplicas(1);
  assert.deepEqual(s.states(), ['1:ready'], 'pending replicas go first when scaling down');
});

test('a client that leaves while queued frees its admission slot at once, and its request never runs', () => {
  const s = setup({ min_replicas: 1, threads_per_worker: 1, max_replica_concurrency: 10 }, {});
  s.pool.start();
  s.workers[0].ready();
  const first = Array.from({ length: 9 }, (_, i) => s.send(`r${i}`));
  const queued = s.send('q');
  assert.equal(s.pool.status().queued, 1);
  assert.equal(s.pool.inFlight, 10);
  assert.equal(s.pool.tryAdmit(), false, 'at capacity');
  queued.ticket.abandon();
  assert.equal(s.pool.inFlight, 9, 'freed at once');
  assert.deepEqual(s.pool.abandoned, { waiting: 1, executing: 0 });
  s.workers[0].start('r0');
  first[0].ticket.abandon();
  assert.equal(s.pool.inFlight, 9, 'an executing request keeps its slot');
  assert.deepEqual(s.pool.abandoned, { waiting: 1, executing: 1 });
  s.workers[0].answer('r0');
  assert.equal(s.pool.inFlight, 8);
  assert.ok(!s.workers[0].sent.some((x) => x.body === 'q'), 'the abandoned request is never sent');
  assert.deepEqual(queued.job.replies, []);
});

test('with --predict-timeout a hung request is answered 504 and its worker restarted', async () => {
  const s = setup({ min_replicas: 1, threads_per_worker: 1, max_replica_concurrency: 2 }, { predictTimeoutMs: 30_000 });
  s.pool.start();
  s.workers[0].ready();
  const hung = s.send('hung');
  const next = s.send('next');
  s.workers[0].start('hung');
  s.timers.advance(30_000);
  assert.deepEqual(kinds(hung.job.replies), ['timed-out']);
  await settle();
  s.timers.advance(0);
  s.workers[1].ready();
  s.workers[1].start('next');
  s.workers[1].answer('next');
  assert.deepEqual(kinds(next.job.replies), ['prediction'], 'the request behind it ran on the new worker');
  assert.equal(s.pool.inFlight, 0);
});

test('a graceful stop waits for admitted requests, up to the grace: then busy workers are killed, executing requests get 502 and queued ones 503', async () => {
  const s = setup({ min_replicas: 1, threads_per_worker: 1, max_replica_concurrency: 20 });
  s.pool.start();
  s.workers[0].ready();
  const sent = Array.from({ length: 12 }, (_, i) => s.send(`r${i}`));
  s.workers[0].start('r0');
  let stopped = false;
  const stopping = s.pool.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false);
  assert.equal(s.pool.tryAdmit(), false, 'nothing admitted once stopping');
  s.timers.advance(30_000);
  assert.match(s.log.at(-1) as string, /^\[iris\] 12 requests still unanswered 30s after the stop began; stopping their workers$/);
  await stopping;
  assert.deepEqual(kinds(sent[0].job.replies), ['worker-crashed']);
  assert.deepEqual(sent.slice(1).map((x) => kinds(x.job.replies)), Array(11).fill(['unavailable']));
  assert.equal(s.pool.inFlight, 0);
  assert.equal(s.live().length, 0);
});
