// serve --http-threads N: the front door on N worker threads, all listening
// on one port (reusePort), while the main thread keeps the pools, the
// autoscalers and the worker pipes. A thread parses HTTP, admits or refuses
// (shared counters, pool/admission.ts) and reads bodies; the main thread
// dispatches admitted requests and sends the answers back. When the APIs
// change, each thread gets the new routing table whole and says when it
// routes by it.
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Admission } from '../../pool/admission.ts';
import type { Job, Ticket } from '../../pool/job.ts';
import type { Reply } from '../../pool/reply.ts';
import { doorThreadFile } from '../../own-files.ts';
import type { LocalBackend, PoolGate } from '../backend.ts';
import { ByteBudget } from '../byte-budget.ts';
import { DownOutbox, readUp, type Batch, type ColdDown, type ColdUp, type Command, type Control, type DoorThreadData, type Query, type RouteData, type UpHandler } from './protocol.ts';

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
  log: (line: string) => void;
}

/** A request admitted on a front-door thread, dispatched here; its answer goes back down by id. */
class ThreadJob implements Job {
  readonly body: Buffer;
  readonly queuedAt: number;
  readonly #thread: DoorThread;
  readonly #id: number;

  constructor(thread: DoorThread, id: number, body: Buffer, queuedAt: number) {
    this.#thread = thread;
    this.#id = id;
    this.body = body;
    this.queuedAt = queuedAt;
  }

  reply(reply: Reply): void {
    this.#thread.answer(this.#id).reply(this.#id, reply);
  }
}

/** One front-door thread as the main thread sees it. */
class DoorThread implements UpHandler {
  readonly worker: Worker;
  readonly position: number;
  /** the routing table it has said it routes by */
  routesApplied: number;
  readonly #outbox: DownOutbox;
  /** the tickets of this thread's jobs by id (the thread's slots) */
  readonly #tickets: (Ticket | undefined)[] = [];
  /** the pools, reached as the main-thread front door reaches them */
  readonly #local: LocalBackend;
  readonly #threads: DoorThreads;
  /** performance.now() when the message being read came: the jobs it carries were queued then */
  #receivedAt = 0;

  constructor(threads: DoorThreads, local: LocalBackend, data: DoorThreadData) {
    this.#threads = threads;
    this.#local = local;
    this.position = data.position;
    this.routesApplied = data.routes.seq;
    this.worker = new Worker(doorThreadFile(), { workerData: data });
    // Answers settled while one pipe read is handled go down in one message.
    this.#outbox = new DownOutbox((batch, transfer) => this.worker.postMessage(batch, transfer), queueMicrotask);
    this.worker.on('message', (m: Batch<ColdUp> | Control) => {
      if (!('hot' in m)) return;
      if (m.hot !== null) {
        this.#receivedAt = performance.now();
        readUp(m.hot, this);
      }
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

  // A gate lives until its pool has stopped, which waits for every request
  // admitted for it, this one included: it is here.
  job(id: number, gate: number, body: Buffer): void {
    Atomics.sub(this.#threads.unreceived(gate), this.position, 1);
    this.#tickets[id] = (this.#local.gate(gate) as PoolGate).dispatch(new ThreadJob(this, id, body, this.#receivedAt));
  }

  cancel(id: number): void {
    this.#tickets[id]?.abandon();
  }

  release(gate: number): void {
    Atomics.sub(this.#threads.unreceived(gate), this.position, 1);
    this.#local.gate(gate)?.release();
  }

  /** The thread is gone: what it admitted and never handed over is released. */
  releaseUnreceived(): number {
    let n = 0;
    for (const [gate, counts] of this.#threads.allUnreceived()) {
      const g = this.#local.gate(gate);
      for (let left = Atomics.exchange(counts, this.position, 0); left > 0; left--, n++) g?.release();
    }
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
    if (m.t === 'routes-applied') {
      this.routesApplied = m.seq;
      this.#threads.checkRoutes();
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
      case 'admin':
        return this.#local.admin(query.request);
    }
  }
}

/** What the threads are told of one API, and how it is watched. */
interface Routed {
  /** RouteData.unreceived, one Int32 per thread position */
  unreceived: Int32Array;
  initError: string | null;
  /** stops telling the threads when the API's __init__ error changes (a refusal's text names it) */
  unwatch: () => void;
}

export class DoorThreads {
  readonly #opts: DoorThreadsOptions;
  readonly #local: LocalBackend;
  readonly #threads: DoorThread[] = [];
  /** by gate id: routed APIs, and deleted ones until their gate retires */
  readonly #routed = new Map<number, Routed>();
  #routes: { seq: number; apis: RouteData[] } = { seq: 0, apis: [] };
  readonly #waiting: { seq: number; resolve: () => void }[] = [];
  #address: { host: string; port: number } | null = null;
  #closing = false;

  constructor(opts: DoorThreadsOptions) {
    this.#opts = opts;
    this.#local = opts.local;
    this.#routes = { seq: 0, apis: this.#routeData() };
  }

  /** the front-door threads running now */
  get workers(): Worker[] {
    return this.#threads.map((t) => t.worker);
  }

  /** The API of gate `gate`'s counts of requests admitted by each thread and not yet received. */
  unreceived(gate: number): Int32Array {
    return (this.#routed.get(gate) as Routed).unreceived;
  }

  allUnreceived(): [number, Int32Array][] {
    return [...this.#routed].map(([gate, r]) => [gate, r.unreceived]);
  }

  /**
   * The backend's APIs changed: every thread gets the new routing table.
   * Resolves once each thread routes by it (or has died, its successor
   * starting with it).
   */
  routesChanged(): Promise<void> {
    const seq = this.#routes.seq + 1;
    this.#routes = { seq, apis: this.#routeData() };
    for (const t of this.#threads) t.send({ t: 'routes', ...this.#routes });
    return new Promise((resolve) => {
      this.#waiting.push({ seq, resolve });
      this.checkRoutes();
    });
  }

  /** Resolves the routesChanged() calls every live thread has applied. */
  checkRoutes(): void {
    for (const w of [...this.#waiting]) {
      if (this.#threads.every((t) => t.routesApplied >= w.seq)) {
        this.#waiting.splice(this.#waiting.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  #routeData(): RouteData[] {
    const gates = this.#local.gates;
    for (const [id, r] of this.#routed) {
      if (this.#local.gate(id) !== undefined) continue;
      this.#routed.delete(id);
      r.unwatch();
    }
    return gates.map((gate) => {
      let r = this.#routed.get(gate.id);
      if (r === undefined) r = this.#watch(gate);
      const admission = gate.parts.pool.admission;
      if (!(admission instanceof Admission)) throw new Error(`internal: API ${gate.name}'s pool counts admissions on the main thread only; a server with front-door threads gives its pools sharedAdmission`);
      return {
        id: gate.id,
        name: gate.name,
        endpoint: gate.endpoint,
        maxReplicaConcurrency: gate.maxReplicaConcurrency,
        admission: admission.buffer,
        refusals: gate.refusals.buffer,
        unreceived: r.unreceived.buffer as SharedArrayBuffer,
        initError: r.initError,
      };
    });
  }

  /** Starts following an API's __init__ error for the threads. */
  #watch(gate: PoolGate): Routed {
    const pool = gate.parts.pool;
    const onState = () => {
      const text = pool.initError;
      if (text === r.initError) return;
      r.initError = text;
      for (const t of this.#threads) t.send({ t: 'init-error', gate: gate.id, text });
    };
    const r: Routed = {
      unreceived: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * this.#opts.count)),
      initError: pool.initError,
      unwatch: () => pool.off('state', onState),
    };
    pool.on('state', onState);
    this.#routed.set(gate.id, r);
    return r;
  }

  /** Binds every thread to one port; resolves with it. */
  async listen(host: string, port: number): Promise<number> {
    // Sockets bound with reusePort share a port with any other socket that
    // set it, even another server's. A plain bind first finds the port
    // taken (and picks one when port is 0); the threads then bind it, which
    // leaves a short gap in which another program could take it.
    const bound = await probe(host, port);
    this.#address = { host, port: bound };
    for (let i = 0; i < this.#opts.count; i++) await this.#spawn(i);
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

  async #spawn(position: number): Promise<void> {
    const addr = this.#address as { host: string; port: number };
    const o = this.#opts;
    const data: DoorThreadData = {
      position,
      host: addr.host,
      port: addr.port,
      maxBody: o.maxBody,
      apiKey: o.apiKey,
      bodyTimeoutMs: o.bodyTimeoutMs,
      queuedBytes: o.queuedBytes.buffer,
      maxQueuedBytes: o.queuedBytes.limit,
      queuedBytesShare: ByteBudget.newShare(),
      routes: this.#routes,
    };
    const thread = new DoorThread(this, this.#local, data);
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
      this.checkRoutes();
      if (this.#closing) return;
      // A bug, not a request: its connections are lost, the port keeps being served.
      o.log(`front-door thread ${threadId} stopped (exit code ${code}) with ${lost} admitted request${lost === 1 ? '' : 's'} not yet handed over; starting another`);
      this.#spawn(position).catch((err: unknown) => o.log(`could not start a front-door thread: ${(err as Error).message}`));
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
