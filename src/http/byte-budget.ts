// serve --max-queued-bytes: the bytes of request bodies the front door holds
// (being read, queued for a worker, or running) until their answers: in
// shared memory when front-door threads (--http-threads) share the cap, in a
// plain number when the one front door is on the main thread.
// Past the cap a request is refused (503) rather than buffered: 2,000 queued
// bodies of 100 kB took Node from 71 to 496 MB.

export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

const SLOT = BigInt64Array.BYTES_PER_ELEMENT;

/** The count as the front door uses it. */
export interface BodyBytes {
  readonly limit: number;
  /** bytes held now */
  readonly held: number;
  /** Counts `n` more bytes held, or refuses (false, nothing counted) when that would pass the limit. */
  tryTake(n: number): boolean;
  give(n: number): void;
}

/**
 * The count of a server whose only front door is on the main thread: a plain
 * number. The shared one below takes a 64-bit atomic add and a BigInt per
 * call, ≈ 25–40 ns against 2–4 per take and give (bench/results/perf-findings.md §1).
 */
export class LocalByteBudget implements BodyBytes {
  readonly limit: number;
  held = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  tryTake(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    return true;
  }

  give(n: number): void {
    if (n > 0) this.held -= n;
  }
}

/** The count shared by the front-door threads of `serve --http-threads` and the main thread. */
export class ByteBudget implements BodyBytes {
  /** hand this to another thread and build a ByteBudget on it there */
  readonly buffer: SharedArrayBuffer;
  readonly limit: number;
  readonly #held: BigInt64Array;
  /** what this holder alone holds, when it keeps count (a front-door thread: see giveBackShare) */
  readonly #share: BigInt64Array | null;

  constructor(limit: number, buffer = new SharedArrayBuffer(SLOT), share: SharedArrayBuffer | null = null) {
    this.limit = limit;
    this.buffer = buffer;
    this.#held = new BigInt64Array(buffer);
    this.#share = share === null ? null : new BigInt64Array(share);
  }

  /** a buffer for a holder's own count (`share`) */
  static newShare(): SharedArrayBuffer {
    return new SharedArrayBuffer(SLOT);
  }

  get held(): number {
    return Number(Atomics.load(this.#held, 0));
  }

  tryTake(n: number): boolean {
    const add = BigInt(n);
    const before = Atomics.add(this.#held, 0, add);
    if (Number(before) + n > this.limit) {
      Atomics.sub(this.#held, 0, add);
      return false;
    }
    if (this.#share !== null) Atomics.add(this.#share, 0, add);
    return true;
  }

  give(n: number): void {
    if (n <= 0) return;
    const sub = BigInt(n);
    Atomics.sub(this.#held, 0, sub);
    if (this.#share !== null) Atomics.sub(this.#share, 0, sub);
  }

  /** The holder that kept count in `share` is gone (a front-door thread died): what it held is given back. Returns how many bytes. */
  giveBackShare(share: SharedArrayBuffer): number {
    const n = Atomics.exchange(new BigInt64Array(share), 0, 0n);
    Atomics.sub(this.#held, 0, n);
    return Number(n);
  }
}
