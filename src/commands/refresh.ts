// `cortex-local refresh API`: a running server restarts every replica of an
// API, with the same code, by a rolling update (update_strategy): Cortex's
// "restart all replicas for an api (without downtime)".
import { UsageError } from '../errors.ts';
import { ADMIN_PREFIX } from '../http/admin.ts';
import { parseCommand } from './args.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, postAdmin, serverOf } from './client.ts';

const help = `usage: cortex-local refresh API [--force] [--port N] [--host H] [--api-key KEY]

Restarts every replica of API on a running server by a rolling update, with
the same code and config (a changed S3 model is fetched again).

options:
${CLIENT_HELP}
  --force        replace an update still in progress
  --help, --version

example: cortex-local refresh iris`;

export async function refresh(argv: string[]): Promise<number> {
  const parsed = parseCommand('refresh', argv, {
    ...CLIENT_OPTIONS,
    force: { type: 'boolean', short: 'f', default: false },
  }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`refresh takes one API name, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  const { status, body } = await postAdmin(serverOf(values), `${ADMIN_PREFIX}/refresh`, { api: positionals[0], force: values.force });
  if (status !== 200) {
    process.stderr.write(`cortex-local: ${String(body.error)}\n`);
    return 1;
  }
  process.stdout.write(`${String(body.message)}\n`);
  return 0;
}
