// Messages between the main thread and a front-door thread (serve
// --http-threads). What every request needs (its body going up, its answer
// coming down, its count) is written as binary records into one buffer per
// event-loop turn, transferred, and read back with views into it: no
// structured clone of an object per request, which costs the main thread
// more than the HTTP parsing the threads take off it. Rare messages (logs,
// status queries) travel beside them as plain objects.
import { Buffer } from 'node:buffer';
import { byteLength, copyInto, type Bytes } from '../../bytes.ts';
import type { Reply } from '../../pool/reply.ts';
import type { AdminRequest } from '../admin.ts';

/** An API as a front-door thread routes it; sent again whole whenever the APIs change. */
export interface RouteData {
  /** the gate's id: stable for the API's life, never reused */
  id: number;
  name: string;
  endpoint: string;
  maxReplicaConcurrency: number;
  /** the API's Admission */
  admission: SharedArrayBuffer;
  /** the API's RefusalTally */
  refusals: SharedArrayBuffer;
  /**
   * one Int32 per front-door thread (by its position): requests the thread
   * admitted that the main thread has not yet received (as a job or a
   * release). Should the thread die, the main thread releases that many, so
   * no capacity is lost with it.
   */
  unreceived: SharedArrayBuffer;
  initError: string | null;
}

/** What a front-door thread is started with. */
export interface DoorThreadData {
  /** this thread's place among the threads (a thread started in place of a dead one takes its place) */
  position: number;
  host: string;
  port: number;
  maxBody: number;
  apiKey: string | undefined;
  bodyTimeoutMs: number;
  /** the server's ByteBudget (--max-queued-bytes): its buffer and limit, and this thread's share of it (given back should the thread die) */
  queuedBytes: SharedArrayBuffer;
  maxQueuedBytes: number;
  queuedBytesShare: SharedArrayBuffer;
  /** the routes at the thread's start */
  routes: { seq: number; apis: RouteData[] };
}

export type Query =
  | { what: 'summary'; gate: number; memory: boolean }
  | { what: 'history'; gate: number }
  | { what: 'autoscaler'; gate: number }
  | { what: 'logs'; gate: number; after: number; limit: number }
  | { what: 'notReady' }
  | { what: 'metrics' }
  | { what: 'admin'; request: AdminRequest };

/** Rare messages from a front-door thread. */
export type ColdUp =
  | { t: 'log'; line: string }
  | { t: 'ask'; id: number; query: Query }
  /** the thread routes by the table `seq` from now on */
  | { t: 'routes-applied'; seq: number };

/** Rare messages from the main thread. */
export type ColdDown =
  | { t: 'reply'; id: number; value: unknown }
  | { t: 'reply-error'; id: number; message: string }
  | { t: 'init-error'; gate: number; text: string | null }
  /** the routing table from now on, replacing the last one whole */
  | { t: 'routes'; seq: number; apis: RouteData[] };


/** One turn's worth of messages. */
export interface Batch<Cold> {
  hot: Uint8Array | null;
  cold: Cold[] | null;
}

/** Outside the batches: the thread's life. */
export type Control = { t: 'listening'; port: number } | { t: 'listen-error'; code: string | undefined; message: string };
export type Command = { t: 'shutdown' } | { t: 'close' };

// Binary records, little-endian. Up: JOB id:u32 gate:u32 length:u32 body;
// CANCEL id:u32; RELEASE gate:u32; ANSWERED gate:u32 code:u16 seconds:f64
// (NaN: not admitted). Down: REPLY id:u32 kind:u8 length:u32 payload, the
// pool's Reply with its kind as a number (REPLY_KINDS) and its fields as the
// payload (a body or message as they are, the others as JSON).
const JOB = 1;
const CANCEL = 2;
const RELEASE = 3;
const ANSWERED = 4;
const REPLY = 1;

const REPLY_KINDS = ['json', 'bytes', 'bad-request', 'predict-error', 'worker-crashed', 'timed-out', 'unavailable'] as const;

function encodeReply(reply: Reply): [number, Bytes] {
  switch (reply.kind) {
    case 'prediction':
      return [reply.contentType === 'application/json' ? 0 : 1, reply.body];
    case 'bad-request':
      return [2, Buffer.from(reply.message)];
    case 'predict-error':
      return [3, Buffer.from(JSON.stringify({ error: reply.error, traceback: reply.traceback }))];
    case 'worker-crashed':
      return [4, Buffer.from(JSON.stringify({ message: reply.message, code: reply.code }))];
    case 'timed-out':
      return [5, Buffer.from(JSON.stringify({ message: reply.message, code: reply.code }))];
    case 'unavailable':
      return [6, Buffer.from(reply.message)];
  }
}

function decodeReply(kind: number, payload: Buffer, at: number): Reply {
  switch (REPLY_KINDS[kind]) {
    case 'json':
      return { kind: 'prediction', contentType: 'application/json', body: payload };
    case 'bytes':
      return { kind: 'prediction', contentType: 'application/octet-stream', body: payload };
    case 'bad-request':
      return { kind: 'bad-request', message: payload.toString('utf8') };
    case 'predict-error':
      return { kind: 'predict-error', ...(JSON.parse(payload.toString('utf8')) as { error: string; traceback: string }) };
    case 'worker-crashed':
      return { kind: 'worker-crashed', ...(JSON.parse(payload.toString('utf8')) as { message: string; code: string }) };
    case 'timed-out':
      return { kind: 'timed-out', ...(JSON.parse(payload.toString('utf8')) as { message: string; code: string }) };
    case 'unavailable':
      return { kind: 'unavailable', message: payload.toString('utf8') };
    default:
      throw new Error(`front-door thread protocol: unknown reply kind ${kind} at byte ${at}`);
  }
}

const INITIAL_BYTES = 16 * 1024;

/**
 * Messages gathered during one turn and posted as one Batch. `schedule` picks
 * when a batch goes: after the current task (queueMicrotask) or after the
 * other I/O of this turn (setImmediate).
 */
export class Outbox<Cold> {
  #buf = Buffer.allocUnsafe(INITIAL_BYTES);
  #len = 0;
  #cold: Cold[] | null = null;
  #scheduled = false;
  readonly #post: (batch: Batch<Cold>, transfer: ArrayBuffer[]) => void;
  readonly #schedule: (flush: () => void) => void;
  readonly #flush = () => this.flush();

  constructor(post: (batch: Batch<Cold>, transfer: ArrayBuffer[]) => void, schedule: (flush: () => void) => void) {
    this.#post = post;
    this.#schedule = schedule;
  }

  cold(message: Cold): void {
    this.#soon();
    (this.#cold ??= []).push(message);
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#len === 0 && this.#cold === null) return;
    let hot: Uint8Array | null = null;
    const transfer: ArrayBuffer[] = [];
    if (this.#len > 0) {
      // A buffer of its own, exactly this batch's size, to transfer; #buf is kept.
      hot = Buffer.allocUnsafeSlow(this.#len);
      hot.set(this.#buf.subarray(0, this.#len));
      transfer.push(hot.buffer as ArrayBuffer);
      this.#len = 0;
    }
    const cold = this.#cold;
    this.#cold = null;
    this.#post({ hot, cold }, transfer);
  }

  /** Room for `n` more bytes, the batch scheduled: returns the offset to write at. */
  protected reserve(n: number): number {
    this.#soon();
    const at = this.#len;
    if (at + n > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, at + n));
      this.#buf.copy(grown, 0, 0, at);
      this.#buf = grown;
    }
    this.#len = at + n;
    return at;
  }

  protected get buf(): Buffer {
    return this.#buf;
  }

  #soon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.#flush);
  }
}

export class UpOutbox extends Outbox<ColdUp> {
  job(id: number, gate: number, body: Bytes): void {
    const length = byteLength(body);
    const at = this.reserve(13 + length);
    const b = this.buf;
    b[at] = JOB;
    b.writeUInt32LE(id, at + 1);
    b.writeUInt32LE(gate, at + 5);
    b.writeUInt32LE(length, at + 9);
    copyInto(body, b, at + 13);
  }

  cancel(id: number): void {
    const at = this.reserve(5);
    this.buf[at] = CANCEL;
    this.buf.writeUInt32LE(id, at + 1);
  }

  release(gate: number): void {
    const at = this.reserve(5);
    this.buf[at] = RELEASE;
    this.buf.writeUInt32LE(gate, at + 1);
  }

  answered(gate: number, code: number, seconds: number | null): void {
    const at = this.reserve(15);
    const b = this.buf;
    b[at] = ANSWERED;
    b.writeUInt32LE(gate, at + 1);
    b.writeUInt16LE(code, at + 5);
    b.writeDoubleLE(seconds ?? Number.NaN, at + 7);
  }
}

export class DownOutbox extends Outbox<ColdDown> {
  reply(id: number, reply: Reply): void {
    const [kind, payload] = encodeReply(reply);
    const length = byteLength(payload);
    const at = this.reserve(10 + length);
    const b = this.buf;
    b[at] = REPLY;
    b.writeUInt32LE(id, at + 1);
    b[at + 5] = kind;
    b.writeUInt32LE(length, at + 6);
    copyInto(payload, b, at + 10);
  }
}

export interface UpHandler {
  job(id: number, gate: number, body: Buffer): void;
  cancel(id: number): void;
  release(gate: number): void;
  answered(gate: number, code: number, seconds: number | null): void;
}

/** Reads the records of an upward batch; bodies are views into it. */
export function readUp(hot: Uint8Array, h: UpHandler): void {
  const b = Buffer.from(hot.buffer, hot.byteOffset, hot.byteLength);
  let at = 0;
  while (at < b.length) {
    switch (b[at]) {
      case JOB: {
        const length = b.readUInt32LE(at + 9);
        h.job(b.readUInt32LE(at + 1), b.readUInt32LE(at + 5), b.subarray(at + 13, at + 13 + length));
        at += 13 + length;
        break;
      }
      case CANCEL:
        h.cancel(b.readUInt32LE(at + 1));
        at += 5;
        break;
      case RELEASE:
        h.release(b.readUInt32LE(at + 1));
        at += 5;
        break;
      case ANSWERED: {
        const seconds = b.readDoubleLE(at + 7);
        h.answered(b.readUInt32LE(at + 1), b.readUInt16LE(at + 5), Number.isNaN(seconds) ? null : seconds);
        at += 15;
        break;
      }
      default:
        throw new Error(`front-door thread protocol: unknown record ${b[at]} at byte ${at}`);
    }
  }
}

/** Reads the records of a downward batch; payloads are views into it. */
export function readDown(hot: Uint8Array, onReply: (id: number, reply: Reply) => void): void {
  const b = Buffer.from(hot.buffer, hot.byteOffset, hot.byteLength);
  let at = 0;
  while (at < b.length) {
    if (b[at] !== REPLY) throw new Error(`front-door thread protocol: unknown record ${b[at]} at byte ${at}`);
    const length = b.readUInt32LE(at + 6);
    onReply(b.readUInt32LE(at + 1), decodeReply(b[at + 5], b.subarray(at + 10, at + 10 + length), at));
    at += 10 + length;
  }
}
