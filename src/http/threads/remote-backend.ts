// The Backend of a front-door thread: admission in shared memory, everything
// else as messages to the main thread (door-threads.ts answers them).
import type { MessagePort } from 'node:worker_threads';
import { Admission } from '../../pool/admission.ts';
import type { Job, Ticket } from '../../pool/job.ts';
import type { Reply } from '../../pool/reply.ts';
import type { ApiSummary, Backend, Gate } from '../backend.ts';
import { readDown, UpOutbox, type Batch, type ColdDown, type DoorThreadData, type Query } from './protocol.ts';

class RemoteGate implements Gate {
  readonly name: string;
  readonly endpoint: string;
  readonly maxReplicaConcurrency: number;
  initError: string | null;
  readonly #index: number;
  readonly #admission: Admission;
  readonly #refused: Int32Array;
  readonly #unreceived: Int32Array;
  readonly #backend: RemoteBackend;

  constructor(backend: RemoteBackend, index: number, api: DoorThreadData['apis'][number], refused: Int32Array, unreceived: Int32Array) {
    this.#backend = backend;
    this.#index = index;
    this.name = api.name;
    this.endpoint = api.endpoint;
    this.maxReplicaConcurrency = api.maxReplicaConcurrency;
    this.initError = api.initError;
    this.#admission = new Admission(api.maxReplicaConcurrency, api.admission);
    this.#refused = refused;
    this.#unreceived = unreceived;
  }

  get readyReplicas(): number {
    return this.#admission.readyReplicas;
  }

  get inFlight(): number {
    return this.#admission.inFlight;
  }

  tryAdmit(): boolean {
    if (!this.#admission.tryAdmit()) return false;
    Atomics.add(this.#unreceived, this.#index, 1);
    return true;
  }

  // Released on the main thread once it receives this: until then the
  // request counts among this thread's unreceived ones (DoorThreadData).
  release(): void {
    this.#backend.outbox.release(this.#index);
  }

  dispatch(job: Job): Ticket {
    return this.#backend.dispatch(this.#index, job);
  }

  refused(): void {
    Atomics.add(this.#refused, this.#index, 1);
  }
}

export class RemoteBackend implements Backend {
  readonly gates: RemoteGate[];
  readonly outbox: UpOutbox;
  /** jobs sent up, by id: ids are slots, reused once answered */
  readonly #jobs: (Job | undefined)[] = [];
  readonly #free: number[] = [];
  readonly #asked = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #nextAsk = 0;
  readonly #reply = (id: number, reply: Reply) => {
    const job = this.#take(id);
    if (job !== undefined) job.reply(reply);
  };

  constructor(port: MessagePort, data: DoorThreadData) {
    const refused = new Int32Array(data.refused);
    const unreceived = new Int32Array(data.unreceived);
    this.gates = data.apis.map((api, i) => new RemoteGate(this, i, api, refused, unreceived));
    // Requests whose bodies end in the same turn (one poll of many sockets)
    // go up in one message.
    this.outbox = new UpOutbox((batch, transfer) => port.postMessage(batch, transfer), setImmediate);
    port.on('message', (m: Batch<ColdDown> | { t: string }) => {
      if (!('hot' in m)) return;
      if (m.hot !== null) readDown(m.hot, this.#reply);
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

  summary(gate: number): Promise<ApiSummary> {
    return this.#ask({ what: 'summary', gate }) as Promise<ApiSummary>;
  }

  notReady(): Promise<string[]> {
    return this.#ask({ what: 'notReady' }) as Promise<string[]>;
  }

  metrics(): Promise<{ contentType: string; text: string }> {
    return this.#ask({ what: 'metrics' }) as Promise<{ contentType: string; text: string }>;
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
      case 'init-error':
        this.gates[m.gate].initError = m.text;
        return;
    }
  }
}
