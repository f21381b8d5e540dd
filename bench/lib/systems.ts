// Starting and stopping the systems under test, each in its own process
// tree so its memory and CPU can be read apart from the load generator's.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResolvedApi, ResolvedConfig } from '../../src/config/types.ts';
import { treeOf } from './proctree.ts';

export const REPO = resolve(import.meta.dirname, '..', '..');
const NODE = process.execPath;

/**
 * The V8 flags bin/cortex-local starts Node with (why: in it), given to the
 * Node baselines too, so that a ceiling and cortex-local run the same V8
 * (test/examples.test.ts checks that bin/cortex-local gives these).
 */
export const NODE_FLAGS = ['--initial-old-space-size=64', `--v8-pool-size=${Math.min(4, Math.max(1, availableParallelism() - 1))}`];

export interface Running {
  url: string;
  pid: number;
  /** how it was started, for the results (e.g. "bin/cortex-local serve") */
  how: string;
  stop(): Promise<void>;
}

export interface Spawned {
  child: ChildProcess;
  /** everything it printed so far, for error messages */
  output(): string;
  /** resolves with the first match of `re` in its stdout+stderr */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

/** Spawns in its own process group; `cpus` pins it (and everything it starts) with taskset. */
export function spawnServer(cmd: string, args: string[], opts: { cpus?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Spawned {
  const [c, a] = opts.cpus === undefined ? [cmd, args] : ['taskset', ['-c', opts.cpus, cmd, ...args]];
  const child = spawn(c, a, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer) => {
    // Keep the tail only: a server that logs per request must not grow this.
    out = (out + d.toString()).slice(-64 * 1024);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = out.match(waiters[i].re);
      if (m) {
        waiters[i].resolve(m);
        waiters.splice(i, 1);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs) {
      const m = out.match(re);
      if (m) return Promise.resolve(m);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${cmd}; output:\n${out}`)), timeoutMs);
        const onExit = (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          rej(new Error(`${cmd} ${args.join(' ')} exited (${code ?? signal}) before ${re}; output:\n${out}`));
        };
        child.once('exit', onExit);
        waiters.push({
          re,
          resolve: (found) => {
            clearTimeout(timer);
            child.off('exit', onExit);
            res(found);
          },
        });
      });
    },
  };
}

/**
 * SIGTERM, then SIGKILL to every process of the tree still alive after
 * `graceMs` (workers run in process groups of their own, so the group of
 * the root alone would miss them).
 */
export async function stopTree(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const tree = treeOf(pid).map((s) => s.pid);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs))]);
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone: what we wanted
    }
  }
  if (timedOut) await exited;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Polls with the benchmark's own request until it answers 200. */
export async function waitForHttp(url: string, body: Buffer, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the server exited before answering ${url}`);
    try {
      const r = await fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json' } });
      await r.arrayBuffer();
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

export interface PredictorSpec {
  /** folder holding cortex.yaml */
  dir: string;
  /** absolute path of the predictor file */
  path: string;
  name: string;
  config: Record<string, unknown>;
  workers: number;
  threads: number;
}

/** An API of a loaded cortex.yaml as every system runs it: its predictor, config and worker shape. */
export function predictorSpec(config: ResolvedConfig, api: ResolvedApi): PredictorSpec {
  if (api.predictor.type !== 'python') throw new Error(`bench serves python predictors; ${api.name} is ${api.predictor.type}`);
  return {
    dir: config.projectDir,
    path: resolve(config.projectDir, api.predictor.path),
    name: api.name,
    config: api.predictor.config,
    workers: api.autoscaling.workers_per_replica,
    threads: api.autoscaling.threads_per_worker,
  };
}

/**
 * `env`: added to the server's environment (its workers inherit it, e.g.
 * PYTHONPATH); `root`: another checkout of cortex-local to run (the
 * cortex-local-base system), this one by default.
 */
export async function startCortex(p: PredictorSpec, o: { python: string; cpus?: string; body: Buffer; nodeOptions?: string; httpThreads?: number; env?: NodeJS.ProcessEnv; root?: string }): Promise<Running> {
  const env = { ...process.env, ...o.env, ...(o.nodeOptions === undefined ? {} : { NODE_OPTIONS: o.nodeOptions }) };
  const threads = o.httpThreads === undefined ? [] : ['--http-threads', String(o.httpThreads)];
  const root = o.root ?? REPO;
  const serve = spawnServer(join(root, 'bin', 'cortex-local'), ['serve', p.dir, '--port', '0', '--python', o.python, ...threads], { cpus: o.cpus, env });
  try {
    const m = await serve.waitFor(/api \S+ ready at (\S+)/, 60_000);
    const how = `${root === REPO ? '' : `${root}/`}bin/cortex-local serve${threads.length > 0 ? ` ${threads.join(' ')}` : ''}`;
    return { url: m[1], pid: serve.child.pid as number, how, stop: () => stopTree(serve.child) };
  } catch (err) {
    await stopTree(serve.child);
    throw err;
  }
}

export async function startFastapi(p: PredictorSpec, o: { venvPython: string; style: 'cortex015' | 'minimal'; cpus?: string; body: Buffer; limitConcurrency?: number }): Promise<Running> {
  const port = await freePort();
  const s = spawnServer(
    o.venvPython,
    [
      join(REPO, 'bench', 'baselines', 'fastapi_server.py'),
      '--predictor', p.path,
      '--config', JSON.stringify(p.config),
      '--endpoint', `/${p.name}`,
      '--port', String(port),
      '--workers', String(p.workers),
      '--threads', String(p.threads),
      '--style', o.style,
      ...(o.limitConcurrency === undefined ? [] : ['--limit-concurrency', String(o.limitConcurrency), '--log-level', 'error']),
    ],
    { cpus: o.cpus },
  );
  const url = `http://127.0.0.1:${port}/${p.name}`;
  try {
    await waitForHttp(url, o.body, 60_000, () => s.child.exitCode === null);
  } catch (err) {
    await stopTree(s.child);
    throw new Error(`${(err as Error).message}\n${s.output()}`);
  }
  return { url, pid: s.child.pid as number, how: `uvicorn ${o.style}`, stop: () => stopTree(s.child) };
}

/**
 * `answer`: the fixed answer; `echo`: answer with the request body instead;
 * `threads`: that many servers on worker threads sharing the port (reusePort);
 * `hop`: the server on a worker thread, each request sent to the main thread
 * and back ('batch': those of one event-loop turn in one message;
 * bench/baselines/bare-node.ts).
 */
export async function startBareNode(o: { cpus?: string; answer?: string; echo?: boolean; threads?: number; hop?: boolean | 'batch' }): Promise<Running> {
  const args = [join(REPO, 'bench', 'baselines', 'bare-node.ts'), '--port', '0'];
  if (o.answer !== undefined) args.push('--body', o.answer);
  if (o.echo === true) args.push('--echo');
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  if (o.hop === true) args.push('--hop');
  if (o.hop === 'batch') args.push('--hop-batch');
  const s = spawnServer(NODE, [...NODE_FLAGS, ...args], { cpus: o.cpus });
  const m = await s.waitFor(/listening (\d+)/, 30_000);
  const how = o.hop === 'batch' ? 'node:http on a worker thread, postMessage to the main thread and back, one message per event-loop turn' : o.hop === true ? 'node:http on a worker thread, postMessage to the main thread and back' : (o.threads ?? 1) > 1 ? `node:http on ${o.threads} threads, reusePort` : 'node:http';
  return { url: `http://127.0.0.1:${m[1]}/`, pid: s.child.pid as number, how, stop: () => stopTree(s.child) };
}

/** bench/baselines/bare-bridge.ts: node:http straight onto one Python worker. */
export async function startBareBridge(p: PredictorSpec, o: { python: string; cpus?: string }): Promise<Running> {
  const s = spawnServer(NODE, [...NODE_FLAGS, join(REPO, 'bench', 'baselines', 'bare-bridge.ts'), '--predictor', p.path, '--config', JSON.stringify(p.config), '--threads', String(p.threads), '--python', o.python], { cpus: o.cpus });
  try {
    const m = await s.waitFor(/listening (\d+)/, 60_000);
    return { url: `http://127.0.0.1:${m[1]}/`, pid: s.child.pid as number, how: 'node:http → PythonWorker', stop: () => stopTree(s.child) };
  } catch (err) {
    await stopTree(s.child);
    throw err;
  }
}
