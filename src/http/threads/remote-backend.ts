// The Backend of a front-door thread: admission in shared memory, everything
// else as messages to the main thread (main-side.ts answers them).
import type { MessagePort } from 'node:worker_threads';
import { Admission } from '../../pool/admission.ts';
import type { CrashReport, Job } from '../../pool/job.ts';
import type { ApiSummary, Backend, Gate } from '../backend.ts';
import { detach, Outbox, type Downward, type DoorThreadData, type Query, type Upward } from './protocol.ts';

class RemoteGate implements Gate {
  readonly name: string;
  readonly endpoint: string;
  readonly maxReplicaConcurrency: number;
  initError: string | null;
  readonly #index: number;
  readonly #admission: Admission;
  readonly #refused: Int32Array;
  readonly #backend: RemoteBackend;

  constructor(backend: RemoteBackend, index: number, api: DoorThreadData['apis'][number], refused: Int32Array) {
    this.#backend = backend;
    this.#index = index;
    this.name = api.name;
    this.endpoint = api.endpoint;
    this.maxReplicaConcurrency = api.maxReplicaConcurrency;
    this.initError = api.initError;
    this.#admission = new Admission(api.maxReplicaConcurrency, api.admission);
    this.#refused = refused;
  }

  get readyReplicas(): number {
    return this.#admission.readyReplicas;
  }

  get inFlight(): number {
    return this.#admission.inFlight;
  }

  tryAdmit(): boolean {
    return this.#admission.tryAdmit();
  }

  // The pool releases on the main thread, which is where a stopping pool
  // learns that its last request is done.
  release(): void {
    this.#backend.send({ t: 'release', gate: this.#index });
  }

  dispatch(job: Job): void {
    this.#backend.dispatch(this.#index, job);
  }

  abandon(job: Job): void {
    this.#backend.abandon(job);
  }

  refused(): void {
    Atomics.add(this.#refused, this.#index, 1);
  }
}

export class RemoteBackend implements Backend {
  readonly gates: RemoteGate[];
  readonly #outbox: Outbox<Upward>;
  readonly #jobs = new Map<number, Job>();
  readonly #ids = new WeakMap<Job, number>();
  readonly #asked = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #next = 0;

  constructor(port: MessagePort, data: DoorThreadData) {
    const refused = new Int32Array(data.refused);
    this.gates = data.apis.map((api, i) => new RemoteGate(this, i, api, refused));
    // Requests whose bodies end in the same turn (one poll of many sockets)
    // go up in one message.
    this.#outbox = new Outbox((batch, transfer) => port.postMessage(batch, transfer), setImmediate);
    port.on('message', (batch: Downward[] | object) => {
      if (Array.isArray(batch)) for (const m of batch) this.#receive(m);
    });
  }

  send(message: Upward, transfer?: Uint8Array): void {
    this.#outbox.push(message, transfer);
  }

  dispatch(gate: number, job: Job): void {
    const id = this.#next++;
    this.#jobs.set(id, job);
    this.#ids.set(job, id);
    const body = detach(job.body);
    this.send({ t: 'job', id, gate, body }, body);
  }

  abandon(job: Job): void {
    const id = this.#ids.get(job);
    if (id !== undefined && this.#jobs.has(id)) this.send({ t: 'cancel', id });
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
    this.send({ t: 'answered', gate, code, seconds });
  }

  log(line: string): void {
    this.send({ t: 'log', line });
  }

  #ask(query: Query): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#asked.set(id, { resolve, reject });
      this.send({ t: 'ask', id, query });
    });
  }

  #receive(m: Downward): void {
    switch (m.t) {
      case 'settle':
      case 'crash': {
        const job = this.#jobs.get(m.id);
        if (job === undefined) return;
        this.#jobs.delete(m.id);
        if (m.t === 'settle') job.settle(m.kind, Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength));
        else job.crash({ message: m.message, code: m.code } satisfies CrashReport);
        return;
      }
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
