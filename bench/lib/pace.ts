// How fast the machine runs node:http right now. On a virtual machine the host
// can slow every process down for tens of minutes without any process here
// showing as load (the tables' "other load" sees none): in one session a
// node:http server went from 12.4 to 23 µs of CPU per request, every system
// with it, and a full run measured then read 92.8 % on the cpu line where the
// run an hour before read 94.6 %. Taken before each scenario and at the end,
// this tells a run measured on a slowed machine apart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TreeWatcher } from './proctree.ts';
import { startBareNode } from './systems.ts';
import { runWrk } from './wrk.ts';

export interface Pace {
  /** when it was taken: before a scenario (its name), or "end" */
  when: string;
  /** CPU of the node:http server per request */
  cpuUsPerReq: number;
  rps: number;
}

/** bare-node (bench/baselines/bare-node.ts) answering hello's body at 64 connections: 1 s of warm-up, 2 s measured. */
export async function measurePace(when: string, tmp: string): Promise<Pace> {
  const bodyFile = join(tmp, 'pace.json');
  writeFileSync(bodyFile, '{"name": "cortex"}');
  const server = await startBareNode({});
  try {
    const w = { url: server.url, bodyFile, connections: 64, threads: 1 };
    await runWrk({ ...w, seconds: 1 });
    const watcher = new TreeWatcher(server.pid);
    const load = await runWrk({ ...w, seconds: 2 });
    const { cpuSeconds } = watcher.stop();
    return { when, cpuUsPerReq: (cpuSeconds * 1e6) / load.requests, rps: load.rps };
  } finally {
    await server.stop();
  }
}

/** How much slower the slowest pace was than the fastest: 1.0 for a steady machine. */
export function paceSpread(paces: readonly Pace[]): number {
  const us = paces.map((p) => p.cpuUsPerReq);
  return us.length === 0 ? 1 : Math.max(...us) / Math.min(...us);
}
