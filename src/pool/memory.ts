// compute.mem enforcement: Kubernetes OOM-kills a container over its memory
// limit; locally we read each worker's resident set and do the same.
import { readFile } from 'node:fs/promises';

/** Resident set size of a process in bytes, or null when it cannot be read (gone, not Linux). */
export async function readRssBytes(pid: number): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
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
 * The replica's workers share its limit, as the processes of one container
 * do. Over it, the largest worker is stopped (what the kernel's OOM killer
 * picks too).
 */
export function checkMemory(limit: number, rss: (number | null)[]): MemoryVerdict | null {
  let total = 0;
  let victim = -1;
  for (let i = 0; i < rss.length; i++) {
    const v = rss[i];
    if (v === null) continue;
    total += v;
    if (victim === -1 || v > (rss[victim] as number)) victim = i;
  }
  if (total <= limit || victim === -1) return null;
  return { victim, message: `OOMKilled: memory limit ${formatBytes(limit)} exceeded: ${formatBytes(total)}` };
}
