// Makes .venv-export for `npm run test:export`: the engines the exports are
// written for, from PyPI, at the versions src/export names. Idempotent: a venv
// that already has those versions is left alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KSERVE_VERSION } from '../../src/export/kserve.ts';
import { RAY_VERSION } from '../../src/export/rayserve.ts';

const root = join(import.meta.dirname, '..', '..');
const venv = join(root, '.venv-export');
const python = join(venv, 'bin', 'python');
const wanted = `${RAY_VERSION} ${KSERVE_VERSION}`;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`export-env: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

const installed = existsSync(python)
  ? spawnSync(python, ['-c', "import importlib.metadata as m, ray.serve, kserve; print(m.version('ray'), m.version('kserve'))"], { encoding: 'utf8' }).stdout?.trim()
  : undefined;
if (installed !== wanted) {
  const started = performance.now();
  const base = process.env.CORTEX_LOCAL_PYTHON ?? 'python3';
  if (!existsSync(python)) run(base, ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `ray[serve]==${RAY_VERSION}`, `kserve==${KSERVE_VERSION}`]);
  process.stderr.write(`export-env: installed ray[serve] ${RAY_VERSION} and kserve ${KSERVE_VERSION} into .venv-export in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
