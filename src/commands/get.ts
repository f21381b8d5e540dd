// `cortex-local get [API]`: the running server's APIs and replicas, as a table.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, getJson, serverOf } from './client.ts';

interface ReplicaDetail {
  id: number;
  version: string;
  state: string;
  gpus: number[];
  in_flight: number;
  restarts: number;
  reason?: string;
  last_error?: string | null;
}

type Counts = Record<'ready' | 'starting' | 'pending' | 'failed' | 'draining', number>;

interface ApiSummary {
  api: string;
  endpoint: string;
  status: string;
  version: string;
  rollout: { state: string; new: Counts; old: Counts; old_versions: string[]; max_surge: number; max_unavailable: number; error: string | null };
  desired_replicas: number;
  replicas: Record<string, number>;
  in_flight: number;
  last_error: string | null;
  detail: ReplicaDetail[];
  /** onnx/tensorflow APIs: input name -> shape and type */
  model_signature?: Record<string, { shape: unknown; type: string }>;
}

const help = `usage: cortex-local get [API] [--port N] [--host H] [--api-key KEY] [--json]

Shows the APIs of a running server (default 127.0.0.1:8888); with API, its replicas.

options:
${CLIENT_HELP}
  --json         print the server's answer as JSON`;

export async function get(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  const server = serverOf(values);
  const base = server.base;
  const answer = (await getJson(server, '/')) as { apis?: unknown };
  if (!Array.isArray(answer.apis)) throw new UsageError(`the server at ${base} answered GET / without a list of APIs; is it cortex-local?`);
  let apis = answer.apis as ApiSummary[];
  const name = positionals[0];
  if (name !== undefined) {
    const api = apis.find((a) => a.api === name);
    if (api === undefined) throw new UsageError(`no API named "${name}"; this server has: ${apis.map((a) => a.api).join(', ')}`);
    apis = [api];
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(name === undefined ? apis : apis[0], null, 2) + '\n');
    return 0;
  }
  const rows = [['api', 'status', 'ready', 'starting', 'pending', 'failed', 'desired', 'in flight', 'version', 'old', 'endpoint']];
  for (const a of apis) {
    const r = a.replicas;
    rows.push([a.api, a.status, r.ready, r.starting, r.pending, r.failed, a.desired_replicas, a.in_flight, a.version, total(a.rollout.old), `${base}${a.endpoint}`].map(String));
  }
  let out = table(rows);
  if (name !== undefined) {
    const api = apis[0];
    const replicaRows = [['replica', 'state', 'gpus', 'in flight', 'restarts', 'version', 'note']];
    for (const r of api.detail) {
      replicaRows.push([String(r.id), r.state, r.gpus.length ? r.gpus.join(',') : '-', String(r.in_flight), String(r.restarts), r.version, r.reason ?? firstLine(r.last_error) ?? '']);
    }
    out += '\n' + table(replicaRows);
    const ro = api.rollout;
    if (ro.old_versions.length > 0 || ro.state !== 'live') {
      const from = ro.old_versions.length > 0 ? ` from ${ro.old_versions.join(', ')}` : '';
      out += `\nrollout: ${ro.state}, to version ${api.version}${from} (max_surge ${ro.max_surge}, max_unavailable ${ro.max_unavailable}); new: ${counts(ro.new)}; old: ${counts(ro.old)}\n`;
      if (ro.error) out += `rollout stopped by the new version's error: ${firstLine(ro.error)}\n`;
    }
    if (api.model_signature !== undefined) {
      const inputs = Object.entries(api.model_signature).map(([input, s]) => [input, String(s.type), JSON.stringify(s.shape)]);
      out += '\nmodel signature:\n' + table([['input', 'type', 'shape'], ...inputs]);
    }
    if (api.last_error) out += `\nlast error:\n${api.last_error.trimEnd()}\n`;
  }
  process.stdout.write(out);
  return 0;
}

function total(c: Counts): number {
  return c.ready + c.starting + c.pending + c.failed + c.draining;
}

function counts(c: Counts): string {
  const parts = (Object.entries(c) as [string, number][]).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** An error's first line: a predictor's summary (`predictor.py:3: class PythonPredictor not found …`), not its traceback. */
function firstLine(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  return text.trim().split('\n')[0];
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}
