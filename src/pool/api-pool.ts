// Per API: the replicas, the FIFO of admitted requests waiting for a worker,
// dispatch to the least-loaded serving worker (pick.ts), the desired replica
// count (set at start to init_replicas, later by the autoscaler) and the plan
// that reaches it (plan.ts; rollout.ts while replicas of an older version
// remain), and the admission capacity the front door admits against.
//
// Versions: each deploy that restarts replicas (new code, a changed predictor,
// compute or worker layout, a refresh) makes a new generation of the API;
// replicas run the generation they were started with, and the rolling update
// replaces older generations' replicas with the current one's, old and new
// serving side by side meanwhile. A deploy that changes only what no replica
// reads (the autoscaling counts and periods, update_strategy, endpoint)
// updates the current generation in place.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { ResolvedApi } from '../config/types.ts';
import type { WorkerSpec } from '../python-bridge/worker-process.ts';
import { Admission, LocalAdmission } from './admission.ts';
import { defaultBackoff, type BackoffOptions } from './backoff.ts';
import type { BusyPollBudget } from './busy-poll.ts';
import { Fifo } from './fifo.ts';
import type { Job, Ticket } from './job.ts';
import type { ResourceLedger } from './ledger.ts';
import { MemoryWatch } from './memory-watch.ts';
import { modelsDir } from './models-dir.ts';
import { DEFAULT_PIPELINE, type PipelineLimits } from './pipeline-depth.ts';
import { leastLoaded } from './pick.ts';
import { replicaCapacity } from './plan.ts';
import { pythonWorker } from './python-worker.ts';
import type { Reply } from './reply.ts';
import { DEFAULT_MAX_INIT_ATTEMPTS, Replica, type ReplicaEvents, type ReplicaState, type RestartReason } from './replica.ts';
import { countStates, planRollout, resolveStrategy } from './rollout.ts';
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
  /** a short hash of the API's config and code (reload/version.ts), shown in the status */
  version?: string;
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
  /** which workers look for their next request before they block, shared by every API (default: none do) */
  busyPoll?: BusyPollBudget;
  /** how a worker process is started (tests inject fakes); default: a Python worker */
  spawn?: (spec: WorkerSpec) => SpawnWorker;
  /** where each replica works (tests inject their own); default: PROJECT/.cortex-local/replicas/ */
  workdirs?: Workdirs;
  /** the id of its first replica (default 1): an API deleted and deployed again goes on from its last, so replicas and their folders never share a name */
  firstReplicaId?: number;
  /** admission counted in shared memory, for front-door threads to admit against (serve --http-threads); default: plain numbers, on this thread only */
  sharedAdmission?: boolean;
  timers?: Timers;
  observer?: PoolObserver;
}

export interface PendingReplica {
  id: number;
  reason: string;
  generation: Generation;
}

/** One version of the API as deployed. */
interface Generation {
  /** 1, 2, …: the order of deploys */
  n: number;
  api: ResolvedApi;
  version: string;
  /** its __init__ failed maxInitAttempts times in a row: none of its replicas starts any more */
  failure: string | null;
  /** the __init__ error it gave up on */
  failedInit: string | null;
  /** the log said its rollout stopped on an __init__ failure */
  stopLogged: boolean;
  /** no older replica remains and every replica of it that could be placed is ready: its rollout is over */
  rolledOut: boolean;
}

export type RolloutState = 'updating' | 'live' | 'error';

export type ReplicaCounts = { ready: number; starting: number; pending: number; failed: number; draining: number };

export interface RolloutStatus {
  /** updating: replicas of older versions remain, or none is ready yet; error: the current version fails to initialize */
  state: RolloutState;
  /** the current version's replicas */
  new: ReplicaCounts;
  /** older versions' replicas */
  old: ReplicaCounts;
  /** the versions the old replicas run */
  old_versions: string[];
  /** max_surge and max_unavailable resolved against the desired count */
  max_surge: number;
  max_unavailable: number;
  /** the current version's __init__ error, while it stops the rollout */
  error: string | null;
}

export interface ReplicaStatus {
  id: number;
  /** the version it runs */
  version: string;
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
  /** the current version: a short hash of the API's config and code */
  version: string;
  rollout: RolloutStatus;
  desired_replicas: number;
  replicas: ReplicaCounts;
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
 * times in a row and no older version serves: no replica of this API starts
 * any more), 'rollout' (the rollout state changed: RolloutState).
 */
export class ApiPool extends EventEmitter {
  /** in flight and capacity, in shared memory when front-door threads admit too */
  readonly admission: Admission | LocalAdmission;
  readonly #opts: ApiPoolOptions;
  readonly #ledger: ResourceLedger;
  readonly #timers: Timers;
  readonly #workdirs: Workdirs;
  readonly #replicas: Replica[] = [];
  readonly #workdirOf = new Map<Replica, string>();
  readonly #generationOf = new Map<Replica, Generation>();
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
  #current: Generation;
  /** the last generation's n */
  #generations = 1;
  #rolloutState: RolloutState = 'updating';
  /** the graceful stop ran out of grace: requests left get 503 */
  #forced = false;
  #modelSignature: unknown = null;
  // Room given back (by any API) may let a pending replica start, or a rollout go on.
  readonly #onReleased = () => {
    if (!this.admission.stopped) this.#reconcile();
  };

  constructor(opts: ApiPoolOptions) {
    super();
    this.#opts = opts;
    this.#current = { n: this.#generations, api: opts.api, version: opts.version ?? '', failure: null, failedInit: null, stopLogged: false, rolledOut: true };
    this.#nextId = opts.firstReplicaId ?? 1;
    const perReplica = opts.api.autoscaling.max_replica_concurrency;
    this.admission = opts.sharedAdmission === true ? new Admission(perReplica) : new LocalAdmission(perReplica);
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
      settled: (task, reply, at) => {
        if (observer === undefined || task.startedAt === 0 || !FROM_PREDICT.has(reply.kind)) return;
        observer.answered((task.startedAt - task.job.queuedAt) / 1000, (at - task.startedAt) / 1000);
      },
      abandoned: (_task, where) => {
        if (where === 'executing') this.#abandoned.executing++;
        else this.#abandoned.waiting++;
        if (where === 'queued') this.#droppedFromQueue();
      },
    };
    this.#ledger.on('released', this.#onReleased);
  }

  /** the current version's config */
  get api(): ResolvedApi {
    return this.#current.api;
  }

  /** the current version: a short hash of its config and code */
  get version(): string {
    return this.#current.version;
  }

  get rolloutState(): RolloutState {
    return this.#rolloutState;
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
    for (const r of this.#replicas) if (r.initError !== null && this.#generationOf.get(r) === this.#current) return r.initError;
    for (const r of this.#replicas) if (r.initError !== null) return r.initError;
    return this.#current.failedInit;
  }

  get desiredReplicas(): number {
    return this.#desired;
  }

  /** the id its next replica will take */
  get nextReplicaId(): number {
    return this.#nextId;
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
    const gen = this.#current;
    gen.failedInit = reason;
    gen.failure = `api ${this.api.name} failed: its project could not be set up`;
    this.emit('failed', reason);
    this.#updated();
  }

  /** clients that left before their answer, by where their request was */
  get abandoned(): { waiting: number; executing: number } {
    return { ...this.#abandoned };
  }

  start(): void {
    if (this.#opts.enforceMem === true) {
      this.#memoryWatch = new MemoryWatch(this.#opts.memoryCheckMs ?? DEFAULT_MEMORY_CHECK_MS, () => this.#replicas, (err) =>
        this.#events.log(`[${this.api.name}] could not measure memory: ${err.message}`),
      );
    }
    this.setDesiredReplicas(this.api.autoscaling.init_replicas);
  }

  /**
   * A new version of the API. `restart`: its replicas replace the running
   * ones by a rolling update (update_strategy); otherwise the current version
   * takes the new config in place (it changes nothing a replica reads). The
   * desired count stays, within the new min_replicas and max_replicas (as
   * Cortex kept the deployment's replicas).
   *
   * A version that replicas of an older deploy still run (a failed edit
   * reverted, say) serves again on them, as Kubernetes rolls back to the
   * ReplicaSet it kept: they are not restarted, and only what is missing
   * starts. `fresh` (refresh) restarts every replica whatever runs.
   */
  deploy(api: ResolvedApi, version: string, restart: boolean, fresh = false): void {
    if (this.admission.stopped) return;
    if (restart) {
      const kept = fresh ? undefined : this.#keptGeneration(version);
      if (kept === undefined) {
        this.#current = { n: ++this.#generations, api, version, failure: null, failedInit: null, stopLogged: false, rolledOut: false };
      } else {
        kept.api = api;
        kept.rolledOut = false;
        kept.stopLogged = false;
        this.#current = kept;
      }
    } else {
      this.#current.api = api;
      this.#current.version = version;
    }
    const { min_replicas: min, max_replicas: max } = api.autoscaling;
    this.#desired = Math.min(max, Math.max(min, this.#desired));
    if (restart) {
      const { maxSurge, maxUnavailable } = resolveStrategy(api.update_strategy, this.#desired);
      const on = `on ${this.#desired} replica${this.#desired === 1 ? '' : 's'} (max_surge ${maxSurge}, max_unavailable ${maxUnavailable})`;
      const keeps = this.#replicas.filter((r) => this.#generationOf.get(r) === this.#current && (r.state === 'ready' || r.state === 'starting')).length;
      this.#events.log(
        keeps > 0
          ? `api ${api.name}: rolling back to version ${version} ${on}: ${keeps} replica${keeps === 1 ? '' : 's'} still run${keeps === 1 ? 's' : ''} it and ${keeps === 1 ? 'is' : 'are'} kept, not restarted`
          : `api ${api.name}: rolling out version ${version} ${on}`,
      );
    }
    this.#reconcile();
  }

  /** A rolling restart of every replica with the same version (cortex refresh). */
  refresh(): void {
    this.deploy(this.api, this.version, true, true);
  }

  /** The older generation of `version` whose replicas still start or serve, if one has not failed; the newest. */
  #keptGeneration(version: string): Generation | undefined {
    let kept: Generation | undefined;
    for (const r of this.#replicas) {
      const gen = this.#generationOf.get(r) as Generation;
      if (gen === this.#current || gen.version !== version || gen.failure !== null) continue;
      if (r.state !== 'ready' && r.state !== 'starting') continue;
      if (kept === undefined || gen.n > kept.n) kept = gen;
    }
    return kept;
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
    const current = this.#current;
    const mine: Replica[] = [];
    const older: Replica[] = [];
    let lastError: string | null = null;
    const detail: ReplicaStatus[] = [];
    const oldVersions = new Set<string>();
    for (const r of this.#replicas) {
      const gen = this.#generationOf.get(r) as Generation;
      if (gen === current) mine.push(r);
      else {
        older.push(r);
        oldVersions.add(gen.version);
      }
      if (r.lastError !== null) lastError = r.lastError;
      detail.push({
        id: r.id,
        version: gen.version,
        state: r.state,
        gpus: r.gpus,
        in_flight: r.outstanding,
        executing: r.executing,
        restarts: r.restarts,
        workers: r.slots.map((s) => ({ index: s.index, state: s.state, pid: s.pid })),
        last_error: r.lastError,
      });
    }
    let minePending = 0;
    for (const p of this.#pending) {
      if (p.generation === current) minePending++;
      else oldVersions.add(p.generation.version);
      detail.push({ id: p.id, version: p.generation.version, state: 'pending', gpus: [], in_flight: 0, executing: 0, restarts: 0, workers: [], reason: p.reason });
    }
    const { maxSurge, maxUnavailable } = resolveStrategy(this.api.update_strategy, this.#desired);
    return {
      name: this.api.name,
      endpoint: this.api.endpoint,
      version: current.version,
      rollout: {
        state: this.#rolloutState,
        new: countStates(mine, minePending),
        old: countStates(older, this.#pending.length - minePending),
        old_versions: [...oldVersions],
        max_surge: maxSurge,
        max_unavailable: maxUnavailable,
        error: this.#rolloutState === 'error' ? this.#currentInitError() : null,
      },
      desired_replicas: this.#desired,
      replicas: countStates(this.#replicas, this.#pending.length),
      in_flight: this.admission.inFlight,
      queued: this.#queue.size,
      capacity: this.capacity,
      abandoned: this.abandoned,
      last_error: lastError ?? current.failedInit,
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
    for (const x of this.#replicas) {
      if (x.state !== 'ready') continue;
      ready++;
      capacity += replicaCapacity(x.api.autoscaling.max_replica_concurrency, x.serving, x.api.autoscaling.workers_per_replica);
      for (const s of x.slots) if (s.state === 'ready') available.push(s);
    }
    this.#available = available;
    this.admission.setServing(ready, capacity);
    const gen = this.#generationOf.get(r) as Generation;
    if (r.state === 'stopped') {
      this.#replicas.splice(this.#replicas.indexOf(r), 1);
      this.#generationOf.delete(r);
      this.#ledger.release(this.#ownerName(r.id));
      const dir = this.#workdirOf.get(r);
      this.#workdirOf.delete(r);
      if (dir !== undefined) this.#workdirs.remove(dir);
    }
    if (r.state === 'ready') {
      // Kept at the pool, so it still shows while every replica restarts.
      if (r.modelSignature !== null && gen === this.#current) this.#modelSignature = r.modelSignature;
      if (!this.#everReady) {
        this.#everReady = true;
        this.emit('ready');
      }
      this.#pump();
    }
    // A replica that started, stopped or failed may let the rollout take its next step.
    if (r.state !== 'draining' && !this.admission.stopped) this.#reconcile();
    else this.#updated();
  }

  /** The current version's __init__ error: a replica's while it fails, or the one it gave up on. */
  #currentInitError(): string | null {
    for (const r of this.#replicas) if (r.initError !== null && this.#generationOf.get(r) === this.#current) return r.initError;
    return this.#current.failedInit;
  }

  /** The rollout's state after any change, logged when it changes, then the 'state' event. */
  #updated(): void {
    const gen = this.#current;
    const olderRemain = this.#replicas.some((r) => this.#generationOf.get(r) !== gen) || this.#pending.some((p) => p.generation !== gen);
    // A deployed version's rollout is over once it is alone and every replica of it that could be placed is ready.
    if (!olderRemain && !gen.rolledOut && this.#replicas.every((r) => r.state === 'ready')) {
      gen.rolledOut = true;
      this.#events.log(`api ${this.api.name}: version ${gen.version} is live (rollout done)`);
    }
    const rolling = olderRemain || !gen.rolledOut;
    const failing = this.#currentInitError() !== null;
    const anyReady = this.admission.readyReplicas > 0;
    const state: RolloutState = failing && (rolling || !anyReady) ? 'error' : rolling || !anyReady ? 'updating' : 'live';
    const was = this.#rolloutState;
    if (state !== was) {
      this.#rolloutState = state;
      if (state === 'error' && rolling && !gen.stopLogged) {
        gen.stopLogged = true;
        const older = [...new Set(this.#replicas.filter((r) => r.state === 'ready' && this.#generationOf.get(r) !== gen).map((r) => (this.#generationOf.get(r) as Generation).version))];
        const serving = older.length > 0 ? `version ${older.join(', ')} keeps serving` : 'no older replica is ready';
        const summary = (this.#currentInitError() ?? '').trim().split('\n')[0];
        this.#events.log(`api ${this.api.name}: the rollout of version ${gen.version} is stopped: its predictor failed to initialize (${summary}); ${serving}. Fix it and deploy again`, 'error');
      }
      this.emit('rollout', state);
    }
    this.emit('state', this.status());
  }

  #onGaveUp(r: Replica): void {
    const gen = this.#generationOf.get(r) as Generation;
    if (gen.failure !== null) return;
    gen.failedInit = r.lastError;
    const attempts = this.#opts.maxInitAttempts ?? DEFAULT_MAX_INIT_ATTEMPTS;
    const olderServe = this.#replicas.some((x) => x.state === 'ready' && this.#generationOf.get(x) !== gen);
    if (gen !== this.#current || olderServe) {
      gen.failure = `version ${gen.version} of api ${this.api.name} failed: its predictor failed to initialize ${attempts} times in a row`;
      this.#events.log(`${gen.failure}; no replica of that version starts any more`, 'error');
    } else {
      gen.failure = `api ${this.api.name} failed: its predictor failed to initialize ${attempts} times in a row`;
      this.#events.log(`${gen.failure}; no replica of it starts any more (the other APIs keep serving)`);
    }
    for (const p of this.#pending) if (p.generation === gen) p.reason = gen.failure;
    if (gen === this.#current && !olderServe) this.emit('failed', r.lastError);
  }

  /** Bring the replicas to the desired count, by the rolling update while older versions remain. */
  #reconcile(): void {
    const current = this.#current;
    const mine: Replica[] = [];
    const old: { id: number; state: ReplicaState; generation: number }[] = [];
    for (const r of this.#replicas) {
      const gen = this.#generationOf.get(r) as Generation;
      if (gen === current) mine.push(r);
      else old.push({ id: r.id, state: r.state, generation: gen.n });
    }
    const minePending = this.#pending.filter((p) => p.generation === current).length;
    const plan = planRollout({
      desired: this.#desired,
      strategy: current.api.update_strategy,
      current: mine,
      currentPending: minePending,
      old,
      oldPending: this.#pending.length - minePending,
      room: this.#ledger.room(current.api.compute),
      currentFailing: current.failure !== null || mine.some((r) => r.initError !== null),
    });
    if (plan.dropOldPending > 0) this.#pending.splice(0, this.#pending.length, ...this.#pending.filter((p) => p.generation === current));
    this.#pending.splice(this.#pending.length - plan.dropPending, plan.dropPending);
    for (const id of plan.drain) void this.#replicas.find((r) => r.id === id)?.drain();
    for (let i = 0; i < plan.addPending; i++) this.#pending.push({ id: this.#nextId++, reason: current.failure ?? '', generation: current });
    this.#startPending();
    this.#updated();
  }

  #startPending(): void {
    if (this.admission.stopped) return;
    while (this.#pending.length > 0) {
      const p = this.#pending[0];
      const gen = p.generation;
      if (gen.failure !== null) return;
      const api = gen.api;
      const owner = this.#ownerName(p.id);
      const res = this.#ledger.tryReserve(owner, api.compute);
      if (!res.ok) {
        if (p.reason !== res.reason) {
          p.reason = res.reason;
          this.#events.log(`[${api.name}/${p.id}] pending: ${res.reason}`);
        }
        return;
      }
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
        busyPoll: this.#opts.busyPoll ?? null,
      });
      this.#replicas.push(replica);
      this.#workdirOf.set(replica, cwd);
      this.#generationOf.set(replica, gen);
      replica.start();
    }
  }

  #ownerName(id: number): string {
    return `${this.api.name} replica ${id}`;
  }
}
