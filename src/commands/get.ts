// `cortex-local get [API]`: the running server's APIs and replicas, as a table.
import { UsageError } from '../errors.ts';
import { parseCommand } from './args.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, getJson, serverOf } from './client.ts';

interface ReplicaDetail {
  id: number;
  state: string;
  gpus: number[];
  in_flight: number;
  restarts: number;
  reason?: string;
  last_error?: string | null;
}

interface ApiSummary {
  api: string;
  endpoint: string;
  status: string;
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
  --json         print the server's answer as JSON
  --help, --version

example: cortex-local get iris --port 8080`;

export async function get(argv: string[]): Promise<number> {
  const parsed = parseCommand('get', argv, { ...CLIENT_OPTIONS, json: { type: 'boolean', default: false } }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
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
  const rows = [['api', 'status', 'ready', 'starting', 'pending', 'failed', 'desired', 'in flight', 'endpoint']];
  for (const a of apis) {
    const r = a.replicas;
    rows.push([a.api, a.status, r.ready, r.starting, r.pending, r.failed, a.desired_replicas, a.in_flight, `${base}${a.endpoint}`].map(String));
  }
  let out = table(rows);
  if (name !== undefined) {
    const api = apis[0];
    const replicaRows = [['replica', 'state', 'gpus', 'in flight', 'restarts', 'note']];
    for (const r of api.detail) {
      replicaRows.push([String(r.id), r.state, r.gpus.length ? r.gpus.join(',') : '-', String(r.in_flight), String(r.restarts), r.reason ?? firstLine(r.last_error) ?? '']);
    }
    out += '\n' + table(replicaRows);
    if (api.model_signature !== undefined) {
      const inputs = Object.entries(api.model_signature).map(([input, s]) => [input, String(s.type), JSON.stringify(s.shape)]);
      out += '\nmodel signature:\n' + table([['input', 'type', 'shape'], ...inputs]);
    }
    if (api.last_error) out += `\nlast error:\n${api.last_error.trimEnd()}\n`;
  }
  process.stdout.write(out);
  return 0;
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
