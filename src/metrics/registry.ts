// Prometheus metrics served at GET /metrics. Request counts are plain
// numbers bumped on the hot path (a Tally per API and status code) and handed
// to prom-client when /metrics is scraped: prom-client's inc() hashes and
// validates its labels on every call, even through labels().
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiPool } from '../pool/api-pool.ts';

/** One (api, code) series of cortex_local_requests_total: `n++` counts a request. */
export interface Tally {
  readonly labels: { api: string; code: string };
  n: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #tallies = new Map<string, Tally>();
  readonly #external: { labels: { api: string; code: string }; read: () => number }[] = [];
  readonly #latency: Histogram<'api'>;
  readonly #latencyChildren = new Map<string, Histogram.Internal<'api'>>();
  readonly #decisions: Counter<'api' | 'direction'>;
  #queuedBodyBytes: () => number = () => 0;

  constructor(pools: () => Iterable<ApiPool>) {
    const registers = [this.registry];
    const tallies = this.#tallies;
    const external = this.#external;
    new Counter({
      name: 'cortex_local_requests_total',
      help: 'Prediction requests answered, by API and HTTP status code',
      labelNames: ['api', 'code'],
      registers,
      collect() {
        this.reset();
        for (const t of tallies.values()) if (t.n > 0) this.inc(t.labels, t.n);
        for (const e of external) {
          const n = e.read();
          if (n > 0) this.inc(e.labels, n);
        }
      },
    });
    this.#latency = new Histogram({
      name: 'cortex_local_request_duration_seconds',
      help: 'Time from admission to the last byte of the answer, for admitted prediction requests',
      labelNames: ['api'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#decisions = new Counter({
      name: 'cortex_local_autoscaler_decisions_total',
      help: 'Autoscaler ticks that changed the desired replica count',
      labelNames: ['api', 'direction'],
      registers,
    });
    const queuedBodyBytes = () => this.#queuedBodyBytes();
    new Gauge({
      name: 'cortex_local_queued_body_bytes',
      help: 'Bytes of request bodies held for requests not yet answered, all APIs together (serve --max-queued-bytes caps them)',
      registers,
      collect() {
        this.set(queuedBodyBytes());
      },
    });
    new Gauge({
      name: 'cortex_local_in_flight_requests',
      help: 'Admitted prediction requests not yet answered (queued or executing)',
      labelNames: ['api'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) this.set({ api: p.api.name }, p.inFlight);
      },
    });
    new Counter({
      name: 'cortex_local_abandoned_requests_total',
      help: 'Prediction requests whose client left before the answer, by where the request was then (waiting: queued or not yet started; executing)',
      labelNames: ['api', 'when'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) {
          const n = p.abandoned;
          if (n.waiting > 0) this.inc({ api: p.api.name, when: 'waiting' }, n.waiting);
          if (n.executing > 0) this.inc({ api: p.api.name, when: 'executing' }, n.executing);
        }
      },
    });
    new Gauge({
      name: 'cortex_local_replicas',
      help: 'Replicas by state',
      labelNames: ['api', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) {
          this.set({ api: p.api.name, state: 'desired' }, p.desiredReplicas);
          for (const [state, n] of Object.entries(p.status().replicas)) this.set({ api: p.api.name, state }, n);
        }
      },
    });
  }

  /** The counter of one API and status code, to keep and bump with `n++` (the refusal path does). */
  tally(api: string, code: number): Tally {
    const key = `${api}\0${code}`;
    let t = this.#tallies.get(key);
    if (t === undefined) {
      t = { labels: { api, code: String(code) }, n: 0 };
      this.#tallies.set(key, t);
    }
    return t;
  }

  /** Requests of one API and status code counted elsewhere (in shared memory by another thread): `read` gives the count at each scrape. */
  external(api: string, code: number, read: () => number): void {
    this.#external.push({ labels: { api, code: String(code) }, read });
  }

  /** Where cortex_local_queued_body_bytes is read from (the front door's ByteBudget, in shared memory). */
  watchQueuedBodyBytes(read: () => number): void {
    this.#queuedBodyBytes = read;
  }

  request(api: string, code: number, seconds: number | null): void {
    this.tally(api, code).n++;
    if (seconds === null) return;
    let hist = this.#latencyChildren.get(api);
    if (hist === undefined) {
      hist = this.#latency.labels(api);
      this.#latencyChildren.set(api, hist);
    }
    hist.observe(seconds);
  }

  decision(api: string, from: number, to: number): void {
    this.#decisions.inc({ api, direction: to > from ? 'up' : 'down' });
  }
}
