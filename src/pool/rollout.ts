// The rolling update of one API, as Kubernetes' Deployment controller rolls a
// Deployment (Cortex 0.15 handed its update_strategy to it): given the
// replicas of the current version and of older ones, what to start and what
// to drain next. Pure; the pool calls it whenever a replica changes state and
// applies the plan, so repeated calls walk the rollout to its end.
//
// The rules (k8s pkg/controller/deployment/rolling.go, util/deployment_util.go):
// - max_surge (a count, or a % of the desired count rounded up) and
//   max_unavailable (rounded down) are resolved against the desired count;
//   both 0 after rounding makes max_unavailable 1 (ResolveFenceposts).
// - New replicas start while all replicas stay within desired + max_surge.
//   Draining replicas count: they still run and hold their compute until
//   they stop (where Kubernetes stops counting a pod once it terminates).
// - Old replicas drain while at least desired − max_unavailable replicas are
//   ready, those that serve nothing first (cleanupUnhealthyReplicas).
// - Cortex recreated a Deployment none of whose replicas had become ready
//   (applyK8sDeployment): old replicas of which none is ready drain at once.
// - The compute ledger: when a new replica cannot be placed (no GPU, no cpu
//   left), and nothing else is in progress (nothing draining, every placed new
//   replica ready), one old replica drains to make room, so an API rolls
//   within the compute it holds, one replica at a time.
import type { ReplicaState } from './replica.ts';
import { planReplicas, type ReplicaView } from './plan.ts';

export interface UpdateStrategy {
  max_surge: number | string;
  max_unavailable: number | string;
}

export interface OldReplicaView extends ReplicaView {
  /** its version's generation: the lower, the older */
  generation: number;
}

export interface RolloutInput {
  desired: number;
  /** the current version's update_strategy */
  strategy: UpdateStrategy;
  /** the current version's replicas, in any state but stopped */
  current: readonly ReplicaView[];
  /** the current version's replicas not placed yet */
  currentPending: number;
  /** replicas of older versions, in any state but stopped */
  old: readonly OldReplicaView[];
  /** older versions' replicas not placed yet: they never will be */
  oldPending: number;
  /** how many more current-version replicas the compute ledger could place now */
  room: number;
  /** a current replica failed __init__: no old replica is drained to make room for more of them */
  currentFailing: boolean;
}

export interface RolloutPlan {
  /** older versions' pending replicas to forget (all of them) */
  dropOldPending: number;
  /** current pending replicas to forget (the newest) */
  dropPending: number;
  /** current-version replicas to add (pending until placed) */
  addPending: number;
  /** replicas to drain, in this order (either version) */
  drain: number[];
}

export interface ResolvedStrategy {
  maxSurge: number;
  maxUnavailable: number;
}

/** max_surge rounded up, max_unavailable rounded down, of `desired`; both 0 makes max_unavailable 1. */
export function resolveStrategy(strategy: UpdateStrategy, desired: number): ResolvedStrategy {
  const maxSurge = scaled(strategy.max_surge, desired, true);
  let maxUnavailable = Math.min(scaled(strategy.max_unavailable, desired, false), desired);
  // Validation refuses both zero as written; a percentage can still round down to it.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/**
 * An int, `N%` of `total`, or an int written as a string (Cortex parsed it
 * with intstr.Parse: a count, not a percentage).
 */
function scaled(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (!value.endsWith('%')) return Number.parseInt(value, 10);
  const share = (Number.parseInt(value.slice(0, -1), 10) * total) / 100;
  return roundUp ? Math.ceil(share) : Math.floor(share);
}

const live = (r: ReplicaView) => r.state !== 'draining' && r.state !== 'stopped';
const ready = (r: ReplicaView) => r.state === 'ready';
/** oldest version first, and within one the newest replica (as plan.ts scales down) */
const drainOrder = (a: OldReplicaView, b: OldReplicaView) => a.generation - b.generation || b.id - a.id;

/** Whether replicas of older versions remain (draining ones included): the API is rolling. */
export function isRolling(input: Pick<RolloutInput, 'old' | 'oldPending'>): boolean {
  return input.oldPending > 0 || input.old.some((r) => r.state !== 'stopped');
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const { desired, current } = input;
  if (!isRolling(input)) {
    const p = planReplicas(current, input.currentPending, desired);
    return { dropOldPending: 0, dropPending: p.dropPending, addPending: p.addPending, drain: p.drain };
  }
  const { maxSurge, maxUnavailable } = resolveStrategy(input.strategy, desired);
  const plan: RolloutPlan = { dropOldPending: input.oldPending, dropPending: 0, addPending: 0, drain: [] };
  const drained = new Set<number>();
  const drain = (id: number) => {
    plan.drain.push(id);
    drained.add(id);
  };
  const wasDraining = input.current.filter((r) => r.state === 'draining').length + input.old.filter((r) => r.state === 'draining').length;

  let old = input.old.filter(live);
  if (!old.some(ready)) {
    for (const r of [...old].sort(drainOrder)) drain(r.id);
    old = [];
  }

  // The autoscaler may have lowered the count: the current version shrinks to it.
  let pending = input.currentPending;
  if (current.filter(live).length + pending > desired) {
    const trim = planReplicas(current, pending, desired);
    pending -= trim.dropPending;
    plan.dropPending = trim.dropPending;
    for (const id of trim.drain) drain(id);
  }
  const cur = current.filter((r) => live(r) && !drained.has(r.id));
  let curCount = cur.length + pending;

  // Every replica that runs or waits for compute, draining ones included.
  const total = input.current.filter((r) => r.state !== 'stopped').length + input.old.filter((r) => r.state !== 'stopped').length + pending;
  const add = Math.max(0, Math.min(desired + maxSurge - total, desired - curCount));
  plan.addPending = add;
  curCount += add;

  const minAvailable = desired - maxUnavailable;
  const curReady = cur.filter(ready).length;
  let maxScaledDown = curCount + old.length - minAvailable - (curCount - curReady);
  const unhealthy = old.filter((r) => !ready(r)).sort(drainOrder);
  for (const r of unhealthy) {
    if (maxScaledDown <= 0) break;
    drain(r.id);
    maxScaledDown--;
  }
  const oldReady = old.filter(ready).sort(drainOrder);
  let canDrain = curReady + oldReady.length - minAvailable;
  for (const r of oldReady) {
    if (canDrain <= 0) break;
    drain(r.id);
    canDrain--;
  }

  const remaining = old.filter((r) => !drained.has(r.id));
  // New replicas wait for compute, none can be placed, and nothing is on its way.
  const blocked = pending + add > 0 && input.room === 0;
  const settled = cur.every(ready);
  if (plan.drain.length === 0 && wasDraining === 0 && blocked && settled && !input.currentFailing && remaining.length > 0) {
    drain(([...remaining.filter((r) => !ready(r))].sort(drainOrder)[0] ?? [...remaining].sort(drainOrder)[0]).id);
  }
  return plan;
}

/** Counts by state, for the status and the metrics. */
export function countStates(replicas: readonly { state: ReplicaState }[], pending: number): Record<'ready' | 'starting' | 'pending' | 'failed' | 'draining', number> {
  const counts = { ready: 0, starting: 0, pending, failed: 0, draining: 0 };
  for (const r of replicas) if (r.state !== 'stopped') counts[r.state]++;
  return counts;
}
