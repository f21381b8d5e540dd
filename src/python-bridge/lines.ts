// A worker's stdout/stderr cut into log lines. `\n`, `\r\n` and a lone `\r`
// (a progress bar redrawing itself) each end a line; a line longer than `max`
// characters is logged cut, with a marker, and the rest of it dropped. Each
// character is looked at once and at most `max` are held, so a flood of
// output without a newline costs its length, not its length squared.

export const MAX_LINE_CHARS = 64 * 1024;

const LINE_END = /[\r\n]/g;

export class LineSplitter {
  readonly #max: number;
  #parts: string[] = [];
  #length = 0;
  /** the current line was already logged, cut: the rest of it is dropped */
  #cut = false;
  /** the last chunk ended with \r: a \n opening the next one belongs to it */
  #afterCR = false;

  constructor(max = MAX_LINE_CHARS) {
    this.#max = max;
  }

  /** The lines that `text` completes. */
  push(text: string): string[] {
    const lines: string[] = [];
    let start = this.#afterCR && text.charCodeAt(0) === 10 ? 1 : 0;
    this.#afterCR = false;
    LINE_END.lastIndex = start;
    for (let m = LINE_END.exec(text); m !== null; m = LINE_END.exec(text)) {
      const at = m.index;
      this.#append(text, start, at, lines);
      const cr = text.charCodeAt(at) === 13;
      // A redraw that leaves nothing (\r at the start of a line) is no line.
      if (!(cr && this.#length === 0 && !this.#cut)) this.#endLine(lines);
      else this.#reset();
      start = at + 1;
      if (cr) {
        if (start === text.length) this.#afterCR = true;
        else if (text.charCodeAt(start) === 10) start++;
        LINE_END.lastIndex = start;
      }
    }
    this.#append(text, start, text.length, lines);
    return lines;
  }

  /** The last line, when the output ended without a line end. */
  end(): string[] {
    const lines: string[] = [];
    if (this.#length > 0) this.#endLine(lines);
    this.#reset();
    return lines;
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

  #endLine(lines: string[]): void {
    if (!this.#cut) lines.push(this.#parts.length === 1 ? this.#parts[0] : this.#parts.join(''));
    this.#reset();
  }

  #reset(): void {
    this.#parts = [];
    this.#length = 0;
    this.#cut = false;
  }
}
