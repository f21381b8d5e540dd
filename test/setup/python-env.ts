// Makes the project-local virtualenv the tests use (.venv-test): the worker
// runtime needs nothing, but tests also check numpy serialization, serve real
// ONNX and TensorFlow models (onnx builds them, onnxruntime and tensorflow run
// them) and download models from a local S3 (moto's server mode). orjson goes
// to a folder of its own (.venv-test/orjson), off the venv's path: tests put
// it on PYTHONPATH for the APIs that must run with it, so one interpreter
// serves payloads with and without it. Idempotent: a venv that already has
// what we need is left alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const venv = join(root, '.venv-test');
const python = join(venv, 'bin', 'python');
const orjsonDir = join(venv, 'orjson');
// tensorflow-cpu (no CUDA libraries, a third of the download) exists for Linux x86-64 only.
const tensorflow = process.platform === 'linux' && process.arch === 'x64' ? 'tensorflow-cpu' : 'tensorflow';
const packages: [module: string, requirement: string][] = [
  ['numpy', 'numpy'],
  ['onnx', 'onnx'],
  ['onnxruntime', 'onnxruntime'],
  ['moto', 'moto[server]'],
  ['tensorflow', tensorflow],
];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`python-env: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

const findAll = `import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in ${JSON.stringify(packages.map(([m]) => m))}))`;
const ready = existsSync(python) && spawnSync(python, ['-c', findAll]).status === 0;
if (!ready) {
  const base = process.env.CORTEX_LOCAL_PYTHON ?? 'python3';
  if (!existsSync(python)) run(base, ['-m', 'venv', venv]);
  const started = Date.now();
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages.map(([, r]) => r)]);
  process.stdout.write(`python-env: installed ${packages.map(([, r]) => r).join(', ')} into .venv-test in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
const orjsonReady = spawnSync(python, ['-c', 'import orjson'], { env: { ...process.env, PYTHONPATH: orjsonDir } }).status === 0;
if (!orjsonReady) run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', orjsonDir, 'orjson']);
