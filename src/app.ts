// Wires one running server: ledger → one pool per API → front door, plus an
// autoscaler per API. The serve command owns argv, printing and signals.
import { availableParallelism, totalmem } from 'node:os';
import { Autoscaler } from './autoscale/autoscaler.ts';
import type { ResolvedConfig } from './config/types.ts';
import { PortInUseError } from './errors.ts';
import { FrontDoor } from './http/server.ts';
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
  initTimeoutMs?: number;
  backoff?: BackoffOptions;
  cpu?: number;
  mem?: number;
  env?: NodeJS.ProcessEnv;
  /** real time runs this many times faster for the autoscalers (tests only; see autoscale/autoscaler.ts) */
  autoscalerTimeScale?: number;
  log: (line: string) => void;
  output: (label: string, stream: 'stdout' | 'stderr', line: string) => void;
}

export class App {
  readonly pools: ApiPool[];
  readonly ledger: ResourceLedger;
  readonly frontDoor: FrontDoor;
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
    this.frontDoor = new FrontDoor({ pools: this.pools, metrics: this.metrics, maxBody: opts.maxBody, apiKey: opts.apiKey, log: opts.log });
  }

  /** Binds the port, then starts every API's replicas. Resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    const server = this.frontDoor.server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE' ? new PortInUseError(this.#opts.host, this.#opts.port, { cause: err }) : err);
      };
      server.once('error', onError);
      server.listen(this.#opts.port, this.#opts.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.#opts.port;
    for (const pool of this.pools) pool.start();
    for (const autoscaler of this.autoscalers) autoscaler.start();
    return { host: this.#opts.host, port };
  }

  /** Graceful: refuse new requests, answer every admitted one, stop every worker. */
  async stop(): Promise<void> {
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    this.frontDoor.beginShutdown();
    await Promise.all(this.pools.map((p) => p.stop()));
    this.frontDoor.server.closeAllConnections();
  }

  /** Forced: kill every worker now. */
  kill(): void {
    for (const autoscaler of this.autoscalers) autoscaler.stop();
    for (const p of this.pools) p.kill();
    this.frontDoor.server.closeAllConnections();
  }
}
