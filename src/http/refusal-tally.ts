// 503s by API and reason, counted in shared memory by whichever thread
// answered them (the main thread, or the front-door threads of
// --http-threads), and summarised on the main thread once a second
// (refusal-log.ts): under overload a line per refusal would flood the log,
// and none at all left 267k 503s unexplained.

export const RefusedFor = {
  /** at capacity, no ready replica, or a failing __init__: the API's state says which */
  Capacity: 0,
  /** the server is shutting down */
  Closing: 1,
  /** the bodies held for unanswered requests reached --max-queued-bytes */
  QueuedBytes: 2,
} as const;
export type RefusedFor = (typeof RefusedFor)[keyof typeof RefusedFor];

export const REASONS = 3;

export class RefusalTally {
  /** hand this to another thread and build a RefusalTally on it there */
  readonly buffer: SharedArrayBuffer;
  readonly #counts: Int32Array;

  constructor(apis: number, buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * REASONS * Math.max(apis, 1))) {
    this.buffer = buffer;
    this.#counts = new Int32Array(buffer);
  }

  count(api: number, why: RefusedFor): void {
    Atomics.add(this.#counts, api * REASONS + why, 1);
  }

  read(api: number, why: RefusedFor): number {
    return Atomics.load(this.#counts, api * REASONS + why);
  }
}
