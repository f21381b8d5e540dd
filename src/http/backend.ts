// What the front door needs of the APIs behind it, apart from HTTP. On the
// main thread (LocalBackend) that is the pools themselves; on a front-door
// thread (serve --http-threads, see threads/remote-backend.ts) the same calls
// travel to the main thread as messages, admission excepted: it is decided in
// shared memory (pool/admission.ts) on whichever thread the request arrived.
import type { Metrics, Tally } from '../metrics/registry.ts';
import type { ApiPool } from '../pool/api-pool.ts';
import type { Job, Ticket } from '../pool/job.ts';

/** One API as the front door reaches it. */
export interface Gate {
  readonly name: string;
  readonly endpoint: string;
  readonly maxReplicaConcurrency: number;
  readonly readyReplicas: number;
  readonly inFlight: number;
  /** why the API cannot start (a replica's __init__ traceback), while no replica is ready */
  readonly initError: string | null;
  /** counts the request in flight, or refuses it (at capacity, or stopping) */
  tryAdmit(): boolean;
  /** an admitted request that will never be dispatched */
  release(): void;
  /** the ticket's abandon(): the client went away before its answer */
  dispatch(job: Job): Ticket;
  /** counts a 503 in cortex_local_requests_total */
  refused(): void;
}

/** The JSON of GET <endpoint> (with its message) and of each API in GET /. */
export interface ApiSummary {
  api: string;
  endpoint: string;
  status: 'live' | 'error' | 'updating';
  desired_replicas: number;
  replicas: Record<string, number>;
  in_flight: number;
  /** clients that left before their answer: while their request waited, or while it executed */
  abandoned: { waiting: number; executing: number };
  last_error: string | null;
  detail: unknown[];
  /** onnx/tensorflow APIs: the model's inputs ({name: {shape, type}}), as Cortex 0.15's GET showed them */
  model_signature?: unknown;
}

export interface Backend {
  readonly gates: readonly Gate[];
  summary(gate: number): Promise<ApiSummary>;
  /** names of the APIs without a ready replica */
  notReady(): Promise<string[]>;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** a prediction request answered: its status code and, when admitted, seconds from admission to answer */
  answered(gate: number, code: number, seconds: number | null): void;
  log(line: string): void;
}

function summarize(pool: ApiPool): ApiSummary {
  const s = pool.status();
  // Between retries of a failing __init__ the replica is 'starting'; until
  // one succeeds the API is still in error, with the traceback to show.
  return {
    api: s.name,
    endpoint: s.endpoint,
    status: s.replicas.ready > 0 ? 'live' : s.replicas.failed > 0 || pool.initError !== null ? 'error' : 'updating',
    desired_replicas: s.desired_replicas,
    replicas: s.replicas,
    in_flight: s.in_flight,
    abandoned: s.abandoned,
    last_error: s.last_error,
    detail: s.detail,
    ...(s.model_signature === null ? {} : { model_signature: s.model_signature }),
  };
}

class PoolGate implements Gate {
  readonly #pool: ApiPool;
  readonly #refused: Tally;

  constructor(pool: ApiPool, metrics: Metrics) {
    this.#pool = pool;
    this.#refused = metrics.tally(pool.api.name, 503);
  }

  get name(): string {
    return this.#pool.api.name;
  }

  get endpoint(): string {
    return this.#pool.api.endpoint;
  }

  get maxReplicaConcurrency(): number {
    return this.#pool.api.autoscaling.max_replica_concurrency;
  }

  get readyReplicas(): number {
    return this.#pool.readyReplicas;
  }

  get inFlight(): number {
    return this.#pool.inFlight;
  }

  get initError(): string | null {
    return this.#pool.initError;
  }

  tryAdmit(): boolean {
    return this.#pool.tryAdmit();
  }

  release(): void {
    this.#pool.release();
  }

  dispatch(job: Job): Ticket {
    return this.#pool.dispatch(job);
  }

  refused(): void {
    this.#refused.n++;
  }
}

/** The pools of this process, reached directly. */
export class LocalBackend implements Backend {
  readonly gates: readonly Gate[];
  readonly #pools: readonly ApiPool[];
  readonly #metrics: Metrics;
  readonly log: (line: string) => void;

  constructor(pools: readonly ApiPool[], metrics: Metrics, log: (line: string) => void) {
    this.#pools = pools;
    this.#metrics = metrics;
    this.log = log;
    this.gates = pools.map((p) => new PoolGate(p, metrics));
  }

  summary(gate: number): Promise<ApiSummary> {
    return Promise.resolve(summarize(this.#pools[gate]));
  }

  notReady(): Promise<string[]> {
    return Promise.resolve(this.#pools.filter((p) => p.readyReplicas === 0).map((p) => p.api.name));
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.#metrics.registry.contentType, text: await this.#metrics.registry.metrics() };
  }

  answered(gate: number, code: number, seconds: number | null): void {
    this.#metrics.request(this.#pools[gate].api.name, code, seconds);
  }
}
