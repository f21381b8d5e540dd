// One Python worker process: spawn, the framed request channel, its output as
// log lines, its exit. Knows nothing of replicas or HTTP: it reports what the
// process did to one listener, and the pool decides what that means.
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { byteLength, isParts, joined, type Bytes } from '../bytes.ts';
import { pythonRuntimeDir } from '../own-files.ts';
import { COPY_PAYLOAD_MAX, encodeFrame, encodeHeader, FrameDecoder, Kind } from './frames.ts';
import { LineSplitter } from './lines.ts';

/** python/ of this package: holds the cortex_local_worker module. */
export const RUNTIME_DIR = pythonRuntimeDir();

const FD_TO_WORKER = 3;
const FD_FROM_WORKER = 4;

export interface WorkerInit {
  type: string;
  /** absolute path of the predictor file */
  path: string;
  python_path: string;
  /** the project folder, which file names in init errors are shown relative to (the worker's cwd is its replica's own folder) */
  project_dir: string;
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
  /** working directory: the replica's folder (pool/workdir.ts) */
  cwd: string;
  /** the environment on top of which the runtime's own variables are set */
  env: NodeJS.ProcessEnv;
  init: WorkerInit;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the process could not be spawned at all */
  error?: Error;
}

/** The READY frame's payload. */
export interface WorkerReady {
  pid: number;
  python: string;
  /** onnx/tensorflow: the model's inputs, as Cortex 0.15's GET <endpoint> showed them */
  model_signature?: unknown;
}

/** What a worker process does, as it happens. */
export interface WorkerListener {
  ready(info: WorkerReady): void;
  initError(traceback: string): void;
  /**
   * The worker is about to call predict() for request `id`. `at`, here and in
   * reply(): performance.now() when the read that brought the frame was
   * handed over, one clock reading for all the frames of a read.
   */
  started(id: number, at: number): void;
  /** a reply frame (kind RESULT_JSON, RESULT_BYTES, BAD_REQUEST or PREDICT_ERROR) */
  reply(id: number, kind: number, payload: Bytes, at: number): void;
  /**
   * Complete lines of the worker's stdout or stderr (lines.ts). A promise
   * returned means the log is full: that stream is not read (and the worker
   * blocks on its next print) until it resolves.
   */
  output(stream: 'stdout' | 'stderr', lines: string[]): void | Promise<void>;
  /** the reply pipe carried something that is not a frame: nothing more is read from it */
  malformed(reason: string): void;
  /**
   * Once, when the process has exited, after every frame and line it wrote
   * before exiting has been delivered; its pipes are closed by then.
   */
  exit(exit: WorkerExit): void;
}

/** Kinds a worker may send after READY, with a request id. */
const REPLY_KINDS = new Set<number>([Kind.RESULT_JSON, Kind.RESULT_BYTES, Kind.BAD_REQUEST, Kind.PREDICT_ERROR]);

export class PythonWorker {
  readonly spec: WorkerSpec;
  readonly #listener: WorkerListener;
  #child: ChildProcess | null = null;
  #toWorker: Writable | null = null;
  #streams: Readable[] = [];
  readonly #splitters: { name: 'stdout' | 'stderr'; splitter: LineSplitter }[] = [];
  #corked = false;
  /** performance.now() when the read being decoded was handed over */
  #readAt = 0;
  #exited = false;
  #broken = false;

  constructor(spec: WorkerSpec, listener: WorkerListener) {
    this.spec = spec;
    this.#listener = listener;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    const env = { ...this.spec.env };
    env.PYTHONPATH = env.PYTHONPATH ? `${RUNTIME_DIR}:${env.PYTHONPATH}` : RUNTIME_DIR;
    env.PYTHONUNBUFFERED = '1';
    // The worker checks that this is still its parent once it has asked to die with it.
    env.CORTEX_LOCAL_SERVER_PID = String(process.pid);
    const child = spawn(this.spec.python, ['-m', 'cortex_local_worker', String(FD_TO_WORKER), String(FD_FROM_WORKER)], {
      cwd: this.spec.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Own process group: Ctrl-C in the terminal reaches only the server,
      // which drains first; kill() reaches the predictor's children too.
      detached: true,
    });
    this.#child = child;
    this.#toWorker = child.stdio[FD_TO_WORKER] as Writable;
    const fromWorker = child.stdio[FD_FROM_WORKER] as Readable;
    this.#streams = [fromWorker, child.stdout as Readable, child.stderr as Readable];
    const decoder = new FrameDecoder(
      (id, kind, payload) => this.#onFrame(id, kind, payload),
      (reason) => this.#malformed(reason),
    );
    // At 64 connections a read brings 3 to 45 frames: one clock reading for them all.
    fromWorker.on('data', (chunk: Buffer) => {
      this.#readAt = performance.now();
      decoder.push(chunk);
    });
    // EPIPE/ECONNRESET once the worker is gone: its exit reports what matters.
    this.#toWorker.on('error', () => {});
    fromWorker.on('error', () => {});
    this.#forwardLines(child.stdout as Readable, 'stdout');
    this.#forwardLines(child.stderr as Readable, 'stderr');

    child.once('error', (error) => {
      // spawn failure: no 'exit' comes
      if (child.pid === undefined) this.#finish({ code: null, signal: null, error });
    });
    // The exit, not the pipes closing: a process the predictor started may
    // hold them open for ever.
    child.once('exit', (code, signal) => {
      // Reap what the predictor started in the worker's group.
      this.#signalGroup('SIGKILL');
      // What the worker wrote before it exited is already in the pipes, and
      // the poll phase of this loop turn reads it (libuv reads every ready
      // pipe in the turn it sees the exit, up to 2 MiB each, more than a pipe
      // holds): setImmediate runs after that phase.
      setImmediate(() => this.#finish({ code, signal }));
    });

    this.#send(0, Kind.INIT, Buffer.from(JSON.stringify(this.spec.init)));
  }

  /** Sends request `id`; the worker answers STARTED, then one reply, unless it dies first. */
  send(id: number, body: Bytes): void {
    this.#send(id, Kind.PREDICT, body);
  }

  /** Asks the worker to answer every request it has and exit. */
  shutdown(): void {
    this.#send(0, Kind.SHUTDOWN, Buffer.alloc(0));
  }

  /** How long the worker looks for its next request before it blocks, from now on (0: not at all; pool/busy-poll.ts). */
  busyPoll(microseconds: number): void {
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32LE(microseconds, 0);
    this.#send(0, Kind.BUSY_POLL, payload);
  }

  /** Signals the worker's whole process group. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#signalGroup(signal);
  }

  #send(id: number, kind: number, payload: Bytes): void {
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
    const length = byteLength(payload);
    if (length <= COPY_PAYLOAD_MAX) {
      out.write(encodeFrame(id, kind, payload));
      return;
    }
    out.write(encodeHeader(length, id, kind));
    if (!isParts(payload)) out.write(payload);
    else for (const part of payload) out.write(part);
  }

  #onFrame(id: number, kind: number, payload: Bytes): void {
    if (this.#broken) return;
    if (kind === Kind.STARTED && id !== 0) return this.#listener.started(id, this.#readAt);
    if (REPLY_KINDS.has(kind) && id !== 0) return this.#listener.reply(id, kind, payload, this.#readAt);
    if (kind === Kind.READY && id === 0) {
      const text = joined(payload);
      let info: WorkerReady;
      try {
        info = JSON.parse(text.toString('utf8')) as WorkerReady;
      } catch {
        return this.#malformed(`its READY frame is not JSON: ${JSON.stringify(text.subarray(0, 80).toString('latin1'))}`);
      }
      return this.#listener.ready(info);
    }
    if (kind === Kind.INIT_ERROR && id === 0) return this.#listener.initError(joined(payload).toString('utf8'));
    this.#malformed(`a frame of unknown kind ${kind} (request id ${id}, ${byteLength(payload)} bytes)`);
  }

  #malformed(reason: string): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#listener.malformed(reason);
  }

  #forwardLines(stream: Readable, name: 'stdout' | 'stderr'): void {
    const splitter = new LineSplitter();
    this.#splitters.push({ name, splitter });
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      const lines = splitter.push(text);
      const full = lines.length > 0 ? this.#listener.output(name, lines) : undefined;
      // One chunk per stream per turn of the event loop (libuv would read up
      // to 32 in a row): a flood of output takes turns with HTTP requests.
      stream.pause();
      const turn = new Promise<void>((resolve) => setImmediate(resolve));
      void (full === undefined ? turn : Promise.all([turn, full])).then(() => stream.resume());
    });
    stream.once('end', () => this.#flushLines(name, splitter));
  }

  #flushLines(name: 'stdout' | 'stderr', splitter: LineSplitter): void {
    const last = splitter.end();
    // The last line of a stream that ends: there is nothing left to pause.
    if (last.length > 0) void this.#listener.output(name, last);
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#exited) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      // ESRCH: the group is already gone, which is what we wanted.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  #finish(exit: WorkerExit): void {
    if (this.#exited) return;
    for (const { name, splitter } of this.#splitters) this.#flushLines(name, splitter);
    // Closed here, not left to the far end: a process that outlived the
    // worker could hold them open.
    for (const s of this.#streams) s.destroy();
    this.#toWorker?.destroy();
    this.#exited = true;
    this.#listener.exit(exit);
  }
}
