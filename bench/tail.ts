// Where cortex-local's 64-connection p99 comes from: runs the server under
// wrk in several variants (V8 young-generation size, CPU pinning), round-robin
// so drift and neighbours hit every variant alike, and reports per variant the
// latency figures beside what could explain them: the Node process's GC
// pauses (--trace-gc), how long Node and the Python worker sat runnable but
// not running (/proc/PID/schedstat), preemptions, and other processes' load.
//
//   node bench/tail.ts [--rounds 3] [--connections 64] [--duration 5] [--variants default,semi2,...]
// Writes bench/results/tail.md.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { busyCores, MachineWatcher, TreeWatcher, treeOf } from './lib/proctree.ts';
import { REPO, spawnServer, stopTree } from './lib/systems.ts';
import { runWrk, type LoadResult } from './lib/wrk.ts';
import { setup, VENV_PYTHON } from './setup.ts';

interface Variant {
  name: string;
  what: string;
  nodeFlags: string[];
  serverCpus?: string;
  wrkCpus?: string;
}

const VARIANTS: Variant[] = [
  { name: 'default', what: 'as shipped: V8 sizes the young generation itself', nodeFlags: [] },
  { name: 'semi2', what: '--max-semi-space-size=2 (MB)', nodeFlags: ['--max-semi-space-size=2'] },
  { name: 'semi4', what: '--max-semi-space-size=4', nodeFlags: ['--max-semi-space-size=4'] },
  { name: 'semi8', what: '--max-semi-space-size=8', nodeFlags: ['--max-semi-space-size=8'] },
  { name: 'stgc', what: '--single-threaded-gc (no parallel scavenge helpers)', nodeFlags: ['--single-threaded-gc'] },
  { name: 'wrk-pinned', what: 'wrk on CPU 1, server unpinned', nodeFlags: [], wrkCpus: '1' },
  { name: 'split', what: 'server (Node + Python) on CPU 0, wrk on CPU 1', nodeFlags: [], serverCpus: '0', wrkCpus: '1' },
  { name: 'semi2-wrk-pinned', what: '--max-semi-space-size=2, wrk on CPU 1', nodeFlags: ['--max-semi-space-size=2'], wrkCpus: '1' },
];

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'default,semi2,semi4,stgc,wrk-pinned,split' },
    api: { type: 'string', default: join(REPO, 'bench', 'apis', 'hello') },
    body: { type: 'string', default: '{"name": "cortex"}' },
    out: { type: 'string', default: join(REPO, 'bench', 'results', 'tail.md') },
  },
});
const variants = opt.variants.split(',').map((n) => {
  const v = VARIANTS.find((x) => x.name === n);
  if (v === undefined) throw new Error(`unknown variant ${n}: one of ${VARIANTS.map((x) => x.name).join(', ')}`);
  return v;
});
const connections = Number(opt.connections);
const duration = Number(opt.duration);
const warmup = Number(opt.warmup);
setup();
const bodyFile = join(tmpdir(), `cortex-local-tail-body-${process.pid}.json`);
mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
writeFileSync(bodyFile, opt.body);

interface Sched {
  runNs: number;
  waitNs: number;
  nonvol: number;
}
function sched(pid: number): Sched {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ').map(Number);
    const nonvol = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
    return { runNs: run, waitNs: wait, nonvol };
  } catch {
    return { runNs: 0, waitNs: 0, nonvol: 0 };
  }
}

interface Gc {
  young: number[];
  full: number[];
}
/** Pause times (ms, main thread) of the --trace-gc lines in `text`. */
function parseGc(text: string): Gc {
  const gc: Gc = { young: [], full: [] };
  for (const m of text.matchAll(/(Scavenge|Minor Mark-Sweep|Mark-Compact)[^\n]*?MB, pooled: \d+ MB, ([\d.]+) \//g)) {
    (m[1] === 'Mark-Compact' ? gc.full : gc.young).push(Number(m[2]));
  }
  return gc;
}

interface Cell {
  variant: string;
  round: number;
  load: LoadResult;
  gc: Gc;
  nodeWaitPct: number;
  pythonWaitPct: number;
  nodeCpuPct: number;
  pythonCpuPct: number;
  nodePreemptPerS: number;
  nodeRssMb: number;
  other: number;
}
const cells: Cell[] = [];

for (let round = 1; round <= Number(opt.rounds); round++) {
  for (const v of variants) {
    // `node --trace-gc src/cli.ts serve` is what bin/cortex-local runs, with
    // the GC log on; --trace-gc is not allowed in NODE_OPTIONS.
    const args = [...v.nodeFlags, '--trace-gc', join(REPO, 'src', 'cli.ts'), 'serve', opt.api, '--port', '0', '--python', VENV_PYTHON];
    const s = spawnServer(process.execPath, args, { cpus: v.serverCpus });
    try {
      const m = await s.waitFor(/api \S+ ready at (\S+)/, 60_000);
      const url = m[1];
      const nodePid = s.child.pid as number;
      await runWrk({ url, bodyFile, connections, seconds: warmup, threads: 1, cpus: v.wrkCpus });
      for (let i = 0; i < 30 && (await busyCores(500)) > 0.15; i++);
      const py = treeOf(nodePid).find((p) => p.pid !== nodePid)?.pid ?? 0;
      const n0 = sched(nodePid);
      const p0 = sched(py);
      const gcMark = s.output().length;
      const machine = new MachineWatcher();
      const tree = new TreeWatcher(nodePid);
      const load = await runWrk({ url, bodyFile, connections, seconds: duration, threads: 1, cpus: v.wrkCpus });
      const t = tree.stop();
      const other = machine.otherCores(t.cpuSeconds);
      const n1 = sched(nodePid);
      const p1 = sched(py);
      const ns = load.seconds * 1e9;
      cells.push({
        variant: v.name,
        round,
        load,
        gc: parseGc(s.output().slice(gcMark)),
        nodeWaitPct: ((n1.waitNs - n0.waitNs) / ns) * 100,
        pythonWaitPct: ((p1.waitNs - p0.waitNs) / ns) * 100,
        nodeCpuPct: ((n1.runNs - n0.runNs) / ns) * 100,
        pythonCpuPct: ((p1.runNs - p0.runNs) / ns) * 100,
        nodePreemptPerS: (n1.nonvol - n0.nonvol) / load.seconds,
        nodeRssMb: t.peakRootRss / 2 ** 20,
        other,
      });
      const c = cells.at(-1) as Cell;
      process.stderr.write(
        `tail: round ${round} ${v.name}: ${Math.round(load.rps)} req/s p50 ${us(load.p50_us)} p99 ${us(load.p99_us)} max ${us(load.max_us)}; ` +
          `young GCs ${c.gc.young.length} max ${fmt(Math.max(0, ...c.gc.young))} ms; other load ${other.toFixed(2)}\n`,
      );
    } finally {
      await stopTree(s.child);
    }
  }
}

function us(x: number): string {
  return x < 1000 ? `${Math.round(x)} µs` : `${(x / 1000).toFixed(x < 10_000 ? 2 : 1)} ms`;
}
function fmt(x: number): string {
  return x.toFixed(x < 10 ? 2 : 1);
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

const lines: string[] = [];
lines.push(`# cortex-local: where the ${connections}-connection tail comes from`, '');
lines.push(`${new Date().toISOString()}; ${availableParallelism()} CPUs; \`${opt.api.startsWith(REPO + '/') ? opt.api.slice(REPO.length + 1) : opt.api}\` (one replica), wrk 1 thread, ${connections} connections, ${warmup} s warm-up + ${duration} s measured, ${opt.rounds} rounds round-robin. ` +
  'Each figure is the median over rounds; GC columns are per measured window, pauses of the Node main thread from `--trace-gc`. ' +
  '"runnable, waiting" is time a process was ready to run but had no CPU (`/proc/PID/schedstat`), as a share of the window.', '');
lines.push('| variant | req/s | p50 | p99 | p99.9 | max | young GCs | young GC median / max | GC total | full GCs | Node CPU | Node runnable, waiting | Node preempted /s | Python CPU | Python runnable, waiting | Node RSS | other load |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const v of variants) {
  const cs = cells.filter((c) => c.variant === v.name);
  if (cs.length === 0) continue;
  const m = (f: (c: Cell) => number) => median(cs.map(f));
  lines.push(
    `| ${v.name} | ${Math.round(m((c) => c.load.rps)).toLocaleString('en-US')} | ${us(m((c) => c.load.p50_us))} | ${us(m((c) => c.load.p99_us))} | ${us(m((c) => c.load.p999_us))} | ${us(m((c) => c.load.max_us))} | ` +
      `${m((c) => c.gc.young.length)} | ${fmt(m((c) => median(c.gc.young)))} / ${fmt(m((c) => Math.max(0, ...c.gc.young)))} ms | ${fmt(m((c) => sum(c.gc.young) + sum(c.gc.full)))} ms | ${m((c) => c.gc.full.length)} | ` +
      `${m((c) => c.nodeCpuPct).toFixed(0)}% | ${m((c) => c.nodeWaitPct).toFixed(1)}% | ${Math.round(m((c) => c.nodePreemptPerS))} | ${m((c) => c.pythonCpuPct).toFixed(0)}% | ${m((c) => c.pythonWaitPct).toFixed(1)}% | ` +
      `${m((c) => c.nodeRssMb).toFixed(0)} MB | ${m((c) => c.other).toFixed(2)}${m((c) => c.other) >= 0.15 ? ' ⚠' : ''} |`,
  );
}
lines.push('', 'Variants:', '');
for (const v of variants) lines.push(`- **${v.name}**: ${v.what}`);
lines.push('', 'Every round:', '', '| variant | round | req/s | p50 | p99 | max | young GC max | other load |', '|---|---:|---:|---:|---:|---:|---:|---:|');
for (const c of cells) lines.push(`| ${c.variant} | ${c.round} | ${Math.round(c.load.rps)} | ${us(c.load.p50_us)} | ${us(c.load.p99_us)} | ${us(c.load.max_us)} | ${fmt(Math.max(0, ...c.gc.young))} ms | ${c.other.toFixed(2)} |`);
lines.push('');
const md = lines.join('\n');
process.stdout.write('\n' + md);
writeFileSync(opt.out, md);
try {
  (await import('node:fs')).unlinkSync(bodyFile);
} catch {
  // already gone
}
