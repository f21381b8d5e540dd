// Cortex 0.15's replica recommender (../shared/spec/autoscaler.md §2), as a
// pure decider in the shape of Knative's `Scale(now)`: the caller brings the
// clock, the window average and the current replica count, so tests and
// `simulate` drive it with exact times. Every comparison and the order of the
// floating-point operations follow the spec line by line; do not "simplify"
// them (e.g. `current * (1 - tol)` is not `current - current * tol` in doubles).
import type { AutoscalingConfig } from '../config/types.ts';

export interface Decision {
  /** the tick's time, ms on the caller's clock */
  at: number;
  /** the window average of in-flight requests; null when no sample exists yet */
  avgInFlight: number | null;
  /** the recorded recommendation (after the clamps, before stabilization); null without samples */
  recommendation: number | null;
  /** the replica count before this tick */
  previous: number;
  /** the replica count to request after this tick */
  replicas: number;
  /** the last rule that changed the count, in a few words */
  reason: string;
  /** every intermediate value of the tick, in the spec's order; null without samples */
  steps: DecisionSteps | null;
}

/** The intermediate values of one tick (../shared/spec/autoscaler.md §2), for `explain`. */
export interface DecisionSteps {
  /** avg / target_replica_concurrency */
  raw: number;
  /** ceil(raw) */
  rawRecommendation: number;
  /** raw strictly inside (low, high), on the side away from current, keeps current */
  toleranceBand: [low: number, high: number];
  tolerance: 'downscale' | 'upscale' | null;
  /** min(current - 1, ceil(current × max_downscale_factor)) */
  factorFloor: number;
  /** max(current + 1, ceil(current × max_upscale_factor)) */
  factorCeiling: number;
  factorCap: 'floor' | 'ceiling' | null;
  /** the last of "at least 1", min_replicas, max_replicas that changed the count */
  clamp: 'at_least_1' | 'min_replicas' | 'max_replicas' | null;
  /** the request may not go below this: current in the first downscale period, else the highest recommendation within it; null when none applies */
  stabilizationFloor: number | null;
  /** the request may not go above this: current in the first upscale period, else the lowest recommendation within it; null when none applies */
  stabilizationCeiling: number | null;
  firstDownscalePeriod: boolean;
  firstUpscalePeriod: boolean;
}

interface Recorded {
  /** ms on the caller's clock */
  at: number;
  replicas: number;
}

export class Recommender {
  readonly #config: AutoscalingConfig;
  readonly #startTime: number;
  /** oldest first; only what a stabilization period can still see */
  #records: Recorded[] = [];

  /** `startTime` is when the autoscaler of the API was created (ms); the first stabilization periods count from it. */
  constructor(config: AutoscalingConfig, startTime: number) {
    this.#config = config;
    this.#startTime = startTime;
  }

  /**
   * One autoscaler tick at `now` (ms). `currentReplicas` is the count the
   * autoscaler last requested (the desired count, not the ready one).
   */
  tick(now: number, avgInFlight: number | null, currentReplicas: number): Decision {
    const current = currentReplicas;
    if (avgInFlight === null) {
      // Cortex: "metrics not available yet" — nothing recorded, nothing changed.
      return { at: now, avgInFlight: null, recommendation: null, previous: current, replicas: current, reason: 'no samples yet', steps: null };
    }
    const c = this.#config;

    const raw = avgInFlight / c.target_replica_concurrency;
    let rec = Math.ceil(raw);
    let reason = `${formatNumber(avgInFlight)} in flight / target ${formatNumber(c.target_replica_concurrency)}`;
    const set = (value: number, why: string): void => {
      if (value !== rec) reason = why;
      rec = value;
    };

    const low = current * (1 - c.downscale_tolerance);
    const high = current * (1 + c.upscale_tolerance);
    let tolerance: DecisionSteps['tolerance'] = null;
    if (raw < current && raw > low) {
      set(current, 'within downscale tolerance');
      tolerance = 'downscale';
    }
    if (raw > current && raw < high) {
      set(current, 'within upscale tolerance');
      tolerance = 'upscale';
    }
    // Cortex always allows a step of one, whatever the factors say.
    const floor = Math.min(current - 1, Math.ceil(current * c.max_downscale_factor));
    let factorCap: DecisionSteps['factorCap'] = null;
    if (rec < floor) {
      set(floor, 'max_downscale_factor cap');
      factorCap = 'floor';
    }
    const ceil = Math.max(current + 1, Math.ceil(current * c.max_upscale_factor));
    if (rec > ceil) {
      set(ceil, 'max_upscale_factor cap');
      factorCap = 'ceiling';
    }
    let clamp: DecisionSteps['clamp'] = null;
    if (rec < 1) {
      set(1, 'at least 1 replica');
      clamp = 'at_least_1';
    }
    if (rec < c.min_replicas) {
      set(c.min_replicas, 'min_replicas');
      clamp = 'min_replicas';
    }
    if (rec > c.max_replicas) {
      set(c.max_replicas, 'max_replicas');
      clamp = 'max_replicas';
    }
    const recommendation = rec;

    this.#forgetOlderThanEveryPeriod(now);
    this.#records.push({ at: now, replicas: recommendation });

    // Ages in seconds, so they compare exactly with the config's seconds when
    // the clock is on a whole-ms grid (spec: strict `<` at every boundary).
    const sinceStart = (now - this.#startTime) / 1000;
    const within = (period: number): Recorded[] => this.#records.filter((r) => (now - r.at) / 1000 < period);

    // The bound a stabilization period sets: the current count during the
    // first period, then the max (downscale) or min (upscale) of the
    // recommendations within it; null when there are none.
    const bound = (period: number, pick: (...counts: number[]) => number): { value: number | null; first: boolean } => {
      if (sinceStart < period) return { value: current, first: true };
      const recent = within(period);
      return { value: recent.length > 0 ? pick(...recent.map((r) => r.replicas)) : null, first: false };
    };
    let request = recommendation;
    const down = bound(c.downscale_stabilization_period, Math.max);
    const stabilizationFloor = down.value;
    if (stabilizationFloor !== null && stabilizationFloor > request) {
      request = stabilizationFloor;
      reason = down.first ? 'downscale stabilization (first period)' : 'downscale stabilization';
    }
    const up = bound(c.upscale_stabilization_period, Math.min);
    const stabilizationCeiling = up.value;
    if (stabilizationCeiling !== null && stabilizationCeiling < request) {
      request = stabilizationCeiling;
      reason = up.first ? 'upscale stabilization (first period)' : 'upscale stabilization';
    }

    const steps: DecisionSteps = {
      raw,
      rawRecommendation: Math.ceil(raw),
      toleranceBand: [low, high],
      tolerance,
      factorFloor: floor,
      factorCeiling: ceil,
      factorCap,
      clamp,
      stabilizationFloor,
      stabilizationCeiling,
      firstDownscalePeriod: down.first,
      firstUpscalePeriod: up.first,
    };
    return { at: now, avgInFlight, recommendation, previous: current, replicas: request, reason, steps };
  }

  /** Records at least as old as both periods can never be read again (comparisons are strict), so memory stays bounded. */
  #forgetOlderThanEveryPeriod(now: number): void {
    const longest = Math.max(this.#config.downscale_stabilization_period, this.#config.upscale_stabilization_period);
    let drop = 0;
    while (drop < this.#records.length && (now - this.#records[drop].at) / 1000 >= longest) drop++;
    if (drop > 0) this.#records.splice(0, drop);
  }
}

/** Up to 3 decimals, no trailing zeros: 3.4, 7.867, 12. */
export function formatNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
