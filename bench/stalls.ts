// Where hello's p99 at one connection comes from (issue 18, item 2): how often
// a server stalls, counted request by request, beside wrk's p99, which
// corrects for coordinated omission and so turns the share of time spent in
// stalls into its p99 (bench/results/perf-findings.md §2). Each round starts
// cortex-local, bare-bridge (node:http straight onto one worker: the
// two-process floor) and fastapi-min (one uvicorn process), one after another,
// fresh, as the bench starts them (lib/systems.ts): 3 × 4 s of wrk (the bench's
// first-cell warm-up for hello), 6 s of bench/closed-loop.c (uncorrected
// latencies, each request over 0.5 ms), then 6 s of wrk.
//
//   node bench/stalls.ts [ROUNDS, default 3]     # needs wrk and cc; sets up bench/.venv and dist/ as npm run bench does
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { predictorSpec, REPO, startBareBridge, startCortex, startFastapi, type Running } from './lib/systems.ts';
import { runWrk } from './lib/wrk.ts';
import { setup, VENV_PYTHON } from './setup.ts';

const WARMUP_SETS = 3;
const WARMUP_S = 4;
const MEASURE_S = 6;
const SLOW_US = 500;

const rounds = Number(process.argv[2] ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`ROUNDS must be a whole number ≥ 1, not ${process.argv[2]}`);

setup();
const tmp = mkdtempSync(join(tmpdir(), 'stalls-'));
const closedLoop = join(tmp, 'closed-loop');
execFileSync('cc', ['-O2', '-o', closedLoop, join(REPO, 'bench', 'closed-loop.c')]);
const body = Buffer.from('{"name": "cortex"}');
const bodyFile = join(tmp, 'hello.json');
writeFileSync(bodyFile, body);
const config = await loadConfig(join(REPO, 'bench', 'apis', 'hello'));
const hello = predictorSpec(config, config.apis[0]);

const systems: [string, () => Promise<Running>][] = [
  ['cortex-local', () => startCortex(hello, { python: VENV_PYTHON, body })],
  ['bare-bridge', () => startBareBridge(hello, { python: VENV_PYTHON })],
  ['fastapi-min', () => startFastapi(hello, { venvPython: VENV_PYTHON, style: 'minimal', body })],
];

async function measure(label: string, server: Running): Promise<string> {
  const url = new URL(server.url);
  const w = { url: server.url, bodyFile, connections: 1, threads: 1 };
  for (let i = 0; i < WARMUP_SETS; i++) await runWrk({ ...w, seconds: WARMUP_S });
  const out = execFileSync(closedLoop, [url.port, url.pathname.slice(1) || hello.name, String(MEASURE_S), String(SLOW_US)], { encoding: 'utf8' });
  const load = await runWrk({ ...w, seconds: MEASURE_S });
  const slow = [...out.matchAll(/^slow ([\d.]+) ms/gm)].map((m) => Number(m[1]));
  const s = /requests (\d+) {2}req\/s (\d+) .* p50 ([\d.]+) .* p99 ([\d.]+) /.exec(out);
  if (s === null) throw new Error(`closed-loop printed no summary:\n${out}`);
  const requests = Number(s[1]);
  const under1ms = slow.filter((ms) => ms < 1).length;
  const stalledMs = slow.reduce((a, b) => a + b, 0);
  return [
    label,
    s[2],
    Number(s[3]).toFixed(0),
    Number(s[4]).toFixed(0),
    under1ms,
    slow.length - under1ms,
    ((slow.length / requests) * 1e3).toFixed(2),
    `${((stalledMs / (MEASURE_S * 1e3)) * 100).toFixed(2)} %`,
    load.rps.toFixed(0),
    load.p50_us,
    load.p99_us,
  ].join(' | ');
}

console.log(`hello, 1 connection; ${cpus().length} CPUs (${cpus()[0]?.model.trim()}); ${WARMUP_SETS} × ${WARMUP_S} s of wrk, closed-loop ${MEASURE_S} s, then wrk ${MEASURE_S} s\n`);
console.log('| system | closed-loop req/s | p50 µs | p99 µs | stalls 0.5–1 ms | stalls > 1 ms | stalls per 1,000 requests | time in stalls | wrk req/s | wrk p50 µs | wrk p99 µs |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
try {
  for (let r = 0; r < rounds; r++) {
    for (const [label, start] of systems) {
      const server = await start();
      try {
        console.log(`| ${await measure(label, server)} |`);
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
