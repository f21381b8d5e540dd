// How client commands write for a person: colours and timestamps when the
// output is a terminal, plain text when it is a pipe or a file, and never a
// colour when NO_COLOR is set (https://no-color.org).

export interface Paint {
  readonly tty: boolean;
  readonly color: boolean;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  const tty = stream.isTTY === true;
  const color = tty && (env.NO_COLOR === undefined || env.NO_COLOR === '');
  const sgr = (open: number, close: number) => (text: string) => (color ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return {
    tty,
    color,
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    red: sgr(31, 39),
    cyan: sgr(36, 39),
    dim: sgr(2, 22),
    bold: sgr(1, 22),
  };
}

/** An API status in its colour: live green, error red, updating yellow. */
export function paintStatus(paint: Paint, status: string): string {
  if (status === 'live') return paint.green(status);
  if (status === 'error') return paint.red(status);
  return paint.yellow(status);
}

/** HH:MM:SS in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** Rows aligned on the widths of what shows (colour codes take no room). */
export function table(rows: string[][]): string {
  const visible = (s: string) => s.replace(ANSI, '').length;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => visible(r[i] ?? ''))));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i] - visible(c))).join('  ').trimEnd()).join('\n') + '\n';
}
