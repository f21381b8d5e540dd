// What the machine has and who holds it. Each replica reserves its compute
// request (cpu cores, mem bytes, whole GPUs) before it starts and gives it
// back when it stops, so two replicas never share a GPU they asked for whole.
import { EventEmitter } from 'node:events';
import { formatBytes as fmtBytes } from './memory.ts';

export interface Gpu {
  index: number;
  uuid?: string;
  name?: string;
  memoryMiB?: number;
}

export interface Capacity {
  cpu: number;
  /** bytes */
  mem: number;
  gpus: Gpu[];
}

export interface ComputeRequest {
  cpu: number;
  mem: number | null;
  gpu: number;
}

export interface Reservation {
  owner: string;
  request: ComputeRequest;
  gpus: Gpu[];
}

export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; reason: string };

/** Emits 'released' whenever something was given back, so pending replicas can retry. */
export class ResourceLedger extends EventEmitter {
  readonly capacity: Capacity;
  #held = new Map<string, Reservation>();

  constructor(capacity: Capacity) {
    super();
    this.capacity = capacity;
  }

  get reservations(): Reservation[] {
    return [...this.#held.values()];
  }

  free(): { cpu: number; mem: number; gpus: Gpu[] } {
    let cpu = this.capacity.cpu;
    let mem = this.capacity.mem;
    const used = new Set<number>();
    for (const r of this.#held.values()) {
      cpu -= r.request.cpu;
      mem -= r.request.mem ?? 0;
      for (const g of r.gpus) used.add(g.index);
    }
    return { cpu, mem, gpus: this.capacity.gpus.filter((g) => !used.has(g.index)) };
  }

  /** How many more replicas asking `request` would fit now (a rollout starts no more new replicas than that). */
  room(request: ComputeRequest): number {
    const free = this.free();
    let n = Math.floor((free.cpu + 1e-9) / request.cpu);
    if (request.mem !== null && request.mem > 0) n = Math.min(n, Math.floor(free.mem / request.mem));
    if (request.gpu > 0) n = Math.min(n, Math.floor(free.gpus.length / request.gpu));
    return Math.max(0, n);
  }

  /** `owner` names the holder in messages, e.g. "iris replica 2". */
  tryReserve(owner: string, request: ComputeRequest): ReserveResult {
    const free = this.free();
    // A tiny epsilon: 0.2 + 0.1 cores must fit in 0.3.
    if (request.cpu > free.cpu + 1e-9) {
      return { ok: false, reason: `needs ${fmtCpu(request.cpu)} cpu, ${fmtCpu(Math.max(0, free.cpu))} free of ${fmtCpu(this.capacity.cpu)}${this.#holders((r) => r.request.cpu > 0)}` };
    }
    if (request.mem !== null && request.mem > free.mem) {
      return { ok: false, reason: `needs ${fmtBytes(request.mem)} memory, ${fmtBytes(Math.max(0, free.mem))} free${this.#holders((r) => (r.request.mem ?? 0) > 0)}` };
    }
    if (request.gpu > free.gpus.length) {
      const have = this.capacity.gpus.length;
      const reason = have === 0
        ? `needs ${request.gpu} GPU${request.gpu === 1 ? '' : 's'}, this machine has none (nvidia-smi found none; see --gpus)`
        : `needs ${request.gpu} GPU${request.gpu === 1 ? '' : 's'}, ${free.gpus.length} free of ${have}${this.#holders((r) => r.gpus.length > 0)}`;
      return { ok: false, reason };
    }
    const reservation: Reservation = { owner, request, gpus: free.gpus.slice(0, request.gpu) };
    this.#held.set(owner, reservation);
    return { ok: true, reservation };
  }

  release(owner: string): void {
    if (this.#held.delete(owner)) this.emit('released');
  }

  #holders(holds: (r: Reservation) => boolean): string {
    const owners = [...this.#held.values()].filter(holds).map((r) => r.owner);
    if (owners.length === 0) return '';
    const shown = owners.slice(0, 4).join(', ');
    return `: held by ${shown}${owners.length > 4 ? ` and ${owners.length - 4} more` : ''}`;
  }
}

function fmtCpu(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}
