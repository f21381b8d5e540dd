// One server of a project installs its requirements.txt at a time: a lock
// file beside the virtualenv holds the pid of the server installing; a lock
// whose process is gone is taken over.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pidAlive } from '../pid-alive.ts';

export interface InstallLockOptions {
  /** said once when another server holds the lock */
  log: (line: string) => void;
  /** how often a held lock is looked at again */
  pollMs?: number;
}

const POLL_MS = 500;

/** Waits until this process holds `file`; resolves with its release. */
export async function installLock(file: string, opts: InstallLockOptions): Promise<() => void> {
  let told = false;
  for (;;) {
    if (create(file)) return () => rmSync(file, { force: true });
    const holder = read(file);
    if (holder === null) continue; // released just now
    if (holder === 0 || !pidAlive(holder)) {
      // Another waiter may have taken the dead holder's lock over since it
      // was read: only a file still naming that holder is removed.
      if (read(file) === holder) rmSync(file, { force: true });
      continue;
    }
    if (!told) {
      opts.log(`requirements.txt: waiting for process ${holder}, which is installing it for this project`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? POLL_MS));
  }
}

/**
 * Creates the lock with this process's pid in it from the moment it exists.
 * Created empty and written after (an exclusive open), it could be read empty
 * by a server starting at the same time, which took it for a dead holder's,
 * removed it and installed too (two pips in one virtualenv).
 */
function create(file: string): boolean {
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    linkSync(mine, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(mine, { force: true });
  }
}

/** The holder's pid; 0 for a file that names no process (taken over as a dead holder's); null once it is gone. */
function read(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}
