// Fake worker processes and a fake clock for the pool's fault rules: a test
// plays the worker's part (ready, started, a reply, a death) and reads what the
// pool did (requests sent, signals, answers).
import { performance } from 'node:perf_hooks';
import { joined, type Bytes } from '../../src/bytes.ts';
import type { WorkerExit } from '../../src/python-bridge/worker-process.ts';
import type { Job } from '../../src/pool/job.ts';
import type { Reply } from '../../src/pool/reply.ts';
import type { Timers } from '../../src/pool/timers.ts';
import type { SpawnWorker, WorkerEvents, WorkerProcess } from '../../src/pool/worker-slot.ts';

let nextPid = 1000;

export class FakeWorker implements WorkerProcess {
  readonly pid = nextPid++;
  readonly events: WorkerEvents;
  /** request ids sent, in order, with their bodies */
  readonly sent: { id: number; body: string }[] = [];
  readonly signals: NodeJS.Signals[] = [];
  shutdownAsked = false;
  exited = false;
  /** what the pool told it of looking for requests before it blocks, in order (microseconds) */
  readonly busyPolls: number[] = [];

  constructor(events: WorkerEvents) {
    this.events = events;
  }

  send(id: number, body: Bytes): void {
    this.sent.push({ id, body: joined(body).toString() });
  }

  shutdown(): void {
    this.shutdownAsked = true;
  }

  busyPoll(microseconds: number): void {
    this.busyPolls.push(microseconds);
  }

  /** SIGKILL ends the fake in a microtask, as a real exit comes later than the signal; other signals are only recorded. */
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGKILL') queueMicrotask(() => this.exit({ code: null, signal: 'SIGKILL' }));
  }

  /** the id the pool gave the request whose body is `body` */
  idOf(body: string): number {
    const found = this.sent.find((s) => s.body === body);
    if (found === undefined) throw new Error(`fake worker ${this.pid} was not sent ${body}; it was sent ${JSON.stringify(this.sent)}`);
    return found.id;
  }

  ready(modelSignature: unknown = null): void {
    this.events.ready(modelSignature);
  }

  start(body: string): void {
    this.events.started(this.idOf(body), performance.now());
  }

  /** The reply to the request whose body is `body`: by default a JSON prediction echoing it. */
  answer(body: string, reply?: Reply): void {
    this.events.replied(this.idOf(body), reply ?? { kind: 'prediction', contentType: 'application/json', body: Buffer.from(body) }, performance.now());
  }

  exit(exit: WorkerExit = { code: null, signal: 'SIGKILL' }): void {
    if (this.exited) return;
    this.exited = true;
    this.events.exited(exit);
  }
}

export function fakeSpawner(): { spawn: SpawnWorker; workers: FakeWorker[] } {
  const workers: FakeWorker[] = [];
  return {
    workers,
    spawn: (events) => {
      const w = new FakeWorker(events);
      workers.push(w);
      return w;
    },
  };
}

/** Timers that run only when the test moves the clock. */
export class FakeTimers implements Timers {
  now = 0;
  #seq = 0;
  readonly #due = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#due.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }

  clock(): number {
    return this.now;
  }

  /** delays of the timers pending now, soonest first */
  get pending(): number[] {
    return [...this.#due.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Moves the clock, running every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.#due) if (e[1].at <= until && (next === null || e[1].at < next[1].at)) next = e;
      if (next === null) break;
      this.#due.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }
}

/** A job that records its answer. */
export function recordingJob(body: string): Job & { replies: Reply[] } {
  const replies: Reply[] = [];
  return { body: Buffer.from(body), queuedAt: performance.now(), replies, reply: (r) => replies.push(r) };
}

/** Lets queued microtasks (fake exits) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
