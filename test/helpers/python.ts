import { join } from 'node:path';

const venv = join(import.meta.dirname, '..', '..', '.venv-test');

/** The interpreter of the test virtualenv made by `npm test`'s pretest step. */
export const testPython = join(venv, 'bin', 'python');

/** A folder holding orjson only (test/setup/python-env.ts): on PYTHONPATH, the worker parses with it. */
export const orjsonPath = join(venv, 'orjson');
