// The single binary's assets written out to the cache: real files, real
// processes racing on an empty cache, and a cache that cannot be written.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { extractAssets } from '../../src/single-binary/assets.ts';
import { sampleAssets } from '../fixtures/single-binary/sample.ts';

const EXTRACT = join(import.meta.dirname, '..', 'fixtures', 'single-binary', 'extract.ts');
const { manifest, files } = sampleAssets();
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cortex-local-assets-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function assertComplete(dir: string): Promise<void> {
  for (const [name, data] of files) assert.deepEqual(new Uint8Array(await readFile(join(dir, name))), data, name);
}

test('extracts every asset under $XDG_CACHE_HOME/cortex-local/<version>/, and reuses it', async () => {
  const cache = join(scratch, 'reuse');
  const warnings: string[] = [];
  const opts = { env: { XDG_CACHE_HOME: cache }, tmp: join(scratch, 'tmp-reuse'), warn: (l: string) => warnings.push(l) };
  let reads = 0;
  const dir = extractAssets(manifest, (name) => (reads++, files.get(name) as Uint8Array), opts);
  assert.match(dir, new RegExp(`^${cache}/cortex-local/9\\.9\\.9/[0-9a-f]{16}$`));
  await assertComplete(dir);
  await writeFile(join(dir, 'python', 'pkg', 'm0.py'), 'left as it is');
  assert.equal(extractAssets(manifest, (name) => files.get(name) as Uint8Array, opts), dir);
  assert.equal(await readFile(join(dir, 'python', 'pkg', 'm0.py'), 'utf8'), 'left as it is', 'a complete folder is not written again');
  assert.deepEqual(warnings, []);
  assert.equal(reads, files.size);
});

test('HOME/.cache when XDG_CACHE_HOME is unset or relative', () => {
  const home = join(scratch, 'home');
  for (const env of [{ HOME: home }, { HOME: home, XDG_CACHE_HOME: 'relative/cache' }]) {
    const dir = extractAssets(manifest, (name) => files.get(name) as Uint8Array, { env, warn: assert.fail });
    assert.ok(dir.startsWith(join(home, '.cache', 'cortex-local', '9.9.9') + '/'), dir);
  }
});

test('servers starting at once on an empty cache all get the same complete folder, and no half-written one is left', async () => {
  const cache = join(scratch, 'race');
  const runs = await Promise.all(
    Array.from({ length: 6 }, () => promisify(execFile)(process.execPath, [EXTRACT, cache, join(scratch, 'tmp-race')], { encoding: 'utf8' })),
  );
  const dirs = new Set(runs.map((r) => r.stdout.trim()));
  assert.equal(dirs.size, 1, [...dirs].join(', '));
  const [dir] = dirs;
  assert.ok(dir.startsWith(join(cache, 'cortex-local', '9.9.9')), dir);
  await assertComplete(dir);
  assert.deepEqual(await readdir(join(cache, 'cortex-local', '9.9.9')), [dir.split('/').at(-1)], 'staging folders are removed');
});

test('a cache that cannot be written falls back to a private folder under the temp folder, and says so', async () => {
  const blocked = join(scratch, 'blocked');
  await writeFile(blocked, 'a file where the cache folder should be');
  const tmp = join(scratch, 'tmp-fallback');
  const { stdout } = await promisify(execFile)(process.execPath, [EXTRACT, join(blocked, 'cache'), tmp], { encoding: 'utf8' });
  const [warning, dir] = stdout.trim().split('\n');
  assert.match(warning, new RegExp(`^warning: cannot write the cache folder ${blocked}/cache/cortex-local/9\\.9\\.9 \\(ENOTDIR: .*\\); using ${tmp}/cortex-local-\\d+/9\\.9\\.9/`));
  assert.ok(dir.startsWith(join(tmp, `cortex-local-${process.getuid?.()}`, '9.9.9') + '/'), dir);
  await assertComplete(dir);
});

test('the temp fallback is refused when its folder is open to other users', async () => {
  const tmp = join(scratch, 'tmp-open');
  const uid = process.getuid?.() ?? 0;
  await mkdir(join(tmp, `cortex-local-${uid}`), { recursive: true });
  await chmod(join(tmp, `cortex-local-${uid}`), 0o777);
  const blocked = join(scratch, 'blocked-2');
  await writeFile(blocked, '');
  assert.throws(
    () => extractAssets(manifest, (name) => files.get(name) as Uint8Array, { env: { XDG_CACHE_HOME: join(blocked, 'x') }, tmp, warn: assert.fail }),
    /cortex-local-\d+ is not a private folder of this user .*set XDG_CACHE_HOME to a writable folder/,
  );
});
