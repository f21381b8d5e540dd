// Makes the project-local virtualenv the tests use (.venv-test): the worker
// runtime needs nothing, but tests also check numpy serialization. orjson goes
// to a folder of its own (.venv-test/orjson), off the venv's path: tests put
// it on PYTHONPATH for the APIs that must run with it, so one interpreter
// serves payloads with and without it. Idempotent: what imports already is
// left alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const venv = join(root, '.venv-test');
const python = join(venv, 'bin', 'python');
const packages = ['numpy'];
const orjsonDir = join(venv, 'orjson');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`python-env: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

const imports = (code: string, env: NodeJS.ProcessEnv = {}) => existsSync(python) && spawnSync(python, ['-c', code], { env: { ...process.env, ...env } }).status === 0;

if (!imports(`import ${packages.join(', ')}`)) {
  const base = process.env.CORTEX_LOCAL_PYTHON ?? 'python3';
  if (!existsSync(python)) run(base, ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages]);
}
if (!imports('import orjson', { PYTHONPATH: orjsonDir })) {
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', orjsonDir, 'orjson']);
}
