// Per API: the replicas, the FIFO of admitted jobs waiting for a worker,
// dispatch to the least-loaded ready worker, and the desired replica count
// (set at start to init_replicas, later by the autoscaler).
import { EventEmitter } from 'node:events';
import type { ResolvedApi } from '../config/types.ts';
import type { WorkerCrashedError } from '../errors.ts';
import { Admission } from './admission.ts';
import { defaultBackoff, type BackoffOptions } from './backoff.ts';
import { Fifo } from './fifo.ts';
import type { Job } from './job.ts';
import type { ResourceLedger } from './ledger.ts';
import { PoolWorker, Replica, type ReplicaHooks, type ReplicaState } from './replica.ts';

export interface ApiPoolOptions {
  api: ResolvedApi;
  projectDir: string;
  python: string;
  ledger: ResourceLedger;
  baseEnv?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  output?: (label: string, stream: 'stdout' | 'stderr', line: string) => void;
  backoff?: BackoffOptions;
  initTimeoutMs?: number;
  stopGraceMs?: number;
  /** how often worker memory is checked against compute.mem (default 1 s) */
  memoryCheckMs?: number;
  /**
   * Jobs a worker may hold beyond its threads: queued in its pipe so it reads
   * them in one batch instead of waiting a round trip per request.
   */
  pipelineDepth?: number;
}

export interface PendingReplica {
  id: number;
  reason: string;
}

export interface ReplicaStatus {
  id: number;
  state: ReplicaState | 'pending';
  gpus: number[];
  in_flight: number;
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
  last_error: string | null;
  detail: ReplicaStatus[];
  /** onnx/tensorflow: the model's input signature, once a replica has loaded it; else null */
  model_signature: unknown;
}

export const DEFAULT_INIT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_PIPELINE_DEPTH = 8;

/**
 * Events: 'ready' (the first time any replica is ready), 'state' (replica
 * counts changed).
 */
export class ApiPool extends EventEmitter {
  readonly api: ResolvedApi;
  /** in flight and capacity, shared with the front-door threads */
  readonly admission: Admission;
  readonly #opts: ApiPoolOptions;
  readonly #ledger: ResourceLedger;
  readonly #replicas: Replica[] = [];
  readonly #pending: PendingReplica[] = [];
  readonly #queue = new Fifo<Job>();
  readonly #hooks: ReplicaHooks;
  readonly #maxOutstanding: number;
  #available: PoolWorker[] = [];
  #desired = 0;
  #nextId = 1;
  #everReady = false;
  #setupError: string | null = null;
  #modelSignature: unknown = null;
  readonly #onReleased = () => this.#startPending();

  constructor(opts: ApiPoolOptions) {
    super();
    this.#opts = opts;
    this.api = opts.api;
    this.admission = new Admission(opts.api.autoscaling.max_replica_concurrency);
    this.#ledger = opts.ledger;
    this.#maxOutstanding = opts.api.autoscaling.threads_per_worker + (opts.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH);
    const log = opts.log ?? (() => {});
    const output = opts.output ?? (() => {});
    this.#hooks = {
      stateChanged: (r) => this.#onReplicaState(r),
      workerAvailable: (w) => this.#fill(w),
      completed: (job, kind, payload) => {
        this.#settled();
        job.settle(kind, payload);
      },
      crashed: (job, error: WorkerCrashedError) => {
        this.#settled();
        job.crash(error);
      },
      requeue: (jobs) => {
        this.#queue.unshiftAll(jobs);
        this.#pump();
      },
      log,
      output,
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
    if (this.#setupError !== null) return this.#setupError;
    if (this.admission.readyReplicas > 0) return null;
    for (const r of this.#replicas) if (r.initError !== null) return r.initError;
    return null;
  }

  get desiredReplicas(): number {
    return this.#desired;
  }

  /** admitted requests allowed now: ready replicas × max_replica_concurrency */
  get capacity(): number {
    return this.admission.capacity;
  }

  /** The API can never start (its project's requirements.txt failed to install): it stays in error, saying why. */
  failSetup(reason: string): void {
    this.#setupError = reason;
    this.emit('state', this.status());
  }

  start(): void {
    this.setDesiredReplicas(this.api.autoscaling.init_replicas);
  }

  /** Admission: counts the request in flight, or refuses it (503) when at capacity. */
  tryAdmit(): boolean {
    return this.admission.tryAdmit();
  }

  /** An admitted request that will never be dispatched (bad body, client gone). */
  release(): void {
    this.#settled();
  }

  dispatch(job: Job): void {
    const worker = this.#pick();
    if (worker !== null) worker.run(job);
    else this.#queue.push(job);
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
      if (r.state === 'ready' || r.state === 'starting' || r.state === 'failed' || r.state === 'draining') counts[r.state]++;
      if (r.lastError !== null) lastError = r.lastError;
      detail.push({
        id: r.id,
        state: r.state,
        gpus: r.gpus,
        in_flight: r.outstanding,
        restarts: r.restarts,
        workers: r.workers.map((w) => ({ index: w.index, state: w.state, pid: w.process?.pid ?? null })),
        last_error: r.lastError,
      });
    }
    for (const p of this.#pending) {
      detail.push({ id: p.id, state: 'pending', gpus: [], in_flight: 0, restarts: 0, workers: [], reason: p.reason });
    }
    return {
      name: this.api.name,
      endpoint: this.api.endpoint,
      desired_replicas: this.#desired,
      replicas: counts,
      in_flight: this.admission.inFlight,
      queued: this.#queue.size,
      capacity: this.capacity,
      last_error: lastError ?? this.#setupError,
      detail,
      model_signature: this.#modelSignature,
    };
  }

  /**
   * Graceful stop: refuses new requests, answers every admitted one, then
   * drains every replica (workers finish and exit).
   */
  async stop(): Promise<void> {
    await this.admission.stop();
    this.#pending.length = 0;
    await Promise.all(this.#replicas.map((r) => r.drain()));
    this.#ledger.off('released', this.#onReleased);
  }

  /** Immediate stop: kills every worker. */
  kill(): void {
    this.admission.close();
    this.#pending.length = 0;
    for (const r of this.#replicas) r.kill();
    this.#ledger.off('released', this.#onReleased);
  }

  #pick(): PoolWorker | null {
    let best: PoolWorker | null = null;
    let bestLoad = this.#maxOutstanding;
    for (const w of this.#available) {
      const load = w.outstanding.length;
      if (load < bestLoad) {
        best = w;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  #fill(w: PoolWorker): void {
    while (this.#queue.size > 0 && w.outstanding.length < this.#maxOutstanding && w.state === 'ready' && w.replica.state === 'ready') {
      const job = this.#queue.shift() as Job;
      if (job.cancelled) {
        this.#settled();
        continue;
      }
      w.run(job);
    }
  }

  #pump(): void {
    for (const w of this.#available) {
      if (this.#queue.size === 0) return;
      this.#fill(w);
    }
  }

  #settled(): void {
    this.admission.release();
  }

  #onReplicaState(r: Replica): void {
    this.#available = this.#replicas.filter((x) => x.state === 'ready').flatMap((x) => x.workers);
    this.admission.setReadyReplicas(this.#replicas.reduce((n, x) => n + (x.state === 'ready' ? 1 : 0), 0));
    if (r.state === 'stopped') {
      this.#replicas.splice(this.#replicas.indexOf(r), 1);
      this.#ledger.release(this.#owner(r.id));
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

  /** Bring the number of live (not draining) replicas to the desired count. */
  #reconcile(): void {
    const live = this.#replicas.filter((r) => r.state !== 'draining' && r.state !== 'stopped');
    let excess = live.length + this.#pending.length - this.#desired;
    // Remove what serves least first: pending, failed, starting (newest first), then ready.
    while (excess > 0 && this.#pending.length > 0) {
      this.#pending.pop();
      excess--;
    }
    const order: ReplicaState[] = ['failed', 'starting', 'ready'];
    for (const state of order) {
      const victims = live.filter((r) => r.state === state).reverse();
      for (const r of victims) {
        if (excess <= 0) break;
        void r.drain();
        excess--;
      }
    }
    while (excess < 0) {
      this.#pending.push({ id: this.#nextId++, reason: '' });
      excess++;
    }
    this.#startPending();
    this.emit('state', this.status());
  }

  #startPending(): void {
    if (this.admission.stopped) return;
    while (this.#pending.length > 0) {
      const p = this.#pending[0];
      const owner = this.#owner(p.id);
      const res = this.#ledger.tryReserve(owner, this.api.compute);
      if (!res.ok) {
        if (p.reason !== res.reason) {
          p.reason = res.reason;
          this.#hooks.log(`[${this.api.name}/${p.id}] pending: ${res.reason}`);
        }
        return;
      }
      this.#pending.shift();
      const replica = new Replica({
        api: this.api,
        projectDir: this.#opts.projectDir,
        python: this.#opts.python,
        baseEnv: this.#opts.baseEnv ?? process.env,
        id: p.id,
        reservation: res.reservation,
        hooks: this.#hooks,
        backoff: this.#opts.backoff ?? defaultBackoff,
        initTimeoutMs: this.#opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
        stopGraceMs: this.#opts.stopGraceMs ?? 30_000,
        memoryCheckMs: this.#opts.memoryCheckMs ?? 1000,
      });
      this.#replicas.push(replica);
      replica.start();
    }
  }

  #owner(id: number): string {
    return `${this.api.name} replica ${id}`;
  }
}
