import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const venv = join(import.meta.dirname, '..', '..', '.venv-test');

/** The interpreter of the test virtualenv made by `npm test`'s pretest step. */
export const testPython = join(venv, 'bin', 'python');

/** A folder holding orjson only (test/setup/python-env.ts): on PYTHONPATH, the worker parses with it. */
export const orjsonPath = join(venv, 'orjson');

/**
 * Makes `<dir>/no-orjson`, a folder whose `orjson` module fails to import:
 * on PYTHONPATH, the worker parses without orjson even should the venv hold
 * it (a dependency of another test package, one day). Returns the folder.
 */
export function withoutOrjson(dir: string): string {
  const folder = join(dir, 'no-orjson');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'orjson.py'), 'raise ImportError("orjson is hidden from this worker by the test")\n');
  return folder;
}
