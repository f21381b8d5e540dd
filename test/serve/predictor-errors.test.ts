// Predictor mistakes and what this machine can never run, as a user starting
// `serve` sees them (issue 12): one summary line per failed attempt naming
// file:line and the fix, the traceback once (not also on the worker's
// stderr) and without the runtime's frames, the 503 and `get` naming the
// summary; warnings at start for compute the machine does not have.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { testPython } from '../helpers/python.ts';
import { BIN, startServer, type ServerProcess } from '../helpers/server.ts';

const GOOD = '    def __init__(self, config):\n        pass\n\n    def predict(self, payload):\n        return "ok"\n';
const files: Record<string, string> = {
  'fine.py': `class PythonPredictor:\n${GOOD}`,
  'misnamed.py': `class Predictor:\n${GOOD}`,
  'badsig.py': 'class PythonPredictor:\n    def __init__(self, config):\n        pass\n\n    def predict(self, data):\n        return data\n',
  'missing.py': `import sklearn_is_not_installed_here\n\n\nclass PythonPredictor:\n${GOOD}`,
  'syntax.py': 'class PythonPredictor:\n    def __init__(self, config)\n        pass\n',
};
const apis = ['misnamed', 'badsig', 'missing', 'syntax'];
const summaries: Record<string, string> = {
  misnamed: 'misnamed.py:1: class PythonPredictor not found (found: Predictor): the class must be named PythonPredictor',
  badsig: 'badsig.py:5: PythonPredictor.predict(self, data) must be predict(self, payload), as Cortex 0.15 required',
  missing: `missing.py:1: No module named 'sklearn_is_not_installed_here' in ${testPython}: install it there or point --python at your virtualenv (modules of your own are imported from predictor.python_path)`,
  syntax: "syntax.py:2: SyntaxError: expected ':'",
};

let dir = '';
let server: ServerProcess;
let output = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'predictor-errors-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const yaml = ['fine', ...apis].map((n) => `- name: ${n}\n  predictor: {type: python, path: ${n}.py}\n`).join('')
    + '- name: huge\n  predictor: {type: python, path: fine.py}\n  compute: {cpu: 1000, mem: 900Ti, gpu: 1}\n';
  await writeFile(join(dir, 'cortex.yaml'), yaml);
  server = await startServer(dir, ['--gpus', 'none'], { waitForApis: ['fine'] });
  for (const api of apis) await server.waitFor(new RegExp(`^\\[${api}/1\\] predictor failed to initialize; retrying in `));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('each mistake: the 503 and the API status name the summary line', async () => {
  for (const api of apis) {
    const r = await request(`${server.url}/${api}`, { method: 'POST', body: '{}' });
    assert.equal(r.statusCode, 503, api);
    const body = (await r.body.json()) as { error: string; code: string };
    assert.equal(body.code, 'CORTEX_LOCAL_WORKER_INIT_FAILED');
    assert.equal(body.error, `api "${api}": predictor failed to initialize: ${summaries[api]}`);
    const status = (await (await request(`${server.url}/${api}`)).body.json()) as { status: string; last_error: string };
    assert.equal(status.status, 'error', `${api}: a wrong signature is refused at load, not a ready API answering 500`);
    assert.equal(status.last_error.split('\n')[0], summaries[api]);
  }
  assert.equal((await request(`${server.url}/fine`, { method: 'POST', body: '{}' })).statusCode, 200, 'the other APIs serve');
});

test('cortex-local get API shows the summary as the replica\'s note', async () => {
  const port = new URL(server.url).port;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(BIN, ['get', 'misnamed', '--port', port], { encoding: 'utf8' }, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)));
  });
  assert.match(stdout, /^1 +(failed|starting) .*misnamed\.py:1: class PythonPredictor not found \(found: Predictor\)/m);
});

test('a replica this machine can never run: warnings at start naming the field and what the machine has', () => {
  const out = server.output();
  assert.match(out, /^warning: api huge: compute\.cpu 1000 is more than the \d+ CPU cores? this machine has, so its replicas can never start \(they stay pending\)$/m);
  assert.match(out, /^warning: api huge: compute\.mem 900Ti is more than the [\d.]+[KMGT]i of memory this machine has for replicas, /m);
  assert.match(out, /^warning: api huge: compute\.gpu 1, but this machine has no GPU \(nvidia-smi found none; see --gpus\), /m);
});

test('the report is logged once per attempt, without the runtime\'s frames, and not on the worker\'s stderr', async () => {
  assert.equal(await server.stop(), 0);
  output = server.output();
  const lines = output.split('\n');
  for (const api of apis) {
    const attempts = lines.filter((l) => l.startsWith(`[${api}/1] predictor failed to initialize; retrying in `)).length;
    assert.ok(attempts >= 1, api);
    assert.equal(lines.filter((l) => l.trim() === summaries[api]).length, attempts, `${api}: one summary per attempt`);
    assert.ok(!lines.some((l) => l.startsWith(`[${api}/1/1] `)), `${api}: nothing on the worker's own stderr`);
  }
  const tracebacks = lines.filter((l) => l.trim() === 'Traceback (most recent call last):').length;
  const missingAttempts = lines.filter((l) => l.startsWith('[missing/1] predictor failed to initialize')).length;
  assert.equal(tracebacks, missingAttempts, 'only the import error has a traceback of user code, once per attempt');
  assert.doesNotMatch(output, /cortex_local_worker|importlib/);
});
