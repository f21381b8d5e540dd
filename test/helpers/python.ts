import { join } from 'node:path';

/** The interpreter of the test virtualenv made by `npm test`'s pretest step. */
export const testPython = join(import.meta.dirname, '..', '..', '.venv-test', 'bin', 'python');
