// `cortex-local deploy [PATH]`: a running server deploys cortex.yaml again:
// new APIs start, removed ones drain and stop, changed ones roll to their new
// version (update_strategy), the others are not touched. An invalid file
// changes nothing; its errors are printed as `validate` prints them.
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { ADMIN_PREFIX } from '../http/admin.ts';
import { parseCommand } from './args.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, postAdmin, serverOf } from './client.ts';

const help = `usage: cortex-local deploy [PATH] [--force] [--port N] [--host H] [--api-key KEY]

Asks a running server to deploy PATH (a cortex.yaml of the project it serves,
or its folder; default: the cortex.yaml it serves). New APIs start, removed
ones drain and stop, changed ones (config, code under python_path, model file)
roll to their new version by update_strategy, unchanged ones are not touched.

options:
${CLIENT_HELP}
  --force        replace an update still in progress (otherwise that API is left as it is)
  --help, --version

example: cortex-local deploy --port 8080`;

export async function deploy(argv: string[]): Promise<number> {
  const parsed = parseCommand('deploy', argv, {
    ...CLIENT_OPTIONS,
    force: { type: 'boolean', short: 'f', default: false },
  }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`deploy takes one PATH, got ${positionals.length}: ${positionals.join(' ')}`);
  const path = positionals[0] === undefined ? null : resolve(positionals[0]);
  const { status, body } = await postAdmin(serverOf(values), `${ADMIN_PREFIX}/deploy`, { path, force: values.force });
  if (status !== 200) {
    process.stderr.write(`${typeof body.text === 'string' ? body.text : `cortex-local: ${String(body.error)}`}\n`);
    return 1;
  }
  const apis = body.apis as { message: string; outcome: string }[];
  for (const a of apis) process.stdout.write(`${a.message}\n`);
  if (apis.length === 0) process.stdout.write(`${String(body.file)} has no API\n`);
  return apis.some((a) => a.outcome === 'refused') ? 1 : 0;
}
