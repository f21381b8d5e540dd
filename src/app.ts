// Wires one running server: ledger → one pool per API → front door, plus an
// autoscaler per API. The serve command owns argv, printing and signals.
import { availableParallelism, totalmem } from 'node:os';
import { Autoscaler } from './autoscale/autoscaler.ts';
import type { ResolvedConfig } from './config/types.ts';
import { PortInUseError } from './errors.ts';
import { LocalBackend } from './http/backend.ts';
import { DEFAULT_BODY_TIMEOUT_MS } from './http/body-deadlines.ts';
import { ByteBudget, DEFAULT_MAX_QUEUED_BYTES } from './http/byte-budget.ts';
import { RefusalLog } from './http/refusal-log.ts';
import { RefusalTally } from './http/refusal-tally.ts';
import { DEFAULT_MAX_BODY, FrontDoor } from './http/server.ts';
import type { ApiParts } from './http/status.ts';
import { DoorThreads } from './http/threads/door-threads.ts';
import { LogRing } from './logs/ring.ts';
import { Metrics } from './metrics/registry.ts';
import { ApiPool } from './pool/api-pool.ts';
import type { BackoffOptions } from './pool/backoff.ts';
import { ResourceLedger, type Gpu } from './pool/ledger.ts';
import { neverFits } from './pool/never-fits.ts';
import { collectAllGarbage, IdleTrim } from './idle-trim.ts';

/** Memory kept back for the OS and the server itself when placing replicas. */
const MEMORY_RESERVE = 0.1;

export interface AppOptions {
  config: ResolvedConfig;
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
  /** APIs that cannot start, with why (their project's setup failed, project/prepare.ts): they answer 503 saying so */
  unavailable?: ReadonlyMap<string, string>;
  /** real time runs this many times faster for the autoscalers (tests only; see autoscale/autoscaler.ts) */
  autoscalerTimeScale?: number;
  log: (line: string, level?: 'info' | 'error') => void;
  /** workers' output lines; a promise returned: the log is full, read no more output until it resolves */
  output: (label: string, stream: 'stdout' | 'stderr', lines: string[]) => void | Promise<void>;
}

/** `[iris] …` or `[iris/2/1] …`: the API a server line is about. */
const API_PREFIX = /^\[([^\]/]+)[\]/]/;

/** The HTTP side: a FrontDoor on the main thread, or DoorThreads. */
interface Door {
  listen(host: string, port: number): Promise<number>;
  beginShutdown(): void;
  close(): Promise<void>;
  kill(): void;
}

export class App {
  readonly pools: ApiPool[];
  readonly ledger: ResourceLedger;
  readonly door: Door;
  readonly metrics: Metrics;
  readonly autoscalers: Autoscaler[];
  readonly #opts: AppOptions;
  readonly #refusalLog: RefusalLog;
  readonly #idleTrim = new IdleTrim();
  #refusalTimer: NodeJS.Timeout | null = null;
  #refusalsTickedAt = 0;

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.ledger = new ResourceLedger({
      cpu: opts.cpu ?? availableParallelism(),
      mem: opts.mem ?? Math.floor(totalmem() * (1 - MEMORY_RESERVE)),
      gpus: opts.gpus,
    });
    const apis = opts.config.apis;
    this.metrics = new Metrics(apis, { pools: () => this.pools, autoscalers: () => this.autoscalers });
    const rings = new Map(apis.map((api) => [api.name, new LogRing()]));
    const ring = (api: string) => rings.get(api) as LogRing;
    this.pools = apis.map((api) => {
      const logs = ring(api.name);
      const metrics = this.metrics.api(api.name);
      return new ApiPool({
        api,
        projectDir: opts.config.projectDir,
        python: opts.python,
        ledger: this.ledger,
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
        observer: {
          answered: (wait, run) => {
            metrics.queueWait.observe(wait);
            metrics.predict.observe(run);
          },
          restarted: (reason) => metrics.restarts[reason]++,
          loaded: (seconds) => metrics.modelLoad.observe(seconds),
        },
      });
    });
    for (const pool of this.pools) {
      const reason = opts.unavailable?.get(pool.api.name);
      if (reason !== undefined) pool.failSetup(reason);
    }
    this.autoscalers = this.pools.map(
      (pool) =>
        new Autoscaler({
          api: pool.api.name,
          autoscaling: pool.api.autoscaling,
          readInFlight: () => pool.inFlight,
          currentReplicas: () => pool.desiredReplicas,
          setDesiredReplicas: (n) => pool.setDesiredReplicas(n),
          timeScale: opts.autoscalerTimeScale,
          log: (line) => {
            ring(pool.api.name).push('server', 'server', line);
            opts.log(line);
          },
          onDecision: (from, to) => this.metrics.decision(pool.api.name, from, to),
        }),
    );
    const parts: ApiParts[] = this.pools.map((pool, i) => ({ pool, metrics: this.metrics.apis[i], autoscaler: this.autoscalers[i], logs: ring(pool.api.name) }));
    // The front door's lines (a failed predict() with its traceback, ?debug=true payloads) name their API first.
    const doorLog = (line: string) => {
      const api = API_PREFIX.exec(line)?.[1];
      const logs = api === undefined ? undefined : rings.get(api);
      const level = / failed in predict\(\):/.test(line) ? 'error' : 'info';
      logs?.push('server', 'server', line, level);
      opts.log(line, level);
    };
    const local = new LocalBackend(parts, this.metrics, doorLog);
    const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const queuedBytes = new ByteBudget(opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES);
    this.metrics.watchQueuedBodyBytes(() => queuedBytes.held);
    const refusals = new RefusalTally(this.pools.length);
    this.metrics.watchRefusals(refusals);
    this.#refusalLog = new RefusalLog(
      refusals,
      this.pools.map((p) => ({
        name: p.api.name,
        maxReplicaConcurrency: p.api.autoscaling.max_replica_concurrency,
        get readyReplicas() {
          return p.readyReplicas;
        },
        get initError() {
          return p.initError;
        },
      })),
      queuedBytes.limit,
    );
    const door = { maxBody, apiKey: opts.apiKey, bodyTimeoutMs, queuedBytes, refusals };
    this.door =
      (opts.httpThreads ?? 0) > 0
        ? new DoorThreads({ count: opts.httpThreads as number, local, log: opts.log, ...door })
        : new FrontDoor({ backend: local, ...door });
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
    for (const pool of this.pools) for (const warning of neverFits(pool.api, this.ledger.capacity)) this.#opts.log(`warning: ${warning}`);
    // autoscalers[i] is pools[i]'s; an API whose project could not be set up never starts.
    const runs = this.pools.map((pool) => !this.#opts.unavailable?.has(pool.api.name));
    for (const [i, pool] of this.pools.entries()) if (runs[i]) pool.start();
    for (const [i, autoscaler] of this.autoscalers.entries()) if (runs[i]) autoscaler.start();
    // 503s are summarised once a second per API, never one line each, and
    // reach the per-second windows of the status routes.
    this.#refusalsTickedAt = performance.now();
    this.#refusalTimer = setInterval(() => {
      this.metrics.sample();
      this.#logRefusals();
      let seen = 0;
      for (const api of this.metrics.apis) seen += api.seen();
      if (this.#idleTrim.tick(performance.now(), seen)) collectAllGarbage();
    }, 1000);
    this.#refusalTimer.unref();
    return { host: this.#opts.host, port };
  }

  /** Graceful: refuse new requests, answer every admitted one, stop every worker. */
  async stop(): Promise<void> {
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    this.door.beginShutdown();
    await Promise.all(this.pools.map((p) => p.stop()));
    await this.door.close();
    this.#stopRefusalLog();
  }

  /** Forced: kill every worker now. */
  kill(): void {
    this.#stopRefusalLog();
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    for (const p of this.pools) p.kill();
    this.door.kill();
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
    for (const line of this.#refusalLog.tick(seconds)) this.#opts.log(line);
  }
}
