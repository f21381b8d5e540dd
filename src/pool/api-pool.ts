// Per API: the replicas, the FIFO of admitted requests waiting for a worker,
// dispatch to the least-loaded serving worker (pick.ts), the desired replica
// count (set at start to init_replicas, later by the autoscaler) and the plan
// that reaches it (plan.ts), and the admission capacity the front door
// admits against.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { ResolvedApi } from '../config/types.ts';
import type { WorkerSpec } from '../python-bridge/worker-process.ts';
import { Admission } from './admission.ts';
import { defaultBackoff, type BackoffOptions } from './backoff.ts';
import { Fifo } from './fifo.ts';
import type { Job, Ticket } from './job.ts';
import type { ResourceLedger } from './ledger.ts';
import { MemoryWatch } from './memory-watch.ts';
import { modelsDir } from './models-dir.ts';
import { DEFAULT_PIPELINE, type PipelineLimits } from './pipeline-depth.ts';
import { leastLoaded } from './pick.ts';
import { planReplicas, replicaCapacity } from './plan.ts';
import { pythonWorker } from './python-worker.ts';
import type { Reply } from './reply.ts';
import { DEFAULT_MAX_INIT_ATTEMPTS, Replica, type ReplicaEvents, type ReplicaState, type RestartReason } from './replica.ts';
import { Task, type TaskOwner } from './task.ts';
import { realTimers, type Timers } from './timers.ts';
import { ProjectWorkdirs, type Workdirs } from './workdir.ts';
import { workerEnv } from './worker-env.ts';
import type { SpawnWorker, WorkerSlot } from './worker-slot.ts';

/** What the pool tells the metrics as it happens (none of it on the answer's path before the answer is sent). */
export interface PoolObserver {
  /** a worker answered a request it started: seconds from dispatch to its start, and from its start to the answer */
  answered(waitSeconds: number, runSeconds: number): void;
  restarted(reason: RestartReason): void;
  /** a worker's predictor became ready `seconds` after its process started (imports and __init__) */
  loaded(seconds: number): void;
}

/** The answers that came from predict() itself, whose times tell how long it ran. */
const FROM_PREDICT: ReadonlySet<Reply['kind']> = new Set(['prediction', 'bad-request', 'predict-error']);

export interface ApiPoolOptions {
  api: ResolvedApi;
  projectDir: string;
  python: string;
  ledger: ResourceLedger;
  baseEnv?: NodeJS.ProcessEnv;
  log?: (line: string, level?: 'info' | 'error') => void;
  /** where workers' output lines go; a promise returned: the log is full, read no more output until it resolves */
  output?: (label: string, stream: 'stdout' | 'stderr', lines: string[]) => void | Promise<void>;
  backoff?: BackoffOptions;
  initTimeoutMs?: number;
  /** failed __init__ attempts in a row after which the API is marked failed (default 5) */
  maxInitAttempts?: number;
  /** a request executing longer is answered 504 and its worker restarted (default: no limit) */
  predictTimeoutMs?: number | null;
  /**
   * How long a stopping worker may take before it is killed, and how long a
   * graceful stop waits for admitted requests (as Kubernetes'
   * terminationGracePeriodSeconds bounded a Cortex pod's).
   */
  stopGraceMs?: number;
  /** compute.mem as a limit on each replica's process tree (serve --enforce-mem); otherwise it is only reserved */
  enforceMem?: boolean;
  /** how often memory is measured under enforceMem (default 250 ms) */
  memoryCheckMs?: number;
  /**
   * Jobs a worker may hold beyond its threads: queued in its pipe so it reads
   * them in one batch instead of waiting a round trip per request
   * (pipeline-depth.ts).
   */
  pipeline?: PipelineLimits;
  /** how a worker process is started (tests inject fakes); default: a Python worker */
  spawn?: (spec: WorkerSpec) => SpawnWorker;
  /** where each replica works (tests inject their own); default: PROJECT/.cortex-local/replicas/ */
  workdirs?: Workdirs;
  timers?: Timers;
  observer?: PoolObserver;
}

export interface PendingReplica {
  id: number;
  reason: string;
}

export interface ReplicaStatus {
  id: number;
  state: ReplicaState | 'pending';
  gpus: number[];
  /** requests sent to its workers and not answered */
  in_flight: number;
  /** of those, the ones a worker has started */
  executing: number;
  restarts: number;
  workers: { index: number; state: string; pid: number | null }[];
  reason?: string;
  last_error?: string | null;
}

export interface ApiStatus {
  name: string;
  endpoint: string;
  desired_replicas: number;
  replicas: { ready: number; starting: number; pending: number; failed: number; draining: number };
  in_flight: number;
  queued: number;
  capacity: number;
  /** clients that left before their answer: while their request waited, or while it executed */
  abandoned: { waiting: number; executing: number };
  last_error: string | null;
  detail: ReplicaStatus[];
  /** onnx/tensorflow: the model's input signature, once a replica has loaded it; else null */
  model_signature: unknown;
}

export const DEFAULT_INIT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_STOP_GRACE_MS = 30_000;
const DEFAULT_MEMORY_CHECK_MS = 250;

// A worker that stopped serving since #available was computed takes nothing.
const load = (slot: WorkerSlot) => (slot.state === 'ready' ? slot.outstanding : Number.POSITIVE_INFINITY);
const limit = (slot: WorkerSlot) => slot.maxOutstanding;

/**
 * Events: 'ready' (the first time any replica is ready), 'state' (replica
 * counts changed), 'failed' (a replica's __init__ failed maxInitAttempts
 * times in a row: no replica of this API starts any more).
 */
export class ApiPool extends EventEmitter {
  readonly api: ResolvedApi;
  /** in flight and capacity, shared with the front-door threads */
  readonly admission: Admission;
  readonly #opts: ApiPoolOptions;
  readonly #ledger: ResourceLedger;
  readonly #timers: Timers;
  readonly #workdirs: Workdirs;
  readonly #replicas: Replica[] = [];
  readonly #workdirOf = new Map<Replica, string>();
  readonly #pending: PendingReplica[] = [];
  readonly #queue = new Fifo<Task>();
  readonly #events: ReplicaEvents;
  readonly #owner: TaskOwner;
  readonly #abandoned = { waiting: 0, executing: 0 };
  /** tasks in #queue abandoned while they waited: skipped when their turn comes */
  #dead = 0;
  #memoryWatch: MemoryWatch | null = null;
  /** serving workers of ready replicas */
  #available: WorkerSlot[] = [];
  #desired = 0;
  #nextId = 1;
  #everReady = false;
  /** why no replica starts any more, once one gave up */
  #failure: string | null = null;
  /** the __init__ error it gave up on */
  #failedInit: string | null = null;
  /** the graceful stop ran out of grace: requests left get 503 */
  #forced = false;
  #modelSignature: unknown = null;
  readonly #onReleased = () => this.#startPending();

  constructor(opts: ApiPoolOptions) {
    super();
    this.#opts = opts;
    this.api = opts.api;
    this.admission = new Admission(opts.api.autoscaling.max_replica_concurrency);
    this.#ledger = opts.ledger;
    this.#timers = opts.timers ?? realTimers;
    const log = opts.log ?? (() => {});
    this.#workdirs = opts.workdirs ?? new ProjectWorkdirs(opts.projectDir, log);
    const output = opts.output ?? (() => {});
    this.#events = {
      changed: (r) => this.#onReplicaChanged(r),
      available: (slot) => this.#fill(slot),
      requeue: (tasks) => this.#requeue(tasks),
      gaveUp: (r) => this.#onGaveUp(r),
      restarted: (reason) => opts.observer?.restarted(reason),
      loaded: (seconds) => opts.observer?.loaded(seconds),
      output,
      log,
    };
    const observer = opts.observer;
    this.#owner = {
      release: () => this.admission.release(),
      settled: (task, reply) => {
        if (observer === undefined || task.startedAt === 0 || !FROM_PREDICT.has(reply.kind)) return;
        observer.answered((task.startedAt - task.queuedAt) / 1000, (performance.now() - task.startedAt) / 1000);
      },
      abandoned: (_task, where) => {
        if (where === 'executing') this.#abandoned.executing++;
        else this.#abandoned.waiting++;
        if (where === 'queued') this.#droppedFromQueue();
      },
    };
    this.#ledger.on('released', this.#onReleased);
  }

  get inFlight(): number {
    return this.admission.inFlight;
  }

  get readyReplicas(): number {
    return this.admission.readyReplicas;
  }

  /** why the API cannot start: a replica's last __init__ traceback, while none is ready */
  get initError(): string | null {
    if (this.admission.readyReplicas > 0) return null;
    for (const r of this.#replicas) if (r.initError !== null) return r.initError;
    return this.#failedInit;
  }

  get desiredReplicas(): number {
    return this.#desired;
  }

  /** admitted requests allowed now (admission.ts) */
  get capacity(): number {
    return this.admission.capacity;
  }

  /**
   * The API can never start: its project's setup failed (requirements.txt,
   * dependencies.sh; project/prepare.ts). It is failed as if its __init__ had
   * given up, with `reason` as the error its requests and status show.
   */
  failSetup(reason: string): void {
    this.#failedInit = reason;
    this.#failure = `api ${this.api.name} failed: its project could not be set up`;
    this.emit('failed', reason);
    this.emit('state', this.status());
  }

  /** clients that left before their answer, by where their request was */
  get abandoned(): { waiting: number; executing: number } {
    return { ...this.#abandoned };
  }

  start(): void {
    const limit = this.api.compute.mem;
    if (this.#opts.enforceMem === true && limit !== null) {
      this.#memoryWatch = new MemoryWatch(limit, this.#opts.memoryCheckMs ?? DEFAULT_MEMORY_CHECK_MS, () => this.#replicas, (err) =>
        this.#events.log(`[${this.api.name}] could not measure memory: ${err.message}`),
      );
    }
    this.setDesiredReplicas(this.api.autoscaling.init_replicas);
  }

  /** Admission: counts the request in flight, or refuses it (503) when at capacity. */
  tryAdmit(): boolean {
    return this.admission.tryAdmit();
  }

  /** An admitted request that will never be dispatched (bad body, client gone). */
  release(): void {
    this.admission.release();
  }

  dispatch(job: Job): Ticket {
    const task = new Task(job, this.#owner);
    const slot = leastLoaded(this.#available, load, limit);
    if (slot !== null) slot.run(task);
    else if (this.#forced) this.#unavailable(task);
    else this.#queue.push(task);
    return task;
  }

  setDesiredReplicas(n: number): void {
    if (this.admission.stopped) return;
    this.#desired = n;
    this.#reconcile();
  }

  status(): ApiStatus {
    const counts = { ready: 0, starting: 0, pending: this.#pending.length, failed: 0, draining: 0 };
    let lastError: string | null = null;
    const detail: ReplicaStatus[] = [];
    for (const r of this.#replicas) {
      if (r.state !== 'stopped') counts[r.state]++;
      if (r.lastError !== null) lastError = r.lastError;
      detail.push({
        id: r.id,
        state: r.state,
        gpus: r.gpus,
        in_flight: r.outstanding,
        executing: r.executing,
        restarts: r.restarts,
        workers: r.slots.map((s) => ({ index: s.index, state: s.state, pid: s.pid })),
        last_error: r.lastError,
      });
    }
    for (const p of this.#pending) {
      detail.push({ id: p.id, state: 'pending', gpus: [], in_flight: 0, executing: 0, restarts: 0, workers: [], reason: p.reason });
    }
    return {
      name: this.api.name,
      endpoint: this.api.endpoint,
      desired_replicas: this.#desired,
      replicas: counts,
      in_flight: this.admission.inFlight,
      queued: this.#queue.size,
      capacity: this.capacity,
      abandoned: this.abandoned,
      last_error: lastError ?? this.#failedInit,
      detail,
      model_signature: this.#modelSignature,
    };
  }

  /**
   * Graceful stop: refuses new requests, answers every admitted one (for up
   * to the stop grace: then the workers still busy are killed), then drains
   * every replica.
   */
  async stop(): Promise<void> {
    const grace = this.#opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    const timer = this.#timers.setTimeout(() => this.#forceStop(grace), grace);
    await this.admission.stop();
    this.#timers.clearTimeout(timer);
    this.#pending.length = 0;
    await Promise.all(this.#replicas.map((r) => r.drain()));
    this.#memoryWatch?.stop();
    this.#ledger.off('released', this.#onReleased);
  }

  /** Immediate stop: kills every worker. */
  kill(): void {
    this.admission.close();
    this.#pending.length = 0;
    this.#memoryWatch?.stop();
    for (const r of this.#replicas) void r.kill();
    this.#ledger.off('released', this.#onReleased);
  }

  #forceStop(graceMs: number): void {
    const n = this.admission.inFlight;
    this.#events.log(`[${this.api.name}] ${n} request${n === 1 ? '' : 's'} still unanswered ${Math.round(graceMs / 1000)}s after the stop began; stopping their workers`);
    this.#forced = true;
    for (const task of this.#queue.drain()) if (task.state === 'queued') this.#unavailable(task);
    this.#dead = 0;
    for (const r of this.#replicas) void r.kill();
  }

  #unavailable(task: Task): void {
    task.settle({ kind: 'unavailable', message: 'the server stopped before this request could run' });
  }

  #fill(slot: WorkerSlot): void {
    const queue = this.#queue;
    while (queue.size > 0 && slot.state === 'ready' && slot.outstanding < slot.maxOutstanding) {
      const task = queue.shift() as Task;
      // Abandoned while it waited: its slot was given back then.
      if (task.state !== 'queued') {
        this.#dead--;
        continue;
      }
      slot.run(task);
    }
  }

  #pump(): void {
    for (const slot of this.#available) {
      if (this.#queue.size === 0) return;
      this.#fill(slot);
    }
  }

  #droppedFromQueue(): void {
    // Abandoned tasks keep their bodies until their turn: behind a hung
    // worker, clients that leave would otherwise pile them up for ever.
    if (++this.#dead > 64 && this.#dead * 2 > this.#queue.size) {
      this.#queue.retain((t) => t.state === 'queued');
      this.#dead = 0;
    }
  }

  #requeue(tasks: Task[]): void {
    if (this.#forced) {
      for (const task of tasks) this.#unavailable(task);
      return;
    }
    this.#queue.unshiftAll(tasks);
    this.#pump();
  }

  #onReplicaChanged(r: Replica): void {
    const available: WorkerSlot[] = [];
    let ready = 0;
    let capacity = 0;
    const perReplica = this.api.autoscaling.max_replica_concurrency;
    const workers = this.api.autoscaling.workers_per_replica;
    for (const x of this.#replicas) {
      if (x.state !== 'ready') continue;
      ready++;
      capacity += replicaCapacity(perReplica, x.serving, workers);
      for (const s of x.slots) if (s.state === 'ready') available.push(s);
    }
    this.#available = available;
    this.admission.setServing(ready, capacity);
    if (r.state === 'stopped') {
      this.#replicas.splice(this.#replicas.indexOf(r), 1);
      this.#ledger.release(this.#ownerName(r.id));
      const dir = this.#workdirOf.get(r);
      this.#workdirOf.delete(r);
      if (dir !== undefined) this.#workdirs.remove(dir);
    }
    if (r.state === 'ready') {
      // Kept at the pool, so it still shows while every replica restarts.
      if (r.modelSignature !== null) this.#modelSignature = r.modelSignature;
      if (!this.#everReady) {
        this.#everReady = true;
        this.emit('ready');
      }
      this.#pump();
    }
    this.emit('state', this.status());
  }

  #onGaveUp(r: Replica): void {
    if (this.#failure !== null) return;
    this.#failedInit = r.lastError;
    this.#failure = `api ${this.api.name} failed: its predictor failed to initialize ${this.#opts.maxInitAttempts ?? DEFAULT_MAX_INIT_ATTEMPTS} times in a row`;
    this.#events.log(`${this.#failure}; no replica of it starts any more (the other APIs keep serving)`);
    for (const p of this.#pending) p.reason = this.#failure;
    this.emit('failed', r.lastError);
  }

  /** Bring the number of live (not draining) replicas to the desired count. */
  #reconcile(): void {
    const plan = planReplicas(this.#replicas, this.#pending.length, this.#desired);
    this.#pending.splice(this.#pending.length - plan.dropPending, plan.dropPending);
    for (const id of plan.drain) void this.#replicas.find((r) => r.id === id)?.drain();
    for (let i = 0; i < plan.addPending; i++) this.#pending.push({ id: this.#nextId++, reason: this.#failure ?? '' });
    this.#startPending();
    this.emit('state', this.status());
  }

  #startPending(): void {
    if (this.admission.stopped || this.#failure !== null) return;
    while (this.#pending.length > 0) {
      const p = this.#pending[0];
      const owner = this.#ownerName(p.id);
      const res = this.#ledger.tryReserve(owner, this.api.compute);
      if (!res.ok) {
        if (p.reason !== res.reason) {
          p.reason = res.reason;
          this.#events.log(`[${this.api.name}/${p.id}] pending: ${res.reason}`);
        }
        return;
      }
      const api = this.api;
      let cwd: string;
      try {
        cwd = this.#workdirs.create(`${api.name}-${p.id}`);
      } catch (err) {
        // Retried when something is given back to the ledger.
        this.#ledger.release(owner);
        p.reason = `cannot make its working folder: ${(err as Error).message}`;
        this.#events.log(`[${api.name}/${p.id}] pending: ${p.reason}`);
        return;
      }
      this.#pending.shift();
      const spec: WorkerSpec = {
        python: this.#opts.python,
        cwd,
        env: workerEnv(this.#opts.baseEnv ?? process.env, api, res.reservation.gpus),
        init: {
          type: api.predictor.type,
          path: join(this.#opts.projectDir, api.predictor.path),
          python_path: api.predictor.python_path,
          project_dir: this.#opts.projectDir,
          config: api.predictor.config,
          threads: api.autoscaling.threads_per_worker,
          model: api.predictor.model,
          signature_key: api.predictor.signature_key,
          models_dir: modelsDir(this.#opts.projectDir),
        },
      };
      const replica = new Replica({
        api,
        id: p.id,
        gpus: res.reservation.gpus.map((g) => g.index),
        spawn: (this.#opts.spawn ?? pythonWorker)(spec),
        events: this.#events,
        timers: this.#timers,
        backoff: this.#opts.backoff ?? defaultBackoff,
        maxInitAttempts: this.#opts.maxInitAttempts ?? DEFAULT_MAX_INIT_ATTEMPTS,
        initTimeoutMs: this.#opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
        predictTimeoutMs: this.#opts.predictTimeoutMs ?? null,
        stopGraceMs: this.#opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
        pipeline: this.#opts.pipeline ?? DEFAULT_PIPELINE,
      });
      this.#replicas.push(replica);
      this.#workdirOf.set(replica, cwd);
      replica.start();
    }
  }

  #ownerName(id: number): string {
    return `${this.api.name} replica ${id}`;
  }
}
