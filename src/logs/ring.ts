// The recent log lines of one API (its workers' stdout/stderr and what the
// server said about it), kept in memory for `cortex-local logs` and the
// dashboard. Bounded in lines and in line length; each line has a sequence
// number, so a follower asks for what came after the last one it saw.

export interface LogLine {
  /** 1, 2, 3, … per API */
  seq: number;
  /** ms since the epoch */
  time: number;
  /** `api/replica/worker` for a worker's output, `server` for the server's own lines */
  source: string;
  stream: 'stdout' | 'stderr' | 'server';
  level: 'info' | 'error';
  text: string;
}

export const DEFAULT_LOG_LINES = 1000;
/** A longer line is cut here (a predictor printing a whole tensor should not fill the memory). */
export const MAX_LINE_CHARS = 8192;

export class LogRing {
  readonly #limit: number;
  readonly #clock: () => number;
  readonly #lines: LogLine[] = [];
  #head = 0;
  #seq = 0;

  constructor(opts: { lines?: number; clock?: () => number } = {}) {
    this.#limit = opts.lines ?? DEFAULT_LOG_LINES;
    this.#clock = opts.clock ?? Date.now;
  }

  push(source: string, stream: LogLine['stream'], text: string, level: LogLine['level'] = 'info'): void {
    const cut = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}… (${text.length - MAX_LINE_CHARS} more characters)` : text;
    const line: LogLine = { seq: ++this.#seq, time: this.#clock(), source, stream, level, text: cut };
    if (this.#lines.length < this.#limit) this.#lines.push(line);
    else {
      this.#lines[this.#head] = line;
      this.#head = (this.#head + 1) % this.#limit;
    }
  }

  /**
   * A batch of lines from one source: only the newest that the ring can hold
   * are stored (a flood of output costs no object per line it would drop at
   * once); the others still take their sequence numbers, so a follower sees
   * that it missed them.
   */
  pushAll(source: string, stream: LogLine['stream'], lines: readonly string[]): void {
    const skip = Math.max(0, lines.length - this.#limit);
    this.#seq += skip;
    for (let i = skip; i < lines.length; i++) this.push(source, stream, lines[i]);
  }

  /** the sequence number of the latest line (0 before any) */
  get last(): number {
    return this.#seq;
  }

  /** Lines with seq > `after`, oldest first, at most `limit` of the newest of them. */
  since(after = 0, limit = this.#limit): LogLine[] {
    const n = this.#lines.length;
    const out: LogLine[] = [];
    for (let i = 0; i < n; i++) {
      const line = this.#lines[(this.#head + i) % n];
      if (line.seq > after) out.push(line);
    }
    return out.length > limit ? out.slice(out.length - limit) : out;
  }
}
