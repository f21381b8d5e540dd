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
import { joined, type Bytes } from '../bytes.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Tracker } from '../metrics/tracker.ts';
import type { Job, Ticket } from '../pool/job.ts';
import type { Reply } from '../pool/reply.ts';
import type { AdminAnswer, AdminRequest } from './admin.ts';
import type { RefusalTally } from './refusal-tally.ts';
import { autoscalerView, history, logsView, summarize, type ApiHistory, type ApiParts, type ApiSummary, type AutoscalerView, type LogsView } from './status.ts';

export type { ApiSummary } from './status.ts';

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

export interface Backend {
  /** the APIs, as routed now */
  readonly gates: readonly Gate[];
  /** `memory`: with each worker's memory read from /proc */
  summary(gate: number, memory?: boolean): Promise<ApiSummary>;
  /** the summary with the dashboard's history */
  history(gate: number): Promise<ApiHistory>;
  autoscaler(gate: number): Promise<AutoscalerView>;
  /** log lines after sequence number `after`, at most `limit` of the newest */
  logs(gate: number, after: number, limit: number): Promise<LogsView>;
  /** names of the APIs without a ready replica */
  notReady(): Promise<string[]>;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** a prediction request answered: its status code and, when admitted, seconds from admission to answer */
  answered(gate: number, code: number, seconds: number | null): void;
  /** deploy, refresh, delete: carried out on the main thread */
  admin(request: AdminRequest): Promise<AdminAnswer>;
  log(line: string): void;
}

/** A job whose successful answer the API's tracker reads, after it is sent. */
class TrackedJob implements Job {
  readonly #job: Job;
  readonly #tracker: Tracker;

  constructor(job: Job, tracker: Tracker) {
    this.#job = job;
    this.#tracker = tracker;
  }

  get body(): Bytes {
    return this.#job.body;
  }

  get queuedAt(): number {
    return this.#job.queuedAt;
  }

  reply(reply: Reply, at: number): void {
    this.#job.reply(reply, at);
    if (reply.kind === 'prediction') this.#tracker.observe(reply.contentType === 'application/json' ? joined(reply.body).toString('utf8') : null);
  }
}

export class PoolGate implements Gate {
  readonly id: number;
  readonly parts: ApiParts;
  /** in the routing table now (a deleted API's gate lives on while its pool drains) */
  routed = true;

  constructor(id: number, parts: ApiParts) {
    this.id = id;
    this.parts = parts;
  }

  get name(): string {
    return this.parts.pool.api.name;
  }

  get endpoint(): string {
    return this.parts.pool.api.endpoint;
  }

  get maxReplicaConcurrency(): number {
    return this.parts.pool.api.autoscaling.max_replica_concurrency;
  }

  get readyReplicas(): number {
    return this.parts.pool.readyReplicas;
  }

  get inFlight(): number {
    return this.parts.pool.inFlight;
  }

  get capacity(): number {
    return this.parts.pool.capacity;
  }

  get initError(): string | null {
    return this.parts.pool.initError;
  }

  get refusals(): RefusalTally {
    return this.parts.metrics.refusals;
  }

  tryAdmit(): boolean {
    return this.parts.pool.tryAdmit();
  }

  release(): void {
    this.parts.pool.release();
  }

  dispatch(job: Job): Ticket {
    // The tracker of the version deployed now (a deploy may change it).
    const tracker = this.parts.metrics.tracker;
    return this.parts.pool.dispatch(tracker === null ? job : new TrackedJob(job, tracker));
  }
}

export type AdminHandler = (request: AdminRequest) => Promise<AdminAnswer>;

/** The pools of this process, reached directly. */
export class LocalBackend implements Backend {
  #gates: readonly PoolGate[] = [];
  /** routed gates, and gates taken off the routes whose pools still drain */
  readonly #byId = new Map<number, PoolGate>();
  readonly #byParts = new Map<ApiParts, PoolGate>();
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
   * Routes the APIs of `apis` from now on. One not routed before gets a gate
   * (and a new id); one no longer routed keeps its gate, reachable by id,
   * until retire(): requests a front-door thread admitted before it learned
   * the new routes still reach it.
   */
  route(apis: readonly ApiParts[]): void {
    for (const g of this.#gates) g.routed = false;
    this.#gates = apis.map((parts) => {
      let gate = this.#byParts.get(parts);
      if (gate === undefined) {
        gate = new PoolGate(this.#nextId++, parts);
        this.#byParts.set(parts, gate);
        this.#byId.set(gate.id, gate);
      }
      gate.routed = true;
      return gate;
    });
  }

  /** An API taken off the routes has stopped: nothing can reach it any more. */
  retire(parts: ApiParts): void {
    const gate = this.#byParts.get(parts);
    if (gate === undefined) return;
    this.#byParts.delete(parts);
    this.#byId.delete(gate.id);
  }

  async summary(gate: number, memory = false): Promise<ApiSummary> {
    return summarize(this.#parts(gate), memory);
  }

  async history(gate: number): Promise<ApiHistory> {
    return history(this.#parts(gate));
  }

  async autoscaler(gate: number): Promise<AutoscalerView> {
    return autoscalerView(this.#parts(gate));
  }

  async logs(gate: number, after: number, limit: number): Promise<LogsView> {
    return logsView(this.#parts(gate), after, limit);
  }

  notReady(): Promise<string[]> {
    return Promise.resolve(this.#gates.filter((g) => g.readyReplicas === 0).map((g) => g.name));
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    this.#metrics.sample();
    return { contentType: this.#metrics.registry.contentType, text: await this.#metrics.registry.metrics() };
  }

  // A deleted API's answers are not counted: its series left /metrics with it.
  answered(gate: number, code: number, seconds: number | null): void {
    const g = this.#byId.get(gate);
    if (g !== undefined && g.routed) g.parts.metrics.answered(code, seconds);
  }

  admin(request: AdminRequest): Promise<AdminAnswer> {
    return this.#admin(request);
  }

  /** Throws (the status methods reject) for an API deleted and stopped since the request named it. */
  #parts(gate: number): ApiParts {
    const g = this.#byId.get(gate);
    if (g === undefined) throw new Error(`API ${gate} was deleted`);
    return g.parts;
  }
}
