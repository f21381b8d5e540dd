// Memory and CPU of a whole process tree, read from /proc (Linux only): a
// server's footprint is its own process plus every worker it spawned
// (cortex-local: Node + Python workers; uvicorn: the master + its workers).
import { readdirSync, readFileSync } from 'node:fs';

const PAGE = 4096;
const CLK_TCK = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks */
  cpuTicks: number;
  rssBytes: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24.
    return { pid, ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * PAGE };
  } catch {
    return null; // exited between readdir and read
  }
}

export function treeOf(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s !== null) all.push(s);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all) {
    const list = children.get(s.ppid);
    if (list === undefined) children.set(s.ppid, [s]);
    else list.push(s);
  }
  const rootStat = all.find((s) => s.pid === root);
  if (rootStat === undefined) return [];
  const out = [rootStat];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i].pid) ?? []));
  return out;
}

export interface TreeSample {
  rssBytes: number;
  rootRssBytes: number;
  cpuSeconds: number;
  processes: number;
}

export function sampleTree(root: number): TreeSample {
  return sum(treeOf(root));
}

function sum(tree: readonly ProcStat[]): TreeSample {
  let rss = 0;
  let cpu = 0;
  for (const s of tree) {
    rss += s.rssBytes;
    cpu += s.cpuTicks;
  }
  return { rssBytes: rss, rootRssBytes: tree[0]?.rssBytes ?? 0, cpuSeconds: cpu / CLK_TCK, processes: tree.length };
}

/**
 * Samples a tree every `everyMs` until stopped; keeps the peaks and the CPU
 * used meanwhile. Only the start and the stop scan all of /proc for the tree
 * (about 1.2 ms of a CPU here); in between, the processes found at the start
 * are re-read, a few files: four scans a second during a cell raised
 * cortex-local's p99 at 1 connection from 0.36-0.37 to 0.71-1.08 ms, its
 * worker and Node waiting behind them (perf-findings.md §2). A process
 * started during the cell counts in the CPU, read at the stop, not in the
 * peaks.
 */
export class TreeWatcher {
  readonly #root: number;
  readonly #pids: number[];
  readonly #timer: NodeJS.Timeout;
  readonly #first: TreeSample;
  peakRss = 0;
  peakRootRss = 0;

  constructor(root: number, everyMs = 250) {
    this.#root = root;
    const tree = treeOf(root);
    this.#pids = tree.map((s) => s.pid);
    this.#first = this.#peaks(sum(tree));
    this.#timer = setInterval(() => {
      this.#peaks(sum(this.#pids.map(readStat).filter((s) => s !== null)));
    }, everyMs);
  }

  #peaks(s: TreeSample): TreeSample {
    if (s.rssBytes > this.peakRss) this.peakRss = s.rssBytes;
    if (s.rootRssBytes > this.peakRootRss) this.peakRootRss = s.rootRssBytes;
    return s;
  }

  /** Stops sampling; CPU seconds the tree used since the watcher started. */
  stop(): { peakRss: number; peakRootRss: number; cpuSeconds: number; processes: number } {
    clearInterval(this.#timer);
    const last = this.#peaks(sampleTree(this.#root));
    return { peakRss: this.peakRss, peakRootRss: this.peakRootRss, cpuSeconds: last.cpuSeconds - this.#first.cpuSeconds, processes: last.processes };
  }
}

/** Busy and total CPU time of the whole machine so far, in seconds (all cores together). */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
  const f = line.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** CPU seconds of this process plus its reaped children (wrk, once it has exited). */
function ownCpu(): number {
  const text = readFileSync('/proc/self/stat', 'latin1');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime 14, stime 15, cutime 16, cstime 17
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/**
 * Cores used by processes that are not part of the benchmark (neither the
 * server tree, nor wrk, nor this runner) over an interval: on a shared 2-core
 * machine a test suite running beside the benchmark shows up here.
 */
export class MachineWatcher {
  readonly #m0 = machineCpu();
  readonly #own0 = ownCpu();
  readonly #t0 = performance.now();

  /** `serverCpuSeconds`: what the server tree used in the same interval. */
  otherCores(serverCpuSeconds: number): number {
    const m1 = machineCpu();
    const seconds = (performance.now() - this.#t0) / 1000;
    const other = m1.busy - this.#m0.busy - (ownCpu() - this.#own0) - serverCpuSeconds;
    return Math.max(0, other / seconds);
  }
}

/** Cores busy on the whole machine over `ms`: to wait for a quiet machine before measuring. */
export async function busyCores(ms: number): Promise<number> {
  const a = machineCpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineCpu();
  return (b.busy - a.busy) / ((performance.now() - t0) / 1000);
}
