// The autoscaler of one API (../shared/spec/autoscaler.md §1, §3): samples
// in-flight every second, ticks every 10 s, hands the recommender's count to
// the pool. All policy lives in recommender.ts; this file only owns timers.
//
// Times given to the sampler and the recommender are virtual: slot k of the
// sampling grid is at k × sampleIntervalMs after start, whatever the timers'
// jitter, so windows and stabilization periods compare exactly as in the spec
// and as in `simulate`. `timeScale` shrinks the real intervals (both of them)
// while the virtual times stay the same, so a test config with a 5 s
// stabilization period plays out in 5 / timeScale real seconds. `serve` takes
// it from CORTEX_LOCAL_AUTOSCALER_TIME_SCALE (see autoscalerTimeScale), which
// exists for tests only.
import { performance } from 'node:perf_hooks';
import type { AutoscalingConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { explainTick, TickHistory, type ExplainedTick } from './explain.ts';
import { formatNumber, Recommender, type Decision } from './recommender.ts';
import { InFlightSampler } from './sampler.ts';

export interface AutoscalerOptions {
  /** the API's name, for the log line */
  api: string;
  autoscaling: AutoscalingConfig;
  /** the API's requests admitted and not yet answered, over all replicas */
  readInFlight: () => number;
  /** the desired replica count the pool holds now (Cortex: deployment.Spec.Replicas) */
  currentReplicas: () => number;
  setDesiredReplicas: (n: number) => void;
  /** ms; defaults to a monotonic clock. Must advance with the timers (mock.timers: pass Date.now). */
  clock?: () => number;
  /** virtual ms between samples (default 1000) */
  sampleIntervalMs?: number;
  /** virtual ms between ticks (default 10000) */
  tickIntervalMs?: number;
  /** real time runs this many times faster than virtual time (default 1; tests only) */
  timeScale?: number;
  /** one line per tick that changes the count, and callback failures */
  log: (line: string) => void;
  /** after each tick that changed the count */
  onDecision?: (from: number, to: number) => void;
}

/** How many ticks `explain` keeps: 10 minutes at the default 10 s tick. */
export const EXPLAINED_TICKS = 60;

export const TIME_SCALE_ENV = 'CORTEX_LOCAL_AUTOSCALER_TIME_SCALE';

/** The time scale `serve` passes to every autoscaler: 1 unless the test-only env var says otherwise. */
export function autoscalerTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TIME_SCALE_ENV];
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) throw new UsageError(`${TIME_SCALE_ENV} must be a number > 0, got "${raw}"`);
  return scale;
}

export class Autoscaler {
  readonly #opts: AutoscalerOptions;
  readonly #clock: () => number;
  readonly #sampleMs: number;
  readonly #tickMs: number;
  readonly #realSampleMs: number;
  #recommender: Recommender;
  #sampler: InFlightSampler;
  #timer: NodeJS.Timeout | undefined;
  #startReal = 0;
  #slot = 0;
  #ticks = 0;
  #last: Decision | null = null;
  readonly #history = new TickHistory(EXPLAINED_TICKS);

  constructor(opts: AutoscalerOptions) {
    const timeScale = opts.timeScale ?? 1;
    this.#sampleMs = opts.sampleIntervalMs ?? 1000;
    this.#tickMs = opts.tickIntervalMs ?? 10_000;
    for (const [name, value] of [['timeScale', timeScale], ['sampleIntervalMs', this.#sampleMs], ['tickIntervalMs', this.#tickMs]] as const) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`autoscaler ${name} must be a number > 0, got ${value}`);
    }
    this.#opts = opts;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#realSampleMs = this.#sampleMs / timeScale;
    this.#recommender = new Recommender(opts.autoscaling, 0);
    this.#sampler = new InFlightSampler(opts.autoscaling.window);
  }

  /** The latest tick's decision (null before the first tick). */
  get lastDecision(): Decision | null {
    return this.#last;
  }

  /** The latest ticks, oldest first, with every value that went into each (explain.ts). */
  get ticks(): readonly ExplainedTick[] {
    return this.#history.ticks;
  }

  /** Starts at t = 0: a fresh window, no recommendations, a new first period (as Cortex's updateAutoscalerCron). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#recommender = new Recommender(this.#opts.autoscaling, 0);
    this.#sampler = new InFlightSampler(this.#opts.autoscaling.window);
    this.#slot = 0;
    this.#ticks = 0;
    this.#last = null;
    this.#history.clear();
    this.#startReal = this.#clock();
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // A chain of timeouts aimed at the grid, rather than setInterval, so the
  // delays of a busy event loop do not accumulate into a slower clock.
  #schedule(): void {
    const due = this.#startReal + (this.#slot + 1) * this.#realSampleMs;
    this.#timer = setTimeout(() => this.#onSample(), Math.max(0, due - this.#clock()));
    this.#timer.unref();
  }

  #onSample(): void {
    try {
      // The sample belongs to the latest slot that is due. A slot the event
      // loop slept through stays without a sample (the average is over the
      // samples that exist), so virtual time keeps pace with the clock.
      const slot = Math.max(this.#slot + 1, Math.floor((this.#clock() - this.#startReal) / this.#realSampleMs));
      this.#slot = slot;
      const at = slot * this.#sampleMs;
      this.#sampler.record(at, this.#opts.readInFlight());
      const ticks = Math.floor(at / this.#tickMs);
      if (ticks > this.#ticks) {
        this.#ticks = ticks;
        this.#tick(ticks * this.#tickMs);
      }
    } catch (err) {
      this.#opts.log(`autoscaler api=${this.#opts.api} error: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (this.#timer !== undefined) this.#schedule();
    }
  }

  #tick(at: number): void {
    const { average, samples } = this.#sampler.window(at);
    const decision = this.#recommender.tick(at, average, this.#opts.currentReplicas());
    this.#last = decision;
    this.#history.push(explainTick(at / 1000, samples, decision));
    const { previous: from, replicas: to } = decision;
    if (to === from) return;
    this.#opts.setDesiredReplicas(to);
    this.#opts.log(formatDecision(this.#opts.api, decision));
    this.#opts.onDecision?.(from, to);
  }
}

/** `autoscaler api=NAME avg_in_flight=3.4 recommendation=4 replicas 2→4 (reason)` */
function formatDecision(api: string, d: Decision): string {
  const avg = d.avgInFlight === null ? 'none' : formatNumber(d.avgInFlight);
  return `autoscaler api=${api} avg_in_flight=${avg} recommendation=${d.recommendation ?? 'none'} replicas ${d.previous}→${d.replicas} (${d.reason})`;
}
