// What a flood of worker output costs another API (issue 11): cortex-local
// serves bench/apis/flood with its log going to a file, as a user's would;
// one API prints 50 MB of \r progress redraws while the other is asked, one
// request at a time, for an answer. Prints the other API's latency idle and
// during the flood, and their ratio; asserts nothing.
//
//   node bench/flood.ts [--megabytes 50] [--rounds 3] [--python python3]
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { REPO } from './lib/systems.ts';

const { values: opt } = parseArgs({
  options: {
    megabytes: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    python: { type: 'string', default: 'python3' },
  },
});

const tmp = mkdtempSync(join(tmpdir(), 'cortex-local-flood-'));
const logFile = join(tmp, 'serve.log');
const log = openSync(logFile, 'w');
const server = spawn(join(REPO, 'bin', 'cortex-local'), ['serve', join(REPO, 'bench', 'apis', 'flood'), '--port', '0', '--python', opt.python], {
  stdio: ['ignore', log, log],
});
process.on('exit', () => {
  server.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const deadline = Date.now() + 60_000;
let url = '';
for (;;) {
  const text = readFileSync(logFile, 'utf8');
  url ||= /serving .* on (http:\/\/\S+)/.exec(text)?.[1] ?? '';
  if (url && text.includes('api other ready') && text.includes('api flood ready')) break;
  if (Date.now() > deadline || server.exitCode !== null) throw new Error(`serve did not become ready:\n${text}`);
  await new Promise((r) => setTimeout(r, 100));
}

const agent = new Agent({ connections: 2 });
async function post(api: string, body: unknown): Promise<unknown> {
  const r = await request(`${url}/${api}`, { method: 'POST', body: JSON.stringify(body), dispatcher: agent });
  if (r.statusCode !== 200) throw new Error(`${api}: ${r.statusCode} ${await r.body.text()}`);
  return r.body.json();
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`| round | p50 idle (ms) | p50 during the flood (ms) | ratio | requests during | flood (s) | log written (MB) |`);
console.log(`|---:|---:|---:|---:|---:|---:|---:|`);
for (let round = 1; round <= Number(opt.rounds); round++) {
  const idle: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await post('other', {});
    idle.push(performance.now() - t0);
  }
  const logBefore = statSync(logFile).size;
  let done = false;
  const started = performance.now();
  const flood = post('flood', { flood: Number(opt.megabytes) }).finally(() => (done = true));
  const during: number[] = [];
  while (!done) {
    const t0 = performance.now();
    await post('other', {});
    during.push(performance.now() - t0);
  }
  await flood;
  const seconds = (performance.now() - started) / 1000;
  const written = (statSync(logFile).size - logBefore) / 1048576;
  console.log(`| ${round} | ${p50(idle).toFixed(3)} | ${p50(during).toFixed(3)} | ${(p50(during) / p50(idle)).toFixed(2)}× | ${during.length} | ${seconds.toFixed(2)} | ${written.toFixed(0)} |`);
}
await agent.close();
process.exit(0);
