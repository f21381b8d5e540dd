// One worker's life with a fake process: which request a death is blamed on,
// which go back to the queue, timeouts, stop and kill.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { BusyPollBudget } from '../../src/pool/busy-poll.ts';
import { DEFAULT_PIPELINE } from '../../src/pool/pipeline-depth.ts';
import { Task } from '../../src/pool/task.ts';
import { WorkerSlot, type Ending } from '../../src/pool/worker-slot.ts';
import { fakeSpawner, FakeTimers, recordingJob, settle } from '../helpers/fake-worker.ts';

function setup(opts: { predictTimeoutMs?: number | null; initTimeoutMs?: number; threads?: number; busyPoll?: BusyPollBudget } = {}) {
  const { spawn, workers } = fakeSpawner();
  const timers = new FakeTimers();
  const endings: Ending[] = [];
  const log: string[] = [];
  const released: string[] = [];
  const abandoned: string[] = [];
  let readyCount = 0;
  let available = 0;
  const slot = new WorkerSlot({
    api: 'iris',
    label: 'iris/1/1',
    index: 1,
    spawn,
    timers,
    threads: opts.threads ?? 1,
    pipeline: DEFAULT_PIPELINE,
    busyPoll: opts.busyPoll ?? null,
    initTimeoutMs: opts.initTimeoutMs ?? 60_000,
    predictTimeoutMs: opts.predictTimeoutMs ?? null,
    stopGraceMs: 30_000,
    events: {
      ready: () => readyCount++,
      available: () => available++,
      exited: (_s, e) => endings.push(e),
      output: () => {},
      log: (line) => log.push(line),
    },
  });
  const owner = {
    release: (t: Task) => released.push(t.job.body.toString()),
    settled: () => {},
    abandoned: (t: Task, where: string) => abandoned.push(`${t.job.body.toString()}:${where}`),
  };
  const task = (body: string) => {
    const job = recordingJob(body);
    return { job, task: new Task(job, owner) };
  };
  return { slot, workers, timers, endings, log, released, abandoned, task, ready: () => readyCount, available: () => available };
}

test('a death fails only the requests the worker had started: answers already written arrive, unstarted ones are requeued in order', async () => {
  const s = setup();
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(s.task);
  for (const t of [a, b, c, d]) s.slot.run(t.task);
  assert.deepEqual(w.sent.map((x) => x.body), ['a', 'b', 'c', 'd']);
  w.start('a');
  assert.deepEqual([s.slot.outstanding, s.slot.executing], [4, 1]);
  w.answer('a');
  w.start('b');
  assert.deepEqual([s.slot.outstanding, s.slot.executing], [3, 1]);
  w.exit({ code: null, signal: 'SIGKILL' });
  assert.deepEqual([s.slot.outstanding, s.slot.executing], [0, 0]);
  assert.deepEqual(a.job.replies.map((r) => r.kind), ['prediction'], 'the answer written before the death reached its client');
  assert.equal(b.job.replies.length, 1);
  const crash = b.job.replies[0];
  assert.equal(crash.kind, 'worker-crashed');
  assert.ok(crash.kind === 'worker-crashed');
  assert.equal(crash.code, 'CORTEX_LOCAL_WORKER_CRASHED');
  assert.equal(crash.message, 'the worker of api "iris" was killed by SIGKILL while handling this request');
  assert.deepEqual([c.job.replies, d.job.replies], [[], []], 'never started: not answered, requeued');
  assert.equal(s.endings.length, 1);
  assert.equal(s.endings[0].kind, 'died');
  assert.equal(s.endings[0].failed, 1);
  assert.deepEqual(s.endings[0].requeue, [c.task, d.task]);
  assert.deepEqual(s.endings[0].requeue.map((t) => t.state), ['queued', 'queued']);
  assert.deepEqual(s.released, ['a', 'b'], 'the answered and the failed gave their admission back; requeued ones keep it');
  assert.equal(s.slot.state, 'idle');
  assert.equal(s.slot.outstanding, 0);
  await settle();
});

test('with several threads, every request executing when the worker dies gets the 502, and only those', () => {
  const s = setup();
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const tasks = ['a', 'b', 'c'].map(s.task);
  for (const t of tasks) s.slot.run(t.task);
  w.start('a');
  w.start('c');
  w.exit({ code: 1, signal: null });
  assert.deepEqual(tasks.map((t) => t.job.replies.map((r) => r.kind)), [['worker-crashed'], [], ['worker-crashed']]);
  assert.deepEqual(s.endings[0].requeue, [tasks[1].task]);
});

test('ids are reused once answered, and requeued requests keep the order they were sent in', () => {
  const s = setup();
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const [a, b] = ['a', 'b'].map(s.task);
  s.slot.run(a.task);
  s.slot.run(b.task);
  w.start('a');
  w.answer('a');
  const c = s.task('c');
  s.slot.run(c.task);
  assert.equal(w.idOf('c'), w.idOf('a'), 'the answered id is given to the next request');
  w.exit();
  assert.deepEqual(s.endings[0].requeue.map((t) => t.job.body.toString()), ['b', 'c']);
});

test('a reply or STARTED for an id the worker does not hold is garbage: the worker is killed, with a log line', async () => {
  const s = setup();
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const a = s.task('a');
  s.slot.run(a.task);
  w.start('a');
  w.events.started(99, performance.now());
  assert.deepEqual(w.signals, ['SIGKILL']);
  assert.deepEqual(s.log, ['[iris/1/1] the worker wrote STARTED for request id 99, which it does not hold; stopping it']);
  await settle();
  assert.deepEqual(a.job.replies, [{ kind: 'worker-crashed', code: 'CORTEX_LOCAL_WORKER_CRASHED', message: 'the worker of api "iris" was stopped: it wrote garbage on its reply pipe while handling this request' }]);
});

test('a malformed frame kills the worker with a clear log line; its executing request fails, the others are requeued', async () => {
  const s = setup();
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const [a, b] = ['a', 'b'].map(s.task);
  s.slot.run(a.task);
  s.slot.run(b.task);
  w.start('a');
  w.events.malformed('a frame header announces 4294967295 bytes, over the 268435456-byte maximum');
  assert.deepEqual(s.log, ['[iris/1/1] the worker wrote a frame header announces 4294967295 bytes, over the 268435456-byte maximum on its reply pipe; stopping it']);
  await settle();
  assert.equal(a.job.replies[0].kind, 'worker-crashed');
  assert.deepEqual(s.endings[0].requeue, [b.task]);
});

test('--predict-timeout: the request past it gets 504 at once, its worker is killed, the others on it get 502 or go back to the queue', async () => {
  const s = setup({ predictTimeoutMs: 5000 });
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const [a, b, c] = ['a', 'b', 'c'].map(s.task);
  for (const t of [a, b, c]) s.slot.run(t.task);
  w.start('a');
  s.timers.advance(3000);
  w.start('b');
  s.timers.advance(1999);
  assert.deepEqual(w.signals, []);
  s.timers.advance(1);
  assert.deepEqual(a.job.replies, [{ kind: 'timed-out', code: 'CORTEX_LOCAL_PREDICT_TIMEOUT', message: 'api "iris": predict() ran longer than --predict-timeout (5s); its worker was restarted' }]);
  assert.deepEqual(s.released, ['a'], 'its admission slot is free at once');
  assert.deepEqual(w.signals, ['SIGKILL']);
  assert.deepEqual(s.log, ['[iris/1/1] a request ran longer than --predict-timeout (5s); restarting the worker']);
  await settle();
  assert.equal(b.job.replies[0].kind, 'worker-crashed');
  assert.match((b.job.replies[0] as { message: string }).message, /was stopped: a request ran longer than --predict-timeout \(5s\) while handling this request/);
  assert.deepEqual(s.endings[0].requeue, [c.task]);
  assert.deepEqual(s.timers.pending, [], 'every deadline cleared');
});

test('a request answered in time clears its deadline', () => {
  const s = setup({ predictTimeoutMs: 5000 });
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const a = s.task('a');
  s.slot.run(a.task);
  w.start('a');
  w.answer('a');
  assert.deepEqual(s.timers.pending, []);
});

test('__init__ errors, an --init-timeout and a death before READY end as init-failed, with why', async () => {
  const s = setup({ initTimeoutMs: 10_000 });
  s.slot.spawn();
  s.workers[0].events.initError('Traceback…\nValueError: no model');
  s.workers[0].exit({ code: 1, signal: null });
  s.slot.spawn();
  s.timers.advance(10_000);
  assert.deepEqual(s.workers[1].signals, ['SIGKILL']);
  await settle();
  s.slot.spawn();
  s.workers[2].exit({ code: 3, signal: null });
  s.slot.spawn();
  s.workers[3].exit({ code: null, signal: null, error: new Error('spawn python9 ENOENT') });
  assert.deepEqual(
    s.endings.map((e) => [e.kind, e.why]),
    [
      ['init-failed', 'Traceback…\nValueError: no model'],
      ['init-failed', 'the predictor did not become ready within 10s (--init-timeout); its worker was stopped'],
      ['init-failed', 'the worker exited with code 3 before it was ready'],
      ['init-failed', 'the worker could not start: spawn python9 ENOENT'],
    ],
  );
});

test('stop(): a serving worker is asked to finish (SHUTDOWN), one in __init__ gets SIGTERM, either is killed after the grace', async () => {
  const s = setup();
  s.slot.spawn();
  s.workers[0].ready();
  const stopped = s.slot.stop();
  assert.equal(s.workers[0].shutdownAsked, true);
  assert.equal(s.slot.state, 'stopping');
  s.workers[0].exit({ code: 0, signal: null });
  await stopped;
  assert.deepEqual(s.endings.map((e) => e.kind), ['stopped']);

  s.slot.spawn();
  const stopping = s.slot.stop();
  assert.deepEqual(s.workers[1].signals, ['SIGTERM']);
  s.timers.advance(30_000);
  assert.deepEqual(s.workers[1].signals, ['SIGTERM', 'SIGKILL']);
  await stopping;
  assert.deepEqual(s.endings.map((e) => e.kind), ['stopped', 'stopped']);
  assert.equal(s.slot.state, 'idle');
});

test('a client that leaves: before its request starts, the slot is given back at once and the request is not requeued; while it executes, it is counted and holds its slot until its end', async () => {
  const s = setup();
  s.slot.spawn();
  const w = s.workers[0];
  w.ready();
  const [a, b] = ['a', 'b'].map(s.task);
  s.slot.run(a.task);
  s.slot.run(b.task);
  w.start('a');
  a.task.abandon();
  b.task.abandon();
  assert.deepEqual(s.abandoned, ['a:executing', 'b:sent']);
  assert.deepEqual(s.released, ['b']);
  w.answer('a');
  assert.deepEqual(a.job.replies, [], 'nobody to answer');
  assert.deepEqual(s.released, ['b', 'a']);
  w.exit();
  assert.deepEqual(s.endings[0].requeue, [], 'the abandoned request is not run elsewhere');
  assert.deepEqual(b.job.replies, []);
});

test('a worker is told to look for requests once it is ready, and to stop when another serves beside it on 2 CPUs; a stopping or dead one is told nothing', async () => {
  const budget = new BusyPollBudget({ spareCpus: 1, microseconds: 100 });
  const a = setup({ busyPoll: budget });
  const b = setup({ busyPoll: budget });
  a.slot.spawn();
  const wa = a.workers[0];
  assert.deepEqual(wa.busyPolls, [], 'not while its predictor initializes');
  wa.ready();
  assert.deepEqual(wa.busyPolls, [100]);
  b.slot.spawn();
  b.workers[0].ready();
  assert.deepEqual([wa.busyPolls, b.workers[0].busyPolls], [[100, 0], []]);
  b.workers[0].exit({ code: 1, signal: null });
  await settle();
  assert.deepEqual(wa.busyPolls, [100, 0, 100], 'alone again once the other died');
  b.slot.spawn();
  b.workers[1].ready();
  const stopped = a.slot.stop();
  assert.deepEqual([wa.busyPolls, b.workers[1].busyPolls], [[100, 0, 100, 0], [100]], 'the stopping worker left, the other may look');
  wa.exit({ code: 0, signal: null });
  await stopped;
  assert.deepEqual(wa.busyPolls, [100, 0, 100, 0]);
});

test('a worker with several threads is never told to look', () => {
  const budget = new BusyPollBudget({ spareCpus: 4, microseconds: 100 });
  const s = setup({ busyPoll: budget, threads: 2 });
  s.slot.spawn();
  s.workers[0].ready();
  assert.deepEqual(s.workers[0].busyPolls, []);
});
