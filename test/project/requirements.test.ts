// requirements.txt and dependencies.sh as a user meets them: real servers on
// real projects, pip installing a small real package from the package index
// (inflection, which neither the test virtualenv, TensorFlow and all, nor
// python3 has), numpy from the interpreter given with --python staying
// importable beside it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startServer, type ServerProcess } from '../helpers/server.ts';

const REQUIREMENT = 'inflection==0.5.1';
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cortex-local-requirements-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A project whose predictor reports where inflection and numpy come from (or that it cannot import inflection). */
async function project(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir);
  await writeFile(join(dir, 'cortex.yaml'), '- name: colors\n  predictor:\n    type: python\n    path: predictor.py\n');
  await writeFile(
    join(dir, 'predictor.py'),
    [
      'import os',
      'import numpy',
      'try:',
      '    import inflection',
      '    where = inflection.__file__',
      'except ImportError as e:',
      '    where = "missing: %s" % e',
      'class PythonPredictor:',
      '    def __init__(self, config):',
      '        pass',
      '    def predict(self, payload):',
      '        ran = open("deps-ran.txt").read().strip() if os.path.exists("deps-ran.txt") else None',
      '        return {"inflection": where, "numpy": numpy.__file__, "dependencies_sh": ran}',
      '',
    ].join('\n'),
  );
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

async function predict(server: ServerProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await request(server.url + '/colors', { method: 'POST', body: '{}' });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}

async function stopped(server: ServerProcess): Promise<string> {
  assert.equal(await server.stop(), 0, server.output());
  return server.output();
}

/** Starts servers on `dir`, runs `check` with them, and always stops them (a failed check leaves none running); resolves with their outputs. */
async function serving(dir: string, argsEach: string[][], check: (servers: ServerProcess[]) => Promise<void>, waitForApis = ['colors']): Promise<string[]> {
  const started = await Promise.allSettled(argsEach.map((args) => startServer(dir, args, { waitForApis })));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    await check(servers);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  return Promise.all(servers.map(stopped));
}

test('two servers starting at once on a new project: one installs requirements.txt (pip progress shown), both serve from the virtualenv; the next start reuses it', async () => {
  const dir = await project('fresh', { 'requirements.txt': `${REQUIREMENT}\n` });
  const venvs = join(dir, '.cortex-local', 'venvs');
  let hash = '';
  const outputs = await serving(dir, [[], []], async (servers) => {
    [hash] = (await readdir(venvs)).filter((f) => !f.endsWith('.lock'));
    assert.match(hash, /^[0-9a-f]{16}$/);
    for (const server of servers) {
      const r = await predict(server);
      assert.equal(r.status, 200);
      assert.ok(String(r.body.inflection).startsWith(join(venvs, hash) + '/'), `inflection from the virtualenv: ${r.body.inflection}`);
      assert.ok(String(r.body.numpy).includes('/.venv-test/'), `numpy still from --python's virtualenv: ${r.body.numpy}`);
    }
  });
  const installers = outputs.filter((o) => o.includes(`requirements.txt: installing into .cortex-local/venvs/${hash} with `));
  assert.equal(installers.length, 1, outputs.join('\n---\n'));
  assert.match(installers[0], /^\[requirements\.txt\] Collecting inflection==0\.5\.1/m);
  assert.match(installers[0], /^\[requirements\.txt\] Successfully installed inflection-0\.5\.1$/m);
  assert.match(installers[0], new RegExp(`^requirements\\.txt: installed into \\.cortex-local/venvs/${hash}$`, 'm'));
  const other = outputs.find((o) => o !== installers[0]) as string;
  assert.doesNotMatch(other, /^\[requirements\.txt\]/m, 'the other server did not run pip');
  assert.equal(await readdir(venvs).then((e) => e.filter((f) => f.endsWith('.lock'))).then((l) => l.length), 0, 'the lock is released');

  const [out] = await serving(dir, [[]], async ([again]) => {
    assert.equal((await predict(again)).status, 200);
  });
  assert.match(out, new RegExp(`^requirements\\.txt: using \\.cortex-local/venvs/${hash} \\(installed before for `, 'm'));
  assert.doesNotMatch(out, /^\[requirements\.txt\]/m);
});

test('a requirements.txt that cannot be installed fails its APIs with pip\'s last lines and the command to reproduce; the server stays up', async () => {
  const dir = await project('broken', { 'requirements.txt': 'cortex-local-no-such-package-f3a9==0.0.1\n' });
  await serving(dir, [[]], async ([server]) => {
    await server.waitFor(/^api colors: cannot start: requirements\.txt could not be installed \(pip exited with 1\): ERROR: No matching distribution found for cortex-local-no-such-package-f3a9==0\.0\.1$/);
    assert.match(server.output(), /^api colors: cannot start: .*\npip's last lines:\n {2}.*\n/m);
    const r = await predict(server);
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'CORTEX_LOCAL_WORKER_INIT_FAILED');
    assert.match(String(r.body.error), /requirements\.txt could not be installed \(pip exited with 1\): ERROR: No matching distribution found/);
    const status = (await (await request(server.url + '/colors')).body.json()) as { status: string; last_error: string };
    assert.equal(status.status, 'error');
    assert.match(status.last_error, new RegExp(`^to reproduce: cd ${dir} && ${dir}/\\.cortex-local/venvs/[0-9a-f]{16}/bin/python -m pip install --disable-pip-version-check -r ${dir}/requirements\\.txt$`, 'm'));
    assert.equal((await request(server.url + '/healthz')).statusCode, 200);
  }, []);
});

test('serve --no-install says what it skipped and installs nothing', async () => {
  const dir = await project('skipped', { 'requirements.txt': `${REQUIREMENT}\n`, 'dependencies.sh': 'echo ran > deps-ran.txt\n' });
  const [out] = await serving(dir, [['--no-install', '--allow-dependencies-sh']], async ([server]) => {
    const r = await predict(server);
    assert.equal(r.status, 200);
    assert.match(String(r.body.inflection), /^missing: No module named 'inflection'/);
    assert.equal(r.body.dependencies_sh, null);
  });
  assert.match(out, /^dependencies\.sh: not run \(--no-install\)$/m);
  assert.match(out, /^requirements\.txt: not installed \(--no-install\); the workers run on \S+ as it is$/m);
  assert.equal(existsSync(join(dir, '.cortex-local', 'venvs')), false);
});

test('dependencies.sh runs only with --allow-dependencies-sh, and says so once otherwise; a failing one fails the APIs', async () => {
  const dir = await project('deps', { 'dependencies.sh': 'echo "preparing"\necho ran > deps-ran.txt\n' });
  const [refusedOut] = await serving(dir, [[]], async ([refused]) => {
    assert.equal((await predict(refused)).body.dependencies_sh, null);
  });
  assert.equal(refusedOut.match(/dependencies\.sh: not run: it would run on this machine as \S+, not in a container as in Cortex; pass --allow-dependencies-sh to run it/g)?.length, 1, refusedOut);

  const [allowedOut] = await serving(dir, [['--allow-dependencies-sh']], async ([allowed]) => {
    assert.equal((await predict(allowed)).body.dependencies_sh, 'ran');
  });
  assert.match(allowedOut, /^dependencies\.sh: running it with bash\n\[dependencies\.sh\] preparing$/m);

  await writeFile(join(dir, 'dependencies.sh'), 'echo "apt-get: permission denied" >&2\nexit 3\n');
  await serving(dir, [['--allow-dependencies-sh']], async ([failing]) => {
    await failing.waitFor(/^api colors: cannot start: dependencies\.sh failed \(bash exited with 3\): apt-get: permission denied$/);
    assert.match(failing.output(), new RegExp(`^to reproduce: cd ${dir} && bash dependencies\\.sh$`, 'm'));
    assert.equal((await predict(failing)).status, 503);
  }, []);
});
