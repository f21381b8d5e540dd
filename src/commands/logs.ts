// `cortex-local logs API [--follow]`: the API's recent log lines, as the
// server keeps them (its workers' output and the server's lines about it),
// then, with --follow, each new line as it comes.
import { UsageError } from '../errors.ts';
import type { LogLine } from '../logs/ring.ts';
import type { LogsView } from '../http/status.ts';
import { parseCommand } from './args.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, getJson, repeatUntilSignal, serverOf } from './client.ts';
import { clockTime, paintFor, type Paint } from './terminal.ts';

const help = `usage: cortex-local logs API [options]

Prints the API's recent log lines (the server keeps the last 1000 of each API):
its workers' stdout and stderr, prefixed [api/replica/worker], and the server's
own lines about it. Timestamps and colours when the output is a terminal.

options:
${CLIENT_HELP}
  -f, --follow   keep printing new lines until Ctrl-C
  -n, --lines N  print only the last N lines first (default: all kept)
  --help, --version

example: cortex-local logs iris --follow`;

/** How often --follow asks for new lines. */
const FOLLOW_MS = 500;
const MAX_LINES = 1000;

export async function logs(argv: string[]): Promise<number> {
  const parsed = parseCommand('logs', argv, { ...CLIENT_OPTIONS, follow: { type: 'boolean', short: 'f', default: false }, lines: { type: 'string', short: 'n' } }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`logs takes one API name (got ${positionals.length})\n\n${help}`);
  let limit = MAX_LINES;
  if (values.lines !== undefined) {
    limit = Number(values.lines);
    if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--lines must be an integer ≥ 0, got "${values.lines}"`);
  }
  const server = serverOf(values);
  const path = `/apis/${encodeURIComponent(positionals[0])}/logs`;
  const paint = paintFor(process.stdout);
  const first = (await getJson(server, `${path}?limit=${Math.min(limit, MAX_LINES)}`)) as LogsView;
  print(first.lines, paint);
  if (!values.follow) return 0;

  let after = first.last;
  return repeatUntilSignal(FOLLOW_MS, 'after-ms', async () => {
    const view = (await getJson(server, `${path}?after=${after}`)) as LogsView;
    if (view.last < after) {
      // A new server process numbers its lines from 1 again.
      process.stdout.write(paint.dim('--- the server restarted ---') + '\n');
      after = 0;
      return;
    }
    const gap = view.lines.length > 0 ? view.lines[0].seq - after - 1 : 0;
    if (gap > 0) process.stdout.write(paint.dim(`--- ${gap} line${gap === 1 ? '' : 's'} came and went faster than they were read ---`) + '\n');
    print(view.lines, paint);
    after = view.last;
  });
}

function print(lines: readonly LogLine[], paint: Paint): void {
  if (lines.length === 0) return;
  process.stdout.write(lines.map((l) => format(l, paint)).join('\n') + '\n');
}

/** `[api/replica/worker] text` as serve prints it; the server's own lines carry their prefix already. */
function format(line: LogLine, paint: Paint): string {
  const body = line.stream === 'server' ? line.text : `${paint.cyan(`[${line.source}]`)} ${line.stream === 'stderr' ? paint.yellow(line.text) : line.text}`;
  const text = line.level === 'error' ? paint.red(body) : body;
  return paint.tty ? `${paint.dim(clockTime(line.time))} ${text}` : text;
}
