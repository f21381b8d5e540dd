// Messages between the main thread and a front-door thread (serve
// --http-threads). Requests and answers travel in batches: one message holds
// what one event-loop turn produced, so a busy thread pays one postMessage
// for many requests. Bodies and payloads are copied into buffers of their own
// and transferred, never cloned with the larger buffer they were cut from.

/** What a front-door thread is started with. */
export interface DoorThreadData {
  host: string;
  port: number;
  maxBody: number;
  apiKey: string | undefined;
  apis: { name: string; endpoint: string; maxReplicaConcurrency: number; admission: SharedArrayBuffer; initError: string | null }[];
  /** one Int32 per API: 503s answered by the front-door threads, for /metrics */
  refused: SharedArrayBuffer;
}

export type Query = { what: 'summary'; gate: number } | { what: 'notReady' } | { what: 'metrics' };

/** From a front-door thread, in a batch. */
export type Upward =
  | { t: 'job'; id: number; gate: number; body: Uint8Array }
  | { t: 'cancel'; id: number }
  | { t: 'release'; gate: number }
  | { t: 'answered'; gate: number; code: number; seconds: number | null }
  | { t: 'log'; line: string }
  | { t: 'ask'; id: number; query: Query };

/** From the main thread, in a batch. */
export type Downward =
  | { t: 'settle'; id: number; kind: number; payload: Uint8Array }
  | { t: 'crash'; id: number; message: string; code: string }
  | { t: 'reply'; id: number; value: unknown }
  | { t: 'reply-error'; id: number; message: string }
  | { t: 'init-error'; gate: number; text: string | null };

/** Outside the batches: the thread's life. */
export type Control =
  | { t: 'listening'; port: number }
  | { t: 'listen-error'; code: string | undefined; message: string };

export type Command = { t: 'shutdown' } | { t: 'close' };

/**
 * A copy of `bytes` in a buffer of its own, to transfer. (A Buffer's slice()
 * is a view of the same memory, not a copy.)
 */
export function detach(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * Messages gathered during one turn and sent as one, with the buffers to
 * transfer. `schedule` picks when a batch goes: after the current task
 * (queueMicrotask) or after the other I/O of this turn (setImmediate).
 */
export class Outbox<T> {
  #batch: T[] = [];
  #transfer: ArrayBuffer[] = [];
  readonly #send: (batch: T[], transfer: ArrayBuffer[]) => void;
  readonly #schedule: (flush: () => void) => void;
  readonly #flush = () => this.flush();

  constructor(send: (batch: T[], transfer: ArrayBuffer[]) => void, schedule: (flush: () => void) => void) {
    this.#send = send;
    this.#schedule = schedule;
  }

  push(message: T, transfer?: Uint8Array): void {
    if (this.#batch.length === 0) this.#schedule(this.#flush);
    this.#batch.push(message);
    if (transfer !== undefined) this.#transfer.push(transfer.buffer as ArrayBuffer);
  }

  flush(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    const transfer = this.#transfer;
    this.#batch = [];
    this.#transfer = [];
    this.#send(batch, transfer);
  }
}
