// What this machine can never run: a replica whose compute request is larger
// than everything the ledger has would wait as pending for ever, its clients
// told only that no replica is ready. Said once, at start, naming the field.
// (Cortex 0.15 refused such an API at deploy, against the instance type:
// validations.go validateCompute.)
import type { ResolvedApi } from '../config/types.ts';
import type { Capacity } from './ledger.ts';
import { formatBytes } from './memory.ts';

export function neverFits(api: ResolvedApi, capacity: Capacity): string[] {
  const { cpu, mem, gpu } = api.compute;
  const out: string[] = [];
  const never = 'so its replicas can never start (they stay pending)';
  if (cpu > capacity.cpu + 1e-9) {
    out.push(`compute.cpu ${cpu} is more than the ${capacity.cpu} CPU core${capacity.cpu === 1 ? '' : 's'} this machine has, ${never}`);
  }
  if (mem !== null && mem > capacity.mem) {
    out.push(`compute.mem ${formatBytes(mem)} is more than the ${formatBytes(capacity.mem)} of memory this machine has for replicas, ${never}`);
  }
  if (gpu > capacity.gpus.length) {
    const have = capacity.gpus.length === 0 ? 'no GPU (nvidia-smi found none; see --gpus)' : `${capacity.gpus.length} GPU${capacity.gpus.length === 1 ? '' : 's'}`;
    out.push(`compute.gpu ${gpu}, but this machine has ${have}, ${never}`);
  }
  return out.map((w) => `api ${api.name}: ${w}`);
}
