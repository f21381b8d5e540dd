// `cortex-local validate [PATH] [--json]` (spec/config.md §1): exit 0 valid,
// 1 invalid, 2 usage or unreadable file.
import { loadConfig } from '../config/load.ts';
import { displayPath, formatConfigIssues } from '../config/report.ts';
import { ConfigError, ConfigFileError, UsageError } from '../errors.ts';
import { parseCommand } from './args.ts';

const help = `usage: cortex-local validate [PATH] [--json]

Checks PATH (a cortex.yaml, or a folder holding one; default ./cortex.yaml).
Prints every error as FILE:LINE:COL, or with --json the resolved APIs:
  {"ok": true, "apis": [...]}  or  {"ok": false, "errors": [{"api", "path", "message", "line", "column"}]}
exit codes: 0 valid, 1 invalid, 2 usage or unreadable file

example: cortex-local validate examples/iris --json`;

export async function validate(argv: string[]): Promise<number> {
  const parsed = parseCommand('validate', argv, { json: { type: 'boolean', default: false } }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`validate takes one PATH, got ${positionals.length}: ${positionals.join(' ')}`);
  try {
    const config = await loadConfig(positionals[0]);
    if (values.json) process.stdout.write(JSON.stringify({ ok: true, apis: config.apis }, null, 2) + '\n');
    else process.stdout.write(`${displayPath(config.file)}: ${config.apis.length} API${config.apis.length === 1 ? '' : 's'} valid: ${config.apis.map((a) => `${a.name} (${a.endpoint})`).join(', ')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      if (values.json) {
        const errors = err.issues.map(({ api, path, message, line, column, index }) => ({ api, path, message, line, column, index }));
        process.stdout.write(JSON.stringify({ ok: false, errors }, null, 2) + '\n');
      } else {
        process.stderr.write(formatConfigIssues(err) + '\n');
      }
      return 1;
    }
    if (err instanceof ConfigFileError && values.json) {
      process.stderr.write(`cortex-local: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
