// Each replica runs in a working folder of its own, as each Cortex 0.15 pod
// ran in its own copy of the project (/mnt/project). The folder holds one
// symbolic link per top-level entry of the project, so a file read by
// relative path is the project's; a file written by relative path is created
// in the replica's folder, never in the project and never where another API
// or replica would see it. Folders live under PROJECT/.cortex-local/replicas/
// and are removed when their replica stops.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../pid-alive.ts';

export interface Workdirs {
  /** Makes the working folder of replica `name` (e.g. "iris-2"); returns its path. */
  create(name: string): string;
  remove(dir: string): void;
}

export const STATE_DIR = '.cortex-local';

export class ProjectWorkdirs implements Workdirs {
  readonly #projectDir: string;
  readonly #log: (line: string) => void;
  #root: string | null = null;

  constructor(projectDir: string, log: (line: string) => void) {
    this.#projectDir = projectDir;
    this.#log = log;
  }

  create(name: string): string {
    const root = this.#root ?? this.#makeRoot();
    // The pid keeps two servers of the same project apart.
    const dir = join(root, `${name}.${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const entry of readdirSync(this.#projectDir)) {
      if (entry === STATE_DIR) continue;
      symlinkSync(join(this.#projectDir, entry), join(dir, entry));
    }
    return dir;
  }

  remove(dir: string): void {
    // rm does not follow the links: the project is left alone.
    rmSync(dir, { recursive: true, force: true });
  }

  #makeRoot(): string {
    const state = join(this.#projectDir, STATE_DIR);
    const root = join(state, 'replicas');
    try {
      mkdirSync(root, { recursive: true });
      const ignore = join(state, '.gitignore');
      // The same file the model store writes (python/cortex_local_worker/model_store.py).
      if (!existsSync(ignore)) writeFileSync(ignore, '# made by cortex-local: its caches and working folders\n*\n');
      removeStale(root);
      this.#root = root;
    } catch (err) {
      // A read-only project, or a .cortex-local that is not ours: still serve.
      this.#root = mkdtempSync(join(tmpdir(), 'cortex-local-replicas-'));
      this.#log(`cannot use ${root} (${(err as Error).message}): replicas work in ${this.#root} instead`);
    }
    return this.#root;
  }
}

/** Folders left by a server that did not stop (kill -9): their pid is gone. */
function removeStale(root: string): void {
  for (const entry of readdirSync(root)) {
    const pid = Number(/\.(\d+)$/.exec(entry)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) rmSync(join(root, entry), { recursive: true, force: true });
  }
}
