// How long a request body may take to arrive (serve --body-timeout, 30 s by
// default). Admission waits for the whole body, so a slow upload holds no
// slot; this bounds the memory and the connection it holds instead. One sweep
// over the bodies still arriving, rather than a timer per request: most
// bodies arrive within the turn their headers do.
//
// The bodies wait in a linked list, oldest first, each entry unlinked when its
// body is done: a Map keyed by request, inserted into and deleted from at every
// request, kept the requests of its retired tables alive past their answers,
// and V8 promoted them (bench/results/perf-findings.md).

import { performance } from 'node:perf_hooks';

export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** A body still arriving, as start() returned it. */
export interface Deadline<T> {
  readonly body: T;
}

class Entry<T> implements Deadline<T> {
  readonly body: T;
  readonly at: number;
  prev: Entry<T> | null = null;
  next: Entry<T> | null = null;
  linked = true;

  constructor(body: T, at: number) {
    this.body = body;
    this.at = at;
  }
}

export class BodyDeadlines<T> {
  readonly timeoutMs: number;
  readonly #now: () => number;
  #oldest: Entry<T> | null = null;
  #newest: Entry<T> | null = null;
  #size = 0;

  constructor(timeoutMs: number, now: () => number = () => performance.now()) {
    this.timeoutMs = timeoutMs;
    this.#now = now;
  }

  get size(): number {
    return this.#size;
  }

  start(body: T): Deadline<T> {
    const e = new Entry(body, this.#now());
    e.prev = this.#newest;
    if (this.#newest === null) this.#oldest = e;
    else this.#newest.next = e;
    this.#newest = e;
    this.#size++;
    return e;
  }

  /** The body arrived, or its request was answered otherwise. */
  done(deadline: Deadline<T>): void {
    const e = deadline as Entry<T>;
    if (!e.linked) return;
    e.linked = false;
    if (e.prev === null) this.#oldest = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.#newest = e.prev;
    else e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
    this.#size--;
  }

  /** Removes and returns the bodies older than the timeout. */
  expired(): T[] {
    const cutoff = this.#now() - this.timeoutMs;
    const out: T[] = [];
    while (this.#oldest !== null && this.#oldest.at <= cutoff) {
      out.push(this.#oldest.body);
      this.done(this.#oldest);
    }
    return out;
  }
}
