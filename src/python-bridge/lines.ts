// A worker's stdout/stderr cut into log lines. `\n` and `\r\n` end a line; a
// lone `\r` ends a redraw (a progress bar such as tqdm's writing its next
// state over the last). A line longer than `max` characters is logged cut,
// with a marker, and the rest of it dropped. Each character is looked at once
// and at most `max` are held, so a flood of output without a newline costs
// its length, not its length squared.
//
// Redraws are logged at most once per `redrawMs`: a terminal shows only the
// last state, and a bar updated at every step would otherwise put hundreds of
// thousands of states into the log (50 MB of tqdm-style output made 2 million
// log lines, and the work of writing them slowed every other API). The line a
// `\n` ends, the bar's final state, is always logged.

import { performance } from 'node:perf_hooks';

export const MAX_LINE_CHARS = 64 * 1024;
export const REDRAW_EVERY_MS = 1000;

const LINE_END = /[\r\n]/g;

export interface LineSplitterOptions {
  /** characters kept of one line */
  max?: number;
  /** the least time between two redraws logged */
  redrawMs?: number;
  /** milliseconds, read once per chunk */
  clock?: () => number;
}

export class LineSplitter {
  readonly #max: number;
  readonly #redrawMs: number;
  readonly #clock: () => number;
  #parts: string[] = [];
  #length = 0;
  /** the current line was already logged, cut: the rest of it is dropped */
  #cut = false;
  /** the last chunk ended with \r: its line is a redraw unless the next chunk opens with \n */
  #held: string | null | undefined = undefined;
  #lastRedraw = Number.NEGATIVE_INFINITY;

  constructor(opts: LineSplitterOptions = {}) {
    this.#max = opts.max ?? MAX_LINE_CHARS;
    this.#redrawMs = opts.redrawMs ?? REDRAW_EVERY_MS;
    this.#clock = opts.clock ?? (() => performance.now());
  }

  /** The lines that `text` completes. */
  push(text: string): string[] {
    const lines: string[] = [];
    const now = this.#clock();
    let start = 0;
    if (this.#held !== undefined) {
      const held = this.#held;
      this.#held = undefined;
      if (text.charCodeAt(0) === 10) {
        if (held !== null) lines.push(held);
        start = 1;
      } else this.#redraw(held, now, lines);
    }
    LINE_END.lastIndex = start;
    for (let m = LINE_END.exec(text); m !== null; m = LINE_END.exec(text)) {
      const at = m.index;
      const cr = text.charCodeAt(at) === 13;
      // A redraw's states between two logged ones are never built.
      const skip = cr && at + 1 < text.length && text.charCodeAt(at + 1) !== 10 && now - this.#lastRedraw < this.#redrawMs;
      if (!skip) this.#append(text, start, at, lines);
      const line = this.#take();
      start = at + 1;
      if (!cr) {
        if (line !== null) lines.push(line);
      } else if (start === text.length) {
        this.#held = line;
      } else if (text.charCodeAt(start) === 10) {
        if (line !== null) lines.push(line);
        start++;
      } else if (!skip) this.#redraw(line, now, lines);
      LINE_END.lastIndex = start;
    }
    this.#append(text, start, text.length, lines);
    return lines;
  }

  /** The last line, when the output ended without a line end. */
  end(): string[] {
    const lines: string[] = [];
    if (this.#held !== undefined) {
      if (this.#held !== null && this.#held !== '') lines.push(this.#held);
      this.#held = undefined;
    }
    const line = this.#take();
    if (line !== null && line !== '') lines.push(line);
    return lines;
  }

  /** A redraw's state: none when it is empty (a \r opening the output) or too soon after the last one logged. */
  #redraw(line: string | null, now: number, lines: string[]): void {
    if (line === null || line === '' || now - this.#lastRedraw < this.#redrawMs) return;
    this.#lastRedraw = now;
    lines.push(line);
  }

  #append(text: string, from: number, to: number, lines: string[]): void {
    if (this.#cut || to <= from) return;
    const room = this.#max - this.#length;
    if (to - from <= room) {
      this.#parts.push(from === 0 && to === text.length ? text : text.slice(from, to));
      this.#length += to - from;
      return;
    }
    this.#parts.push(text.slice(from, from + room));
    lines.push(`${this.#parts.join('')} … [line cut at ${this.#max} characters]`);
    this.#parts = [];
    this.#length = 0;
    this.#cut = true;
  }

  /** The current line, null when it was logged cut already; then a new line starts. */
  #take(): string | null {
    const line = this.#cut ? null : this.#parts.length === 1 ? this.#parts[0] : this.#parts.join('');
    this.#parts = [];
    this.#length = 0;
    this.#cut = false;
    return line;
  }
}
