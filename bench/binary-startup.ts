// `node bench/binary-startup.ts [--runs N] [--binary FILE]`: the single binary
// beside bin/cortex-local: its size, and the time from spawning
// `serve bench/apis/hello --port 0` to the `api hello ready` line, median,
// min and max of N runs each (default 5), the binary's first run on an empty
// cache (it extracts its Python runtime then) reported apart. Prints, never
// asserts. Build the binary first: npm run build:binary.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const repo = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, binary: { type: 'string', default: join(repo, 'dist', 'cortex-local-linux-x64') } } });
const runs = Number(values.runs);
const api = join(repo, 'bench', 'apis', 'hello');
const cache = mkdtempSync(join(tmpdir(), 'cortex-local-bench-cache-'));

/** ms from spawn to the ready line; the server is then stopped with SIGTERM. */
function startOnce(command: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, ['serve', api, '--port', '0'], { env: { ...process.env, XDG_CACHE_HOME: cache }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let ready = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!ready && /^api hello ready at /m.test(out)) {
        ready = true;
        const ms = performance.now() - t0;
        child.once('exit', () => resolve(ms));
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${command} exited (${code}) before ready:\n${out}`));
    });
  });
}

async function series(command: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await startOnce(command));
  return times.sort((a, b) => a - b);
}

const fmt = (ms: number) => `${Math.round(ms)} ms`;
const row = (label: string, t: number[]) => `| ${label} | ${fmt(t[Math.floor(t.length / 2)])} | ${fmt(t[0])} | ${fmt(t.at(-1) as number)} |`;
try {
  const size = statSync(values.binary).size;
  const cold = await startOnce(values.binary);
  const binary = await series(values.binary);
  const bin = await series(join(repo, 'bin', 'cortex-local'));
  process.stdout.write(
    [
      `binary: ${values.binary}, ${(size / 2 ** 20).toFixed(1)} MiB`,
      '',
      `spawn → "api hello ready", ${runs} runs each:`,
      '',
      '| command | median | min | max |',
      '|---|---:|---:|---:|',
      row('bin/cortex-local (dist/ if built, else src/)', bin),
      row('cortex-local-linux-x64 (cache filled)', binary),
      `| cortex-local-linux-x64, first run on an empty cache | ${fmt(cold)} | | |`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(cache, { recursive: true, force: true });
}
