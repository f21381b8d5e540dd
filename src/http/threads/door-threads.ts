// serve --http-threads N: the front door on N worker threads, all listening
// on one port (reusePort), while the main thread keeps the pools, the
// autoscalers and the worker pipes. A thread parses HTTP, admits or refuses
// (shared counters, pool/admission.ts) and reads bodies; the main thread
// dispatches admitted requests and sends the answers back.
import { createServer } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { ApiPool } from '../../pool/api-pool.ts';
import type { Job, Ticket } from '../../pool/job.ts';
import type { Reply } from '../../pool/reply.ts';
import { doorThreadFile } from '../../own-files.ts';
import type { LocalBackend } from '../backend.ts';
import { ByteBudget } from '../byte-budget.ts';
import type { RefusalTally } from '../refusal-tally.ts';
import { DownOutbox, readUp, type Batch, type ColdDown, type ColdUp, type Command, type Control, type DoorThreadData, type Query, type UpHandler } from './protocol.ts';

/** How long a thread may take to close its connections before it is terminated. */
const CLOSE_GRACE_MS = 5_000;

export interface DoorThreadsOptions {
  count: number;
  /** the APIs, as the main-thread front door would reach them */
  local: LocalBackend;
  maxBody: number;
  apiKey: string | undefined;
  bodyTimeoutMs: number;
  queuedBytes: ByteBudget;
  refusals: RefusalTally;
  log: (line: string) => void;
}

/** A request admitted on a front-door thread, dispatched here; its answer goes back down by id. */
class ThreadJob implements Job {
  readonly body: Buffer;
  readonly #thread: DoorThread;
  readonly #id: number;

  constructor(thread: DoorThread, id: number, body: Buffer) {
    this.#thread = thread;
    this.#id = id;
    this.body = body;
  }

  reply(reply: Reply): void {
    this.#thread.answer(this.#id).reply(this.#id, reply);
  }
}

/** One front-door thread as the main thread sees it. */
class DoorThread implements UpHandler {
  readonly worker: Worker;
  readonly #outbox: DownOutbox;
  /** the tickets of this thread's jobs by id (the thread's slots) */
  readonly #tickets: (Ticket | undefined)[] = [];
  /** the pools, reached as the main-thread front door reaches them */
  readonly #local: LocalBackend;
  readonly #unreceived: Int32Array;

  constructor(local: LocalBackend, data: DoorThreadData) {
    this.#local = local;
    this.#unreceived = new Int32Array(data.unreceived);
    this.worker = new Worker(doorThreadFile(), { workerData: data });
    // Answers settled while one pipe read is handled go down in one message.
    this.#outbox = new DownOutbox((batch, transfer) => this.worker.postMessage(batch, transfer), queueMicrotask);
    this.worker.on('message', (m: Batch<ColdUp> | Control) => {
      if (!('hot' in m)) return;
      if (m.hot !== null) readUp(m.hot, this);
      if (m.cold !== null) for (const c of m.cold) this.#receive(c);
    });
  }

  /** Resolves with the port once the thread listens; rejects with why it could not. */
  listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: Batch<ColdUp> | Control) => {
        if ('hot' in m) return;
        this.worker.off('message', onMessage);
        this.worker.off('error', reject);
        if (m.t === 'listening') resolve(m.port);
        else reject(Object.assign(new Error(m.message), { code: m.code }));
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
    });
  }

  /** The outbox for job `id`'s answer, the job forgotten. */
  answer(id: number): DownOutbox {
    this.#tickets[id] = undefined;
    return this.#outbox;
  }

  send(m: ColdDown): void {
    this.#outbox.cold(m);
  }

  /** After every answer already settled. */
  command(c: Command): void {
    this.#outbox.flush();
    this.worker.postMessage(c);
  }

  job(id: number, gate: number, body: Buffer): void {
    Atomics.sub(this.#unreceived, gate, 1);
    this.#tickets[id] = this.#local.gates[gate].dispatch(new ThreadJob(this, id, body));
  }

  cancel(id: number): void {
    this.#tickets[id]?.abandon();
  }

  release(gate: number): void {
    Atomics.sub(this.#unreceived, gate, 1);
    this.#local.gates[gate].release();
  }

  /** The thread is gone: what it admitted and never handed over is released. */
  releaseUnreceived(): number {
    let n = 0;
    this.#local.gates.forEach((g, gate) => {
      for (let left = Atomics.exchange(this.#unreceived, gate, 0); left > 0; left--, n++) g.release();
    });
    return n;
  }

  answered(gate: number, code: number, seconds: number | null): void {
    this.#local.answered(gate, code, seconds);
  }

  #receive(m: ColdUp): void {
    if (m.t === 'log') {
      this.#local.log(m.line);
      return;
    }
    this.#ask(m.query).then(
      (value) => this.send({ t: 'reply', id: m.id, value }),
      (err: unknown) => this.send({ t: 'reply-error', id: m.id, message: (err as Error).message }),
    );
  }

  /** A thread's question about the APIs, answered as the main-thread front door would. */
  #ask(query: Query): Promise<unknown> {
    switch (query.what) {
      case 'summary':
        return this.#local.summary(query.gate, query.memory);
      case 'history':
        return this.#local.history(query.gate);
      case 'autoscaler':
        return this.#local.autoscaler(query.gate);
      case 'logs':
        return this.#local.logs(query.gate, query.after, query.limit);
      case 'notReady':
        return this.#local.notReady();
      case 'metrics':
        return this.#local.metrics();
    }
  }
}

export class DoorThreads {
  readonly #opts: DoorThreadsOptions;
  readonly #local: LocalBackend;
  readonly #pools: readonly ApiPool[];
  readonly #threads: DoorThread[] = [];
  readonly #initErrors: (string | null)[];
  #address: { host: string; port: number } | null = null;
  #closing = false;

  constructor(opts: DoorThreadsOptions) {
    this.#opts = opts;
    this.#local = opts.local;
    this.#pools = opts.local.parts.map((p) => p.pool);
    this.#initErrors = this.#pools.map((p) => p.initError);
    this.#pools.forEach((pool, i) => {
      // A refusal's text names the __init__ error; the threads learn it when it changes.
      pool.on('state', () => {
        const text = pool.initError;
        if (text === this.#initErrors[i]) return;
        this.#initErrors[i] = text;
        for (const t of this.#threads) t.send({ t: 'init-error', gate: i, text });
      });
    });
  }

  /** the front-door threads running now */
  get workers(): Worker[] {
    return this.#threads.map((t) => t.worker);
  }

  /** Binds every thread to one port; resolves with it. */
  async listen(host: string, port: number): Promise<number> {
    // Sockets bound with reusePort share a port with any other socket that
    // set it, even another server's. A plain bind first finds the port
    // taken (and picks one when port is 0); the threads then bind it, which
    // leaves a short gap in which another program could take it.
    const bound = await probe(host, port);
    this.#address = { host, port: bound };
    for (let i = 0; i < this.#opts.count; i++) await this.#spawn();
    return bound;
  }

  /** Each thread stops admitting and closes its connections after their answers. */
  beginShutdown(): void {
    this.#closing = true;
    for (const t of this.#threads) t.command({ t: 'shutdown' });
  }

  /** Closes every connection (answers already settled go out first) and ends the threads. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#threads.map(async (t) => {
        const exited = new Promise((resolve) => t.worker.once('exit', resolve));
        t.command({ t: 'close' });
        const timer = setTimeout(() => void t.worker.terminate(), CLOSE_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  kill(): void {
    this.#closing = true;
    for (const t of this.#threads) void t.worker.terminate();
  }

  async #spawn(): Promise<void> {
    const addr = this.#address as { host: string; port: number };
    const o = this.#opts;
    const data: DoorThreadData = {
      host: addr.host,
      port: addr.port,
      maxBody: o.maxBody,
      apiKey: o.apiKey,
      bodyTimeoutMs: o.bodyTimeoutMs,
      queuedBytes: o.queuedBytes.buffer,
      maxQueuedBytes: o.queuedBytes.limit,
      queuedBytesShare: ByteBudget.newShare(),
      refusalTally: o.refusals.buffer,
      apis: this.#pools.map((p, i) => ({
        name: p.api.name,
        endpoint: p.api.endpoint,
        maxReplicaConcurrency: p.api.autoscaling.max_replica_concurrency,
        admission: p.admission.buffer,
        initError: this.#initErrors[i],
      })),
      unreceived: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * this.#pools.length),
    };
    const thread = new DoorThread(this.#local, data);
    this.#threads.push(thread);
    try {
      await thread.listening();
    } catch (err) {
      this.#threads.splice(this.#threads.indexOf(thread), 1);
      await thread.worker.terminate();
      throw err;
    }
    const threadId = thread.worker.threadId;
    thread.worker.once('exit', (code) => {
      this.#threads.splice(this.#threads.indexOf(thread), 1);
      const lost = thread.releaseUnreceived();
      o.queuedBytes.giveBackShare(data.queuedBytesShare);
      if (this.#closing) return;
      // A bug, not a request: its connections are lost, the port keeps being served.
      o.log(`front-door thread ${threadId} stopped (exit code ${code}) with ${lost} admitted request${lost === 1 ? '' : 's'} not yet handed over; starting another`);
      this.#spawn().catch((err: unknown) => o.log(`could not start a front-door thread: ${(err as Error).message}`));
    });
    thread.worker.on('error', (err) => o.log(`front-door thread ${threadId} failed: ${err.stack ?? err.message}`));
  }
}

function probe(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port }, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
      server.close(() => resolve(bound));
    });
  });
}
