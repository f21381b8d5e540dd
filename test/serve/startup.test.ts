// serve refuses to start, with one clear line and a non-zero exit, when it
// cannot do what it was asked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../helpers/server.ts';
import { testPython } from '../helpers/python.ts';

const hello = join(import.meta.dirname, '..', '..', 'examples', 'hello');

function run(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `no stack trace expected:\n${text}`);
}

test('the port is taken: exit 1 with CORTEX_LOCAL_PORT_IN_USE in words, no worker started', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await run(['serve', hello, '--port', String(port), '--python', testPython]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `cortex-local: cannot listen on 127.0.0.1:${port}: address already in use (choose another with --port)\n`);
    assert.doesNotMatch(r.stdout, /\[hello\/1\/1\]/);
  } finally {
    blocker.close();
  }
});

test('the port is taken, with the front door on threads: exit 1, even when its listener shares ports (reusePort) as the threads do', async () => {
  for (const reusePort of [false, true]) {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen({ port: 0, host: '127.0.0.1', reusePort }, r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['serve', hello, '--port', String(port), '--python', testPython, '--http-threads', '2']);
      assert.equal(r.code, 1, `reusePort ${reusePort}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, `cortex-local: cannot listen on 127.0.0.1:${port}: address already in use (choose another with --port)\n`);
      assert.doesNotMatch(r.stdout, /\[hello\/1\/1\]/);
    } finally {
      blocker.close();
    }
  }
});

test('python is missing: exit 1 naming the interpreter and how to choose one', async () => {
  const r = await run(['serve', hello, '--port', '0', '--python', '/nonexistent/python3']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'cortex-local: cannot use python interpreter "/nonexistent/python3": not found (choose one with --python or CORTEX_LOCAL_PYTHON)\n');
});

test('an invalid cortex.yaml: exit 1 with the errors as validate prints them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'serve-invalid-'));
  try {
    await writeFile(join(dir, 'predictor.py'), 'class PythonPredictor:\n    pass\n');
    await writeFile(join(dir, 'cortex.yaml'), '- name: a\n  predictor: {type: python, path: predictor.py}\n  autoscaling: {min_replicas: 0}\n');
    const r = await run(['serve', '--port', '0', '--python', testPython], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'cortex.yaml:3:31  api "a": autoscaling.min_replicas: must be > 0 (got 0)\n1 error in cortex.yaml\n');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a missing project folder or a bad option: exit 2, one line', async () => {
  const missing = await run(['serve', '/nonexistent/project', '--port', '0']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'cortex-local: /nonexistent/project: no such file or folder\n');
  const bad = await run(['serve', hello, '--port', 'eighty']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'cortex-local: --port must be an integer from 0 to 65535, got "eighty"\n');
  const unknown = await run(['serve', hello, '--prot', '80']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "cortex-local: serve: unknown option --prot (did you mean --port?); 'cortex-local serve --help' lists the options\n");
  const threads = await run(['serve', hello, '--port', '0', '--http-threads', 'two']);
  assert.equal(threads.code, 2);
  assert.equal(threads.stderr, 'cortex-local: --http-threads must be an integer from 0 to 64, got "two"\n');
  const queued = await run(['serve', hello, '--port', '0', '--max-body', '2000', '--max-queued-bytes', '1000']);
  assert.equal(queued.code, 2);
  assert.equal(queued.stderr, 'cortex-local: --max-queued-bytes must be a number of bytes no smaller than --max-body (2000), got "1000"\n');
  const timeout = await run(['serve', hello, '--port', '0', '--body-timeout', 'soon']);
  assert.equal(timeout.code, 2);
  assert.equal(timeout.stderr, 'cortex-local: --body-timeout must be a duration such as 30s or 2m, got "soon"\n');
  for (const r of [missing, bad, unknown, threads, queued, timeout]) assertNoStack(r.stderr);
});
