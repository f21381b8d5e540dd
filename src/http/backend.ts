// What the front door needs of the APIs behind it, apart from HTTP. On the
// main thread (LocalBackend) that is the pools themselves; on a front-door
// thread (serve --http-threads, see threads/remote-backend.ts) the same calls
// travel to the main thread as messages, admission excepted: it is decided in
// shared memory (pool/admission.ts) on whichever thread the request arrived.
import type { Metrics } from '../metrics/registry.ts';
import type { ApiPool } from '../pool/api-pool.ts';
import type { Job, Ticket } from '../pool/job.ts';
import type { Reply } from '../pool/reply.ts';
import type { Tracker } from '../metrics/tracker.ts';
import { autoscalerView, history, logsView, summarize, type ApiHistory, type ApiParts, type ApiSummary, type AutoscalerView, type LogsView } from './status.ts';

export type { ApiSummary } from './status.ts';

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
}

export interface Backend {
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

  get body(): Buffer {
    return this.#job.body;
  }

  reply(reply: Reply): void {
    this.#job.reply(reply);
    if (reply.kind === 'prediction') this.#tracker.observe(reply.contentType === 'application/json' ? reply.body.toString('utf8') : null);
  }
}

class PoolGate implements Gate {
  readonly #pool: ApiPool;
  readonly #tracker: Tracker | null;

  constructor(parts: ApiParts) {
    this.#pool = parts.pool;
    this.#tracker = parts.metrics.tracker;
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
    return this.#pool.dispatch(this.#tracker === null ? job : new TrackedJob(job, this.#tracker));
  }
}

/** The pools of this process, reached directly. */
export class LocalBackend implements Backend {
  readonly gates: readonly Gate[];
  readonly parts: readonly ApiParts[];
  readonly #metrics: Metrics;
  readonly log: (line: string) => void;

  constructor(parts: readonly ApiParts[], metrics: Metrics, log: (line: string) => void) {
    this.parts = parts;
    this.#metrics = metrics;
    this.log = log;
    this.gates = parts.map((p) => new PoolGate(p));
  }

  summary(gate: number, memory = false): Promise<ApiSummary> {
    return summarize(this.parts[gate], memory);
  }

  history(gate: number): Promise<ApiHistory> {
    return history(this.parts[gate]);
  }

  autoscaler(gate: number): Promise<AutoscalerView> {
    return Promise.resolve(autoscalerView(this.parts[gate]));
  }

  logs(gate: number, after: number, limit: number): Promise<LogsView> {
    return Promise.resolve(logsView(this.parts[gate], after, limit));
  }

  notReady(): Promise<string[]> {
    return Promise.resolve(this.parts.filter((p) => p.pool.readyReplicas === 0).map((p) => p.pool.api.name));
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    this.#metrics.sample();
    return { contentType: this.#metrics.registry.contentType, text: await this.#metrics.registry.metrics() };
  }

  answered(gate: number, code: number, seconds: number | null): void {
    this.parts[gate].metrics.answered(code, seconds);
  }
}
