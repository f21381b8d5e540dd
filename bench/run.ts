// `npm run bench`: cortex-local against FastAPI+uvicorn (Cortex 0.15's stack)
// and against two ceilings (bare node:http, the framed pipe without HTTP), in
// one run, same predictor, same worker count, same connection counts.
// Prints a Markdown table and writes it to bench/results/latest.md. Never
// asserts timings: it measures, the reader judges (bench/README.md).
//
//   npm run bench [-- --quick] [-- --connections 1,16,64] [-- --duration 10]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus as osCpus, availableParallelism, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.ts';
import { busyCores, MachineWatcher, TreeWatcher } from './lib/proctree.ts';
import { REPO, spawnServer, startBareNode, startCortex, startFastapi, stopTree, type PredictorSpec, type Running } from './lib/systems.ts';
import { runWrk, type LoadResult } from './lib/wrk.ts';
import { setup, VENV_PYTHON } from './setup.ts';

/** Above this many cores used by other processes, a cell's figures are flagged. */
const NOISY_CORES = 0.15;

const ALL_SYSTEMS = ['cortex-local', 'fastapi', 'fastapi-min', 'bare-node', 'direct-pipe'] as const;
type SystemName = (typeof ALL_SYSTEMS)[number];

const DESCRIPTIONS: Record<SystemName, string> = {
  'cortex-local': '`bin/cortex-local serve`: node:http front door → pool → framed pipe → Python worker',
  fastapi: 'FastAPI + uvicorn (uvloop, httptools) shaped like Cortex 0.15 serve.py: CORS + one http middleware, sync route on a threads_per_worker pool',
  'fastapi-min': 'FastAPI + uvicorn, no middleware, async route calling predict inline: the fastest this stack serves the same predictor',
  'bare-node': 'node:http answering a fixed JSON of the same size: the front door ceiling',
  'direct-pipe': 'one PythonWorker driven over the framed pipe with N requests outstanding, no HTTP: the bridge ceiling',
};

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    api: { type: 'string', default: join(REPO, 'bench', 'apis', 'hello') },
    body: { type: 'string', default: '{"name": "cortex"}' },
    connections: { type: 'string', default: '1,64' },
    systems: { type: 'string', default: ALL_SYSTEMS.join(',') },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'wrk-threads': { type: 'string', default: '1' },
    'wrk-cpus': { type: 'string' },
    'server-cpus': { type: 'string' },
    python: { type: 'string' },
    out: { type: 'string', default: join(REPO, 'bench', 'results', 'latest.md') },
    'no-setup': { type: 'boolean', default: false },
    'quiet-wait': { type: 'string', default: '30' },
    'cortex-node-options': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opt.help) {
  process.stdout.write(readFileSync(join(import.meta.dirname, 'README.md'), 'utf8'));
  process.exit(0);
}

const duration = Number(opt.duration ?? (opt.quick ? 4 : 10));
const warmup = Number(opt.warmup ?? (opt.quick ? 1 : 2));
const rounds = Number(opt.rounds);
const connections = opt.connections.split(',').map(Number);
const systems = opt.systems.split(',') as SystemName[];
for (const s of systems) if (!ALL_SYSTEMS.includes(s)) throw new Error(`unknown system "${s}": one of ${ALL_SYSTEMS.join(', ')}`);
const wrkThreads = Number(opt['wrk-threads']);

if (!opt['no-setup']) setup();
const python = resolve(opt.python ?? VENV_PYTHON);

const apiDir = resolve(opt.api);
const config = await loadConfig(apiDir);
const api = config.apis[0];
if (api.predictor.type !== 'python') throw new Error(`bench serves python predictors; ${api.name} is ${api.predictor.type}`);
const predictor: PredictorSpec = {
  dir: config.projectDir,
  path: resolve(config.projectDir, api.predictor.path),
  name: api.name,
  config: api.predictor.config,
  workers: api.autoscaling.workers_per_replica,
  threads: api.autoscaling.threads_per_worker,
};
const body = Buffer.from(opt.body);
const bodyFile = join(tmpdir(), `cortex-local-bench-body-${process.pid}.json`);
writeFileSync(bodyFile, body);
// The bare server answers what the predictor answers, so bytes on the wire match.
const answer = await predictOnce();

interface Row {
  system: SystemName;
  connections: number;
  round: number;
  load: LoadResult;
  peakRssMb: number;
  peakRootRssMb: number;
  cores: number;
  cpuUsPerReq: number;
  /** cores used meanwhile by processes outside the benchmark */
  otherCores: number;
  how: string;
}
const rows: Row[] = [];
const started = new Date();

for (let round = 1; round <= rounds; round++) {
  for (const system of systems) {
    if (system === 'direct-pipe') {
      for (const c of connections) rows.push(await directPipe(c, round));
      continue;
    }
    const server = await start(system);
    try {
      for (const c of connections) {
        log(`${system}: ${c} connection${c === 1 ? '' : 's'}, warm-up ${warmup}s, ${duration}s measured`);
        await runWrk({ url: server.url, bodyFile, connections: c, seconds: warmup, threads: wrkThreads, cpus: opt['wrk-cpus'] });
        await waitQuiet();
        const machine = new MachineWatcher();
        const watcher = new TreeWatcher(server.pid);
        const load = await runWrk({ url: server.url, bodyFile, connections: c, seconds: duration, threads: wrkThreads, cpus: opt['wrk-cpus'] });
        const tree = watcher.stop();
        rows.push(row(system, c, round, load, tree, server.how, machine.otherCores(tree.cpuSeconds)));
      }
    } finally {
      await server.stop();
    }
  }
}

const markdown = report();
process.stdout.write('\n' + markdown);
mkdirSync(resolve(opt.out, '..'), { recursive: true });
writeFileSync(opt.out, markdown);
// Raw numbers beside it (gitignored), for comparing runs.
writeFileSync(join(resolve(opt.out, '..'), `${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ started, options: opt, rows }, null, 2));
log(`wrote ${opt.out}`);

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function start(system: SystemName): Promise<Running> {
  const cpus = opt['server-cpus'];
  log(`starting ${system}`);
  switch (system) {
    case 'cortex-local':
      return startCortex(predictor, { python, cpus, body, nodeOptions: opt['cortex-node-options'] });
    case 'fastapi':
      return startFastapi(predictor, { venvPython: VENV_PYTHON, style: 'cortex015', cpus, body });
    case 'fastapi-min':
      return startFastapi(predictor, { venvPython: VENV_PYTHON, style: 'minimal', cpus, body });
    case 'bare-node':
      return startBareNode({ cpus, answer });
    default:
      throw new Error(`not an HTTP system: ${system}`);
  }
}

/**
 * On a shared machine (a test suite running beside the benchmark) waits, up
 * to --quiet-wait seconds, until other processes use less than NOISY_CORES.
 */
async function waitQuiet(): Promise<void> {
  const deadline = Date.now() + Number(opt['quiet-wait']) * 1000;
  let busy = await busyCores(300);
  if (busy < NOISY_CORES) return;
  log(`machine busy (${busy.toFixed(2)} cores used by other processes): waiting up to ${opt['quiet-wait']}s for it to settle`);
  while (Date.now() < deadline) {
    busy = await busyCores(1000);
    if (busy < NOISY_CORES) return;
  }
  log(`still busy (${busy.toFixed(2)} cores): measuring anyway; the row is flagged`);
}

function row(system: SystemName, c: number, round: number, load: LoadResult, tree: { peakRss: number; peakRootRss: number; cpuSeconds: number }, how: string, otherCores: number): Row {
  return {
    system,
    connections: c,
    round,
    load,
    peakRssMb: tree.peakRss / 2 ** 20,
    peakRootRssMb: tree.peakRootRss / 2 ** 20,
    cores: tree.cpuSeconds / load.seconds,
    cpuUsPerReq: load.requests > 0 ? (tree.cpuSeconds / load.requests) * 1e6 : 0,
    otherCores,
    how,
  };
}

async function directPipe(c: number, round: number): Promise<Row> {
  log(`direct-pipe: ${c} outstanding, warm-up ${warmup}s, ${duration}s measured`);
  await waitQuiet();
  const s = spawnServer(
    process.execPath,
    [
      join(REPO, 'bench', 'baselines', 'direct-pipe.ts'),
      '--predictor', predictor.path,
      '--config', JSON.stringify(predictor.config),
      '--body-file', bodyFile,
      '--threads', String(predictor.threads),
      '--concurrency', String(c),
      '--warmup', String(warmup),
      '--duration', String(duration),
      '--python', python,
    ],
    { cpus: opt['server-cpus'] },
  );
  try {
    await s.waitFor(/ready \d+/, 60_000);
    // The worker warms up inside the script; watch the tree from its measured window on.
    await new Promise((r) => setTimeout(r, warmup * 1000));
    const machine = new MachineWatcher();
    const watcher = new TreeWatcher(s.child.pid as number);
    const m = await s.waitFor(/^\{"requests".*$/m, (duration + 30) * 1000);
    const tree = watcher.stop();
    const other = machine.otherCores(tree.cpuSeconds);
    const r = JSON.parse(m[0]) as { requests: number; seconds: number; rps: number; p50_us: number; p99_us: number; max_us: number; errors: number };
    const load: LoadResult = { requests: r.requests, seconds: r.seconds, rps: r.rps, p50_us: r.p50_us, p90_us: NaN, p99_us: r.p99_us, p999_us: NaN, max_us: r.max_us, errors: r.errors, non2xx: r.errors };
    return row('direct-pipe', c, round, load, tree, 'bench/baselines/direct-pipe.ts', other);
  } finally {
    await stopTree(s.child);
  }
}

async function predictOnce(): Promise<string> {
  const server = await startCortex(predictor, { python, body });
  try {
    const r = await fetch(server.url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json' } });
    return await r.text();
  } finally {
    await server.stop();
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One row per system and connection count: the median over rounds of each figure. */
function summarize(system: SystemName, c: number): Row | null {
  const rs = rows.filter((r) => r.system === system && r.connections === c);
  if (rs.length === 0) return null;
  const m = (f: (r: Row) => number) => median(rs.map(f));
  return {
    system,
    connections: c,
    round: rs.length,
    load: {
      requests: m((r) => r.load.requests),
      seconds: m((r) => r.load.seconds),
      rps: m((r) => r.load.rps),
      p50_us: m((r) => r.load.p50_us),
      p90_us: m((r) => r.load.p90_us),
      p99_us: m((r) => r.load.p99_us),
      p999_us: m((r) => r.load.p999_us),
      max_us: Math.max(...rs.map((r) => r.load.max_us)),
      errors: rs.reduce((n, r) => n + r.load.errors, 0),
      non2xx: rs.reduce((n, r) => n + r.load.non2xx, 0),
    },
    peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
    peakRootRssMb: Math.max(...rs.map((r) => r.peakRootRssMb)),
    cores: m((r) => r.cores),
    cpuUsPerReq: m((r) => r.cpuUsPerReq),
    otherCores: Math.max(...rs.map((r) => r.otherCores)),
    how: rs[0].how,
  };
}

function us(x: number): string {
  if (Number.isNaN(x)) return '–';
  return x < 1000 ? `${Math.round(x)} µs` : `${(x / 1000).toFixed(x < 10_000 ? 2 : 1)} ms`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0) || Number.isNaN(a)) return '–';
  return `${(a / b).toFixed(2)}×`;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    // `wrk -v` prints its version, then exits 1.
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || '?';
  }
}

function report(): string {
  const lines: string[] = [];
  const summary = new Map<string, Row>();
  for (const s of systems) for (const c of connections) {
    const r = summarize(s, c);
    if (r !== null) summary.set(`${s}@${c}`, r);
  }
  lines.push('# cortex-local benchmark', '');
  const a = api.autoscaling;
  const replicas = a.min_replicas === a.max_replicas ? `${a.min_replicas} replica${a.min_replicas === 1 ? '' : 's'}, fixed` : `${a.min_replicas}–${a.max_replicas} replicas: the autoscaler may add workers the baselines do not get`;
  lines.push(`Predictor: \`${relative(predictor.path)}\` as API \`${predictor.name}\` of \`${relative(join(apiDir, 'cortex.yaml'))}\` (${replicas}; workers_per_replica ${predictor.workers}, threads_per_worker ${predictor.threads}); request body ${body.length} B \`${opt.body}\`, answer ${Buffer.byteLength(answer)} B.`);
  lines.push(`Load: wrk, ${wrkThreads} thread${wrkThreads === 1 ? '' : 's'}, keep-alive, ${warmup} s warm-up then ${duration} s measured per cell, ${rounds} round${rounds === 1 ? '' : 's'} (median shown${rounds > 1 ? '; max is the max of all rounds' : ''}). ` +
    `CPU pinning: wrk ${opt['wrk-cpus'] ?? 'unpinned'}, servers ${opt['server-cpus'] ?? 'unpinned'}.` +
    (opt['cortex-node-options'] ? ` cortex-local ran with NODE_OPTIONS="${opt['cortex-node-options']}".` : ''), '');
  lines.push('| system | conns | req/s | p50 | p99 | p99.9 | max | errors | server CPU (cores) | CPU/req | peak RSS, tree (root) | other load |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of connections) for (const s of systems) {
    const r = summary.get(`${s}@${c}`);
    if (r === undefined) continue;
    const l = r.load;
    lines.push(`| ${s} | ${c} | ${Math.round(l.rps).toLocaleString('en-US')} | ${us(l.p50_us)} | ${us(l.p99_us)} | ${us(l.p999_us)} | ${us(l.max_us)} | ${l.errors} | ${r.cores.toFixed(2)} | ${us(r.cpuUsPerReq)} | ${r.peakRssMb.toFixed(0)} MB (${r.peakRootRssMb.toFixed(0)}) | ${r.otherCores.toFixed(2)}${r.otherCores >= NOISY_CORES ? ' ⚠' : ''} |`);
  }
  lines.push('');
  const comparisons = systems.filter((s) => s !== 'cortex-local');
  if (systems.includes('cortex-local') && comparisons.length > 0) {
    lines.push('Ratios, cortex-local / other (throughput: higher is better for cortex-local; latency and RSS: lower is better):', '');
    lines.push('| cortex-local / | conns | req/s | p50 | p99 | peak RSS (tree) |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    for (const other of comparisons) for (const c of connections) {
      const a = summary.get(`cortex-local@${c}`);
      const b = summary.get(`${other}@${c}`);
      if (a === undefined || b === undefined) continue;
      lines.push(`| ${other} | ${c} | ${ratio(a.load.rps, b.load.rps)} | ${ratio(a.load.p50_us, b.load.p50_us)} | ${ratio(a.load.p99_us, b.load.p99_us)} | ${ratio(a.peakRssMb, b.peakRssMb)} |`);
    }
    lines.push('');
  }
  lines.push('Systems:', '');
  for (const s of systems) lines.push(`- **${s}**: ${DESCRIPTIONS[s]}${s === 'cortex-local' ? ` (started with ${summary.get(`cortex-local@${connections[0]}`)?.how ?? '?'})` : ''}`);
  lines.push('');
  lines.push('Machine:', '');
  lines.push(`- date: ${started.toISOString()}`);
  lines.push(`- CPU: ${availableParallelism()} × ${osCpus()[0]?.model ?? '?'} (nproc ${sh('nproc', [])}); kernel ${release()}`);
  lines.push(`- node ${process.version}; python ${sh(python, ['-c', 'import sys; print(sys.version.split()[0])'])} (${relative(python)}, also the cortex-local workers' interpreter)`);
  lines.push(`- ${sh(VENV_PYTHON, ['-c', 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools")))'])}`);
  lines.push(`- ${sh('wrk', ['-v']).split('\n')[0]}`);
  const dirty = sh('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no', 'src', 'python', 'bin']) === '' ? '' : ' (src/python/bin modified)';
  lines.push(`- cortex-local commit ${sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])}${dirty}`);
  lines.push('');
  lines.push('Why the 64-connection p99 is what it is: `bench/results/p99-findings.md` (reproduce with `node bench/tail.ts`). How to read this table: `bench/README.md`.');
  lines.push('');
  return lines.join('\n');
}

function relative(p: string): string {
  return p.startsWith(REPO + '/') ? p.slice(REPO.length + 1) : p;
}
