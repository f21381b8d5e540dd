// An API's 503s by reason, counted in shared memory by whichever thread
// answered them (the main thread, or the front-door threads of
// --http-threads), summarised on the main thread once a second
// (refusal-log.ts) and read by /metrics: under overload a line per refusal
// would flood the log, and none at all left 267k 503s unexplained. One per
// API, living as long as it, so APIs come and go without renumbering.

export const RefusedFor = {
  /** in flight at ready replicas × max_replica_concurrency */
  Capacity: 0,
  /** the server is shutting down */
  Closing: 1,
  /** the bodies held for unanswered requests reached --max-queued-bytes */
  QueuedBytes: 2,
  /** no replica is ready yet */
  NoReadyReplica: 3,
  /** no replica is ready and the predictor's __init__ failed */
  InitFailed: 4,
} as const;
export type RefusedFor = (typeof RefusedFor)[keyof typeof RefusedFor];

export const REASONS = 5;

/** The `reason` label of cortex_local_refusals_total for each RefusedFor. */
export const REFUSAL_LABELS: readonly string[] = ['capacity', 'shutting_down', 'queued_bytes', 'no_ready_replica', 'init_failed'];

export class RefusalTally {
  /** hand this to another thread and build a RefusalTally on it there */
  readonly buffer: SharedArrayBuffer;
  readonly #counts: Int32Array;

  constructor(buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * REASONS)) {
    this.buffer = buffer;
    this.#counts = new Int32Array(buffer);
  }

  count(why: RefusedFor): void {
    Atomics.add(this.#counts, why, 1);
  }

  read(why: RefusedFor): number {
    return Atomics.load(this.#counts, why);
  }

  /** every 503 counted, whatever the reason */
  total(): number {
    let n = 0;
    for (let why = 0; why < REASONS; why++) n += Atomics.load(this.#counts, why);
    return n;
  }
}
