// compute.mem as a limit (serve --enforce-mem only; by default it is what it
// was in Cortex 0.15, a request reserved in the ledger). Kubernetes charges a
// container for every process in it; here a replica is charged for its
// workers and every process they started, found by parent pid, whether or not
// they left the worker's process group.
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessEntry {
  pid: number;
  ppid: number;
}

/** Every process of the machine with its parent (Linux /proc); empty where there is no /proc. */
export async function listProcesses(): Promise<ProcessEntry[]> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries = await Promise.all(
    names.filter((n) => /^\d+$/.test(n)).map(async (n): Promise<ProcessEntry | null> => {
      const stat = await readGone(`/proc/${n}/stat`);
      // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
      const ppid = stat === null ? NaN : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return Number.isInteger(ppid) ? { pid: Number(n), ppid } : null;
    }),
  );
  return entries.filter((e) => e !== null);
}

/** `root` and every process below it, by parent pid. */
export function processTree(processes: readonly ProcessEntry[], root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of processes) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p.pid]);
    else list.push(p.pid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const c of children.get(tree[i]) ?? []) tree.push(c);
  return tree;
}

/**
 * Memory a process is charged with, in bytes: its proportional set size (a
 * page shared by n processes counts 1/n in each, so a forked child's shared
 * pages are not counted twice), or its resident set where Pss cannot be read;
 * null once it is gone.
 */
export async function readMemoryBytes(pid: number): Promise<number | null> {
  const rollup = await readGone(`/proc/${pid}/smaps_rollup`);
  const pss = rollup === null ? null : /^Pss:\s+(\d+) kB$/m.exec(rollup);
  if (pss) return Number(pss[1]) * 1024;
  const status = await readGone(`/proc/${pid}/status`);
  const rss = status === null ? null : /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return rss ? Number(rss[1]) * 1024 : null;
}

async function readGone(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Gone between the listing and the read, or not ours to read.
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') return null;
    throw err;
  }
}

/** Bytes as Kubernetes writes them: 512Mi, 1.5Gi. */
export function formatBytes(bytes: number): string {
  const units = ['Ki', 'Mi', 'Gi', 'Ti'];
  let v = bytes;
  let unit = '';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${Math.round(v * 10) / 10}${unit}`;
}

export interface MemoryVerdict {
  /** index into the samples of the worker to stop */
  victim: number;
  message: string;
}

/**
 * `usage`: bytes of each worker's process tree (null: none running). The
 * replica's workers share its limit, as the processes of one container do.
 * Over it, the largest is stopped (what the kernel's OOM killer picks too).
 */
export function checkMemory(limit: number, usage: (number | null)[]): MemoryVerdict | null {
  let total = 0;
  let victim = -1;
  for (let i = 0; i < usage.length; i++) {
    const v = usage[i];
    if (v === null) continue;
    total += v;
    if (victim === -1 || v > (usage[victim] as number)) victim = i;
  }
  if (total <= limit || victim === -1) return null;
  return { victim, message: `OOMKilled: memory limit ${formatBytes(limit)} exceeded: ${formatBytes(total)}` };
}
