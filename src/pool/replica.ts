// One replica: `workers_per_replica` worker slots sharing one compute slice.
// It decides what a worker's exit means for the replica: restart that worker
// (at once; with backoff when it keeps dying without answering anything),
// retry a failed __init__ (with backoff, at most
// maxInitAttempts times in a row), or finish a drain. Its workers come from
// the spawn function it is given; the pool owns dispatch.
import type { ResolvedApi } from '../config/types.ts';
import { restartDelayMs, type BackoffOptions } from './backoff.ts';
import type { BusyPollBudget } from './busy-poll.ts';
import type { PipelineLimits } from './pipeline-depth.ts';
import type { Task } from './task.ts';
import type { Timers } from './timers.ts';
import { WorkerSlot, type Ending, type KillCause, type SlotEvents, type SpawnWorker } from './worker-slot.ts';

/**
 * starting: not yet serving (first start, or every worker restarting);
 * ready: serving on at least one worker; failed: __init__ failed, a retry is
 * scheduled (or, once `gaveUp`, none); draining: finishing its requests
 * before it stops; stopped: every worker has exited.
 */
export type ReplicaState = 'starting' | 'ready' | 'failed' | 'draining' | 'stopped';

/** Why a worker restarts: it crashed, it was stopped (memory, --predict-timeout), or its __init__ failed. */
export type RestartReason = KillCause | 'init_failure';

export interface ReplicaEvents {
  /** its state, or the number of its serving workers, changed */
  changed(replica: Replica): void;
  /** a worker (or, while it has not served, the whole replica) is restarted */
  restarted(reason: RestartReason): void;
  /** a worker's predictor is ready, `seconds` after its process started */
  loaded(seconds: number): void;
  /** a serving worker of this replica can take a request */
  available(slot: WorkerSlot, replica: Replica): void;
  /** requests a dead worker never started */
  requeue(tasks: Task[]): void;
  /** __init__ failed maxInitAttempts times in a row: no more retries */
  gaveUp(replica: Replica): void;
  /** a promise returned: the log is full (worker-slot.ts) */
  output(label: string, stream: 'stdout' | 'stderr', lines: string[]): void | Promise<void>;
  /** `error`: a worker died, or a predictor failed to initialize */
  log(line: string, level?: 'info' | 'error'): void;
}

export interface ReplicaOptions {
  api: ResolvedApi;
  id: number;
  /** GPU indices of its reservation */
  gpus: number[];
  spawn: SpawnWorker;
  events: ReplicaEvents;
  timers: Timers;
  backoff: BackoffOptions;
  /** failed __init__ attempts in a row after which the replica gives up */
  maxInitAttempts: number;
  initTimeoutMs: number;
  predictTimeoutMs: number | null;
  stopGraceMs: number;
  pipeline: PipelineLimits;
  busyPoll: BusyPollBudget | null;
}

export const DEFAULT_MAX_INIT_ATTEMPTS = 5;

export class Replica {
  readonly api: ResolvedApi;
  readonly id: number;
  readonly gpus: number[];
  readonly slots: WorkerSlot[] = [];
  state: ReplicaState = 'starting';
  /** the last __init__ traceback or worker death, for the status */
  lastError: string | null = null;
  restarts = 0;
  /** onnx/tensorflow: the model's input signature, from a worker's READY */
  modelSignature: unknown = null;
  /** __init__ failed maxInitAttempts times in a row; no retry is scheduled */
  gaveUp = false;
  readonly #opts: ReplicaOptions;
  /** it has been ready once: from then on a worker's death restarts only that worker */
  #served = false;
  /** failed __init__ attempts in a row: of the replica while it has not served, then per worker */
  #initFailures = 0;
  readonly #slotInitFailures: number[];
  /** deaths per worker since it last answered a request (the first restart is immediate) */
  readonly #crashes: number[];
  readonly #restartTimers: unknown[];
  #retryTimer: unknown = null;
  #retryDue = false;
  #drained: Promise<void> | null = null;
  #onDrained: () => void = () => {};
  #stopping = false;

  constructor(opts: ReplicaOptions) {
    this.#opts = opts;
    this.api = opts.api;
    this.id = opts.id;
    this.gpus = opts.gpus;
    const n = opts.api.autoscaling.workers_per_replica;
    this.#slotInitFailures = Array<number>(n).fill(0);
    this.#crashes = Array<number>(n).fill(0);
    this.#restartTimers = Array<unknown>(n).fill(null);
    const events: SlotEvents = {
      ready: (slot) => this.#slotReady(slot),
      available: (slot) => this.#slotAvailable(slot),
      exited: (slot, ending) => this.#slotExited(slot, ending),
      output: (slot, stream, lines) => opts.events.output(slot.label, stream, lines),
      log: (line) => opts.events.log(line),
    };
    for (let i = 1; i <= n; i++) {
      this.slots.push(
        new WorkerSlot({
          api: opts.api.name,
          label: `${opts.api.name}/${opts.id}/${i}`,
          index: i,
          spawn: opts.spawn,
          events,
          timers: opts.timers,
          threads: opts.api.autoscaling.threads_per_worker,
          pipeline: opts.pipeline,
          initTimeoutMs: opts.initTimeoutMs,
          predictTimeoutMs: opts.predictTimeoutMs,
          stopGraceMs: opts.stopGraceMs,
          busyPoll: opts.busyPoll,
        }),
      );
    }
  }

  /** requests sent to its workers and not answered */
  get outstanding(): number {
    let n = 0;
    for (const s of this.slots) n += s.outstanding;
    return n;
  }

  /** requests its workers have started and not answered */
  get executing(): number {
    let n = 0;
    for (const s of this.slots) n += s.executing;
    return n;
  }

  /** workers serving now */
  get serving(): number {
    let n = 0;
    for (const s of this.slots) if (s.state === 'ready') n++;
    return n;
  }

  /** the last __init__ traceback while the replica is failing to start */
  get initError(): string | null {
    return this.#initFailures > 0 || this.gaveUp ? this.lastError : null;
  }

  start(): void {
    this.#setState('starting');
    // Within a GPU replica workers start one after another, so concurrent
    // __init__ calls cannot race for GPU memory (the seed's parallelism note).
    if (this.gpus.length > 0) this.slots[0].spawn();
    else for (const s of this.slots) s.spawn();
  }

  /** No new requests; stops every worker once its requests are answered. */
  drain(): Promise<void> {
    if (this.#drained !== null) return this.#drained;
    this.#clearTimers();
    this.#drained = new Promise((resolve) => (this.#onDrained = resolve));
    this.#setState('draining');
    this.#checkDrained();
    return this.#drained;
  }

  /** Kills every worker now; the replica stops once they have exited. */
  kill(): Promise<void> {
    const drained = this.drain();
    for (const s of this.slots) s.kill();
    return drained;
  }

  #slotReady(slot: WorkerSlot): void {
    const i = slot.index - 1;
    this.#slotInitFailures[i] = 0;
    this.#opts.events.loaded(slot.loadSeconds);
    if (slot.modelSignature !== null) this.modelSignature = slot.modelSignature;
    if (this.state === 'draining' || this.state === 'stopped' || this.state === 'failed') return;
    const next = this.slots.find((s) => s.state === 'idle' && this.#restartTimers[s.index - 1] === null);
    if (!this.#served) {
      if (next !== undefined && this.gpus.length > 0) next.spawn();
      if (this.slots.every((s) => s.state === 'ready')) {
        this.#served = true;
        this.#initFailures = 0;
        this.#setState('ready');
      }
    } else if (this.state === 'ready') this.#opts.events.changed(this);
    else this.#setState('ready');
    if (this.state === 'ready') this.#opts.events.available(slot, this);
  }

  #slotAvailable(slot: WorkerSlot): void {
    this.#crashes[slot.index - 1] = 0;
    if (this.state === 'draining') this.#checkDrained();
    else if (this.state === 'ready' && slot.state === 'ready') this.#opts.events.available(slot, this);
  }

  #slotExited(slot: WorkerSlot, ending: Ending): void {
    if (ending.requeue.length > 0) this.#opts.events.requeue(ending.requeue);
    if (this.state === 'draining' || this.state === 'stopped') {
      if (ending.kind !== 'stopped') this.#opts.events.log(`[${slot.label}] worker ${ending.why} while its replica was stopping`);
      this.#checkDrained();
      return;
    }
    if (this.state === 'failed') {
      this.#maybeRetry();
      return;
    }
    if (ending.kind === 'init-failed') {
      if (this.#served) this.#slotInitFailed(slot, ending.why);
      else this.#initFailed(ending.why);
      return;
    }
    // A serving worker died: it restarts while the others keep serving.
    const i = slot.index - 1;
    this.lastError = `worker ${slot.index} ${ending.why}`;
    this.restarts++;
    const failed = ending.failed > 0 ? `${ending.failed} request(s) failed; ` : '';
    this.#opts.events.log(`[${slot.label}] worker ${ending.why}; ${failed}restarting`, 'error');
    this.#opts.events.restarted(ending.cause);
    this.#respawn(slot, restartDelayMs(++this.#crashes[i], this.#opts.backoff));
    if (this.serving === 0) this.#setState('starting');
    else this.#opts.events.changed(this);
  }

  /** A worker of a replica that has served failed __init__ when it restarted: only it is retried. */
  #slotInitFailed(slot: WorkerSlot, why: string): void {
    const i = slot.index - 1;
    this.lastError = why;
    this.restarts++;
    const failures = ++this.#slotInitFailures[i];
    if (failures >= this.#opts.maxInitAttempts) {
      this.#giveUp(why, failures);
      return;
    }
    const delay = restartDelayMs(failures + 1, this.#opts.backoff);
    this.#opts.events.log(`[${slot.label}] predictor failed to initialize; retrying in ${(delay / 1000).toFixed(1)}s:\n${indent(why)}`, 'error');
    this.#opts.events.restarted('init_failure');
    this.#respawn(slot, delay);
    if (this.serving === 0) this.#setState('starting');
    else this.#opts.events.changed(this);
  }

  /** __init__ failed while the replica was starting: every worker is stopped and the replica retried whole. */
  #initFailed(why: string): void {
    this.lastError = why;
    this.restarts++;
    const failures = ++this.#initFailures;
    if (failures >= this.#opts.maxInitAttempts) {
      this.#giveUp(why, failures);
      return;
    }
    const delay = restartDelayMs(failures + 1, this.#opts.backoff);
    this.#opts.events.log(`[${this.api.name}/${this.id}] predictor failed to initialize; retrying in ${(delay / 1000).toFixed(1)}s:\n${indent(why)}`, 'error');
    this.#opts.events.restarted('init_failure');
    this.#stopAll();
    this.#setState('failed');
    this.#retryDue = false;
    this.#retryTimer = this.#opts.timers.setTimeout(() => {
      this.#retryTimer = null;
      this.#retryDue = true;
      this.#maybeRetry();
    }, delay);
  }

  #giveUp(why: string, failures: number): void {
    this.gaveUp = true;
    this.#opts.events.log(`[${this.api.name}/${this.id}] predictor failed to initialize ${failures} times in a row; giving up:\n${indent(why)}`, 'error');
    this.#stopAll();
    this.#setState('failed');
    this.#opts.events.gaveUp(this);
  }

  /** Every worker killed, pending restarts cancelled. */
  #stopAll(): void {
    this.#clearTimers();
    for (const s of this.slots) s.kill();
  }

  #maybeRetry(): void {
    if (!this.#retryDue || this.gaveUp || this.state !== 'failed') return;
    if (this.slots.some((s) => s.state !== 'idle')) return;
    this.#retryDue = false;
    this.start();
  }

  #respawn(slot: WorkerSlot, delay: number): void {
    const i = slot.index - 1;
    this.#restartTimers[i] = this.#opts.timers.setTimeout(() => {
      this.#restartTimers[i] = null;
      if (slot.state === 'idle' && (this.state === 'ready' || this.state === 'starting')) slot.spawn();
    }, delay);
  }

  #checkDrained(): void {
    if (this.state !== 'draining' || this.#stopping || this.outstanding > 0) return;
    this.#stopping = true;
    void Promise.all(this.slots.map((s) => s.stop())).then(() => {
      this.#setState('stopped');
      this.#onDrained();
    });
  }

  #clearTimers(): void {
    const timers = this.#opts.timers;
    if (this.#retryTimer !== null) timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#retryDue = false;
    this.#restartTimers.forEach((t, i) => {
      if (t !== null) timers.clearTimeout(t);
      this.#restartTimers[i] = null;
    });
  }

  #setState(state: ReplicaState): void {
    if (this.state === state) return;
    this.state = state;
    this.#opts.events.changed(this);
  }
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
}
