// Which worker takes the next request: the least loaded of those serving,
// counting what each was sent and has not answered. A worker holds at most
// `limit` (its threads plus a few queued in its pipe, read in one batch); when
// all are at the limit the request waits in the API's queue.

/** The candidate with the lowest load under `limit`, the first of equals; null when none is under it. */
export function leastLoaded<T>(candidates: readonly T[], load: (candidate: T) => number, limit: number): T | null {
  let best: T | null = null;
  let bestLoad = limit;
  for (const c of candidates) {
    const l = load(c);
    if (l < bestLoad) {
      best = c;
      bestLoad = l;
      if (l === 0) break;
    }
  }
  return best;
}
