// Wires one running server: ledger → one pool per API → front door, plus an
// autoscaler, metrics and a log ring per API. The APIs change while it runs
// (apply: a deploy adds, rolls, reconfigures and removes them), the routing
// table swapped whole once per deploy, on the front-door threads too. The
// serve command owns argv, printing and signals; reload/ decides what a
// deploy changes.
import { performance } from 'node:perf_hooks';
import { availableParallelism, totalmem } from 'node:os';
import { Autoscaler } from './autoscale/autoscaler.ts';
import type { ResolvedApi, ResolvedConfig } from './config/types.ts';
import { PortInUseError } from './errors.ts';
import { LocalBackend, type AdminHandler } from './http/backend.ts';
import { DEFAULT_BODY_TIMEOUT_MS } from './http/body-deadlines.ts';
import { ByteBudget, DEFAULT_MAX_QUEUED_BYTES, LocalByteBudget } from './http/byte-budget.ts';
import { RefusalLog } from './http/refusal-log.ts';
import { DEFAULT_MAX_BODY, FrontDoor } from './http/server.ts';
import type { ApiParts } from './http/status.ts';
import { DoorThreads } from './http/threads/door-threads.ts';
import { LogRing } from './logs/ring.ts';
import { Metrics } from './metrics/registry.ts';
import { ApiPool } from './pool/api-pool.ts';
import type { BackoffOptions } from './pool/backoff.ts';
import { BusyPollBudget, DEFAULT_BUSY_POLL_US } from './pool/busy-poll.ts';
import { ResourceLedger, type Gpu } from './pool/ledger.ts';
import { neverFits } from './pool/never-fits.ts';
import { collectAllGarbage, IdleTrim } from './idle-trim.ts';

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
  /** how long a worker may look for its next request before it blocks (pool/busy-poll.ts; default 100 µs, 0: never; serve --no-busy-poll) */
  busyPollMicroseconds?: number;
  initTimeoutMs?: number;
  /** serve --predict-timeout: a request executing longer gets 504 and its worker is restarted */
  predictTimeoutMs?: number | null;
  /** serve --enforce-mem: compute.mem as a limit on each replica's process tree */
  enforceMem?: boolean;
  backoff?: BackoffOptions;
  cpu?: number;
  mem?: number;
  env?: NodeJS.ProcessEnv;
  /** the project's setup failed (project/prepare.ts): every API, deployed now or later, answers 503 saying why */
  setupFailed?: string;
  /** real time runs this many times faster for the autoscalers (tests only; see autoscale/autoscaler.ts) */
  autoscalerTimeScale?: number;
  log: (line: string, level?: 'info' | 'error') => void;
  /** workers' output lines; a promise returned: the log is full, read no more output until it resolves */
  output: (label: string, stream: 'stdout' | 'stderr', lines: string[]) => void | Promise<void>;
  /** each API's pool as it is made, at start or by a deploy (serve follows them) */
  onApi?: (pool: ApiPool) => void;
}

/** `[iris] …` or `[iris/2/1] …`: the API a server line is about. */
const API_PREFIX = /^\[([^\]/]+)[\]/]/;

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
  /** restart: a rolling update to the new version; otherwise the config is taken in place. fresh: every replica restarts (refresh) */
  | { kind: 'update'; api: ResolvedApi; version: string; restart: boolean; fresh?: boolean }
  | { kind: 'remove'; name: string };

export class App {
  readonly ledger: ResourceLedger;
  readonly #busyPoll: BusyPollBudget;
  readonly door: Door;
  readonly metrics: Metrics;
  readonly backend: LocalBackend;
  /** the APIs served now */
  #apis: ApiParts[] = [];
  /** APIs taken off the routes that are still draining */
  readonly #removing = new Set<ApiParts>();
  /** the next replica id of each API deleted so far, by name: deployed again, it goes on from there */
  readonly #nextReplicaIds = new Map<string, number>();
  readonly #opts: AppOptions;
  readonly #refusalLog: RefusalLog;
  readonly #idleTrim = new IdleTrim();
  #refusalTimer: NodeJS.Timeout | null = null;
  #refusalsTickedAt = 0;
  #listening = false;
  #admin: AdminHandler = () => Promise.reject(new Error('this server takes no admin requests'));

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.ledger = new ResourceLedger({
      cpu: opts.cpu ?? availableParallelism(),
      mem: opts.mem ?? Math.floor(totalmem() * (1 - MEMORY_RESERVE)),
      gpus: opts.gpus,
    });
    // The CPUs themselves, not the ledger's (opts.cpu): looking takes a real CPU.
    this.#busyPoll = new BusyPollBudget({
      spareCpus: availableParallelism() - 1 - (opts.httpThreads ?? 0),
      microseconds: opts.busyPollMicroseconds ?? DEFAULT_BUSY_POLL_US,
    });
    this.metrics = new Metrics({ pools: () => this.pools, autoscaler: (name) => this.#apis.find((a) => a.pool.api.name === name)?.autoscaler });
    // The front door's lines (a failed predict() with its traceback, ?debug=true payloads) name their API first.
    const doorLog = (line: string) => {
      const api = API_PREFIX.exec(line)?.[1];
      const level = / failed in predict\(\):/.test(line) ? 'error' : 'info';
      this.#apis.find((a) => a.pool.api.name === api)?.logs.push('server', 'server', line, level);
      opts.log(line, level);
    };
    this.backend = new LocalBackend(this.metrics, doorLog, (request) => this.#admin(request));
    this.#apis = opts.config.apis.map((api) => this.#newApi(api, opts.versions?.get(api.name) ?? ''));
    this.backend.route(this.#apis);
    const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    const door = { maxBody, apiKey: opts.apiKey, bodyTimeoutMs };
    // Front-door threads count body bytes in shared memory; one front door on this thread, in a plain number.
    const threads = opts.httpThreads ?? 0;
    const queuedBytes = threads > 0 ? new ByteBudget(maxQueuedBytes) : new LocalByteBudget(maxQueuedBytes);
    this.metrics.watchQueuedBodyBytes(() => queuedBytes.held);
    this.#refusalLog = new RefusalLog(queuedBytes.limit);
    this.door =
      queuedBytes instanceof ByteBudget
        ? new DoorThreads({ count: threads, local: this.backend, log: opts.log, queuedBytes, ...door })
        : new FrontDoor({ backend: this.backend, queuedBytes, ...door });
  }

  /** the APIs served now */
  get pools(): ApiPool[] {
    return this.#apis.map((a) => a.pool);
  }

  /** the autoscaler of each API served now */
  get autoscalers(): Autoscaler[] {
    return this.#apis.map((a) => a.autoscaler);
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
    this.#listening = true;
    for (const a of this.#apis) this.#warnNeverFits(a.pool.api);
    for (const a of this.#apis) this.#start(a);
    // 503s are summarised once a second per API, never one line each, and
    // reach the per-second windows of the status routes.
    this.#refusalsTickedAt = performance.now();
    this.#refusalTimer = setInterval(() => {
      this.metrics.sample();
      this.#logRefusals();
      if (this.#idleTrim.tick(performance.now(), this.metrics.seen())) collectAllGarbage();
    }, 1000);
    this.#refusalTimer.unref();
    return { host: this.#opts.host, port };
  }

  /**
   * One deploy: APIs added (started at once), updated (rolled or taken in
   * place) and removed; the routes swapped once, for every front door.
   * Resolves once they route by the new table; the removed APIs then drain
   * their admitted requests and stop (`drained`).
   */
  async apply(changes: readonly ApiChange[]): Promise<{ drained: Promise<void> }> {
    const removed: ApiParts[] = [];
    for (const change of changes) {
      if (change.kind === 'add') {
        const a = this.#newApi(change.api, change.version);
        this.#apis.push(a);
        if (this.#listening) {
          this.#warnNeverFits(a.pool.api);
          this.#start(a);
        }
      } else if (change.kind === 'update') {
        const a = this.#api(change.api.name);
        if (change.restart) this.#warnNeverFits(change.api);
        a.pool.deploy(change.api, change.version, change.restart, change.fresh);
        a.metrics.deployed(change.api);
        a.autoscaler.stop();
        // Cortex started the autoscaler afresh on every deploy that changed the API (updateAutoscalerCron).
        a.autoscaler = this.#newAutoscaler(a.pool, a.logs);
        if (this.#listening && this.#opts.setupFailed === undefined) a.autoscaler.start();
      } else {
        const a = this.#api(change.name);
        a.autoscaler.stop();
        this.#apis.splice(this.#apis.indexOf(a), 1);
        this.metrics.remove(change.name);
        this.#nextReplicaIds.set(change.name, a.pool.nextReplicaId);
        this.#removing.add(a);
        removed.push(a);
      }
    }
    this.backend.route(this.#apis);
    await this.door.routesChanged();
    const drained = Promise.all(
      removed.map(async (a) => {
        await a.pool.stop();
        this.#removing.delete(a);
        this.backend.retire(a);
        // The threads forget what retired.
        await this.door.routesChanged();
      }),
    ).then(() => {});
    return { drained };
  }

  /** Graceful: refuse new requests, answer every admitted one, stop every worker. */
  async stop(): Promise<void> {
    for (const a of this.#apis) a.autoscaler.stop();
    this.door.beginShutdown();
    await Promise.all([...this.#apis, ...this.#removing].map((a) => a.pool.stop()));
    await this.door.close();
    this.#stopRefusalLog();
  }

  /** Forced: kill every worker now. */
  kill(): void {
    this.#stopRefusalLog();
    for (const a of this.#apis) a.autoscaler.stop();
    for (const a of [...this.#apis, ...this.#removing]) a.pool.kill();
    this.door.kill();
  }

  #api(name: string): ApiParts {
    const a = this.#apis.find((x) => x.pool.api.name === name);
    if (a === undefined) throw new Error(`no API named ${name} is served`);
    return a;
  }

  #newApi(api: ResolvedApi, version: string): ApiParts {
    const opts = this.#opts;
    const logs = new LogRing();
    const metrics = this.metrics.add(api);
    const pool = new ApiPool({
      api,
      version,
      projectDir: opts.config.projectDir,
      python: opts.python,
      ledger: this.ledger,
      busyPoll: this.#busyPoll,
      baseEnv: opts.env ?? process.env,
      log: (line, level = 'info') => {
        logs.push('server', 'server', line, level);
        opts.log(line, level);
      },
      output: (label, stream, lines) => {
        logs.pushAll(label, stream, lines);
        return opts.output(label, stream, lines);
      },
      backoff: opts.backoff,
      initTimeoutMs: opts.initTimeoutMs,
      predictTimeoutMs: opts.predictTimeoutMs,
      enforceMem: opts.enforceMem,
      firstReplicaId: this.#nextReplicaIds.get(api.name),
      sharedAdmission: (opts.httpThreads ?? 0) > 0,
      observer: {
        answered: (wait, run) => {
          metrics.queueWait.observe(wait);
          metrics.predict.observe(run);
        },
        restarted: (reason) => metrics.restarts[reason]++,
        loaded: (seconds) => metrics.modelLoad.observe(seconds),
      },
    });
    if (opts.setupFailed !== undefined) pool.failSetup(opts.setupFailed);
    opts.onApi?.(pool);
    return { pool, metrics, logs, autoscaler: this.#newAutoscaler(pool, logs) };
  }

  #newAutoscaler(pool: ApiPool, logs: LogRing): Autoscaler {
    return new Autoscaler({
      api: pool.api.name,
      autoscaling: pool.api.autoscaling,
      readInFlight: () => pool.inFlight,
      currentReplicas: () => pool.desiredReplicas,
      setDesiredReplicas: (n) => pool.setDesiredReplicas(n),
      timeScale: this.#opts.autoscalerTimeScale,
      log: (line) => {
        logs.push('server', 'server', line);
        this.#opts.log(line);
      },
      onDecision: (from, to) => this.metrics.decision(pool.api.name, from, to),
    });
  }

  /** An API whose project could not be set up never starts. */
  #start(a: ApiParts): void {
    if (this.#opts.setupFailed !== undefined) return;
    a.pool.start();
    a.autoscaler.start();
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
