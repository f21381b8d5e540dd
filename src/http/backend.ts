// What the front door needs of the APIs behind it, apart from HTTP. On the
// main thread (LocalBackend) that is the pools themselves; on a front-door
// thread (serve --http-threads, see threads/remote-backend.ts) the same calls
// travel to the main thread as messages, admission excepted: it is decided in
// shared memory (pool/admission.ts) on whichever thread the request arrived.
//
// The APIs change while the server runs (a deploy adds, removes or
// re-routes them): the backend's `gates` is the routing table now, replaced
// whole, and each gate keeps an id for its API's life, never reused, by which
// requests in flight and answers find it.
import type { Metrics } from '../metrics/registry.ts';
import type { ApiPool, ReplicaCounts, RolloutState, RolloutStatus } from '../pool/api-pool.ts';
import type { Job, Ticket } from '../pool/job.ts';
import type { AdminAnswer, AdminRequest } from './admin.ts';
import { RefusalTally } from './refusal-tally.ts';

/** One API as the front door reaches it. */
export interface Gate {
  /** the API's id in this server: stable while it lives, never reused */
  readonly id: number;
  readonly name: string;
  readonly endpoint: string;
  readonly maxReplicaConcurrency: number;
  readonly readyReplicas: number;
  readonly inFlight: number;
  /** requests admitted at most now (pool/admission.ts) */
  readonly capacity: number;
  /** why the API cannot start (a replica's __init__ traceback), while no replica is ready */
  readonly initError: string | null;
  /** its 503s by reason, in shared memory */
  readonly refusals: RefusalTally;
  /** counts the request in flight, or refuses it (at capacity, or stopping) */
  tryAdmit(): boolean;
  /** an admitted request that will never be dispatched */
  release(): void;
  /** the ticket's abandon(): the client went away before its answer */
  dispatch(job: Job): Ticket;
}

/** The JSON of GET <endpoint> (with its message) and of each API in GET /. */
export interface ApiSummary {
  api: string;
  endpoint: string;
  /** as Cortex's statuses: the rollout's state (pool/api-pool.ts) */
  status: RolloutState;
  /** a short hash of the API's config and code */
  version: string;
  rollout: RolloutStatus;
  desired_replicas: number;
  replicas: ReplicaCounts;
  in_flight: number;
  /** clients that left before their answer: while their request waited, or while it executed */
  abandoned: { waiting: number; executing: number };
  last_error: string | null;
  detail: unknown[];
  /** onnx/tensorflow APIs: the model's inputs ({name: {shape, type}}), as Cortex 0.15's GET showed them */
  model_signature?: unknown;
}

export interface Backend {
  /** the APIs, as routed now */
  readonly gates: readonly Gate[];
  summary(gate: number): Promise<ApiSummary>;
  /** names of the APIs without a ready replica */
  notReady(): Promise<string[]>;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** a prediction request answered: its status code and, when admitted, seconds from admission to answer */
  answered(gate: number, code: number, seconds: number | null): void;
  /** deploy, refresh, delete: carried out on the main thread */
  admin(request: AdminRequest): Promise<AdminAnswer>;
  log(line: string): void;
}

function summarize(pool: ApiPool): ApiSummary {
  const s = pool.status();
  return {
    api: s.name,
    endpoint: s.endpoint,
    status: s.rollout.state,
    version: s.version,
    rollout: s.rollout,
    desired_replicas: s.desired_replicas,
    replicas: s.replicas,
    in_flight: s.in_flight,
    abandoned: s.abandoned,
    last_error: s.last_error,
    detail: s.detail,
    ...(s.model_signature === null ? {} : { model_signature: s.model_signature }),
  };
}

export class PoolGate implements Gate {
  readonly id: number;
  readonly pool: ApiPool;
  readonly refusals = new RefusalTally();
  /** in the routing table now (a deleted API's gate lives on while its pool drains) */
  routed = true;

  constructor(id: number, pool: ApiPool) {
    this.id = id;
    this.pool = pool;
  }

  get name(): string {
    return this.pool.api.name;
  }

  get endpoint(): string {
    return this.pool.api.endpoint;
  }

  get maxReplicaConcurrency(): number {
    return this.pool.api.autoscaling.max_replica_concurrency;
  }

  get readyReplicas(): number {
    return this.pool.readyReplicas;
  }

  get inFlight(): number {
    return this.pool.inFlight;
  }

  get capacity(): number {
    return this.pool.capacity;
  }

  get initError(): string | null {
    return this.pool.initError;
  }

  tryAdmit(): boolean {
    return this.pool.tryAdmit();
  }

  release(): void {
    this.pool.release();
  }

  dispatch(job: Job): Ticket {
    return this.pool.dispatch(job);
  }
}

export type AdminHandler = (request: AdminRequest) => Promise<AdminAnswer>;

/** The pools of this process, reached directly. */
export class LocalBackend implements Backend {
  #gates: readonly PoolGate[] = [];
  /** routed gates, and gates taken off the routes whose pools still drain */
  readonly #byId = new Map<number, PoolGate>();
  readonly #byPool = new Map<ApiPool, PoolGate>();
  #nextId = 0;
  readonly #metrics: Metrics;
  readonly #admin: AdminHandler;
  readonly log: (line: string) => void;

  constructor(metrics: Metrics, log: (line: string) => void, admin: AdminHandler) {
    this.#metrics = metrics;
    this.log = log;
    this.#admin = admin;
  }

  get gates(): readonly PoolGate[] {
    return this.#gates;
  }

  /** The gate of id `id`, routed or still draining; undefined once retired. */
  gate(id: number): PoolGate | undefined {
    return this.#byId.get(id);
  }

  /**
   * Routes `pools` from now on. A pool not routed before gets a gate (and a
   * new id); a pool no longer routed keeps its gate, reachable by id, until
   * retire(): requests a front-door thread admitted before it learned the new
   * routes still reach it.
   */
  route(pools: readonly ApiPool[]): void {
    for (const g of this.#gates) g.routed = false;
    this.#gates = pools.map((pool) => {
      let gate = this.#byPool.get(pool);
      if (gate === undefined) {
        gate = new PoolGate(this.#nextId++, pool);
        this.#byPool.set(pool, gate);
        this.#byId.set(gate.id, gate);
        const refusals = gate.refusals;
        this.#metrics.external(pool.api.name, 503, () => refusals.total());
      }
      gate.routed = true;
      return gate;
    });
  }

  /** A pool taken off the routes has stopped: nothing can reach it any more. */
  retire(pool: ApiPool): void {
    const gate = this.#byPool.get(pool);
    if (gate === undefined) return;
    this.#byPool.delete(pool);
    this.#byId.delete(gate.id);
  }

  summary(gate: number): Promise<ApiSummary> {
    const g = this.#byId.get(gate);
    if (g === undefined) return Promise.reject(new Error(`API ${gate} was deleted`));
    return Promise.resolve(summarize(g.pool));
  }

  notReady(): Promise<string[]> {
    return Promise.resolve(this.#gates.filter((g) => g.pool.readyReplicas === 0).map((g) => g.name));
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.#metrics.registry.contentType, text: await this.#metrics.registry.metrics() };
  }

  // A deleted API's answers are not counted: its series left /metrics with it.
  answered(gate: number, code: number, seconds: number | null): void {
    const g = this.#byId.get(gate);
    if (g !== undefined && g.routed) this.#metrics.request(g.name, code, seconds);
  }

  admin(request: AdminRequest): Promise<AdminAnswer> {
    return this.#admin(request);
  }
}
