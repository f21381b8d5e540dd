// Why an API has the replicas it has: one record per autoscaler tick with
// every input and intermediate value of ../shared/spec/autoscaler.md §2, in
// the JSON that `GET /apis/NAME/autoscaler`, `cortex-local get NAME
// --autoscaler` and `cortex-local simulate --explain` share, and its table.
import { formatNumber, type Decision } from './recommender.ts';

export interface ExplainedTick {
  /** seconds since the autoscaler started (virtual: serve's test time scale does not change it) */
  t: number;
  /** in-flight samples in (t - window, t] */
  samples: number;
  avg_in_flight: number | null;
  /** the replica count requested before this tick */
  current: number;
  /** avg_in_flight / target_replica_concurrency */
  raw: number | null;
  /** ceil(raw) */
  raw_recommendation: number | null;
  /** raw strictly inside this band, on the side away from current, keeps current */
  tolerance_band: [number, number] | null;
  tolerance: 'downscale' | 'upscale' | null;
  factor_floor: number | null;
  factor_ceiling: number | null;
  factor_cap: 'floor' | 'ceiling' | null;
  clamp: 'at_least_1' | 'min_replicas' | 'max_replicas' | null;
  /** the recorded recommendation: after the caps and clamps, before stabilization */
  recommendation: number | null;
  stabilization_floor: number | null;
  stabilization_ceiling: number | null;
  first_downscale_period: boolean | null;
  first_upscale_period: boolean | null;
  /** the replica count requested after this tick */
  request: number;
  reason: string;
}

/** The record of one tick; `t` in seconds, `samples` as the sampler counted them. */
export function explainTick(t: number, samples: number, d: Decision): ExplainedTick {
  const s = d.steps;
  return {
    t,
    samples,
    avg_in_flight: d.avgInFlight,
    current: d.previous,
    raw: s?.raw ?? null,
    raw_recommendation: s?.rawRecommendation ?? null,
    tolerance_band: s?.toleranceBand ?? null,
    tolerance: s?.tolerance ?? null,
    factor_floor: s?.factorFloor ?? null,
    factor_ceiling: s?.factorCeiling ?? null,
    factor_cap: s?.factorCap ?? null,
    clamp: s?.clamp ?? null,
    recommendation: d.recommendation,
    stabilization_floor: s?.stabilizationFloor ?? null,
    stabilization_ceiling: s?.stabilizationCeiling ?? null,
    first_downscale_period: s?.firstDownscalePeriod ?? null,
    first_upscale_period: s?.firstUpscalePeriod ?? null,
    request: d.replicas,
    reason: d.reason,
  };
}

/** A fixed-size memory of the latest ticks, oldest first. */
export class TickHistory {
  readonly #limit: number;
  #ticks: ExplainedTick[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(tick: ExplainedTick): void {
    this.#ticks.push(tick);
    if (this.#ticks.length > this.#limit) this.#ticks.splice(0, this.#ticks.length - this.#limit);
  }

  clear(): void {
    this.#ticks = [];
  }

  get ticks(): readonly ExplainedTick[] {
    return this.#ticks;
  }
}

const HEADER = ['t', 'samples', 'avg', 'current', 'raw', 'band', 'caps', 'rec', 'stab floor', 'stab ceil', 'request', 'reason'];

/** One row per tick: what went in, each bound, what came out and why. */
export function formatTicks(ticks: readonly ExplainedTick[]): string {
  if (ticks.length === 0) return 'no autoscaler tick yet (the first comes 10 s after the API starts)\n';
  const num = (n: number | null) => (n === null ? '-' : formatNumber(n));
  const rows = ticks.map((k) => [
    `${k.t}`,
    `${k.samples}`,
    num(k.avg_in_flight),
    `${k.current}`,
    k.raw === null ? '-' : `${num(k.raw)}→${k.raw_recommendation}`,
    k.tolerance_band === null ? '-' : `(${num(k.tolerance_band[0])}, ${num(k.tolerance_band[1])})${k.tolerance === null ? '' : '*'}`,
    k.factor_floor === null ? '-' : `[${k.factor_floor}, ${k.factor_ceiling}]${k.factor_cap === null ? '' : '*'}`,
    `${num(k.recommendation)}${k.clamp === null ? '' : '*'}`,
    `${num(k.stabilization_floor)}${k.first_downscale_period ? ' (first)' : ''}`,
    `${num(k.stabilization_ceiling)}${k.first_upscale_period ? ' (first)' : ''}`,
    k.request === k.current ? `${k.request}` : `${k.current}->${k.request}`,
    k.reason,
  ]);
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const lines = all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
  return `${lines.join('\n')}\n* this bound changed the count (band: tolerance; caps: max_downscale/upscale_factor; rec: at least 1 / min_replicas / max_replicas)\n`;
}
