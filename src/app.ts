// Wires one running server: ledger → one pool per API → front door, plus an
// autoscaler per API. The serve command owns argv, printing and signals.
import { availableParallelism, totalmem } from 'node:os';
import { Autoscaler } from './autoscale/autoscaler.ts';
import type { ResolvedConfig } from './config/types.ts';
import { PortInUseError } from './errors.ts';
import { LocalBackend } from './http/backend.ts';
import { DEFAULT_MAX_BODY, FrontDoor } from './http/server.ts';
import { DoorThreads } from './http/threads/door-threads.ts';
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
  /** APIs that cannot start, with why (their project's setup failed, project/prepare.ts): they answer 503 saying so */
  unavailable?: ReadonlyMap<string, string>;
  /** real time runs this many times faster for the autoscalers (tests only; see autoscale/autoscaler.ts) */
  autoscalerTimeScale?: number;
  log: (line: string) => void;
  output: (label: string, stream: 'stdout' | 'stderr', line: string) => void;
}

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

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.ledger = new ResourceLedger({
      cpu: opts.cpu ?? availableParallelism(),
      mem: opts.mem ?? Math.floor(totalmem() * (1 - MEMORY_RESERVE)),
      gpus: opts.gpus,
    });
    this.pools = opts.config.apis.map(
      (api) =>
        new ApiPool({
          api,
          projectDir: opts.config.projectDir,
          python: opts.python,
          ledger: this.ledger,
          baseEnv: opts.env ?? process.env,
          log: opts.log,
          output: opts.output,
          backoff: opts.backoff,
          initTimeoutMs: opts.initTimeoutMs,
        }),
    );
    for (const pool of this.pools) {
      const reason = opts.unavailable?.get(pool.api.name);
      if (reason !== undefined) pool.failSetup(reason);
    }
    this.metrics = new Metrics(() => this.pools);
    this.autoscalers = this.pools.map(
      (pool) =>
        new Autoscaler({
          api: pool.api.name,
          autoscaling: pool.api.autoscaling,
          readInFlight: () => pool.inFlight,
          currentReplicas: () => pool.desiredReplicas,
          setDesiredReplicas: (n) => pool.setDesiredReplicas(n),
          timeScale: opts.autoscalerTimeScale,
          log: opts.log,
          onDecision: (from, to) => this.metrics.decision(pool.api.name, from, to),
        }),
    );
    const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    this.door =
      (opts.httpThreads ?? 0) > 0
        ? new DoorThreads({ count: opts.httpThreads as number, pools: this.pools, metrics: this.metrics, maxBody, apiKey: opts.apiKey, log: opts.log })
        : new FrontDoor({ backend: new LocalBackend(this.pools, this.metrics, opts.log), maxBody, apiKey: opts.apiKey });
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
    // autoscalers[i] is pools[i]'s
    const runs = this.pools.map((pool) => !this.#opts.unavailable?.has(pool.api.name));
    for (const [i, pool] of this.pools.entries()) if (runs[i]) pool.start();
    for (const [i, autoscaler] of this.autoscalers.entries()) if (runs[i]) autoscaler.start();
    return { host: this.#opts.host, port };
  }

  /** Graceful: refuse new requests, answer every admitted one, stop every worker. */
  async stop(): Promise<void> {
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    this.door.beginShutdown();
    await Promise.all(this.pools.map((p) => p.stop()));
    await this.door.close();
  }

  /** Forced: kill every worker now. */
  kill(): void {
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    for (const p of this.pools) p.kill();
    this.door.kill();
  }
}
