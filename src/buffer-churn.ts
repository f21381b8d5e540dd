// Large bodies and answers live in Buffers outside V8's heap. V8 frees a dead
// Buffer's memory only when it collects the object that holds it, and counts
// that memory apart: once it has grown by 64 MB since the last full
// collection, V8 starts another full one (marking the whole heap), though
// nearly all of it belongs to Buffers that died young, which a collection of
// the young generation frees for a fraction of the cost. With the little
// JavaScript garbage a request makes, the young generation never filled
// before that: echoing 100 kB at one connection (about 430 kB of Buffers a
// request: the body's chunks and its copy, the answer's reads and its copy)
// made a full collection every 300 ms, 10-15 ms of the main thread each, and
// no young collection at all (--trace-gc). So each thread that handles large
// payloads asks for a young collection itself every EVERY_BYTES of them
// (bench/results/perf-findings.md, "Large Buffers and full collections").
import { collectYoungGeneration } from './v8-gc.ts';

/** Payloads counted per young collection: about 32 MB of Buffers (a payload is about two, its chunks and their copy), half of V8's 64 MB. */
export const EVERY_BYTES = 16 * 1024 * 1024;

/** Payloads under this are not counted: views into a read shared with others, or slices of Node's pool (Buffer.poolSize / 2). */
export const LARGE_BYTES = 4096;

export class BufferChurn {
  readonly #collect: () => void;
  readonly #every: number;
  #since = 0;

  constructor(collect: () => void, every = EVERY_BYTES) {
    this.#collect = collect;
    this.#every = every;
  }

  /** A payload of `bytes` went by; collects the young generation each time `every` bytes of large ones have. */
  note(bytes: number): void {
    if (bytes < LARGE_BYTES) return;
    this.#since += bytes;
    if (this.#since < this.#every) return;
    this.#since = 0;
    this.#collect();
  }
}

/** This thread's (module state is per thread: each door thread has its own heap). */
export const bufferChurn = new BufferChurn(collectYoungGeneration);
