// The single binary carries its Python worker runtime and its front-door
// thread as SEA assets; Python and worker threads read files, so they are
// written out once to $XDG_CACHE_HOME/cortex-local/<version>/<hash>/ and
// reused. The hash (of every asset) keeps two builds of one version apart.
//
// Several servers may start at once on an empty cache: each writes into a
// temporary folder of its own and renames it into place; rename is atomic,
// so a folder under its final name is always complete, and a process that
// loses the race uses the winner's. A cache that cannot be written (read-only
// home, a file where a folder should be) falls back to a folder of this user
// under the system's temp folder.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The asset `manifest.json`, written by scripts/build-binary.ts. */
export interface AssetManifest {
  version: string;
  /** asset names, which are also their paths under the extracted folder */
  files: string[];
}

export interface ExtractOptions {
  env: NodeJS.ProcessEnv;
  /** told once when the cache cannot be written and the temp folder is used instead */
  warn: (line: string) => void;
  /** the system temp folder (default os.tmpdir()) */
  tmp?: string;
  uid?: number;
}

/** Marks a folder as complete; written last, before the rename. */
const COMPLETE = '.complete';

/** The folder holding every asset of `manifest`, extracted now if no complete copy exists. */
export function extractAssets(manifest: AssetManifest, read: (name: string) => Uint8Array, opts: ExtractOptions): string {
  const contents = manifest.files.map((name) => ({ name, data: read(name) }));
  const hash = contentHash(contents);
  const cache = join(cacheHome(opts.env), 'cortex-local', manifest.version);
  try {
    return extractInto(cache, hash, contents);
  } catch (err) {
    const uid = opts.uid ?? process.getuid?.() ?? 0;
    const fallback = join(opts.tmp ?? tmpdir(), `cortex-local-${uid}`);
    ensurePrivateFolder(fallback, uid);
    const dir = extractInto(join(fallback, manifest.version), hash, contents);
    opts.warn(`cannot write the cache folder ${cache} (${(err as Error).message}); using ${dir}`);
    return dir;
  }
}

function cacheHome(env: NodeJS.ProcessEnv): string {
  // XDG: a relative XDG_CACHE_HOME is invalid and is to be ignored.
  const xdg = env.XDG_CACHE_HOME;
  return xdg !== undefined && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache');
}

function contentHash(contents: { name: string; data: Uint8Array }[]): string {
  const h = createHash('sha256');
  for (const { name, data } of [...contents].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    h.update(`${name}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex').slice(0, 16);
}

function extractInto(parent: string, hash: string, contents: { name: string; data: Uint8Array }[]): string {
  const target = join(parent, hash);
  if (existsSync(join(target, COMPLETE))) return target;
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(join(parent, `.${hash}-`));
  try {
    for (const { name, data } of contents) {
      mkdirSync(dirname(join(staging, name)), { recursive: true });
      writeFileSync(join(staging, name), data);
    }
    writeFileSync(join(staging, COMPLETE), '');
    try {
      renameSync(staging, target);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process renamed its copy first: theirs is as good as ours.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(join(target, COMPLETE))) return target;
      throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The shared temp folder is writable by everyone: use a folder there only if it is ours and closed to others. */
function ensurePrivateFolder(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private folder of this user (uid ${uid}): remove it, or set XDG_CACHE_HOME to a writable folder`);
  }
}
