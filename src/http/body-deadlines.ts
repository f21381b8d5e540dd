// How long a request body may take to arrive (serve --body-timeout, 30 s by
// default). Admission waits for the whole body, so a slow upload holds no
// slot; this bounds the memory and the connection it holds instead. One sweep
// over the bodies still arriving, rather than a timer per request: most
// bodies arrive within the turn their headers do.

export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export class BodyDeadlines<T> {
  readonly timeoutMs: number;
  readonly #now: () => number;
  readonly #started = new Map<T, number>();

  constructor(timeoutMs: number, now: () => number = () => performance.now()) {
    this.timeoutMs = timeoutMs;
    this.#now = now;
  }

  get size(): number {
    return this.#started.size;
  }

  start(body: T): void {
    this.#started.set(body, this.#now());
  }

  /** The body arrived, or its request was answered otherwise. */
  done(body: T): void {
    this.#started.delete(body);
  }

  /** Removes and returns the bodies older than the timeout. */
  expired(): T[] {
    const cutoff = this.#now() - this.timeoutMs;
    const out: T[] = [];
    // A Map iterates in insertion order: the oldest first.
    for (const [body, started] of this.#started) {
      if (started > cutoff) break;
      out.push(body);
    }
    for (const body of out) this.#started.delete(body);
    return out;
  }
}
