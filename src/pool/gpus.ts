// Which GPUs this machine has: `--gpus` / CORTEX_LOCAL_GPUS when given, else
// nvidia-smi when it is on PATH, else none. Failures are reported, not thrown:
// a machine without a working driver simply has no GPUs to hand out.
import { execFile } from 'node:child_process';
import type { Gpu } from './ledger.ts';

export interface GpuDiscovery {
  gpus: Gpu[];
  source: 'override' | 'nvidia-smi' | 'none';
  /** why nvidia-smi gave nothing, when it was present but failed */
  warning?: string;
}

/** Parses `--gpus 0,1` (or an empty string for none). */
export function parseGpuList(text: string): Gpu[] {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  return trimmed.split(',').map((part) => {
    const s = part.trim();
    if (!/^\d+$/.test(s)) throw new Error(`invalid GPU index "${s}" in "${text}": expected comma-separated integers such as 0,1`);
    return { index: Number(s) };
  });
}

/** Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(stdout: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [index, uuid, name, memory] = line.split(',').map((s) => s.trim());
    if (!/^\d+$/.test(index ?? '')) throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
    const gpu: Gpu = { index: Number(index) };
    if (uuid) gpu.uuid = uuid;
    if (name) gpu.name = name;
    const mib = Number(memory);
    if (memory && Number.isFinite(mib)) gpu.memoryMiB = mib;
    gpus.push(gpu);
  }
  return gpus;
}

export async function discoverGpus(override: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<GpuDiscovery> {
  const given = override ?? env.CORTEX_LOCAL_GPUS;
  if (given !== undefined) return { gpus: parseGpuList(given), source: 'override' };
  const query = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader,nounits'];
  return new Promise((resolve) => {
    execFile('nvidia-smi', query, { env, timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve({ gpus: [], source: 'none' });
        return resolve({ gpus: [], source: 'none', warning: `nvidia-smi failed (${(stderr || err.message).trim()}); serving without GPUs` });
      }
      try {
        resolve({ gpus: parseNvidiaSmi(stdout), source: 'nvidia-smi' });
      } catch (parseErr) {
        resolve({ gpus: [], source: 'none', warning: `${(parseErr as Error).message}; serving without GPUs` });
      }
    });
  });
}
