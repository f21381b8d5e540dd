// Runs `bin/cortex-local serve` as users do (a real process on a free port)
// and reads its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { testPython } from './python.ts';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'cortex-local');

/** A request id the server made: a random UUID, version 4 (src/http/request-id.ts). */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  /** everything printed so far, stdout and stderr */
  output(): string;
  /** resolves with the first output line matching `re`, waiting up to `timeoutMs` */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** sends a signal and resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * A suite run with the front door on threads: set before the suite's module is
 * imported (see test/threads/), it adds `--http-threads N` to every server.
 */
export const HTTP_THREADS_ENV = 'CORTEX_LOCAL_TEST_HTTP_THREADS';

/**
 * `command`: what runs `serve …` (default [bin ?? BIN]), e.g. ['npx', '--yes', TARBALL].
 * `group`: the command runs in a process group of its own and stop() signals
 * the whole group, as a terminal's Ctrl-C does (npx does not pass signals on).
 */
export async function startServer(
  dir: string,
  args: string[] = [],
  opts: { waitForApis?: string[]; env?: NodeJS.ProcessEnv; bin?: string; command?: string[]; cwd?: string; group?: boolean } = {},
): Promise<ServerProcess> {
  const threads = process.env[HTTP_THREADS_ENV];
  const threaded = threads === undefined ? [] : ['--http-threads', threads];
  const [command, ...before] = opts.command ?? [opts.bin ?? BIN];
  const proc = spawn(command, [...before, 'serve', dir, '--port', '0', '--python', testPython, ...threaded, ...args], {
    cwd: opts.cwd,
    detached: opts.group === true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let text = '';
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of [...waiters]) {
      const line = text.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const waitFor = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const line = text.split('\n').find((l) => re.test(l));
      if (line !== undefined) return resolve(line);
      const timer = setTimeout(() => reject(new Error(`no output line matching ${re} within ${timeoutMs} ms; output:\n${text}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code}) before printing ${re}; output:\n${text}`));
      });
    });

  const server: ServerProcess = {
    proc,
    url: '',
    output: () => text,
    waitFor,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) {
        if (opts.group === true) process.kill(-(proc.pid as number), signal);
        else proc.kill(signal);
      }
      return exited;
    },
    exited,
  };
  const line = await waitFor(/^cortex-local serving .* on (http:\/\/\S+)/);
  server.url = /on (http:\/\/\S+)/.exec(line)![1];
  for (const api of opts.waitForApis ?? []) await waitFor(new RegExp(`^api ${api} ready at `));
  return server;
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 20_000,
  explain?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `; state: ${explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
