// Timers the pool runs on, injected so that fault rules (backoff, timeouts,
// grace periods) and what it measures (a worker's pace) are tested on a fake
// clock.

import { performance } from 'node:perf_hooks';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** ms on a monotonic clock */
  clock(): number;
}

/** Node's timers, unref'd: a pending restart or timeout never keeps the process alive by itself. */
export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
  clock: () => performance.now(),
};
