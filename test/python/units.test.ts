// The worker runtime's pure parts, unit-tested in Python (test/python/test_*.py
// with unittest), reported here one Node test per Python test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { testPython } from '../helpers/python.ts';

const root = join(import.meta.dirname, '..', '..');
const run = spawnSync(testPython, ['-m', 'unittest', 'discover', '-v', '-s', import.meta.dirname, '-t', import.meta.dirname, '-p', 'test_*.py'], {
  env: { ...process.env, PYTHONPATH: join(root, 'python') },
  encoding: 'utf8',
});
// unittest -v writes "name (module.Class.name) ... ok" per test, then the details of each failure.
const results = [...run.stderr.matchAll(/^(\w+) \(([\w.]+)\)(?:\n.*?)? \.\.\. (ok|FAIL|ERROR|skipped.*)$/gm)];

test('the Python unit tests ran', () => {
  assert.ok(results.length > 0, `no test results from unittest:\n${run.stderr}`);
  assert.equal(run.status, 0, run.stderr);
});

for (const [, name, where, outcome] of results) {
  test(`${where.split('.').slice(0, -1).join('.')}: ${name.replace(/^test_/, '').replaceAll('_', ' ')}`, () => {
    const details = run.stderr.split(/^=+$/m).find((block) => block.includes(`${name} (${where})`) && /^(FAIL|ERROR):/m.test(block));
    assert.equal(outcome, 'ok', details ?? run.stderr);
  });
}
