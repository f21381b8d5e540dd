// Which worker takes the next request: the least loaded of those serving,
// counting what each was sent and has not answered. A worker holds at most
// its own limit (its threads plus what its pipe may queue, read in one batch:
// pipeline-depth.ts); when all are at their limits the request waits in the
// API's queue.

/** The candidate with the lowest load under its own limit, the first of equals; null when none is under it. */
export function leastLoaded<T>(candidates: readonly T[], load: (candidate: T) => number, limit: (candidate: T) => number): T | null {
  let best: T | null = null;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const l = load(c);
    if (l < bestLoad && l < limit(c)) {
      best = c;
      bestLoad = l;
      if (l === 0) break;
    }
  }
  return best;
}
