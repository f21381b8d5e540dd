// serve --watch: the project folder (cortex.yaml, the predictors, every
// python_path tree) and local models outside it are watched; an edit, once
// the files have been quiet for a moment, asks for a deploy. What is no code
// (ignore.ts: hidden folders such as .git and .cortex-local, __pycache__,
// editors' swap and backup files) is not watched or not heard. Whether an API
// really changed is the deploy's to tell (version.ts): the watcher only says
// that something may have.
//
// One fs.watch per folder, walked here, rather than fs.watch's recursive
// option, which would watch inside .git, .cortex-local and virtualenvs too.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Timers } from '../pool/timers.ts';
import { isIgnoredPath } from './ignore.ts';

/**
 * Fires once events stop: `quietMs` after the last, or `maxWaitMs` after the
 * first of a burst that never stops (a file written continuously). Pure,
 * on injected timers.
 */
export class Debouncer {
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  readonly #timers: Timers;
  readonly #fire: () => void;
  #quiet: unknown = null;
  #max: unknown = null;

  constructor(opts: { quietMs: number; maxWaitMs: number; timers: Timers; fire: () => void }) {
    this.#quietMs = opts.quietMs;
    this.#maxWaitMs = opts.maxWaitMs;
    this.#timers = opts.timers;
    this.#fire = opts.fire;
  }

  poke(): void {
    if (this.#quiet !== null) this.#timers.clearTimeout(this.#quiet);
    this.#quiet = this.#timers.setTimeout(() => this.#done(), this.#quietMs);
    this.#max ??= this.#timers.setTimeout(() => this.#done(), this.#maxWaitMs);
  }

  cancel(): void {
    if (this.#quiet !== null) this.#timers.clearTimeout(this.#quiet);
    if (this.#max !== null) this.#timers.clearTimeout(this.#max);
    this.#quiet = null;
    this.#max = null;
  }

  #done(): void {
    this.cancel();
    this.#fire();
  }
}

export interface WatchTargets {
  projectDir: string;
  /** local models outside the project folder (files or folders), absolute */
  outside: string[];
}

export interface ProjectWatcherOptions {
  targets: WatchTargets;
  /** the files changed since the last call (paths as fs.watch named them) */
  onChange: (paths: string[]) => void;
  timers: Timers;
  quietMs?: number;
  maxWaitMs?: number;
  log: (line: string) => void;
}

export const DEFAULT_QUIET_MS = 300;
export const DEFAULT_MAX_WAIT_MS = 2_000;

export class ProjectWatcher {
  readonly #opts: ProjectWatcherOptions;
  readonly #debouncer: Debouncer;
  /** fs.watch of each folder watched, by path */
  readonly #watchers = new Map<string, FSWatcher>();
  #targets: WatchTargets;
  #changed = new Set<string>();
  #closed = false;
  /** the walks of the folders to watch, one after another */
  #ready: Promise<void>;

  constructor(opts: ProjectWatcherOptions) {
    this.#opts = opts;
    this.#targets = opts.targets;
    this.#debouncer = new Debouncer({
      quietMs: opts.quietMs ?? DEFAULT_QUIET_MS,
      maxWaitMs: opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
      timers: opts.timers,
      fire: () => {
        const paths = [...this.#changed];
        this.#changed = new Set();
        opts.onChange(paths);
      },
    });
    this.#ready = this.#watchTargets();
  }

  /** Resolves once every folder of the targets is watched. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The models outside the project may have changed with the config: watch what is new, stop watching what is gone. */
  retarget(targets: WatchTargets): Promise<void> {
    this.#targets = targets;
    for (const dir of [...this.#watchers.keys()]) if (!this.#wanted(dir)) this.#unwatch(dir);
    this.#ready = this.#ready.then(() => this.#watchTargets());
    return this.#ready;
  }

  close(): void {
    this.#closed = true;
    this.#debouncer.cancel();
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  async #watchTargets(): Promise<void> {
    await this.#walk(this.#targets.projectDir);
    for (const path of this.#targets.outside) {
      const info = await stat(path).catch(() => null);
      if (info?.isDirectory()) await this.#walk(path);
      else this.#watchDir(dirname(path));
    }
  }

  /** Whether folder `dir` belongs to the targets. */
  #wanted(dir: string): boolean {
    const { projectDir, outside } = this.#targets;
    if (isInside(dir, projectDir)) return !isIgnoredPath(relative(projectDir, dir));
    return outside.some((p) => isInside(dir, p) || dir === dirname(p));
  }

  /** Whether a change of file `path` may change an API. */
  #relevant(path: string): boolean {
    const { projectDir, outside } = this.#targets;
    if (isInside(path, projectDir)) return !isIgnoredPath(relative(projectDir, path));
    return outside.some((p) => isInside(path, p));
  }

  async #walk(dir: string): Promise<void> {
    if (this.#closed || !this.#wanted(dir)) return;
    this.#watchDir(dir);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // gone, or unreadable: nothing there to serve
    }
    for (const e of entries) if (e.isDirectory()) await this.#walk(join(dir, e.name));
  }

  #watchDir(dir: string): void {
    if (this.#closed || this.#watchers.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => this.#event(dir, name));
    } catch (err) {
      this.#opts.log(`serve --watch: cannot watch ${dir}: ${(err as Error).message}; its edits are not seen (run cortex-local deploy after them)`);
      return;
    }
    // The folder was removed, or the system's watch limit reached.
    w.on('error', () => this.#unwatch(dir));
    this.#watchers.set(dir, w);
  }

  #unwatch(dir: string): void {
    this.#watchers.get(dir)?.close();
    this.#watchers.delete(dir);
  }

  #event(dir: string, name: string | null): void {
    if (this.#closed) return;
    const path = name === null ? dir : join(dir, name);
    if (!this.#relevant(path)) return;
    this.#changed.add(path);
    this.#debouncer.poke();
    // A folder made (or moved in) is watched too, with what it holds.
    if (name !== null && !this.#watchers.has(path)) {
      void stat(path).then(
        (info) => {
          if (info.isDirectory()) return this.#walk(path);
        },
        () => this.#unwatch(path),
      );
    }
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/** What serve --watch watches for a config: the project folder, and local models outside it. */
export function watchTargets(projectDir: string, models: readonly (string | null)[]): WatchTargets {
  const outside = models.filter((m): m is string => m !== null && !m.startsWith('s3://') && !isInside(m, projectDir));
  return { projectDir, outside: [...new Set(outside)] };
}

