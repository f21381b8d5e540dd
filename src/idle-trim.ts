// Memory back after a load. Under load V8 grows its young generation to its
// maximum (64 MB of semi-spaces at 64 connections of hello) and keeps it while
// the server idles: with nothing allocated nothing is collected, and nothing
// is given back (147 MB against 71 MB idle, for good). Once the server has
// seen no request for `idleMs` after seeing some, one full collection of the
// kind V8 runs when memory is short ('last-resort': it also shrinks the young
// generation and frees pooled pages) brings the heap back to its idle size,
// in about 40 ms of a server with nothing to do (bench/results/perf-findings.md).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const DEFAULT_IDLE_MS = 10_000;

/** When to trim, from the count of requests seen so far, read once a second. */
export class IdleTrim {
  readonly idleMs: number;
  #seen = -1;
  #quietSince = 0;
  #traffic = false;

  constructor(idleMs = DEFAULT_IDLE_MS) {
    this.idleMs = idleMs;
  }

  /** `seen`: requests seen so far (answered or refused). True once per quiet spell that follows traffic. */
  tick(now: number, seen: number): boolean {
    if (seen !== this.#seen) {
      if (this.#seen >= 0) this.#traffic = true;
      this.#seen = seen;
      this.#quietSince = now;
      return false;
    }
    if (!this.#traffic || now - this.#quietSince < this.idleMs) return false;
    this.#traffic = false;
    return true;
  }
}

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: Gc | undefined;

/** One full, memory-reducing collection of this thread's heap. */
export function collectAllGarbage(): void {
  if (gc === undefined) {
    // The way Node's documentation of v8.setFlagsFromString shows: `gc` is
    // exposed to contexts made after the flag is set.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
