// Wires one running server: ledger → one pool per API → front door, plus an
// autoscaler per API. The serve command owns argv, printing and signals.
import { availableParallelism, totalmem } from 'node:os';
import { Autoscaler } from './autoscale/autoscaler.ts';
import type { ResolvedConfig } from './config/types.ts';
import { PortInUseError } from './errors.ts';
import { LocalBackend } from './http/backend.ts';
import { DEFAULT_MAX_BODY, FrontDoor } from './http/server.ts';
import type { ApiParts } from './http/status.ts';
import { DoorThreads } from './http/threads/door-threads.ts';
import { LogRing } from './logs/ring.ts';
import { Metrics } from './metrics/registry.ts';
import { ApiPool } from './pool/api-pool.ts';
import type { BackoffOptions } from './pool/backoff.ts';
import { ResourceLedger, type Gpu } from './pool/ledger.ts';

/** Memory kept back for the OS and the server itself when placing replicas. */
const MEMORY_RESERVE = 0.1;

export interface AppOptions {
  config: ResolvedConfig;
  python: string;
  host: string;
  port: number;
  gpus: Gpu[];
  maxBody?: number;
  apiKey?: string;
  /** the front door on this many worker threads (0: on the main thread, with the pools) */
  httpThreads?: number;
  initTimeoutMs?: number;
  backoff?: BackoffOptions;
  cpu?: number;
  mem?: number;
  env?: NodeJS.ProcessEnv;
  /** real time runs this many times faster for the autoscalers (tests only; see autoscale/autoscaler.ts) */
  autoscalerTimeScale?: number;
  log: (line: string, level?: 'info' | 'error') => void;
  output: (label: string, stream: 'stdout' | 'stderr', line: string) => void;
}

/** How often refusals counted off the answer path reach the per-second windows. */
const SAMPLE_MS = 1000;

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
  #sampler: NodeJS.Timeout | undefined;

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
        output: (label, stream, line) => {
          logs.push(label, stream, line);
          opts.output(label, stream, line);
        },
        backoff: opts.backoff,
        initTimeoutMs: opts.initTimeoutMs,
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
    this.door =
      (opts.httpThreads ?? 0) > 0
        ? new DoorThreads({ count: opts.httpThreads as number, local, maxBody, apiKey: opts.apiKey, log: opts.log })
        : new FrontDoor({ backend: local, maxBody, apiKey: opts.apiKey });
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
    for (const pool of this.pools) pool.start();
    for (const autoscaler of this.autoscalers) autoscaler.start();
    this.#sampler = setInterval(() => this.metrics.sample(), SAMPLE_MS);
    this.#sampler.unref();
    return { host: this.#opts.host, port };
  }

  /** Graceful: refuse new requests, answer every admitted one, stop every worker. */
  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    this.door.beginShutdown();
    await Promise.all(this.pools.map((p) => p.stop()));
    await this.door.close();
  }

  /** Forced: kill every worker now. */
  kill(): void {
    clearInterval(this.#sampler);
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    for (const p of this.pools) p.kill();
    this.door.kill();
  }
}
