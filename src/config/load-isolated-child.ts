// The child process of load-isolated.ts: argv is CWD [PATH]; writes one
// serialized ChildOutcome to stdout and exits 0. Anything else is a crash,
// reported on stderr by Node itself.
import { serialize } from 'node:v8';
import { ConfigError, ConfigFileError } from '../errors.ts';
import type { ChildOutcome } from './load-isolated.ts';
import { loadConfig } from './load.ts';

const [cwd, pathArg] = process.argv.slice(2);
let outcome: ChildOutcome;
try {
  outcome = { ok: true, config: await loadConfig(pathArg, cwd) };
} catch (err) {
  if (err instanceof ConfigError) outcome = { ok: false, kind: 'invalid', file: err.file, issues: err.issues };
  else if (err instanceof ConfigFileError) outcome = { ok: false, kind: 'unreadable', file: err.file, message: err.message };
  else throw err;
}
process.stdout.write(serialize(outcome));
