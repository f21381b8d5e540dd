// Prometheus metrics served at GET /metrics, and the per-API figures the
// status routes show (requests of the last minute, tracker, restarts). What
// happens per request is a plain increment on an object looked up once per
// API (ApiMetrics); prom-client sees the figures only when /metrics is
// scraped. Gauges of state (replicas, queue, memory, autoscaler, rollout)
// are read from the pools and autoscalers at scrape time. APIs come and go
// with deploys (add, remove): a deleted API's series leave with it. Every
// series is listed in the README's metrics table.
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Autoscaler } from '../autoscale/autoscaler.ts';
import type { ResolvedApi } from '../config/types.ts';
import type { ApiPool } from '../pool/api-pool.ts';
import { readMemoryBytes } from '../pool/memory.ts';
import type { RestartReason } from '../pool/replica.ts';
import { Buckets, exportBuckets, HistogramFamily, type CustomMetric, type MetricLine } from './histogram.ts';
import { REASONS, REFUSAL_LABELS, RefusalTally, type RefusedFor } from '../http/refusal-tally.ts';
import { MAX_CLASSES, REGRESSION_BUCKETS, Tracker, type TrackerStats } from './tracker.ts';
import { RequestWindow, type WindowSummary } from './window.ts';

const ROLLOUT_STATES = ['updating', 'live', 'error'] as const;

/** Refusals told by their status code: the request was taken, then turned away. */
const CODE_REFUSALS: ReadonlyMap<number, string> = new Map([
  [408, 'body_timeout'],
  [413, 'body_too_large'],
  [504, 'timeout'],
]);

const RESTART_REASONS: readonly RestartReason[] = ['crash', 'memory', 'timeout', 'init_failure'];

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LOAD_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** One counter bumped with `n++` where it happens. */
export interface Tally {
  n: number;
}

/** What one API's requests did: its counters, histograms, window of recent answers and tracker. */
export class ApiMetrics {
  readonly name: string;
  readonly window: RequestWindow;
  /** the tracker of the version deployed (a deploy with another tracker config starts a new one) */
  tracker: Tracker | null;
  /** its 503s at the front door by reason (RefusedFor), in shared memory: wherever they were counted */
  readonly refusals = new RefusalTally();
  readonly latency: Buckets;
  readonly queueWait: Buckets;
  readonly predict: Buckets;
  readonly modelLoad: Buckets;
  readonly restarts: Record<RestartReason, number> = { crash: 0, memory: 0, timeout: 0, init_failure: 0 };
  /** answers by status code, refusals at the gate apart */
  readonly codes = new Map<number, Tally>();
  #trackerConfig: string;
  #refusedInWindow = 0;

  constructor(api: ResolvedApi, families: Families, clock?: () => number) {
    this.name = api.name;
    this.window = new RequestWindow({ clock });
    this.#trackerConfig = JSON.stringify(api.tracker);
    this.tracker = api.tracker === null ? null : new Tracker(api.tracker);
    const labels = { api: api.name };
    this.latency = families.latency.child(labels);
    this.queueWait = families.queueWait.child(labels);
    this.predict = families.predict.child(labels);
    this.modelLoad = families.modelLoad.child(labels);
  }

  /** A prediction request answered (not refused at the gate), with seconds from admission when it was admitted. */
  answered(code: number, seconds: number | null): void {
    let t = this.codes.get(code);
    if (t === undefined) {
      t = { n: 0 };
      this.codes.set(code, t);
    }
    t.n++;
    if (seconds !== null) this.latency.observe(seconds);
    this.window.record(code, seconds);
  }

  refusedBy(why: number): number {
    return this.refusals.read(why as RefusedFor);
  }

  /** 503s refused at the gate so far, every reason together. */
  refused(): number {
    let n = 0;
    for (let r = 0; r < REASONS; r++) n += this.refusedBy(r);
    return n;
  }

  /** A deploy: a changed tracker config starts its counts afresh, as the new version's. */
  deployed(api: ResolvedApi): void {
    const config = JSON.stringify(api.tracker);
    if (config === this.#trackerConfig) return;
    this.#trackerConfig = config;
    this.tracker = api.tracker === null ? null : new Tracker(api.tracker);
  }

  /** Adds the refusals counted since the last call to the current second of the window (they skip it on their path). */
  sample(): void {
    const total = this.refused();
    if (total > this.#refusedInWindow) this.window.add(503, total - this.#refusedInWindow);
    this.#refusedInWindow = total;
  }

  /** Prediction requests seen so far: answered, and refused at the gate. */
  seen(): number {
    let n = this.refused();
    for (const t of this.codes.values()) n += t.n;
    return n;
  }

  /** The last minute's answers, for status. */
  lastMinute(): WindowSummary {
    this.sample();
    return this.window.summary(60);
  }

  trackerStats(): TrackerStats | null {
    return this.tracker?.stats() ?? null;
  }
}

interface Families {
  latency: HistogramFamily<'api'>;
  queueWait: HistogramFamily<'api'>;
  predict: HistogramFamily<'api'>;
  modelLoad: HistogramFamily<'api'>;
}

export interface MetricsSources {
  /** the APIs served now */
  pools: () => readonly ApiPool[];
  /** an API's autoscaler now */
  autoscaler: (api: string) => Autoscaler | undefined;
}

export class Metrics {
  readonly registry = new Registry();
  /** the APIs served now, and those deleted that still drain, by name */
  readonly #byName = new Map<string, ApiMetrics>();
  readonly #families: Families;
  readonly #clock: (() => number) | undefined;
  readonly #decisions: Counter<'api' | 'direction'>;
  #queuedBodyBytes: () => number = () => 0;

  constructor(sources: MetricsSources, opts: { clock?: () => number } = {}) {
    const registers = [this.registry];
    const families: Families = {
      latency: new HistogramFamily({
        name: 'cortex_local_request_duration_seconds',
        help: 'Time from admission to the answer, for admitted prediction requests',
        buckets: LATENCY_BUCKETS,
      }),
      queueWait: new HistogramFamily({
        name: 'cortex_local_queue_wait_seconds',
        help: 'Time an admitted prediction request waited for a free worker',
        buckets: LATENCY_BUCKETS,
      }),
      predict: new HistogramFamily({
        name: 'cortex_local_predict_duration_seconds',
        help: 'Time from a worker taking a request to its answer (predict() and the pipes)',
        buckets: LATENCY_BUCKETS,
      }),
      modelLoad: new HistogramFamily({
        name: 'cortex_local_model_load_duration_seconds',
        help: "Time from a worker's start to its predictor being ready (imports and __init__)",
        buckets: LOAD_BUCKETS,
      }),
    };
    for (const f of Object.values(families)) this.registry.registerMetric(f as unknown as Metric);
    this.#families = families;
    this.#clock = opts.clock;
    const byName = this.#byName;
    const all = { [Symbol.iterator]: () => byName.values() };
    const pools = sources.pools;

    new Counter({
      name: 'cortex_local_requests_total',
      help: 'Prediction requests answered, by API and HTTP status code (503s refused at admission included)',
      labelNames: ['api', 'code'],
      registers,
      collect() {
        this.reset();
        for (const m of all) {
          for (const [code, t] of m.codes) if (t.n > 0) this.inc({ api: m.name, code: String(code) }, t.n);
          const refused = m.refused();
          if (refused > 0) this.inc({ api: m.name, code: '503' }, refused);
        }
      },
    });
    new Counter({
      name: 'cortex_local_refusals_total',
      help: 'Prediction requests turned away, by reason: capacity, no_ready_replica, init_failed, shutting_down, queued_bytes (503), body_timeout (408), body_too_large (413), timeout (504)',
      labelNames: ['api', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const m of all) {
          REFUSAL_LABELS.forEach((reason, r) => this.inc({ api: m.name, reason }, m.refusedBy(r)));
          for (const [code, reason] of CODE_REFUSALS) this.inc({ api: m.name, reason }, m.codes.get(code)?.n ?? 0);
        }
      },
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
    /** A gauge of one number per API served now; null: no sample for that API. */
    const perApi = (name: string, help: string, read: (p: ApiPool) => number | null | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['api'],
        registers,
        collect() {
          this.reset();
          for (const p of pools()) {
            const v = read(p);
            if (v != null) this.set({ api: p.api.name }, v);
          }
        },
      });
    perApi('cortex_local_in_flight_requests', 'Admitted prediction requests not yet answered (queued or executing)', (p) => p.inFlight);
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
    perApi('cortex_local_queued_requests', 'Admitted prediction requests waiting for a free worker', (p) => p.status().queued);
    perApi('cortex_local_capacity_requests', 'Prediction requests admitted at most at once: ready replicas × max_replica_concurrency', (p) => p.capacity);
    new Gauge({
      name: 'cortex_local_replicas',
      help: 'Replicas by state (ready, starting, pending, failed, draining); they add up to the replicas that exist',
      labelNames: ['api', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) for (const [state, n] of Object.entries(p.status().replicas)) this.set({ api: p.api.name, state }, n);
      },
    });
    perApi('cortex_local_desired_replicas', 'Replicas the API should have: init_replicas, then what the autoscaler asked for', (p) => p.desiredReplicas);
    new Counter({
      name: 'cortex_local_worker_restarts_total',
      help: 'Workers restarted, by reason: crash (exited while serving), memory (stopped over compute.mem, --enforce-mem), timeout (stopped after --predict-timeout), init_failure (the predictor failed to load)',
      labelNames: ['api', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const m of all) for (const reason of RESTART_REASONS) this.inc({ api: m.name, reason }, m.restarts[reason]);
      },
    });
    new Gauge({
      name: 'cortex_local_worker_memory_bytes',
      help: 'Memory of each running worker process: proportional set size (resident where it cannot be read); --enforce-mem also counts its children',
      labelNames: ['api', 'replica', 'worker'],
      registers,
      async collect() {
        this.reset();
        const reads: Promise<void>[] = [];
        for (const p of pools()) {
          for (const r of p.status().detail) {
            for (const w of r.workers) {
              if (w.pid === null) continue;
              const labels = { api: p.api.name, replica: String(r.id), worker: String(w.index) };
              reads.push(readMemoryBytes(w.pid).then((bytes) => {
                if (bytes !== null) this.set(labels, bytes);
              }));
            }
          }
        }
        await Promise.all(reads);
      },
    });
    const lastDecision = (p: ApiPool) => sources.autoscaler(p.api.name)?.lastDecision;
    perApi('cortex_local_autoscaler_average_in_flight', "The autoscaler's last window average of in-flight requests", (p) => lastDecision(p)?.avgInFlight);
    perApi('cortex_local_autoscaler_recommended_replicas', "The autoscaler's last recommendation (after the caps and clamps, before stabilization)", (p) => lastDecision(p)?.recommendation);
    perApi('cortex_local_autoscaler_desired_replicas', 'The replica count the autoscaler requested at its last tick', (p) => lastDecision(p)?.replicas);
    this.#decisions = new Counter({
      name: 'cortex_local_autoscaler_decisions_total',
      help: 'Autoscaler ticks that changed the desired replica count, by direction',
      labelNames: ['api', 'direction'],
      registers,
    });
    new Gauge({
      name: 'cortex_local_api_version_info',
      help: 'The version each API serves or rolls out: a short hash of its config and code (always 1)',
      labelNames: ['api', 'version'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) this.set({ api: p.api.name, version: p.version }, 1);
      },
    });
    new Gauge({
      name: 'cortex_local_rollout_state',
      help: "Each API's rollout state: 1 for the one it is in (updating, live or error), 0 for the others",
      labelNames: ['api', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) for (const state of ROLLOUT_STATES) this.set({ api: p.api.name, state }, p.rolloutState === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cortex_local_rollout_replicas',
      help: 'Replicas of the version being served or rolled out (side="new") and of older versions (side="old"), by state',
      labelNames: ['api', 'side', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) {
          const { rollout } = p.status();
          for (const side of ['new', 'old'] as const) {
            for (const [state, n] of Object.entries(rollout[side])) this.set({ api: p.api.name, side, state }, n);
          }
        }
      },
    });
    this.#registerTracker(all);
    collectDefaultMetrics({ register: this.registry });
  }

  /** The metrics of an API starting to be served. */
  add(api: ResolvedApi): ApiMetrics {
    const m = new ApiMetrics(api, this.#families, this.#clock);
    this.#byName.set(api.name, m);
    return m;
  }

  /** An API is gone: its series leave /metrics (one deployed again under its name starts from zero). */
  remove(name: string): void {
    if (!this.#byName.delete(name)) return;
    const labels = { api: name };
    for (const f of Object.values(this.#families)) f.remove(labels);
    this.#decisions.remove({ api: name, direction: 'up' });
    this.#decisions.remove({ api: name, direction: 'down' });
  }

  /** Where cortex_local_queued_body_bytes is read from (the front doors' count of body bytes, byte-budget.ts). */
  watchQueuedBodyBytes(read: () => number): void {
    this.#queuedBodyBytes = read;
  }

  api(name: string): ApiMetrics {
    const m = this.#byName.get(name);
    if (m === undefined) throw new Error(`no metrics for api "${name}"`);
    return m;
  }

  decision(api: string, from: number, to: number): void {
    this.#decisions.inc({ api, direction: to > from ? 'up' : 'down' });
  }

  /** Once a second: moves the refusals counted off the answer path into each API's window. */
  sample(): void {
    for (const m of this.#byName.values()) m.sample();
  }

  /** Prediction requests seen by the APIs served now (a deleted API's leave the sum: the idle trim counts that as activity, which a deploy is). */
  seen(): number {
    let n = 0;
    for (const m of this.#byName.values()) n += m.seen();
    return n;
  }

  #registerTracker(all: Iterable<ApiMetrics>): void {
    const registers = [this.registry];
    const tracked = { [Symbol.iterator]: () => [...all].filter((m) => m.tracker !== null)[Symbol.iterator]() };
    new Counter({
      name: 'cortex_local_tracker_predictions_total',
      help: `Classification predictions by class (tracker: model_type classification); past ${MAX_CLASSES} classes per API the rest count as class "other"`,
      labelNames: ['api', 'class'],
      registers,
      collect() {
        this.reset();
        for (const m of tracked) {
          const s = m.trackerStats();
          if (s?.model_type === 'classification') for (const c of s.classes) this.inc({ api: m.name, class: c.class }, c.count);
        }
      },
    });
    new Counter({
      name: 'cortex_local_tracker_misses_total',
      help: 'Successful predictions the tracker could not read (no such key, or a value of the wrong type)',
      labelNames: ['api'],
      registers,
      collect() {
        this.reset();
        for (const m of tracked) this.inc({ api: m.name }, m.tracker?.misses ?? 0);
      },
    });
    const valueFamily: CustomMetric = {
      name: 'cortex_local_tracker_value',
      help: 'Regression predictions (tracker: model_type regression): their values',
      type: 'histogram',
      aggregator: 'sum',
      get: () => {
        const values: MetricLine[] = [];
        for (const m of tracked) {
          const s = m.trackerStats();
          if (s?.model_type !== 'regression') continue;
          const b = new Buckets(REGRESSION_BUCKETS);
          s.histogram.forEach((h, i) => (b.counts[i] = h.count));
          b.sum = s.sum;
          b.count = s.tracked;
          values.push(...exportBuckets('cortex_local_tracker_value', { api: m.name }, b));
        }
        return Promise.resolve({ name: valueFamily.name, help: valueFamily.help, type: 'histogram', aggregator: 'sum', values });
      },
    };
    this.registry.registerMetric(valueFamily as unknown as Metric);
    for (const [suffix, pick] of [['min', (s: TrackerStats) => (s.model_type === 'regression' ? s.min : null)], ['max', (s: TrackerStats) => (s.model_type === 'regression' ? s.max : null)]] as const) {
      new Gauge({
        name: `cortex_local_tracker_value_${suffix}`,
        help: `The ${suffix === 'min' ? 'lowest' : 'highest'} regression prediction so far`,
        labelNames: ['api'],
        registers,
        collect() {
          this.reset();
          for (const m of tracked) {
            const s = m.trackerStats();
            const v = s === null ? null : pick(s);
            if (v !== null) this.set({ api: m.name }, v);
          }
        },
      });
    }
  }
}
