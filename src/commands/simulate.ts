// `cortex-local simulate TRACE.json [--json]`: replays an in-flight trace
// through the autoscaler (../shared/spec/autoscaler.md §4) on a simulated
// clock. No process starts; the recommender is the one `serve` uses.
import { readFile } from 'node:fs/promises';
import { explainTick, formatTicks } from '../autoscale/explain.ts';
import { replay, type ReplayDecision, type ReplayInput } from '../autoscale/replay.ts';
import { formatNumber } from '../autoscale/recommender.ts';
import { resolveAutoscalingBlock } from '../config/autoscaling.ts';
import { describeValue } from '../config/check.ts';
import { closest } from '../config/suggest.ts';
import { TraceError, UsageError } from '../errors.ts';
import { parseCommand } from './args.ts';

const help = `usage: cortex-local simulate TRACE.json [--json] [--explain]

Replays an in-flight trace through the autoscaler and prints one decision per tick;
with --explain, every value that went into each (as GET /apis/NAME/autoscaler shows it).
TRACE.json: {"autoscaling": {...}, "initial_replicas": 1, "tick": 10, "duration": 600,
             "in_flight": [[0, 0], [30, 12], [300, 1]]}
  autoscaling       cortex.yaml's autoscaling keys (durations as strings: "30s"); default {}
  initial_replicas  integer ≥ 1; default init_replicas; clamped to [min_replicas, max_replicas]
  tick              seconds between ticks, integer ≥ 1; default 10
  duration          seconds to simulate, > 0 (required)
  in_flight         [t, value] points, t ≥ 0 non-decreasing: the in-flight count from t on (required)

example: cortex-local simulate trace.json --json`;

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a JSON file',
  EACCES: 'permission denied',
};

const TRACE_KEYS = ['autoscaling', 'initial_replicas', 'tick', 'duration', 'in_flight'] as const;

export async function simulate(argv: string[]): Promise<number> {
  const parsed = parseCommand('simulate', argv, { json: { type: 'boolean', default: false }, explain: { type: 'boolean', default: false } }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`simulate takes one TRACE.json (got ${positionals.length})\n\n${help}`);
  const file = positionals[0];

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file));
  } catch (err) {
    // Exit 2 like an unreadable cortex.yaml (README: "2 usage error or unreadable file").
    const code = (err as NodeJS.ErrnoException).code;
    const reason = err instanceof TypeError ? 'not UTF-8' : code !== undefined && code in FILE_ERRORS ? FILE_ERRORS[code] : (err as Error).message;
    process.stderr.write(`cortex-local: cannot read trace ${file}: ${reason}\n`);
    return 2;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TraceError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const decisions = replay(parseTrace(file, json));
  if (values.explain) {
    const ticks = decisions.map((d) => explainTick(d.t, d.samples, d));
    process.stdout.write(values.json ? `${JSON.stringify({ ticks }, null, 2)}\n` : formatTicks(ticks));
  } else process.stdout.write(values.json ? toJson(decisions) : toText(file, decisions));
  return 0;
}

/** Every problem of the trace, on one line; throws TraceError when there is any. */
function parseTrace(file: string, json: unknown): ReplayInput {
  const problems: string[] = [];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TraceError(`${file}: a trace must be a JSON object (got ${describeValue(json)})`);
  }
  const trace = json as Record<string, unknown>;
  for (const key of Object.keys(trace)) {
    if ((TRACE_KEYS as readonly string[]).includes(key)) continue;
    const hint = closest(key, TRACE_KEYS);
    problems.push(`key "${key}" is not supported${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }

  const block = resolveAutoscalingBlock(trace.autoscaling);
  if (!block.ok) for (const issue of block.issues) problems.push(`${issue.path || 'autoscaling'}: ${issue.message}`);

  const integerAtLeast1 = (key: string): number | undefined => {
    const v = trace[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      problems.push(`${key}: must be an integer ≥ 1 (got ${describeValue(v)})`);
      return undefined;
    }
    return v;
  };
  const initialReplicas = integerAtLeast1('initial_replicas');
  const tick = integerAtLeast1('tick') ?? 10;

  const duration = trace.duration;
  if (duration === undefined) problems.push('duration: is required (seconds to simulate, a number > 0)');
  else if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
    problems.push(`duration: must be a number > 0 (got ${describeValue(duration)})`);
  }

  const inFlight = readInFlight(trace.in_flight, problems);

  if (problems.length > 0) throw new TraceError(`${file}: ${problems.join('; ')}`);
  const autoscaling = (block as { ok: true; value: ReplayInput['autoscaling'] }).value;
  return {
    autoscaling,
    initialReplicas: initialReplicas ?? autoscaling.init_replicas,
    tick,
    duration: duration as number,
    inFlight: inFlight as [number, number][],
  };
}

/** Reports the first bad point only: one mistake tends to repeat down a long list. */
function readInFlight(raw: unknown, problems: string[]): [number, number][] | undefined {
  if (raw === undefined) {
    problems.push('in_flight: is required (a list of [t, value] points)');
    return undefined;
  }
  if (!Array.isArray(raw)) {
    problems.push(`in_flight: must be a list of [t, value] points (got ${describeValue(raw)})`);
    return undefined;
  }
  const points: [number, number][] = [];
  for (const [i, point] of raw.entries()) {
    const at = `in_flight[${i}]`;
    const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    if (!Array.isArray(point) || point.length !== 2 || !finite(point[0]) || !finite(point[1])) {
      problems.push(`${at}: must be a [t, value] pair of numbers (got ${JSON.stringify(point)})`);
      return undefined;
    }
    const [t, value] = point;
    if (t < 0) {
      problems.push(`${at}: time must be ≥ 0 (got ${t})`);
      return undefined;
    }
    if (value < 0) {
      problems.push(`${at}: in-flight value must be ≥ 0 (got ${value})`);
      return undefined;
    }
    const previous = points.at(-1);
    if (previous !== undefined && t < previous[0]) {
      problems.push(`${at}: times must not decrease (${t} comes after ${previous[0]})`);
      return undefined;
    }
    points.push([t, value]);
  }
  return points;
}

function toJson(decisions: ReplayDecision[]): string {
  const rows = decisions.map((d) =>
    JSON.stringify({ t: d.t, avg_in_flight: d.avgInFlight, recommendation: d.recommendation, replicas: d.replicas }),
  );
  return rows.length === 0 ? '{"decisions": []}\n' : `{"decisions": [\n  ${rows.join(',\n  ')}\n]}\n`;
}

// Consecutive ticks that look the same collapse into one row ("420..650"),
// as the spec's own tables do, so long quiet stretches stay short.
function toText(file: string, decisions: ReplayDecision[]): string {
  if (decisions.length === 0) return `${file}: no tick within the duration\n`;
  const rows: { t: string; avg: string; rec: string; replicas: string; reason: string }[] = [];
  let runStart = decisions[0];
  let prev = decisions[0];
  const flush = () => {
    const changed = runStart.previous !== runStart.replicas;
    rows.push({
      t: runStart === prev ? `${runStart.t}` : `${runStart.t}..${prev.t}`,
      avg: runStart.avgInFlight === null ? '-' : formatNumber(runStart.avgInFlight),
      rec: runStart.recommendation === null ? '-' : `${runStart.recommendation}`,
      replicas: changed ? `${runStart.previous}->${runStart.replicas}` : `${runStart.replicas}`,
      reason: runStart.reason,
    });
  };
  for (const d of decisions.slice(1)) {
    // A tick that changes the count always gets its own row.
    const same =
      runStart.previous === runStart.replicas &&
      d.previous === d.replicas &&
      d.avgInFlight === prev.avgInFlight &&
      d.recommendation === prev.recommendation &&
      d.replicas === prev.replicas &&
      d.reason === prev.reason;
    if (!same) {
      flush();
      runStart = d;
    }
    prev = d;
  }
  flush();

  const header = { t: 't (s)', avg: 'avg in flight', rec: 'recommendation', replicas: 'replicas', reason: 'reason' };
  const cols = ['t', 'avg', 'rec', 'replicas'] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(header[c].length, ...rows.map((r) => r[c].length))])) as Record<
    (typeof cols)[number],
    number
  >;
  const line = (r: typeof header) => `${r.t.padEnd(width.t)}  ${r.avg.padStart(width.avg)}  ${r.rec.padStart(width.rec)}  ${r.replicas.padStart(width.replicas)}  ${r.reason}`;

  const counts = decisions.map((d) => d.replicas);
  const first = decisions[0];
  const last = decisions.at(-1) as ReplayDecision;
  const out = [
    line(header),
    ...rows.map(line),
    '',
    `replicas after each of ${decisions.length} ticks, t=${first.t}..${last.t}s (initial ${first.previous}, lowest ${Math.min(...counts)}, highest ${Math.max(...counts)}, final ${last.replicas}):`,
    sparkline(counts),
  ];
  return out.join('\n') + '\n';
}

const LEVELS = '_.-=+*#@';
const SPARK_WIDTH = 100;

/** Plain ASCII, low to high; long runs are bucketed by their maximum so a short spike stays visible. */
function sparkline(counts: number[]): string {
  const buckets = Math.min(counts.length, SPARK_WIDTH);
  const values: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * counts.length) / buckets);
    const to = Math.floor(((b + 1) * counts.length) / buckets);
    values.push(Math.max(...counts.slice(from, to)));
  }
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => LEVELS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (LEVELS.length - 1))]).join('');
}
