// One replica: `workers_per_replica` Python processes sharing one compute
// slice. Explicit states, restart with backoff, drain before stop, every
// child reaped. The pool owns dispatch; a replica owns its processes.
import type { ResolvedApi } from '../config/types.ts';
import { WorkerCrashedError } from '../errors.ts';
import { PythonWorker, type WorkerExit } from '../python-bridge/worker-process.ts';
import { restartDelayMs, type BackoffOptions } from './backoff.ts';
import type { Job } from './job.ts';
import type { Reservation } from './ledger.ts';
import { checkMemory, readRssBytes } from './memory.ts';
import { modelsDir } from './models-dir.ts';
import { workerEnv } from './worker-env.ts';
import { join } from 'node:path';

export type ReplicaState = 'starting' | 'ready' | 'failed' | 'draining' | 'stopped';
export type WorkerState = 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped';

export interface ReplicaHooks {
  /** any change of replica state */
  stateChanged(replica: Replica): void;
  /** a ready worker may take more jobs */
  workerAvailable(worker: PoolWorker): void;
  /** a worker answered a job */
  completed(job: Job, kind: number, payload: Buffer): void;
  /** a worker died while the job may have been executing */
  crashed(job: Job, error: WorkerCrashedError): void;
  /** jobs sent to a worker that died before starting them */
  requeue(jobs: Job[]): void;
  log(line: string): void;
  output(label: string, stream: 'stdout' | 'stderr', line: string): void;
}

export interface ReplicaOptions {
  api: ResolvedApi;
  projectDir: string;
  python: string;
  baseEnv: NodeJS.ProcessEnv;
  id: number;
  reservation: Reservation;
  hooks: ReplicaHooks;
  backoff: BackoffOptions;
  initTimeoutMs: number;
  /** how long a stopping worker may take before it is killed */
  stopGraceMs: number;
  /** how often worker memory is read when compute.mem is set */
  memoryCheckMs: number;
}

export class PoolWorker {
  readonly replica: Replica;
  readonly index: number;
  state: WorkerState = 'starting';
  process: PythonWorker | null = null;
  /** jobs sent and not answered, in the order sent; arrays, not a Map keyed by id: see PythonWorker's callbacks */
  readonly outstanding: Job[] = [];
  readonly #outstandingIds: number[] = [];
  failures = 0;
  timer: NodeJS.Timeout | null = null;
  exited: Promise<void> = Promise.resolve();
  /** why we killed it, when we did (memory limit) */
  killReason: string | null = null;

  constructor(replica: Replica, index: number) {
    this.replica = replica;
    this.index = index;
  }

  get label(): string {
    return `${this.replica.api.name}/${this.replica.id}/${this.index}`;
  }

  run(job: Job): void {
    const proc = this.process as PythonWorker;
    const hooks = this.replica.hooks;
    const id = proc.predict(job.body, (kind, payload) => {
      const k = this.#outstandingIds.indexOf(id);
      // Only a job still ours is answered: once taken back after a crash it
      // belongs to the queue, and settling it here would answer it twice.
      if (k === -1) return;
      this.#outstandingIds.splice(k, 1);
      this.outstanding.splice(k, 1);
      hooks.completed(job, kind, payload);
      if (this.state === 'ready') hooks.workerAvailable(this);
      else this.replica.checkDrained();
    });
    this.outstanding.push(job);
    this.#outstandingIds.push(id);
  }

  /** Takes every outstanding job, oldest first (the worker is gone; they get no reply). */
  takeOutstanding(): Job[] {
    this.#outstandingIds.length = 0;
    return this.outstanding.splice(0);
  }
}

export class Replica {
  readonly api: ResolvedApi;
  readonly id: number;
  readonly reservation: Reservation;
  readonly hooks: ReplicaHooks;
  readonly workers: PoolWorker[] = [];
  state: ReplicaState = 'starting';
  /** the last init traceback or crash description, for status */
  lastError: string | null = null;
  /** onnx/tensorflow: the model's input signature, from the worker's ready frame */
  modelSignature: unknown = null;
  restarts = 0;
  readonly #opts: ReplicaOptions;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #memoryTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  constructor(opts: ReplicaOptions) {
    this.#opts = opts;
    this.api = opts.api;
    this.id = opts.id;
    this.reservation = opts.reservation;
    this.hooks = opts.hooks;
    for (let i = 1; i <= opts.api.autoscaling.workers_per_replica; i++) this.workers.push(new PoolWorker(this, i));
  }

  get outstanding(): number {
    let n = 0;
    for (const w of this.workers) n += w.outstanding.length;
    return n;
  }

  /** the traceback of the last failed __init__ while the replica has not been ready since */
  get initError(): string | null {
    return this.#failures > 0 ? this.lastError : null;
  }

  get gpus(): number[] {
    return this.reservation.gpus.map((g) => g.index);
  }

  start(): void {
    this.#setState('starting');
    // Within a GPU replica workers start one after another, so concurrent
    // __init__ calls cannot race for GPU memory (the seed's parallelism note).
    const sequential = this.reservation.gpus.length > 0;
    if (sequential) this.#spawn(this.workers[0]);
    else for (const w of this.workers) this.#spawn(w);
    const limit = this.api.compute.mem;
    if (limit !== null && this.#memoryTimer === null) {
      this.#memoryTimer = setInterval(() => void this.#checkMemory(limit), this.#opts.memoryCheckMs);
      this.#memoryTimer.unref();
    }
  }

  async #checkMemory(limit: number): Promise<void> {
    const live = this.workers.filter((w) => w.process?.pid !== undefined && w.state !== 'stopping');
    const rss = await Promise.all(live.map((w) => readRssBytes(w.process?.pid as number)));
    const verdict = checkMemory(limit, rss);
    if (verdict === null) return;
    const w = live[verdict.victim];
    if (w.process === null || w.state === 'stopping' || w.killReason !== null) return;
    w.killReason = verdict.message;
    w.process.kill('SIGKILL');
  }

  /** No new jobs; stops once every outstanding job is answered. */
  drain(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#setState('draining');
    this.#stopping = new Promise<void>((resolve) => {
      this.#onDrained = resolve;
    });
    this.checkDrained();
    return this.#stopping;
  }

  /** Kills every process at once (second signal, tests). */
  kill(): void {
    this.#clearTimers();
    for (const w of this.workers) w.process?.kill('SIGKILL');
  }

  #onDrained: (() => void) | null = null;

  checkDrained(): void {
    if (this.state !== 'draining' || this.#onDrained === null || this.outstanding > 0) return;
    const done = this.#onDrained;
    this.#onDrained = null;
    this.#clearTimers();
    void Promise.all(this.workers.map((w) => this.#stopWorker(w))).then(() => {
      this.#setState('stopped');
      done();
    });
  }

  #spawn(w: PoolWorker): void {
    const api = this.api;
    const proc = new PythonWorker({
      python: this.#opts.python,
      cwd: this.#opts.projectDir,
      env: workerEnv(this.#opts.baseEnv, api, this.reservation.gpus),
      init: {
        type: api.predictor.type,
        path: join(this.#opts.projectDir, api.predictor.path),
        python_path: api.predictor.python_path,
        config: api.predictor.config,
        threads: api.autoscaling.threads_per_worker,
        model: api.predictor.model,
        signature_key: api.predictor.signature_key,
        models_dir: modelsDir(this.#opts.projectDir),
      },
    });
    w.process = proc;
    w.state = 'starting';
    let initError: string | null = null;
    w.exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.on('output', (stream: 'stdout' | 'stderr', line: string) => this.hooks.output(w.label, stream, line));
    proc.once('ready', (info: { model_signature?: unknown } | null) => {
      if (info?.model_signature !== undefined) this.modelSignature = info.model_signature;
      if (w.timer) clearTimeout(w.timer);
      w.timer = null;
      if (w.state !== 'starting') return;
      w.state = 'ready';
      w.failures = 0;
      this.#onWorkerReady(w);
    });
    proc.once('init-error', (traceback: string) => {
      initError = traceback;
    });
    proc.once('exit', (exit: WorkerExit) => this.#onWorkerExit(w, proc, exit, initError));
    w.timer = setTimeout(() => {
      w.timer = null;
      if (w.state !== 'starting' || w.process !== proc) return;
      const secs = Math.round(this.#opts.initTimeoutMs / 1000);
      this.#initFailed(`the predictor did not become ready within ${secs}s (--init-timeout); its worker was stopped`);
    }, this.#opts.initTimeoutMs);
    w.timer.unref();
    proc.start();
  }

  #onWorkerReady(w: PoolWorker): void {
    if (this.state === 'draining' || this.state === 'stopped') return;
    const next = this.workers.find((x) => x.process === null && x.state === 'starting');
    if (next) this.#spawn(next);
    if (this.workers.every((x) => x.state === 'ready')) {
      this.#failures = 0;
      this.#setState('ready');
    }
    this.hooks.workerAvailable(w);
  }

  #onWorkerExit(w: PoolWorker, proc: PythonWorker, exit: WorkerExit, initError: string | null): void {
    if (w.process !== proc) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    const previous = w.state;
    const wasReady = previous === 'ready';
    const jobs = w.takeOutstanding();
    const killReason = w.killReason;
    w.killReason = null;
    w.process = null;
    // Not dispatchable from here on: requeued jobs must go to live workers.
    w.state = 'stopped';
    if (jobs.length > 0) {
      // Requests start in the order sent and at most threads_per_worker run at
      // once, so only the oldest `threads` may have started: those fail, the
      // rest never ran and go back to the queue.
      const error = new WorkerCrashedError(this.api.name, exit.code, exit.signal, killReason === null ? undefined : `was stopped: ${killReason}`);
      const started = this.api.autoscaling.threads_per_worker;
      for (const job of jobs.slice(0, started)) this.hooks.crashed(job, error);
      this.hooks.requeue(jobs.slice(started));
    }
    if (previous === 'stopping' || this.state === 'draining' || this.state === 'stopped' || this.state === 'failed') {
      this.checkDrained();
      return;
    }
    if (initError !== null || !wasReady) {
      const why = initError
        ?? (killReason !== null ? `while initializing: ${killReason}` : null)
        ?? (exit.error ? `cannot start ${this.#opts.python}: ${exit.error.message}` : `the worker ${describeExit(exit)} before it was ready`);
      this.#initFailed(why);
      return;
    }
    const how = killReason === null ? describeExit(exit) : `was stopped: ${killReason}`;
    this.lastError = `worker ${w.index} ${how}`;
    this.hooks.log(`[${w.label}] worker ${how}; ${jobs.length > 0 ? `${Math.min(jobs.length, this.api.autoscaling.threads_per_worker)} request(s) failed; ` : ''}restarting`);
    w.state = 'restarting';
    w.failures++;
    this.restarts++;
    this.#setState('starting');
    const delay = restartDelayMs(w.failures, this.#opts.backoff);
    w.timer = setTimeout(() => {
      w.timer = null;
      if (w.state === 'restarting') this.#spawn(w);
    }, delay);
    w.timer.unref();
  }

  #initFailed(message: string): void {
    this.lastError = message;
    this.#failures++;
    this.restarts++;
    const delay = restartDelayMs(this.#failures + 1, this.#opts.backoff);
    this.hooks.log(`[${this.api.name}/${this.id}] predictor failed to initialize; retrying in ${(delay / 1000).toFixed(1)}s:\n${indent(message)}`);
    this.#setState('failed');
    this.#clearTimers();
    for (const w of this.workers) {
      w.state = 'stopped';
      w.process?.kill('SIGKILL');
    }
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.state !== 'failed') return;
      void Promise.all(this.workers.map((w) => w.exited)).then(() => {
        if (this.state !== 'failed') return;
        for (const w of this.workers) {
          w.state = 'starting';
          w.process = null;
        }
        this.start();
      });
    }, delay);
    this.#restartTimer.unref();
  }

  async #stopWorker(w: PoolWorker): Promise<void> {
    const proc = w.process;
    if (proc === null) {
      w.state = 'stopped';
      return;
    }
    const initializing = w.state === 'starting';
    w.state = 'stopping';
    // A worker still in __init__ reads no frame until it returns, which may
    // be never, and holds no request: it is signalled rather than asked.
    if (initializing) proc.kill('SIGTERM');
    else proc.shutdown();
    const kill = setTimeout(() => proc.kill('SIGKILL'), this.#opts.stopGraceMs);
    await w.exited;
    clearTimeout(kill);
    w.state = 'stopped';
  }

  #clearTimers(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    if (this.#memoryTimer) clearInterval(this.#memoryTimer);
    this.#memoryTimer = null;
    for (const w of this.workers) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = null;
    }
  }

  #setState(state: ReplicaState): void {
    if (this.state === state) return;
    this.state = state;
    this.hooks.stateChanged(this);
  }
}

export function describeExit(exit: WorkerExit): string {
  if (exit.error) return `could not start (${exit.error.message})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
}
