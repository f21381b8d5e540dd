// What `serve` prints. Every line goes out as it comes; on a terminal each
// gets its time, errors are red, worker output names its worker in colour
// (NO_COLOR honoured), and while a model loads a spinner line at the bottom
// says which replicas are loading and for how long. Replica changes get a
// line of their own: ready (with the load time), drained. Worker output is
// written a chunk at a time; while the reader of our output lags, the
// caller is handed a promise and reads no more of the worker's output until
// it resolves (a flood of prints slows the worker that prints, not the
// server's memory).
import type { ApiPool, ApiStatus } from '../pool/api-pool.ts';
import { clockTime, paintFor, type Paint } from './terminal.ts';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_MS = 100;

interface Out {
  isTTY?: boolean;
  /** false: the text is buffered, wait for 'drain' before writing more */
  write(text: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export class ServeConsole {
  readonly #out: Out;
  readonly #paint: Paint;
  readonly #clock: () => number;
  /** replicas loading now: `api/id` → since when */
  readonly #loading = new Map<string, number>();
  /** each replica's last state, by `api/id` */
  readonly #states = new Map<string, string>();
  #spinner: NodeJS.Timeout | undefined;
  #frame = 0;
  #spinnerShown = false;
  #drained: Promise<void> | null = null;
  #shuttingDown = false;

  constructor(out: Out, env: NodeJS.ProcessEnv = process.env, clock: () => number = Date.now) {
    this.#out = out;
    this.#paint = paintFor(out, env);
    this.#clock = clock;
  }

  log(line: string, level: 'info' | 'error' = 'info'): void {
    this.#print(level === 'error' ? this.#paint.red(line) : line);
  }

  /** A worker's lines; a promise while our reader lags (see the top of this file). */
  output(label: string, _stream: 'stdout' | 'stderr', lines: string[]): Promise<void> | undefined {
    const prefix = `${this.#paint.cyan(`[${label}]`)} `;
    // One string for the chunk, however many lines: a flood of prints is written at the cost of its bytes.
    const flowing = this.#paint.tty ? this.#print(lines.map((line) => prefix + line)) : this.#print(`${prefix}${lines.join(`\n${prefix}`)}`);
    if (flowing) return undefined;
    this.#drained ??= new Promise<void>((resolve) => this.#out.once('drain', resolve)).then(() => {
      this.#drained = null;
    });
    return this.#drained;
  }

  /** Follows each pool's replicas: a line when one is ready or drained, the spinner while any loads. */
  watch(pools: readonly ApiPool[]): void {
    for (const pool of pools) pool.on('state', (status: ApiStatus) => this.#onState(status));
  }

  /** The server is stopping: every replica drains now, which needs no line each. */
  shuttingDown(): void {
    this.#shuttingDown = true;
  }

  /** Clears the spinner line for good (the server has stopped). */
  close(): void {
    this.#stopSpinner();
  }

  #onState(status: ApiStatus): void {
    const now = this.#clock();
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const r of status.detail) {
      const key = `${status.name}/${r.id}`;
      seen.add(key);
      if (this.#states.get(key) === r.state) continue;
      this.#states.set(key, r.state);
      if (r.state === 'starting' && !this.#loading.has(key)) this.#loading.set(key, now);
      if (r.state === 'ready') {
        const since = this.#loading.get(key);
        this.#loading.delete(key);
        lines.push(this.#paint.green(`replica ${key} ready${since === undefined ? '' : ` (loaded in ${((now - since) / 1000).toFixed(1)}s)`}`));
      }
      if (r.state === 'failed') this.#loading.delete(key);
    }
    for (const [key, state] of this.#states) {
      if (!key.startsWith(`${status.name}/`) || seen.has(key)) continue;
      this.#states.delete(key);
      this.#loading.delete(key);
      if (state === 'draining' && !this.#shuttingDown) lines.push(`replica ${key} drained and stopped`);
    }
    if (this.#loading.size === 0) this.#stopSpinner();
    if (lines.length > 0) this.#print(lines);
    if (this.#loading.size > 0) this.#startSpinner();
  }

  /** Writes lines in one write; false when the output is backed up. */
  #print(lines: string | string[]): boolean {
    const time = this.#paint.tty ? `${this.#paint.dim(clockTime(this.#clock()))} ` : '';
    const text = typeof lines === 'string' ? `${time}${lines}\n` : lines.map((l) => `${time}${l}\n`).join('');
    // On a terminal the spinner sits on the last line: wipe it, print, draw it again.
    const flowing = this.#out.write(`${this.#spinnerShown ? '\r\x1b[K' : ''}${text}`);
    this.#spinnerShown = false;
    if (this.#spinner !== undefined) this.#drawSpinner();
    return flowing;
  }

  #startSpinner(): void {
    if (!this.#paint.tty || this.#spinner !== undefined) return;
    this.#spinner = setInterval(() => this.#drawSpinner(), SPIN_MS);
    this.#spinner.unref();
    this.#drawSpinner();
  }

  #stopSpinner(): void {
    if (this.#spinner === undefined) return;
    clearInterval(this.#spinner);
    this.#spinner = undefined;
    if (this.#spinnerShown) this.#out.write('\r\x1b[K');
    this.#spinnerShown = false;
  }

  #drawSpinner(): void {
    const now = this.#clock();
    const which = [...this.#loading].map(([key, since]) => `${key} ${((now - since) / 1000).toFixed(1)}s`).join(', ');
    this.#frame = (this.#frame + 1) % SPINNER.length;
    this.#out.write(`\r\x1b[K${this.#paint.yellow(SPINNER[this.#frame])} loading ${which}`);
    this.#spinnerShown = true;
  }
}
