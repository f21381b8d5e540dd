// What the edit → reload loop costs (issue 14): cortex-local serves a project
// in a temporary folder with --watch; two closed-loop clients keep asking API
// "steady" (a 2 ms predictor) throughout. Each round:
// - edit: steady's predictor is edited; the time until its rollout is done
//   (every replica on the new version, the old ones stopped);
// - add/remove: API "extra" is added to cortex.yaml, answers, then removed;
// and steady's latency before the round (baseline) against during it.
// Prints a table; asserts nothing.
//
//   node bench/redeploy.ts [--rounds 3] [--replicas 2] [--python python3]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { REPO } from './lib/systems.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '2' },
    python: { type: 'string', default: 'python3' },
  },
});

const predictor = (version: number) => `import time


class PythonPredictor:
    def __init__(self, config):
        pass

    def predict(self, payload):
        time.sleep(0.002)
        return {"version": ${version}}
`;
const api = (name: string, replicas: number) => `- name: ${name}\n  predictor:\n    type: python\n    path: ${name === 'steady' ? 'predictor.py' : 'extra.py'}\n  autoscaling: {min_replicas: ${replicas}, max_replicas: ${replicas}}\n`;

const replicas = Number(opt.replicas);
const tmp = mkdtempSync(join(tmpdir(), 'cortex-local-redeploy-'));
const project = join(tmp, 'project');
const logFile = join(tmp, 'serve.log');
mkdirSync(project);
writeFileSync(join(project, 'cortex.yaml'), api('steady', replicas));
writeFileSync(join(project, 'predictor.py'), predictor(0));
writeFileSync(join(project, 'extra.py'), predictor(0));
const log = openSync(logFile, 'w');
const server = spawn(join(REPO, 'bin', 'cortex-local'), ['serve', project, '--port', '0', '--watch', '--python', opt.python], { stdio: ['ignore', log, log] });
process.on('exit', () => {
  server.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`${what}: not reached\n${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const url = await until('serve to listen', async () => /serving .* on (http:\/\/\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1]);
const probe = new Agent({ connections: 2 });
const status = async (name: string) => {
  const r = await request(`${url}/${name}`, { dispatcher: probe });
  return r.statusCode === 200 ? ((await r.body.json()) as any) : (await r.body.dump(), undefined);
};
await until('steady to be live', async () => ((await status('steady'))?.rollout.new.ready === replicas ? true : undefined));

// Two clients, each sending the next request when the last is answered.
const agent = new Agent({ connections: 2 });
const samples: { at: number; ms: number; ok: boolean }[] = [];
let running = true;
const client = async () => {
  while (running) {
    const t0 = performance.now();
    const r = await request(`${url}/steady`, { method: 'POST', body: '{}', dispatcher: agent });
    await r.body.dump();
    samples.push({ at: t0, ms: performance.now() - t0, ok: r.statusCode === 200 });
  }
};
const clients = [client(), client()];
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const window = (from: number, to: number) => samples.filter((s) => s.at >= from && s.at <= to);
const fmt = (xs: number[]) => `${quantile(xs, 0.5).toFixed(2)} / ${quantile(xs, 0.99).toFixed(2)}`;

console.log(`steady: ${replicas} replica${replicas === 1 ? '' : 's'}, default update_strategy (max_surge 25%, max_unavailable 25%); latency in ms, p50 / p99`);
console.log('| round | edit → rollout done (s) | steady during the rollout | add → extra answers (s) | remove → gone (s) | steady baseline | steady during add/remove | failed |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (let round = 1; round <= Number(opt.rounds); round++) {
  await new Promise((r) => setTimeout(r, 2000));
  const baseline = window(performance.now() - 2000, performance.now()).map((s) => s.ms);
  const was = (await status('steady')).version;
  const edited = performance.now();
  writeFileSync(join(project, 'predictor.py'), predictor(round));
  await until('the rollout to end', async () => {
    const s = await status('steady');
    return s.version !== was && s.rollout.state === 'live' && s.rollout.new.ready === replicas ? true : undefined;
  });
  const rolled = performance.now();
  const added = performance.now();
  writeFileSync(join(project, 'cortex.yaml'), api('steady', replicas) + api('extra', 1));
  await until('extra to answer', async () => {
    const r = await request(`${url}/extra`, { method: 'POST', body: '{}', dispatcher: probe });
    await r.body.dump();
    return r.statusCode === 200 ? true : undefined;
  });
  const answering = performance.now();
  writeFileSync(join(project, 'cortex.yaml'), api('steady', replicas));
  await until('extra to be gone', async () => (readFileSync(logFile, 'utf8').split('api extra deleted').length > round ? true : undefined));
  const gone = performance.now();
  const failed = samples.filter((s) => !s.ok).length;
  console.log(
    `| ${round} | ${((rolled - edited) / 1000).toFixed(2)} | ${fmt(window(edited, rolled).map((s) => s.ms))} | ${((answering - added) / 1000).toFixed(2)} | ${((gone - answering) / 1000).toFixed(2)} | ${fmt(baseline)} | ${fmt(window(added, gone).map((s) => s.ms))} | ${failed} |`,
  );
}
running = false;
await Promise.all(clients);
await agent.close();
await probe.close();
process.exit(0);
