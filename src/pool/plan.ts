// The replica plan: what to start and what to drain to bring an API to its
// desired replica count. Scale-down removes what serves least first: pending
// replicas (never placed), then failed, then starting, then ready ones, the
// newest of each first. Draining and stopped replicas no longer count.
import type { ReplicaState } from './replica.ts';

export interface ReplicaView {
  id: number;
  state: ReplicaState;
}

export interface ReplicaPlan {
  /** pending replicas to forget (the newest) */
  dropPending: number;
  /** pending replicas to add (each starts once the ledger has room) */
  addPending: number;
  /** replicas to drain, in this order */
  drain: number[];
}

const SCALE_DOWN_ORDER: ReplicaState[] = ['failed', 'starting', 'ready'];

export function planReplicas(replicas: readonly ReplicaView[], pending: number, desired: number): ReplicaPlan {
  const live = replicas.filter((r) => r.state !== 'draining' && r.state !== 'stopped');
  let excess = live.length + pending - desired;
  if (excess <= 0) return { dropPending: 0, addPending: desired - live.length - pending, drain: [] };
  const dropPending = Math.min(pending, excess);
  excess -= dropPending;
  const drain: number[] = [];
  for (const state of SCALE_DOWN_ORDER) {
    const newestFirst = live.filter((r) => r.state === state).sort((a, b) => b.id - a.id);
    for (const r of newestFirst) {
      if (excess === 0) break;
      drain.push(r.id);
      excess--;
    }
  }
  return { dropPending, addPending: 0, drain };
}

/**
 * Requests a ready replica admits with `serving` of its `workers` serving:
 * all of max_replica_concurrency with every worker up, the share of the live
 * ones while one restarts (rounded up, so a replica serving at all admits).
 */
export function replicaCapacity(maxReplicaConcurrency: number, serving: number, workers: number): number {
  if (serving >= workers) return maxReplicaConcurrency;
  return Math.ceil((maxReplicaConcurrency * serving) / workers);
}
