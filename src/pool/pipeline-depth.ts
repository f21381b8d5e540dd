// How many requests a worker may hold beyond those its threads execute: queued
// in its pipe, read in one batch. A deep pipe saves a write and a wake-up on
// each side per request (with 64 connections on hello, 8 held requests gave
// 37k req/s and 64 gave 48k: bench/results/perf-findings.md); a shallow one
// keeps waiting requests in the API's queue, where any worker that frees up
// takes them and a client that leaves takes its request with it. So the depth
// follows the worker's own pace: about `budgetMs` of its work, measured as it
// serves (busy time / answers), never fewer than `min` requests (a slow or new
// worker) nor more than `max`. The clock is read when the worker goes idle or
// busy and once per window of answers, not per request.

export interface PipelineLimits {
  /** the depth of a worker not yet measured, and of a slow one */
  min: number;
  max: number;
  /** the work, in ms of the worker's pace, that its pipe may hold */
  budgetMs: number;
}

export const DEFAULT_PIPELINE: PipelineLimits = { min: 8, max: 64, budgetMs: 2 };

/** Answers, and ms of busy time, a measurement needs before it moves the depth. */
const WINDOW_ANSWERS = 32;
const WINDOW_MS = 10;

export class PipelineDepth {
  readonly #limits: PipelineLimits;
  /** requests held beyond the threads */
  #depth: number;
  #busySince = 0;
  #busyMs = 0;
  #answers = 0;

  constructor(limits: PipelineLimits) {
    this.#limits = limits;
    this.#depth = limits.min;
  }

  get depth(): number {
    return this.#depth;
  }

  /** A request was sent; `outstanding`: the worker's requests before it. */
  sent(clock: () => number, outstanding: number): void {
    if (outstanding === 0) this.#busySince = clock();
  }

  /** A request was answered; `outstanding`: the worker's requests left. */
  answered(clock: () => number, outstanding: number): void {
    this.#answers++;
    if (outstanding > 0 && this.#answers % WINDOW_ANSWERS !== 0) return;
    const now = clock();
    if (outstanding === 0) {
      this.#busyMs += now - this.#busySince;
      this.#busySince = now;
    }
    if (this.#answers < WINDOW_ANSWERS) return;
    const busy = this.#busyMs + (outstanding > 0 ? now - this.#busySince : 0);
    if (busy < WINDOW_MS) return;
    const { min, max, budgetMs } = this.#limits;
    this.#depth = Math.max(min, Math.min(max, Math.floor((budgetMs * this.#answers) / busy)));
    this.#answers = 0;
    this.#busyMs = 0;
    this.#busySince = now;
  }

  /** A new process: nothing is known of its pace. */
  reset(): void {
    this.#depth = this.#limits.min;
    this.#answers = 0;
    this.#busyMs = 0;
  }
}
