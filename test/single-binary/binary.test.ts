// `npm run build:binary` as a user gets it: the one file copied to an empty
// folder, run with a PATH that holds no node: --version, validate, and three
// servers started at once on an empty cache (one with its front door on a
// thread), each answering the example's request and exiting 0 on SIGTERM;
// then export, which copies the Python packages the binary carries.
// CORTEX_LOCAL_TEST_BINARY: test that binary (npm run release:check) instead
// of building one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { startServer } from '../helpers/server.ts';

const repo = join(import.meta.dirname, '..', '..');
const hello = join(repo, 'examples', 'hello');
let scratch: string;
let binary: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cortex-local-binary-'));
  let built = process.env.CORTEX_LOCAL_TEST_BINARY;
  if (built === undefined) {
    built = join(scratch, 'build', 'cortex-local-linux-x64');
    await promisify(execFile)(process.execPath, [join(repo, 'scripts', 'build-binary.ts'), '--out', built], { timeout: 120_000 });
  }
  await mkdir(join(scratch, 'empty'));
  binary = join(scratch, 'empty', 'cortex-local-linux-x64');
  await copyFile(built, binary);
  await rm(join(scratch, 'build'), { recursive: true, force: true });
  await mkdir(join(scratch, 'no-node'));
  env = { PATH: join(scratch, 'no-node'), HOME: join(scratch, 'home'), XDG_CACHE_HOME: join(scratch, 'cache') };
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { env, cwd: join(scratch, 'empty'), encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code) : 0, stdout, stderr });
    });
  });
}

test('--version and --help run without any node on PATH', async () => {
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
  assert.deepEqual(await run(['--version']), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  const help = await run(['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^example: cortex-local serve /m);
});

test('validate reads cortex.yaml and reports an invalid one with its positions', async () => {
  assert.deepEqual(await run(['validate', hello]), { code: 0, stdout: `${hello}/cortex.yaml: 1 API valid: hello (/hello)\n`, stderr: '' });
  const bad = await run(['validate', join(repo, 'test', 'fixtures', 'config', 'invalid')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cortex\.yaml:3:31  api "a": autoscaling\.min_replicas: must be ≤ max_replicas \(got 4 > 2\)$/m);
});

test('three servers started at once on an empty cache each answer, share one extracted runtime, and exit 0 on SIGTERM', async () => {
  const servers = await Promise.all(
    [[], ['--http-threads', '1'], []].map((args) => startServer(hello, args, { waitForApis: ['hello'], bin: binary, env })),
  );
  try {
    for (const server of servers) {
      const r = await request(server.url + '/hello', { method: 'POST', body: '{"name": "binary"}' });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(await r.body.json(), { message: 'Hello, binary!' });
    }
  } finally {
    const codes = await Promise.all(servers.map((s) => s.stop('SIGTERM')));
    assert.deepEqual(codes, [0, 0, 0], servers.map((s) => s.output()).join('\n---\n'));
  }
  const versions = await readdir(join(scratch, 'cache', 'cortex-local'));
  assert.equal(versions.length, 1);
  const extracted = await readdir(join(scratch, 'cache', 'cortex-local', versions[0]));
  assert.equal(extracted.length, 1, `one complete folder, no staging left: ${extracted.join(', ')}`);
  const runtime = join(scratch, 'cache', 'cortex-local', versions[0], extracted[0]);
  assert.deepEqual((await readdir(join(runtime, 'python', 'cortex_local_worker'))).filter((f) => f.endsWith('.py')).sort(), (await readdir(join(repo, 'python', 'cortex_local_worker'))).filter((f) => f.endsWith('.py')).sort());
});

test('export copies the Python packages it carries as assets', async () => {
  const out = join(scratch, 'empty', 'hello-ray');
  const r = await run(['export', '--to', 'rayserve', hello, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const pkg of ['cortex_local_worker', 'cortex_local_export']) {
    const shipped = (await readdir(join(repo, 'python', pkg))).filter((f) => f.endsWith('.py')).sort();
    assert.deepEqual((await readdir(join(out, pkg))).sort(), shipped, pkg);
  }
});
