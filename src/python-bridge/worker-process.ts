// One Python worker process: spawn, framed request channel, readiness, exit.
// Knows nothing of replicas or HTTP; the pool decides what to do with events.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pythonRuntimeDir } from '../own-files.ts';
import { encodeHeader, FrameDecoder, Kind } from './frames.ts';

/** python/ of this package: holds the cortex_local_worker module. */
export const RUNTIME_DIR = pythonRuntimeDir();

const FD_TO_WORKER = 3;
const FD_FROM_WORKER = 4;

export interface WorkerInit {
  type: string;
  /** absolute path of the predictor file */
  path: string;
  python_path: string;
  config: Record<string, unknown>;
  threads: number;
  /** onnx/tensorflow: predictor.model as resolved (an absolute path or s3://…) */
  model?: string | null;
  signature_key?: string | null;
  /** onnx/tensorflow: where downloaded and extracted models are kept */
  models_dir?: string;
}

export interface WorkerSpec {
  python: string;
  /** working directory: the project folder, as Cortex's /mnt/project */
  cwd: string;
  /** the environment on top of which the runtime's own variables are set */
  env: NodeJS.ProcessEnv;
  init: WorkerInit;
}

export type ReplyCallback = (kind: number, payload: Buffer) => void;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the process could not be spawned at all */
  error?: Error;
}

/**
 * Events: 'ready' (info), 'init-error' (traceback), 'output' (stream, line),
 * 'exit' (WorkerExit) — emitted once, after every reply the worker wrote has
 * been delivered; callbacks still waiting then never get a reply.
 */
export class PythonWorker extends EventEmitter {
  readonly spec: WorkerSpec;
  #child: ChildProcess | null = null;
  #toWorker: Writable | null = null;
  // Callbacks by slot (frame id = slot + 1), free slots reused. A Map keyed
  // by ever-growing ids kept finished requests reachable until a full GC:
  // 20-30 ms scavenges and a 27 ms p99 at 64 connections (bench/results/p99-findings.md).
  #callbacks: (ReplyCallback | undefined)[] = [];
  #freeSlots: number[] = [];
  #corked = false;
  #exited = false;

  constructor(spec: WorkerSpec) {
    super();
    this.spec = spec;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    const env = { ...this.spec.env };
    env.PYTHONPATH = env.PYTHONPATH ? `${RUNTIME_DIR}:${env.PYTHONPATH}` : RUNTIME_DIR;
    env.PYTHONUNBUFFERED = '1';
    const child = spawn(this.spec.python, ['-m', 'cortex_local_worker', String(FD_TO_WORKER), String(FD_FROM_WORKER)], {
      cwd: this.spec.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Own process group: Ctrl-C in the terminal reaches only the server,
      // which drains first; stop() can signal the predictor's children too.
      detached: true,
    });
    this.#child = child;
    this.#toWorker = child.stdio[FD_TO_WORKER] as Writable;
    const fromWorker = child.stdio[FD_FROM_WORKER] as Readable;
    const decoder = new FrameDecoder((id, kind, payload) => this.#onFrame(id, kind, payload));
    fromWorker.on('data', (chunk: Buffer) => decoder.push(chunk));
    // EPIPE when the worker dies with writes queued: the exit path reports it.
    this.#toWorker.on('error', () => {});
    fromWorker.on('error', () => {});
    this.#forwardLines(child.stdout as Readable, 'stdout');
    this.#forwardLines(child.stderr as Readable, 'stderr');

    child.once('error', (error) => {
      // spawn failure: 'close' may never come
      if (child.pid === undefined) this.#finish({ code: null, signal: null, error });
    });
    child.once('exit', () => {
      // Reap anything the predictor started in our group, so the pipes close.
      this.#signalGroup('SIGKILL');
    });
    child.once('close', (code, signal) => this.#finish({ code, signal }));

    this.#send(0, Kind.INIT, Buffer.from(JSON.stringify(this.spec.init)));
  }

  /** Sends one request; `callback` gets exactly one reply unless the worker exits first. */
  predict(body: Buffer, callback: ReplyCallback): number {
    const slot = this.#freeSlots.pop() ?? this.#callbacks.length;
    this.#callbacks[slot] = callback;
    const id = slot + 1;
    this.#send(id, Kind.PREDICT, body);
    return id;
  }

  /** Asks the worker to finish what it has and exit. */
  shutdown(): void {
    if (!this.#exited) this.#send(0, Kind.SHUTDOWN, Buffer.alloc(0));
  }

  /** Signals the worker's whole process group. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#signalGroup(signal);
  }

  #send(id: number, kind: number, payload: Buffer): void {
    const out = this.#toWorker;
    if (out === null || this.#exited || out.destroyed) return;
    // Requests written in the same turn of the event loop go out in one
    // writev: the worker then reads them in one read.
    if (!this.#corked) {
      this.#corked = true;
      out.cork();
      setImmediate(() => {
        this.#corked = false;
        out.uncork();
      });
    }
    out.write(encodeHeader(payload.length, id, kind));
    if (payload.length > 0) out.write(payload);
  }

  #onFrame(id: number, kind: number, payload: Buffer): void {
    if (kind === Kind.READY) {
      this.emit('ready', JSON.parse(payload.toString('utf8')));
      return;
    }
    if (kind === Kind.INIT_ERROR) {
      this.emit('init-error', payload.toString('utf8'));
      return;
    }
    const slot = id - 1;
    const callback = this.#callbacks[slot];
    if (callback === undefined) return;
    this.#callbacks[slot] = undefined;
    this.#freeSlots.push(slot);
    callback(kind, payload);
  }

  #forwardLines(stream: Readable, name: 'stdout' | 'stderr'): void {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.emit('output', name, line);
    });
    stream.on('end', () => {
      if (rest) this.emit('output', name, rest);
    });
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      // ESRCH: the group is already gone, which is what we wanted.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  #finish(exit: WorkerExit): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#callbacks = [];
    this.#freeSlots = [];
    this.emit('exit', exit);
  }
}
