// One worker's life, owned in one place: spawn, run requests, stop, kill,
// and what its exit means for the requests it held. The process comes from an
// injected spawn function (pool/python-worker.ts in the server, fakes in
// tests), so every fault rule here is tested without Python.
//
// Which request a death is blamed on: the worker says STARTED before it calls
// predict() for a request and writes each result before starting the next, so
// at its exit the requests started and not answered are exactly those that
// were executing. They get 502 and are never run again (a request that crashed
// a worker must not walk through the pool crashing others); the ones it had
// not started go back to the API's queue.
import { performance } from 'node:perf_hooks';
import type { Bytes } from '../bytes.ts';
import { PredictTimeoutError, WorkerCrashedError } from '../errors.ts';
import type { WorkerExit } from '../python-bridge/worker-process.ts';
import type { BusyPollBudget, BusyPoller } from './busy-poll.ts';
import { PipelineDepth, type PipelineLimits } from './pipeline-depth.ts';
import type { Reply } from './reply.ts';
import type { Task } from './task.ts';
import type { Timers } from './timers.ts';

/** A running worker process, as the slot drives it. */
export interface WorkerProcess extends BusyPoller {
  readonly pid: number | undefined;
  /** sends request `id` (ids are the slot's own, from 1) */
  send(id: number, body: Bytes): void;
  /** asks it to answer what it has and exit */
  shutdown(): void;
  /** signals its process group */
  kill(signal: NodeJS.Signals): void;
}

/** What a worker process reports. None is called during the spawn call itself. */
export interface WorkerEvents {
  /** `modelSignature`: an onnx/tensorflow model's inputs (null for type python) */
  ready(modelSignature: unknown): void;
  initError(traceback: string): void;
  /** `at`, here and in replied(): performance.now() when the frame was read */
  started(id: number, at: number): void;
  replied(id: number, reply: Reply, at: number): void;
  /** a promise returned: the log is full, stop reading this output until it resolves */
  output(stream: 'stdout' | 'stderr', lines: string[]): void | Promise<void>;
  /** its reply pipe carried something that is not a frame */
  malformed(reason: string): void;
  /** last event: after every frame it wrote before exiting */
  exited(exit: WorkerExit): void;
}

export type SpawnWorker = (events: WorkerEvents) => WorkerProcess;

export type SlotState = 'idle' | 'starting' | 'ready' | 'stopping';

/** What a worker is killed for, when something kills it rather than it dying by itself ('crash'). */
export type KillCause = 'crash' | 'memory' | 'timeout';

/** How a worker's life ended, for its replica. */
export interface Ending {
  /** stopped: stop() was asked; init-failed: it never became ready; died: it died while serving */
  kind: 'stopped' | 'init-failed' | 'died';
  /** why a worker that died did: it crashed, or was stopped over compute.mem (--enforce-mem) or --predict-timeout */
  cause: KillCause;
  /** for the log and the status: "was killed by SIGKILL", an __init__ traceback, … */
  why: string;
  /** requests that were executing, answered 502 */
  failed: number;
  /** requests sent and never started, oldest first: for the API's queue */
  requeue: Task[];
}

export interface SlotEvents {
  ready(slot: WorkerSlot): void;
  /** a request was answered: the slot may take another (or its replica may be drained) */
  available(slot: WorkerSlot): void;
  exited(slot: WorkerSlot, ending: Ending): void;
  output(slot: WorkerSlot, stream: 'stdout' | 'stderr', lines: string[]): void | Promise<void>;
  log(line: string): void;
}

export interface SlotOptions {
  api: string;
  /** "api/replica/worker", the prefix of its log lines */
  label: string;
  index: number;
  spawn: SpawnWorker;
  events: SlotEvents;
  timers: Timers;
  /** threads_per_worker: requests it executes at once */
  threads: number;
  /** how many more it may hold, queued in its pipe */
  pipeline: PipelineLimits;
  initTimeoutMs: number;
  /** null: no limit (Cortex had none) */
  predictTimeoutMs: number | null;
  /** how long a stopping worker may take before it is killed */
  stopGraceMs: number;
  /** tells the worker, while it serves, whether to look for requests before it blocks (null: never) */
  busyPoll: BusyPollBudget | null;
}

export class WorkerSlot {
  readonly index: number;
  readonly label: string;
  state: SlotState = 'idle';
  /** what its worker's READY said of an onnx/tensorflow model's inputs */
  modelSignature: unknown = null;
  /** seconds from its last spawn to its READY (imports and __init__) */
  loadSeconds = 0;
  #spawnedAt = 0;
  readonly #opts: SlotOptions;
  #proc: WorkerProcess | null = null;
  /** bumped at each spawn: events of an older process are ignored */
  #generation = 0;
  /** tasks by id - 1; ids of answered tasks are reused */
  #tasks: (Task | undefined)[] = [];
  #deadlines: unknown[] = [];
  #free: number[] = [];
  #outstanding = 0;
  #executing = 0;
  readonly #pipeline: PipelineDepth;
  readonly #clock: () => number;
  #seq = 0;
  #initTimer: unknown = null;
  #stopTimer: unknown = null;
  #initError: string | null = null;
  #initFailure: string | null = null;
  #killReason: string | null = null;
  #killCause: KillCause = 'crash';
  #stopAsked = false;
  #exited: Promise<void> = Promise.resolve();
  #onExited: () => void = () => {};

  constructor(opts: SlotOptions) {
    this.#opts = opts;
    this.index = opts.index;
    this.label = opts.label;
    this.#pipeline = new PipelineDepth(opts.pipeline);
    this.#clock = () => opts.timers.clock();
  }

  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  /** requests sent and not answered (queued in the worker or executing) */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** requests the worker has started and not answered */
  get executing(): number {
    return this.#executing;
  }

  /** the requests it may hold: its threads' and those queued in its pipe (pipeline-depth.ts) */
  get maxOutstanding(): number {
    return this.#opts.threads + this.#pipeline.depth;
  }

  spawn(): void {
    if (this.state !== 'idle') throw new Error(`worker ${this.label} spawned while ${this.state}`);
    const generation = ++this.#generation;
    const mine = () => generation === this.#generation;
    this.state = 'starting';
    this.#spawnedAt = performance.now();
    this.#pipeline.reset();
    this.#exited = new Promise((resolve) => (this.#onExited = resolve));
    const timers = this.#opts.timers;
    this.#proc = this.#opts.spawn({
      ready: (modelSignature) => {
        if (!mine()) return;
        this.modelSignature = modelSignature;
        this.#ready();
      },
      initError: (traceback) => {
        if (mine()) this.#initError = traceback;
      },
      started: (id, at) => mine() && this.#started(id, at),
      replied: (id, reply, at) => mine() && this.#replied(id, reply, at),
      output: (stream, lines) => (mine() ? this.#opts.events.output(this, stream, lines) : undefined),
      malformed: (reason) => {
        if (!mine()) return;
        this.#opts.events.log(`[${this.label}] the worker wrote ${reason} on its reply pipe; stopping it`);
        this.kill('it wrote garbage on its reply pipe');
      },
      exited: (exit) => mine() && this.#exit(exit),
    });
    this.#initTimer = timers.setTimeout(() => {
      this.#initTimer = null;
      if (this.state !== 'starting') return;
      const secs = Math.round(this.#opts.initTimeoutMs / 1000);
      this.#initFailure = `the predictor did not become ready within ${secs}s (--init-timeout); its worker was stopped`;
      this.kill('--init-timeout');
    }, this.#opts.initTimeoutMs);
  }

  run(task: Task): void {
    const proc = this.#proc;
    if (proc === null || this.state !== 'ready') throw new Error(`worker ${this.label} given a request while ${this.state}`);
    const slot = this.#free.pop() ?? this.#tasks.length;
    this.#tasks[slot] = task;
    task.state = 'sent';
    task.seq = ++this.#seq;
    this.#pipeline.sent(this.#clock, this.#outstanding++);
    proc.send(slot + 1, task.job.body);
  }

  /**
   * Asks the worker to answer what it has and exit (a worker still in
   * __init__, which reads no frame, is sent SIGTERM); kills it after the
   * grace period. Resolves once it has exited.
   */
  stop(): Promise<void> {
    const proc = this.#proc;
    if (proc === null) return Promise.resolve();
    if (this.state === 'stopping') return this.#exited;
    this.#stopAsked = true;
    if (this.state === 'starting') proc.kill('SIGTERM');
    else proc.shutdown();
    this.#opts.busyPoll?.leave(proc);
    this.state = 'stopping';
    this.#stopTimer = this.#opts.timers.setTimeout(() => {
      this.#stopTimer = null;
      this.kill(`it did not stop within ${Math.round(this.#opts.stopGraceMs / 1000)}s`);
    }, this.#opts.stopGraceMs);
    return this.#exited;
  }

  /** SIGKILLs the worker's process group; `reason` then describes its death, `cause` classifies it. */
  kill(reason?: string, cause: KillCause = 'crash'): void {
    if (this.#proc === null) return;
    if (reason !== undefined && this.#killReason === null) {
      this.#killReason = reason;
      this.#killCause = cause;
    }
    this.#proc.kill('SIGKILL');
  }

  #ready(): void {
    if (this.state !== 'starting') return;
    this.#clearInitTimer();
    this.state = 'ready';
    this.loadSeconds = (performance.now() - this.#spawnedAt) / 1000;
    if (this.#proc !== null) this.#opts.busyPoll?.join(this.#proc, this.#opts.threads === 1);
    this.#opts.events.ready(this);
  }

  #task(id: number, what: string): Task | undefined {
    const task = this.#tasks[id - 1];
    if (task === undefined) {
      this.#opts.events.log(`[${this.label}] the worker wrote ${what} for request id ${id}, which it does not hold; stopping it`);
      this.kill('it wrote garbage on its reply pipe');
    }
    return task;
  }

  #started(id: number, at: number): void {
    const task = this.#task(id, 'STARTED');
    if (task === undefined) return;
    task.state = 'executing';
    task.startedAt = at;
    this.#executing++;
    const limit = this.#opts.predictTimeoutMs;
    if (limit !== null) this.#deadlines[id - 1] = this.#opts.timers.setTimeout(() => this.#timedOut(id, task), limit);
  }

  #replied(id: number, reply: Reply, at: number): void {
    const task = this.#task(id, 'a reply');
    if (task === undefined) return;
    this.#forget(id);
    this.#pipeline.answered(this.#clock, this.#outstanding);
    task.settle(reply, at);
    this.#opts.events.available(this);
  }

  #timedOut(id: number, task: Task): void {
    if (this.#tasks[id - 1] !== task) return;
    this.#forget(id);
    const error = new PredictTimeoutError(this.#opts.api, this.#opts.predictTimeoutMs as number);
    task.settle({ kind: 'timed-out', message: error.message, code: error.code });
    const limit = `a request ran longer than --predict-timeout (${Number(((this.#opts.predictTimeoutMs as number) / 1000).toFixed(3))}s)`;
    this.#opts.events.log(`[${this.label}] ${limit}; restarting the worker`);
    this.kill(limit, 'timeout');
  }

  #forget(id: number): void {
    if (this.#tasks[id - 1]?.state === 'executing') this.#executing--;
    this.#tasks[id - 1] = undefined;
    const deadline = this.#deadlines[id - 1];
    if (deadline !== undefined) {
      this.#opts.timers.clearTimeout(deadline);
      this.#deadlines[id - 1] = undefined;
    }
    this.#free.push(id - 1);
    this.#outstanding--;
  }

  #exit(exit: WorkerExit): void {
    this.#generation++;
    if (this.#proc !== null) this.#opts.busyPoll?.leave(this.#proc);
    this.#proc = null;
    this.#clearInitTimer();
    if (this.#stopTimer !== null) this.#opts.timers.clearTimeout(this.#stopTimer);
    this.#stopTimer = null;
    const reason = this.#killReason;
    const cause = this.#killCause;
    const was = this.state;
    const stopped = this.#stopAsked;
    const initError = this.#initError;
    const initFailure = this.#initFailure;
    this.#killReason = null;
    this.#killCause = 'crash';
    this.#stopAsked = false;
    this.#initError = null;
    this.#initFailure = null;
    this.state = 'idle';

    const failed: Task[] = [];
    const requeue: Task[] = [];
    for (let i = 0; i < this.#tasks.length; i++) {
      const task = this.#tasks[i];
      if (task === undefined) continue;
      const deadline = this.#deadlines[i];
      if (deadline !== undefined) this.#opts.timers.clearTimeout(deadline);
      if (task.state === 'executing') failed.push(task);
      else if (task.abandoned) task.state = 'done';
      else requeue.push(task);
    }
    this.#tasks = [];
    this.#deadlines = [];
    this.#free = [];
    this.#outstanding = 0;
    this.#executing = 0;
    requeue.sort((a, b) => a.seq - b.seq);
    for (const task of requeue) task.state = 'queued';

    const how = reason !== null ? `was stopped: ${reason}` : describeExit(exit);
    if (failed.length > 0) {
      const error = new WorkerCrashedError(this.#opts.api, exit.code, exit.signal, reason !== null ? how : undefined);
      const reply: Reply = { kind: 'worker-crashed', message: error.message, code: error.code };
      for (const task of failed) task.settle(reply);
    }
    let ending: Ending;
    if (stopped) ending = { kind: 'stopped', why: how, cause, failed: failed.length, requeue };
    else if (was === 'starting') {
      const why = initError
        ?? initFailure
        ?? (reason !== null ? `the worker was stopped while initializing: ${reason}` : exit.error ? `the worker could not start: ${exit.error.message}` : `the worker ${how} before it was ready`);
      ending = { kind: 'init-failed', why, cause, failed: failed.length, requeue };
    } else ending = { kind: 'died', why: how, cause, failed: failed.length, requeue };
    this.#onExited();
    this.#opts.events.exited(this, ending);
  }

  #clearInitTimer(): void {
    if (this.#initTimer !== null) this.#opts.timers.clearTimeout(this.#initTimer);
    this.#initTimer = null;
  }
}

export function describeExit(exit: WorkerExit): string {
  if (exit.error) return `could not start (${exit.error.message})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
