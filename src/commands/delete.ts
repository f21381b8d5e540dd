// `cortex-local delete API...`: a running server stops routing to each API,
// answers the requests it had admitted, stops its replicas and forgets it.
// The API stays in cortex.yaml: the next deploy (or edit under serve
// --watch) starts it again, as `cortex deploy` did after `cortex delete`.
import { UsageError } from '../errors.ts';
import { ADMIN_PREFIX } from '../http/admin.ts';
import { parseCommand } from './args.ts';
import { CLIENT_HELP, CLIENT_OPTIONS, postAdmin, serverOf } from './client.ts';

const help = `usage: cortex-local delete API... [--keep-going] [--port N] [--host H] [--api-key KEY]

Deletes each API from a running server, in order: its endpoint answers 404 at
once, the requests it had admitted are answered, then its replicas stop.
Each API is done before the next starts. The APIs stay in cortex.yaml: the
next deploy (or an edit under serve --watch) starts them again.

options:
${CLIENT_HELP}
  --keep-going   when an API cannot be deleted (no such API), go on with the
                 others; the exit code is still 1 (default: stop there)
  --help, --version

example: cortex-local delete iris --port 8080`;

export async function deleteCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('delete', argv, {
    ...CLIENT_OPTIONS,
    'keep-going': { type: 'boolean', short: 'k', default: false },
  }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError('delete takes the name of at least one API');
  const server = serverOf(values);
  let code = 0;
  for (const api of positionals) {
    const { status, body } = await postAdmin(server, `${ADMIN_PREFIX}/delete`, { api });
    if (status === 200) {
      process.stdout.write(`${String(body.message)}\n`);
      continue;
    }
    process.stderr.write(`cortex-local: ${String(body.error)}\n`);
    code = 1;
    if (!values['keep-going']) break;
  }
  return code;
}
