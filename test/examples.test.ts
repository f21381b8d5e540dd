// The README's quick start and the examples' curl lines, run as a user would:
// `bin/cortex-local serve examples/NAME`, then the documented request.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { NODE_FLAGS } from '../bench/lib/systems.ts';
import { startServer } from './helpers/server.ts';

const repo = join(import.meta.dirname, '..');
const examples = join(repo, 'examples');

/** Serves examples/hello with `bin`, sends the README's curl request, checks the answer and a clean exit. */
async function serveHello(bin?: string): Promise<void> {
  const server = await startServer(join(examples, 'hello'), [], { waitForApis: ['hello'], bin });
  try {
    // bin/cortex-local execs Node with V8 flags of its own (why: in it).
    const cmdline = (await readFile(`/proc/${server.proc.pid}/cmdline`, 'utf8')).split('\0');
    assert.ok(cmdline.includes('--initial-old-space-size=64'), cmdline.join(' '));
    // And those the bench gives its Node baselines as cortex-local's, --v8-pool-size
    // among them (one V8 helper thread per CPU beyond the main thread's, 1 to 4).
    for (const flag of NODE_FLAGS) assert.ok(cmdline.includes(flag), `${flag} not in: ${cmdline.join(' ')}`);
    const r = await request(server.url + '/hello', { method: 'POST', body: '{"name": "cortex"}' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { message: 'Hello, cortex!' });
  } finally {
    assert.equal(await server.stop(), 0);
  }
}

test('examples/hello answers the README curl line', () => serveHello());

test('examples/iris classifies its sample as setosa, with and without numpy', async () => {
  const sample = await readFile(join(examples, 'iris', 'sample.json'));
  // The test venv has numpy; the machine's python3 may not: both paths must agree.
  for (const python of [undefined, 'python3']) {
    const server = await startServer(join(examples, 'iris'), python ? ['--python', python] : [], { waitForApis: ['iris'] });
    try {
      const r = await request(server.url + '/iris', { method: 'POST', body: sample, headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.json(), 'setosa');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  }
});

test('the compiled package (npm run build: dist/, no TypeScript sources) serves examples/hello', async () => {
  // Laid out as npm installs it, in a temp folder so the checkout's own dist/ is untouched.
  const pkg = await mkdtemp(join(tmpdir(), 'cortex-local-pkg-'));
  try {
    await promisify(execFile)(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', join(repo, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist'), '--sourceMap', 'false']);
    await mkdir(join(pkg, 'bin'));
    await copyFile(join(repo, 'bin', 'cortex-local'), join(pkg, 'bin', 'cortex-local'));
    await copyFile(join(repo, 'package.json'), join(pkg, 'package.json'));
    await symlink(join(repo, 'python'), join(pkg, 'python'));
    await symlink(join(repo, 'node_modules'), join(pkg, 'node_modules'));
    await serveHello(join(pkg, 'bin', 'cortex-local'));
    // serve reads cortex.yaml in a child process: from dist/ too, an invalid file is reported with its positions, exit 1.
    await mkdir(join(pkg, 'bad'));
    await writeFile(join(pkg, 'bad', 'cortex.yaml'), '- name: x\n  predictor:\n    type: python\n    path: predictor.py\n  autoscaling:\n    min_replicas: 3\n    max_replicas: 1\n');
    await writeFile(join(pkg, 'bad', 'predictor.py'), 'class PythonPredictor:\n    pass\n');
    const bad = await startServer(join(pkg, 'bad'), [], { bin: join(pkg, 'bin', 'cortex-local') }).then(
      () => assert.fail('serve started on an invalid cortex.yaml'),
      (err: Error) => err.message,
    );
    assert.match(bad, /server exited \(1\)/);
    assert.match(bad, /cortex\.yaml:6:19 {2}api "x": autoscaling\.min_replicas: /);
  } finally {
    await rm(pkg, { recursive: true, force: true });
  }
});
