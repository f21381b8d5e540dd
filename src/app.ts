// Wires one running server: ledger → one pool per API → front door, plus an
// autoscaler per API. The APIs change while it runs (apply: a deploy adds,
// rolls, reconfigures and removes them), the routing table swapped whole
// once per deploy, on the front-door threads too. The serve command owns
// argv, printing and signals; reload/ decides what a deploy changes.
import { EventEmitter } from 'node:events';
import { availableParallelism, totalmem } from 'node:os';
import { Autoscaler } from './autoscale/autoscaler.ts';
import type { ResolvedApi, ResolvedConfig } from './config/types.ts';
import { PortInUseError } from './errors.ts';
import type { AdminHandler } from './http/backend.ts';
import { LocalBackend } from './http/backend.ts';
import { DEFAULT_BODY_TIMEOUT_MS } from './http/body-deadlines.ts';
import { ByteBudget, DEFAULT_MAX_QUEUED_BYTES } from './http/byte-budget.ts';
import { RefusalLog } from './http/refusal-log.ts';
import { DEFAULT_MAX_BODY, FrontDoor } from './http/server.ts';
import { DoorThreads } from './http/threads/door-threads.ts';
import { Metrics } from './metrics/registry.ts';
import { ApiPool } from './pool/api-pool.ts';
import type { BackoffOptions } from './pool/backoff.ts';
import { ResourceLedger, type Gpu } from './pool/ledger.ts';
import { neverFits } from './pool/never-fits.ts';

/** Memory kept back for the OS and the server itself when placing replicas. */
const MEMORY_RESERVE = 0.1;

export interface AppOptions {
  config: ResolvedConfig;
  /** each API's version (reload/version.ts), by name */
  versions?: ReadonlyMap<string, string>;
  python: string;
  host: string;
  port: number;
  gpus: Gpu[];
  maxBody?: number;
  /** how long a request body may take to arrive (408 past it) */
  bodyTimeoutMs?: number;
  /** bytes of request bodies held for unanswered requests, past which requests get 503 */
  maxQueuedBytes?: number;
  apiKey?: string;
  /** the front door on this many worker threads (0: on the main thread, with the pools) */
  httpThreads?: number;
  initTimeoutMs?: number;
  /** serve --predict-timeout: a request executing longer gets 504 and its worker is restarted */
  predictTimeoutMs?: number | null;
  /** serve --enforce-mem: compute.mem as a limit on each replica's process tree */
  enforceMem?: boolean;
  backoff?: BackoffOptions;
  cpu?: number;
  mem?: number;
  env?: NodeJS.ProcessEnv;
  /** real time runs this many times faster for the autoscalers (tests only; see autoscale/autoscaler.ts) */
  autoscalerTimeScale?: number;
  log: (line: string) => void;
  /** workers' output lines; a promise returned: the log is full, read no more output until it resolves */
  output: (label: string, stream: 'stdout' | 'stderr', lines: string[]) => void | Promise<void>;
}

/** The HTTP side: a FrontDoor on the main thread, or DoorThreads. */
interface Door {
  listen(host: string, port: number): Promise<number>;
  /** the backend's APIs changed; resolves once every front door routes by them */
  routesChanged(): Promise<void>;
  beginShutdown(): void;
  close(): Promise<void>;
  kill(): void;
}

/** One API's part in a deploy. */
export type ApiChange =
  | { kind: 'add'; api: ResolvedApi; version: string }
  /** restart: a rolling update to the new version; otherwise the config is taken in place */
  | { kind: 'update'; api: ResolvedApi; version: string; restart: boolean }
  | { kind: 'remove'; name: string };

/**
 * Events: 'api-failed' (name): an API's __init__ failed for good with no
 * older version serving (serve --exit-on-init-error).
 */
export class App extends EventEmitter {
  readonly ledger: ResourceLedger;
  readonly door: Door;
  readonly metrics: Metrics;
  readonly backend: LocalBackend;
  #pools: ApiPool[] = [];
  readonly #autoscalers = new Map<ApiPool, Autoscaler>();
  /** pools taken off the routes that are still draining */
  readonly #removing = new Set<ApiPool>();
  /** the next replica id of each API deleted so far, by name: deployed again, it goes on from there */
  readonly #nextReplicaIds = new Map<string, number>();
  readonly #opts: AppOptions;
  readonly #refusalLog: RefusalLog;
  #refusalTimer: NodeJS.Timeout | null = null;
  #refusalsTickedAt = 0;
  /** the server's URL once it listens */
  #base: string | null = null;
  #admin: AdminHandler = () => Promise.reject(new Error('this server takes no admin requests'));

  constructor(opts: AppOptions) {
    super();
    this.#opts = opts;
    this.ledger = new ResourceLedger({
      cpu: opts.cpu ?? availableParallelism(),
      mem: opts.mem ?? Math.floor(totalmem() * (1 - MEMORY_RESERVE)),
      gpus: opts.gpus,
    });
    this.metrics = new Metrics(() => this.#pools);
    this.backend = new LocalBackend(this.metrics, opts.log, (request) => this.#admin(request));
    this.#pools = opts.config.apis.map((api) => this.#newPool(api, opts.versions?.get(api.name) ?? ''));
    this.backend.route(this.#pools);
    const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const queuedBytes = new ByteBudget(opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES);
    this.metrics.watchQueuedBodyBytes(() => queuedBytes.held);
    this.#refusalLog = new RefusalLog(queuedBytes.limit);
    const door = { maxBody, apiKey: opts.apiKey, bodyTimeoutMs, queuedBytes };
    this.door =
      (opts.httpThreads ?? 0) > 0
        ? new DoorThreads({ count: opts.httpThreads as number, backend: this.backend, log: opts.log, ...door })
        : new FrontDoor({ backend: this.backend, ...door });
  }

  /** the APIs served now */
  get pools(): readonly ApiPool[] {
    return this.#pools;
  }

  /** the autoscaler of each API served now */
  get autoscalers(): Autoscaler[] {
    return this.#pools.map((p) => this.#autoscalers.get(p) as Autoscaler);
  }

  /** Who carries out deploy, refresh and delete requests (reload/reloader.ts). */
  handleAdmin(handler: AdminHandler): void {
    this.#admin = handler;
  }

  /** Binds the port, then starts every API's replicas. Resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    let port: number;
    try {
      port = await this.door.listen(this.#opts.host, this.#opts.port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(this.#opts.host, this.#opts.port, { cause: err });
      throw err;
    }
    const host = this.#opts.host;
    this.#base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    for (const pool of this.#pools) this.#startPool(pool);
    // 503s are summarised once a second per API, never one line each.
    this.#refusalsTickedAt = performance.now();
    this.#refusalTimer = setInterval(() => this.#logRefusals(), 1000);
    this.#refusalTimer.unref();
    return { host, port };
  }

  /**
   * One deploy: APIs added (started at once), updated (rolled or taken in
   * place) and removed; the routes swapped once, for every front door.
   * Resolves once they route by the new table; the removed APIs then drain
   * their admitted requests and stop (`drained`).
   */
  async apply(changes: readonly ApiChange[]): Promise<{ drained: Promise<void> }> {
    const removed: ApiPool[] = [];
    for (const change of changes) {
      if (change.kind === 'add') {
        const pool = this.#newPool(change.api, change.version);
        this.#pools.push(pool);
        if (this.#base !== null) this.#startPool(pool);
      } else if (change.kind === 'update') {
        const pool = this.#pool(change.api.name);
        if (change.restart) this.#warnNeverFits(change.api);
        pool.deploy(change.api, change.version, change.restart);
        this.#autoscalers.get(pool)?.stop();
        // Cortex started the autoscaler afresh on every deploy that changed the API (updateAutoscalerCron).
        this.#autoscalers.set(pool, this.#newAutoscaler(pool));
        if (this.#base !== null) this.#autoscalers.get(pool)?.start();
      } else {
        const pool = this.#pool(change.name);
        this.#autoscalers.get(pool)?.stop();
        this.#autoscalers.delete(pool);
        this.#pools.splice(this.#pools.indexOf(pool), 1);
        this.metrics.forget(pool.api.name);
        this.#nextReplicaIds.set(pool.api.name, pool.nextReplicaId);
        this.#removing.add(pool);
        removed.push(pool);
      }
    }
    this.backend.route(this.#pools);
    await this.door.routesChanged();
    const drained = Promise.all(
      removed.map(async (pool) => {
        await pool.stop();
        this.#removing.delete(pool);
        this.backend.retire(pool);
        // Another deploy may have removed others meanwhile: the threads forget what retired.
        await this.door.routesChanged();
      }),
    ).then(() => {});
    return { drained };
  }

  /** Graceful: refuse new requests, answer every admitted one, stop every worker. */
  async stop(): Promise<void> {
    for (const autoscaler of this.#autoscalers.values()) autoscaler.stop();
    this.door.beginShutdown();
    await Promise.all([...this.#pools, ...this.#removing].map((p) => p.stop()));
    await this.door.close();
    this.#stopRefusalLog();
  }

  /** Forced: kill every worker now. */
  kill(): void {
    this.#stopRefusalLog();
    for (const autoscaler of this.#autoscalers.values()) autoscaler.stop();
    for (const p of [...this.#pools, ...this.#removing]) p.kill();
    this.door.kill();
  }

  #pool(name: string): ApiPool {
    const pool = this.#pools.find((p) => p.api.name === name);
    if (pool === undefined) throw new Error(`no API named ${name} is served`);
    return pool;
  }

  #newPool(api: ResolvedApi, version: string): ApiPool {
    const opts = this.#opts;
    const pool = new ApiPool({
      api,
      version,
      projectDir: opts.config.projectDir,
      python: opts.python,
      ledger: this.ledger,
      baseEnv: opts.env ?? process.env,
      log: opts.log,
      output: opts.output,
      backoff: opts.backoff,
      initTimeoutMs: opts.initTimeoutMs,
      predictTimeoutMs: opts.predictTimeoutMs,
      enforceMem: opts.enforceMem,
      firstReplicaId: this.#nextReplicaIds.get(api.name),
    });
    pool.once('ready', () => opts.log(`api ${pool.api.name} ready at ${this.#base}${pool.api.endpoint}`));
    pool.on('failed', () => this.emit('api-failed', pool.api.name));
    this.#autoscalers.set(pool, this.#newAutoscaler(pool));
    return pool;
  }

  #newAutoscaler(pool: ApiPool): Autoscaler {
    return new Autoscaler({
      api: pool.api.name,
      autoscaling: pool.api.autoscaling,
      readInFlight: () => pool.inFlight,
      currentReplicas: () => pool.desiredReplicas,
      setDesiredReplicas: (n) => pool.setDesiredReplicas(n),
      timeScale: this.#opts.autoscalerTimeScale,
      log: this.#opts.log,
      onDecision: (from, to) => this.metrics.decision(pool.api.name, from, to),
    });
  }

  #startPool(pool: ApiPool): void {
    this.#warnNeverFits(pool.api);
    pool.start();
    this.#autoscalers.get(pool)?.start();
  }

  #warnNeverFits(api: ResolvedApi): void {
    for (const warning of neverFits(api, this.ledger.capacity)) this.#opts.log(`warning: ${warning}`);
  }

  #stopRefusalLog(): void {
    if (this.#refusalTimer === null) return;
    clearInterval(this.#refusalTimer);
    this.#refusalTimer = null;
    this.#logRefusals();
  }

  #logRefusals(): void {
    const now = performance.now();
    const seconds = Math.max(0.1, Math.round((now - this.#refusalsTickedAt) / 100) / 10);
    this.#refusalsTickedAt = now;
    for (const line of this.#refusalLog.tick(this.backend.gates, seconds)) this.#opts.log(line);
  }
}
