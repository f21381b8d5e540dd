// Replays an in-flight trace through the sampler and the recommender on a
// simulated clock (../shared/spec/autoscaler.md §4): the engine of
// `cortex-local simulate`, kept apart from its file parsing and printing.
import type { AutoscalingConfig } from '../config/types.ts';
import { Recommender, type Decision } from './recommender.ts';
import { InFlightSampler } from './sampler.ts';

export interface ReplayInput {
  autoscaling: AutoscalingConfig;
  /** before clamping into [min_replicas, max_replicas] */
  initialReplicas: number;
  /** seconds between ticks, an integer ≥ 1 */
  tick: number;
  /** seconds; ticks run at tick, 2·tick, … ≤ duration */
  duration: number;
  /** [t seconds, in flight], t non-decreasing: a step function sampled at whole seconds */
  inFlight: ReadonlyArray<readonly [number, number]>;
}

export interface ReplayDecision extends Decision {
  /** the tick's time in seconds since start */
  t: number;
  /** samples in the tick's window */
  samples: number;
}

export function replay(input: ReplayInput): ReplayDecision[] {
  const { autoscaling: c, tick, duration, inFlight } = input;
  // Cortex clamps the requested count when it (re)creates the deployment.
  let current = Math.min(Math.max(input.initialReplicas, c.min_replicas), c.max_replicas);
  const recommender = new Recommender(c, 0);
  const sampler = new InFlightSampler(c.window);
  const decisions: ReplayDecision[] = [];
  const lastTick = Math.floor(duration / tick) * tick;
  let next = 0;
  let value = 0;
  for (let s = 1; s <= lastTick; s++) {
    // A point at a fractional time takes effect at the next whole second.
    while (next < inFlight.length && inFlight[next][0] <= s) value = inFlight[next++][1];
    sampler.record(s * 1000, value);
    if (s % tick === 0) {
      const { average, samples } = sampler.window(s * 1000);
      const decision = recommender.tick(s * 1000, average, current);
      current = decision.replicas;
      decisions.push({ ...decision, t: s, samples });
    }
  }
  return decisions;
}
