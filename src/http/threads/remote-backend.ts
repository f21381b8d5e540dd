// The Backend of a front-door thread: admission in shared memory, everything
// else as messages to the main thread (door-threads.ts answers them). The
// routing table comes from the main thread too, whole, each time the APIs
// change.
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { Admission } from '../../pool/admission.ts';
import type { Job, Ticket } from '../../pool/job.ts';
import type { Reply } from '../../pool/reply.ts';
import type { AdminAnswer, AdminRequest } from '../admin.ts';
import type { Backend, Gate } from '../backend.ts';
import { RefusalTally } from '../refusal-tally.ts';
import type { ApiHistory, ApiSummary, AutoscalerView, LogsView } from '../status.ts';
import { readDown, UpOutbox, type Batch, type ColdDown, type DoorThreadData, type Query, type RouteData } from './protocol.ts';

class RemoteGate implements Gate {
  readonly id: number;
  readonly name: string;
  readonly endpoint: string;
  readonly maxReplicaConcurrency: number;
  readonly refusals: RefusalTally;
  initError: string | null;
  readonly #admission: Admission;
  readonly #unreceived: Int32Array;
  readonly #position: number;
  readonly #backend: RemoteBackend;

  constructor(backend: RemoteBackend, route: RouteData, position: number) {
    this.#backend = backend;
    this.id = route.id;
    this.name = route.name;
    this.endpoint = route.endpoint;
    this.maxReplicaConcurrency = route.maxReplicaConcurrency;
    this.initError = route.initError;
    this.refusals = new RefusalTally(route.refusals);
    this.#admission = new Admission(route.maxReplicaConcurrency, route.admission);
    this.#unreceived = new Int32Array(route.unreceived);
    this.#position = position;
  }

  get readyReplicas(): number {
    return this.#admission.readyReplicas;
  }

  get inFlight(): number {
    return this.#admission.inFlight;
  }

  get capacity(): number {
    return this.#admission.capacity;
  }

  tryAdmit(): boolean {
    if (!this.#admission.tryAdmit()) return false;
    Atomics.add(this.#unreceived, this.#position, 1);
    return true;
  }

  // Released on the main thread once it receives this: until then the
  // request counts among this thread's unreceived ones (RouteData).
  release(): void {
    this.#backend.outbox.release(this.id);
  }

  dispatch(job: Job): Ticket {
    return this.#backend.dispatch(this.id, job);
  }
}

export class RemoteBackend implements Backend {
  gates: RemoteGate[];
  readonly outbox: UpOutbox;
  /** called after the routing table changed (the front door swaps its own) */
  onRoutes: () => void = () => {};
  readonly #position: number;
  /** jobs sent up, by id: ids are slots, reused once answered */
  readonly #jobs: (Job | undefined)[] = [];
  readonly #free: number[] = [];
  readonly #asked = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #nextAsk = 0;
  /** performance.now() when the message being read came: its answers came then */
  #receivedAt = 0;
  readonly #reply = (id: number, reply: Reply) => {
    const job = this.#take(id);
    if (job !== undefined) job.reply(reply, this.#receivedAt);
  };

  constructor(port: MessagePort, data: DoorThreadData) {
    this.#position = data.position;
    this.gates = data.routes.apis.map((route) => new RemoteGate(this, route, data.position));
    // Requests whose bodies end in the same turn (one poll of many sockets)
    // go up in one message.
    this.outbox = new UpOutbox((batch, transfer) => port.postMessage(batch, transfer), setImmediate);
    port.on('message', (m: Batch<ColdDown> | { t: string }) => {
      if (!('hot' in m)) return;
      if (m.hot !== null) {
        this.#receivedAt = performance.now();
        readDown(m.hot, this.#reply);
      }
      if (m.cold !== null) for (const c of m.cold) this.#receive(c);
    });
  }

  dispatch(gate: number, job: Job): Ticket {
    const id = this.#free.pop() ?? this.#jobs.length;
    this.#jobs[id] = job;
    this.outbox.job(id, gate, job.body);
    return {
      abandon: () => {
        // Answered already, and the id perhaps another job's by now.
        if (this.#jobs[id] === job) this.outbox.cancel(id);
      },
    };
  }

  summary(gate: number, memory = false): Promise<ApiSummary> {
    return this.#ask({ what: 'summary', gate, memory }) as Promise<ApiSummary>;
  }

  history(gate: number): Promise<ApiHistory> {
    return this.#ask({ what: 'history', gate }) as Promise<ApiHistory>;
  }

  autoscaler(gate: number): Promise<AutoscalerView> {
    return this.#ask({ what: 'autoscaler', gate }) as Promise<AutoscalerView>;
  }

  logs(gate: number, after: number, limit: number): Promise<LogsView> {
    return this.#ask({ what: 'logs', gate, after, limit }) as Promise<LogsView>;
  }

  notReady(): Promise<string[]> {
    return this.#ask({ what: 'notReady' }) as Promise<string[]>;
  }

  metrics(): Promise<{ contentType: string; text: string }> {
    return this.#ask({ what: 'metrics' }) as Promise<{ contentType: string; text: string }>;
  }

  admin(request: AdminRequest): Promise<AdminAnswer> {
    return this.#ask({ what: 'admin', request }) as Promise<AdminAnswer>;
  }

  answered(gate: number, code: number, seconds: number | null): void {
    this.outbox.answered(gate, code, seconds);
  }

  log(line: string): void {
    this.outbox.cold({ t: 'log', line });
  }

  #take(id: number): Job | undefined {
    const job = this.#jobs[id];
    if (job === undefined) return undefined;
    this.#jobs[id] = undefined;
    this.#free.push(id);
    return job;
  }

  #ask(query: Query): Promise<unknown> {
    const id = this.#nextAsk++;
    return new Promise((resolve, reject) => {
      this.#asked.set(id, { resolve, reject });
      this.outbox.cold({ t: 'ask', id, query });
    });
  }

  #receive(m: ColdDown): void {
    switch (m.t) {
      case 'reply':
      case 'reply-error': {
        const asked = this.#asked.get(m.id);
        if (asked === undefined) return;
        this.#asked.delete(m.id);
        if (m.t === 'reply') asked.resolve(m.value);
        else asked.reject(new Error(m.message));
        return;
      }
      case 'init-error': {
        const gate = this.gates.find((g) => g.id === m.gate);
        if (gate !== undefined) gate.initError = m.text;
        return;
      }
      case 'routes':
        this.gates = m.apis.map((route) => new RemoteGate(this, route, this.#position));
        this.onRoutes();
        this.outbox.cold({ t: 'routes-applied', seq: m.seq });
        return;
    }
  }
}
