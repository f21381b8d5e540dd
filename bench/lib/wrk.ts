// Runs wrk against one URL and returns its numbers (latencies in µs).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '..', 'wrk', 'post.lua');
const MULTI_SCRIPT = join(import.meta.dirname, '..', 'wrk', 'post-multi.lua');

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  /** socket errors plus non-2xx/3xx answers */
  errors: number;
  non2xx: number;
}

export interface WrkOptions {
  url: string;
  bodyFile: string;
  connections: number;
  seconds: number;
  threads: number;
  /** taskset CPU list for wrk itself, or undefined to leave it unpinned */
  cpus?: string;
  /** several endpoints of the same server, requests round-robin over them (bench/wrk/post-multi.lua) */
  paths?: string[];
}

export function runWrk(o: WrkOptions): Promise<LoadResult> {
  const wrkArgs = ['-t', String(Math.min(o.threads, o.connections)), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', o.paths === undefined ? SCRIPT : MULTI_SCRIPT, o.url];
  const [cmd, args] = o.cpus === undefined ? ['wrk', wrkArgs] : ['taskset', ['-c', o.cpus, 'wrk', ...wrkArgs]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, WRK_BODY_FILE: o.bodyFile, WRK_PATHS: (o.paths ?? []).join(',') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk exited ${code}:\n${out}`));
        return;
      }
      const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
      const seconds = r.duration_us / 1e6;
      resolve({
        requests: r.requests,
        seconds,
        rps: r.requests / seconds,
        p50_us: r.p50_us,
        p90_us: r.p90_us,
        p99_us: r.p99_us,
        p999_us: r.p999_us,
        max_us: r.max_us,
        errors: r.connect + r.read + r.write + r.timeout + r.status,
        non2xx: r.status,
      });
    });
  });
}
