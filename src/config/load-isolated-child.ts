// The child process of load-isolated.ts: argv is CWD [PATH]; writes one
// serialized ChildOutcome to stdout and exits 0. Anything else is a crash,
// reported on stderr by Node itself. No top-level await: the single binary
// bundles this module into CommonJS.
import { serialize } from 'node:v8';
import { ConfigError, ConfigFileError } from '../errors.ts';
import type { ChildOutcome } from './load-isolated.ts';
import { loadConfig } from './load.ts';

const [cwd, pathArg] = process.argv.slice(2);
loadConfig(pathArg, cwd).then(
  (config) => write({ ok: true, config }),
  (err: unknown) => {
    if (err instanceof ConfigError) write({ ok: false, kind: 'invalid', file: err.file, issues: err.issues });
    else if (err instanceof ConfigFileError) write({ ok: false, kind: 'unreadable', file: err.file, message: err.message });
    else throw err;
  },
);

function write(outcome: ChildOutcome): void {
  process.stdout.write(serialize(outcome));
}
