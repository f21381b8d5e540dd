// serve --enforce-mem: every `intervalMs` each replica's process trees are
// measured against its version's compute.mem, and the largest worker of a
// replica over it is stopped, reported like Kubernetes' OOMKilled. Sampled,
// so an allocation faster than the interval can pass the limit before it is
// seen.
import { checkMemory, listProcesses, processTree, readMemoryBytes } from './memory.ts';
import type { Replica } from './replica.ts';

export class MemoryWatch {
  readonly #replicas: () => readonly Replica[];
  readonly #timer: NodeJS.Timeout;
  #busy = false;

  constructor(intervalMs: number, replicas: () => readonly Replica[], onError: (err: Error) => void) {
    this.#replicas = replicas;
    this.#timer = setInterval(() => {
      // A check slower than the interval is not stacked on.
      if (this.#busy) return;
      this.#busy = true;
      this.check().then(
        () => (this.#busy = false),
        (err: unknown) => {
          this.#busy = false;
          onError(err as Error);
        },
      );
    }, intervalMs);
    this.#timer.unref();
  }

  async check(): Promise<void> {
    const replicas = this.#replicas().filter((r) => (r.state === 'ready' || r.state === 'starting') && r.api.compute.mem !== null);
    if (replicas.length === 0) return;
    const processes = await listProcesses();
    for (const replica of replicas) {
      const slots = replica.slots.filter((s) => s.pid !== null && s.state !== 'stopping');
      const pids = slots.map((s) => s.pid as number);
      const usage = await Promise.all(
        pids.map(async (pid) => {
          const sizes = await Promise.all(processTree(processes, pid).map(readMemoryBytes));
          return sizes.reduce<number | null>((sum, v) => (v === null ? sum : (sum ?? 0) + v), null);
        }),
      );
      const verdict = checkMemory(replica.api.compute.mem as number, usage);
      // Unless that worker was replaced meanwhile.
      if (verdict !== null && slots[verdict.victim].pid === pids[verdict.victim]) slots[verdict.victim].kill(verdict.message, 'memory');
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
