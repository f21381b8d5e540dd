// Makes the project-local virtualenv the tests use (.venv-test): the worker
// runtime needs nothing, but tests also check numpy serialization. Idempotent:
// a venv that already imports what we need is left alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const venv = join(root, '.venv-test');
const python = join(venv, 'bin', 'python');
const packages = ['numpy'];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`python-env: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

const ready = existsSync(python) && spawnSync(python, ['-c', `import ${packages.join(', ')}`]).status === 0;
if (!ready) {
  const base = process.env.CORTEX_LOCAL_PYTHON ?? 'python3';
  if (!existsSync(python)) run(base, ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages]);
}
