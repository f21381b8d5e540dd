// `cortex-local get [API]`: the running server's APIs as a table; with API,
// its replicas, tracker and last error; with --autoscaler, the autoscaler's
// last ticks and why; with --watch, again every second.
import { formatTicks } from '../autoscale/explain.ts';
import { formatNumber } from '../autoscale/recommender.ts';
import { UsageError } from '../errors.ts';
import type { ApiSummary, AutoscalerView } from '../http/status.ts';
import type { TrackerStats } from '../metrics/tracker.ts';
import { formatBytes } from '../pool/memory.ts';
import { parseCommand } from './args.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, getJson, repeatUntilSignal, serverOf, type Server } from './client.ts';
import { clockTime, paintFor, paintStatus, table, type Paint } from './terminal.ts';

const help = `usage: cortex-local get [API] [options]

Shows the APIs of a running server (default 127.0.0.1:8888): replicas, requests
by status class and p50/p99 latency over the last minute, the last autoscaler
decision. With API: its replicas (pids, GPUs, restarts, memory), tracker and
last error.

options:
${CLIENT_HELP}
  -w, --watch    show it again every second (redrawn in place on a terminal)
  --autoscaler   with API: the autoscaler's last 60 ticks, every value that went into each
  --json         print the server's answer as JSON
  --help, --version

example: cortex-local get iris --port 8080`;

/** Cortex's `get --watch`: "re-run the command every second". */
const WATCH_MS = 1000;

export async function get(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    'get',
    argv,
    {
      ...CLIENT_OPTIONS,
      watch: { type: 'boolean', short: 'w', default: false },
      autoscaler: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    help,
  );
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`get takes at most one API name, got ${positionals.length}: ${positionals.join(' ')}`);
  const name = positionals[0];
  if (values.autoscaler && name === undefined) throw new UsageError('--autoscaler needs an API: cortex-local get API --autoscaler');
  const server = serverOf(values);
  const paint = paintFor(process.stdout);
  const frame = () => render(server, { name, autoscaler: values.autoscaler, json: values.json }, paint);
  if (!values.watch) {
    process.stdout.write(await frame());
    return 0;
  }
  return watch(frame, paint);
}

interface View {
  name: string | undefined;
  autoscaler: boolean;
  json: boolean;
}

async function render(server: Server, view: View, paint: Paint): Promise<string> {
  if (view.name === undefined) {
    const { apis } = (await getJson(server, '/apis')) as { apis: ApiSummary[] };
    return view.json ? `${JSON.stringify(apis, null, 2)}\n` : formatList(server, apis, paint);
  }
  const path = `/apis/${encodeURIComponent(view.name)}`;
  if (view.autoscaler) {
    const a = (await getJson(server, `${path}/autoscaler`)) as AutoscalerView;
    return view.json ? `${JSON.stringify(a, null, 2)}\n` : `autoscaler of ${a.api}: ${a.desired_replicas} replica${a.desired_replicas === 1 ? '' : 's'} requested now\n${formatTicks(a.ticks)}`;
  }
  const api = (await getJson(server, path)) as ApiSummary;
  return view.json ? `${JSON.stringify(api, null, 2)}\n` : formatApi(server, api, paint);
}

/** Redraws every second until Ctrl-C: in place on a terminal, one block after another otherwise. */
function watch(frame: () => Promise<string>, paint: Paint): Promise<number> {
  if (paint.tty) process.stdout.write('\x1b[2J');
  return repeatUntilSignal(WATCH_MS, 'now', async (stopped) => {
    let text: string;
    try {
      text = await frame();
    } catch (err) {
      // The server may be restarting: say so and keep watching.
      text = `${paint.red((err as Error).message)}\n`;
    }
    if (stopped()) return;
    const stamp = paint.dim(`every 1s · ${clockTime(Date.now())} · Ctrl-C to stop`);
    // Home, then clear to the end of the screen: the new frame replaces the old without a blank flash.
    process.stdout.write(paint.tty ? `\x1b[H\x1b[J${stamp}\n\n${text}` : `--- ${clockTime(Date.now())}\n${text}`);
  });
}

function ms(n: number | null): string {
  if (n === null) return '-';
  return n >= 100 ? `${Math.round(n)}ms` : `${Math.round(n * 100) / 100}ms`;
}

function lastScaling(a: ApiSummary): string {
  const t = a.autoscaler;
  if (t === null) return '-';
  return `${t.request === t.current ? `${t.request}` : `${t.current}→${t.request}`} (${t.reason})`;
}

function formatList(server: Server, apis: ApiSummary[], paint: Paint): string {
  if (apis.length === 0) return 'no API is served\n';
  const rows = [['api', 'status', 'ready', 'desired', 'in flight', '2XX', '4XX', '5XX', 'p50', 'p99', 'endpoint', 'autoscaler'].map(paint.bold)];
  for (const a of apis) {
    const c = a.requests.codes;
    rows.push([
      a.api,
      paintStatus(paint, a.status),
      String(a.replicas.ready),
      String(a.desired_replicas),
      String(a.in_flight),
      String(c['2xx']),
      String(c['4xx']),
      c['5xx'] > 0 ? paint.red(String(c['5xx'])) : '0',
      ms(a.requests.p50_ms),
      ms(a.requests.p99_ms),
      `${server.base}${a.endpoint}`,
      lastScaling(a),
    ]);
  }
  return `${table(rows)}${paint.dim('requests and latency over the last minute; autoscaler: its last tick')}\n`;
}

function formatApi(server: Server, a: ApiSummary, paint: Paint): string {
  const c = a.requests.codes;
  const head = [
    ['status', 'ready', 'desired', 'in flight', 'queued', 'capacity', '2XX', '4XX', '5XX', 'p50', 'p99'].map(paint.bold),
    [paintStatus(paint, a.status), a.replicas.ready, a.desired_replicas, a.in_flight, a.queued, a.capacity, c['2xx'], c['4xx'], c['5xx'], ms(a.requests.p50_ms), ms(a.requests.p99_ms)].map(String),
  ];
  let out = `${paint.bold(a.api)}  ${server.base}${a.endpoint}\n\n${table(head)}`;
  out += paint.dim(`requests and latency over the last ${a.requests.seconds === 60 ? 'minute' : `${a.requests.seconds}s`}`) + '\n\n';
  const t = a.autoscaler;
  out += t === null
    ? 'autoscaler: no tick yet\n'
    : `autoscaler: at t=${t.t}s avg in flight ${t.avg_in_flight === null ? '-' : formatNumber(t.avg_in_flight)}, recommendation ${t.recommendation ?? '-'}, requested ${lastScaling(a)}  ${paint.dim(`(cortex-local get ${a.api} --autoscaler)`)}\n`;
  out += `restarts: ${Object.entries(a.restarts).map(([why, n]) => `${why} ${n}`).join(', ')}\n`;

  if (a.detail.length > 0) {
    const rows = [['replica', 'state', 'gpus', 'pids', 'memory', 'in flight', 'restarts', 'note'].map(paint.bold)];
    for (const r of a.detail) {
      const pids = r.workers.map((w) => w.pid ?? '-').join(',');
      const memory = r.workers.reduce((n, w) => n + (w.memory_bytes ?? 0), 0);
      const note = r.reason ?? firstLine(r.last_error) ?? '';
      const state = r.state === 'ready' ? paint.green(r.state) : r.state === 'failed' ? paint.red(r.state) : paint.yellow(r.state);
      rows.push([String(r.id), state, r.gpus.length ? r.gpus.join(',') : '-', pids || '-', memory > 0 ? formatBytes(memory) : '-', String(r.in_flight), String(r.restarts), note]);
    }
    out += '\n' + table(rows);
  }
  if (a.tracker !== null) out += '\n' + formatTracker(a.tracker);
  const signature = a.model_signature as Record<string, { shape: unknown; type: string }> | undefined;
  if (signature !== undefined) {
    const inputs = Object.entries(signature).map(([input, s]) => [input, String(s.type), JSON.stringify(s.shape)]);
    out += '\nmodel signature:\n' + table([['input', 'type', 'shape'], ...inputs]);
  }
  if (a.last_error) out += `\n${paint.red('last error:')}\n${a.last_error.trimEnd()}\n`;
  return out;
}

function formatTracker(t: TrackerStats): string {
  let out = `tracker (${t.model_type}${t.key === null ? '' : `, key ${t.key}`}): ${t.tracked} tracked, ${t.misses} missed\n`;
  if (t.model_type === 'classification') {
    if (t.classes.length > 0) {
      const rows = [['class', 'count', 'share']];
      for (const c of t.classes) rows.push([c.class, String(c.count), `${Math.round((1000 * c.count) / t.tracked) / 10}%`]);
      out += table(rows).replace(/^(?=.)/gm, '  ');
    }
  } else if (t.tracked > 0) {
    out += `  min ${t.min}  max ${t.max}  mean ${Math.round((t.mean as number) * 1e6) / 1e6}\n`;
  }
  if (t.last_miss !== null) out += `  last miss: ${t.last_miss}\n`;
  return out;
}

/** What an error says in one line: a Python traceback's last line (the exception), else the first. */
function firstLine(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const lines = text.trim().split('\n');
  return lines[0].startsWith('Traceback (most recent call last)') ? lines.at(-1) : lines[0];
}
