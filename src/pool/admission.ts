// An API's admission counters: a request is admitted only while in flight <
// capacity. The capacity is ready replicas × max_replica_concurrency, less
// the share of a worker that is restarting (api-pool.ts, replicaCapacity).
// With front-door threads (serve --http-threads) the pool on the main thread
// and those threads admit against the same figures, in shared memory, every
// operation an Atomics one (Admission). Without them, only the main thread
// admits, and plain numbers do (LocalAdmission): the Atomics calls, which V8
// does not inline here, cost ≈ 0.1 µs a request (perf-findings.md §1).

/** What the pool and its front door ask of an API's admission counters. */
export interface AdmissionCounters {
  readonly inFlight: number;
  readonly readyReplicas: number;
  readonly stopped: boolean;
  readonly capacity: number;
  /** Counts the request in flight, or refuses it: at capacity, or stopped. */
  tryAdmit(): boolean;
  /** An admitted request is done (answered, or never dispatched). */
  release(): void;
  /** `n` replicas ready, each with every worker serving. */
  setReadyReplicas(n: number): void;
  /** `ready` replicas serving, admitting up to `capacity` requests. */
  setServing(ready: number, capacity: number): void;
  /** No request is admitted from now on. */
  close(): void;
  /** close(), then resolves once none is in flight. */
  stop(): Promise<void>;
}

const IN_FLIGHT = 0;
const READY = 1;
const STOPPED = 2;
const CAPACITY = 3;
const SLOTS = 4;

/** In shared memory: every front-door thread builds one on `buffer`. */
export class Admission implements AdmissionCounters {
  /** hand this to another thread and build an Admission on it there */
  readonly buffer: SharedArrayBuffer;
  readonly #slots: Int32Array;
  readonly #perReplica: number;

  constructor(maxReplicaConcurrency: number, buffer = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#slots = new Int32Array(buffer);
    this.#perReplica = maxReplicaConcurrency;
  }

  get inFlight(): number {
    return Atomics.load(this.#slots, IN_FLIGHT);
  }

  get readyReplicas(): number {
    return Atomics.load(this.#slots, READY);
  }

  get stopped(): boolean {
    return Atomics.load(this.#slots, STOPPED) === 1;
  }

  get capacity(): number {
    return Atomics.load(this.#slots, CAPACITY);
  }

  /** Counts the request in flight, or refuses it: at capacity, or stopped. */
  tryAdmit(): boolean {
    const slots = this.#slots;
    for (;;) {
      const n = Atomics.load(slots, IN_FLIGHT);
      if (n >= Atomics.load(slots, CAPACITY)) return false;
      if (Atomics.compareExchange(slots, IN_FLIGHT, n, n + 1) === n) break;
    }
    // Counted first, stopped read second, while stop() writes stopped first
    // and reads the count second: either this request sees the stop and takes
    // itself back, or the stopping pool sees it in flight and waits for it.
    if (Atomics.load(slots, STOPPED) === 1) {
      this.release();
      return false;
    }
    return true;
  }

  /** An admitted request is done (answered, or never dispatched). */
  release(): void {
    if (Atomics.sub(this.#slots, IN_FLIGHT, 1) === 1) Atomics.notify(this.#slots, IN_FLIGHT);
  }

  /** `n` replicas ready, each with every worker serving. */
  setReadyReplicas(n: number): void {
    this.setServing(n, n * this.#perReplica);
  }

  /** `ready` replicas serving, admitting up to `capacity` requests. */
  setServing(ready: number, capacity: number): void {
    Atomics.store(this.#slots, CAPACITY, capacity);
    Atomics.store(this.#slots, READY, ready);
  }

  /** No request is admitted from now on. */
  close(): void {
    Atomics.store(this.#slots, STOPPED, 1);
  }

  /** close(), then resolves once none is in flight, whichever thread releases the last. */
  async stop(): Promise<void> {
    const slots = this.#slots;
    this.close();
    for (let n = Atomics.load(slots, IN_FLIGHT); n !== 0; n = Atomics.load(slots, IN_FLIGHT)) {
      // Re-read at least every 100 ms: a wake-up posted to this thread's loop
      // by another thread's notify has been seen to go unprocessed (Node
      // issues 44729, 61941), and a stop must not hang on a missed one.
      const wait = Atomics.waitAsync(slots, IN_FLIGHT, n, 100);
      if (wait.async) await wait.value;
    }
  }
}

/** On one thread: the pool's and its front door's, when the server has no front-door threads. */
export class LocalAdmission implements AdmissionCounters {
  readonly #perReplica: number;
  #inFlight = 0;
  #ready = 0;
  #capacity = 0;
  #stopped = false;
  #drained: (() => void) | null = null;

  constructor(maxReplicaConcurrency: number) {
    this.#perReplica = maxReplicaConcurrency;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get readyReplicas(): number {
    return this.#ready;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get capacity(): number {
    return this.#capacity;
  }

  tryAdmit(): boolean {
    if (this.#stopped || this.#inFlight >= this.#capacity) return false;
    this.#inFlight++;
    return true;
  }

  release(): void {
    if (--this.#inFlight !== 0 || this.#drained === null) return;
    const drained = this.#drained;
    this.#drained = null;
    drained();
  }

  setReadyReplicas(n: number): void {
    this.setServing(n, n * this.#perReplica);
  }

  setServing(ready: number, capacity: number): void {
    this.#capacity = capacity;
    this.#ready = ready;
  }

  close(): void {
    this.#stopped = true;
  }

  stop(): Promise<void> {
    this.close();
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const before = this.#drained;
      this.#drained = before === null ? resolve : () => (before(), resolve());
    });
  }
}
