// Prepares what `npm run bench` needs and the project itself does not:
// bench/.venv (FastAPI + uvicorn + uvloop + httptools, pinned in
// requirements.txt), orjson in a folder of its own (bench/.venv/orjson,
// requirements-orjson.txt: on a worker's PYTHONPATH it makes the *-orjson
// systems) and the `wrk` load generator; and it compiles dist/ (npm run
// build), so that bin/cortex-local runs what the package ships rather than
// src/ through type stripping. Idempotent: stamps holding the requirements'
// hashes skip pip when nothing changed.
//
//   node bench/setup.ts [--python python3]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const BENCH_DIR = import.meta.dirname;
const REPO = join(BENCH_DIR, '..');
export const VENV_DIR = join(BENCH_DIR, '.venv');
export const VENV_PYTHON = join(VENV_DIR, 'bin', 'python');
const REQUIREMENTS = join(BENCH_DIR, 'requirements.txt');
const STAMP = join(VENV_DIR, '.requirements.sha256');
/** orjson alone: on PYTHONPATH, the bench venv's Python has it */
export const ORJSON_DIR = join(VENV_DIR, 'orjson');
const ORJSON_REQUIREMENTS = join(BENCH_DIR, 'requirements-orjson.txt');
const ORJSON_STAMP = join(ORJSON_DIR, '.requirements.sha256');

function run(cmd: string, args: string[], opts: { quiet?: boolean } = {}): number {
  const r = spawnSync(cmd, args, { stdio: opts.quiet ? 'ignore' : 'inherit' });
  if (r.error) return 127;
  return r.status ?? 1;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function venvReady(): boolean {
  if (!existsSync(VENV_PYTHON) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, 'utf8').trim() === requirementsHash();
}

function requirementsHash(file = REQUIREMENTS): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function ensureOrjson(): void {
  if (existsSync(ORJSON_STAMP) && readFileSync(ORJSON_STAMP, 'utf8').trim() === requirementsHash(ORJSON_REQUIREMENTS)) {
    console.log(`bench/.venv/orjson: up to date`);
    return;
  }
  console.log('bench/.venv/orjson: installing bench/requirements-orjson.txt');
  const pip = [VENV_PYTHON, '-m', 'pip', 'install', '--disable-pip-version-check', '-q', '--upgrade', '--target', ORJSON_DIR, '-r', ORJSON_REQUIREMENTS] as const;
  if (run(pip[0], pip.slice(1)) !== 0) throw new Error('pip install -r bench/requirements-orjson.txt failed (see above)');
  writeFileSync(ORJSON_STAMP, requirementsHash(ORJSON_REQUIREMENTS) + '\n');
}

function ensureVenv(python: string): void {
  if (venvReady()) {
    console.log(`bench/.venv: up to date (${VENV_PYTHON})`);
    return;
  }
  if (!existsSync(VENV_PYTHON)) {
    console.log(`bench/.venv: creating with ${python}`);
    if (run(python, ['-m', 'venv', VENV_DIR]) !== 0) {
      throw new Error(`could not create ${VENV_DIR} with "${python} -m venv" (on Debian/Ubuntu: apt-get install python3-venv)`);
    }
  }
  console.log('bench/.venv: installing bench/requirements.txt');
  const pip = [VENV_PYTHON, '-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS] as const;
  if (run(pip[0], pip.slice(1)) !== 0) throw new Error('pip install -r bench/requirements.txt failed (see above)');
  writeFileSync(STAMP, requirementsHash() + '\n');
}

function ensureWrk(): void {
  if (have('wrk')) {
    console.log('wrk: found');
    return;
  }
  const root = process.getuid?.() === 0;
  if (root && have('apt-get')) {
    console.log('wrk: missing, installing with apt-get');
    // update first: a fresh container has no package lists.
    run('apt-get', ['update', '-qq']);
    if (run('apt-get', ['install', '-y', '-qq', 'wrk']) === 0 && have('wrk')) return;
  }
  throw new Error(
    'wrk is not installed and could not be installed here: run "sudo apt-get install -y wrk" ' +
      '(macOS: "brew install wrk"), then npm run bench again',
  );
}

/** Whether bin/cortex-local in this checkout runs dist/: the same test as the script's. */
export function distIsFresh(): boolean {
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) return false;
  return spawnSync('find', [join(REPO, 'src'), '-newer', join(REPO, 'dist', 'cli.js'), '-print', '-quit'], { encoding: 'utf8' }).stdout === '';
}

function ensureBuild(): void {
  // tsc exits non-zero on a type error but still emits: what counts is a fresh dist/.
  run(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', join(REPO, 'tsconfig.build.json')]);
  if (!distIsFresh()) throw new Error('npm run build did not produce a dist/ newer than src/ (see above)');
  console.log('dist/: compiled (bin/cortex-local runs it)');
}

export function setup(python = 'python3'): void {
  ensureWrk();
  ensureVenv(python);
  ensureOrjson();
  ensureBuild();
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { python: { type: 'string', default: 'python3' } } });
  try {
    setup(values.python);
  } catch (err) {
    console.error(`bench setup: ${(err as Error).message}`);
    process.exit(1);
  }
}
