// Length-prefixed frames between Node and a Python worker (format: README.md
// beside this file; mirror: python/cortex_local_worker/protocol.py).

import { Buffer } from 'node:buffer';
import { byteLength, copyInto, type Bytes } from '../bytes.ts';

export const HEADER_SIZE = 9;

export const Kind = {
  INIT: 1,
  PREDICT: 2,
  SHUTDOWN: 3,
  BUSY_POLL: 4,
  READY: 10,
  RESULT_JSON: 11,
  RESULT_BYTES: 12,
  BAD_REQUEST: 13,
  PREDICT_ERROR: 14,
  INIT_ERROR: 15,
  STARTED: 16,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export function encodeHeader(length: number, id: number, kind: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(id, 4);
  header[8] = kind;
  return header;
}

/** Payloads up to this size travel in one buffer with their header: a copy costs less than a second write. */
export const COPY_PAYLOAD_MAX = 4096;

/** A whole frame in one buffer (for payloads up to COPY_PAYLOAD_MAX). */
export function encodeFrame(id: number, kind: number, payload: Bytes): Buffer {
  const length = byteLength(payload);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  frame.writeUInt32LE(length, 0);
  frame.writeUInt32LE(id, 4);
  frame[8] = kind;
  copyInto(payload, frame, HEADER_SIZE);
  return frame;
}

/** The payload of every frame that has none (STARTED): one buffer, not a view per frame. */
const EMPTY = Buffer.alloc(0);

/**
 * The largest frame either side accepts (256 MiB). A length beyond it is not a
 * frame but garbage: waiting for that many bytes would hang the worker's
 * requests for ever.
 */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export type FrameHandler = (id: number, kind: number, payload: Bytes) => void;

/**
 * Turns a stream of chunks into frames. Payloads that lie whole inside one
 * chunk are handed out as views of it (no copy). A frame split across chunks
 * is handed out when its last byte has arrived: up to COPY_PAYLOAD_MAX bytes
 * joined (a copy costs less than the parts would downstream), larger ones as
 * the views of the chunks it came in, never joined here (a 1 MB answer read
 * in 64 KiB chunks is not copied at all on its way to the client's socket).
 */
export class FrameDecoder {
  /** the chunks holding the start of a frame whose end has not arrived */
  #parts: Buffer[] = [];
  #buffered = 0;
  /** bytes needed before #parts can yield a frame: a header, or a whole frame once the header is known */
  #need = HEADER_SIZE;
  readonly #onFrame: FrameHandler;
  readonly #onMalformed: (reason: string) => void;
  readonly #maxLength: number;
  #broken = false;

  /** `onMalformed` is called once, at the first length over `maxLength`; nothing is decoded after it. */
  constructor(onFrame: FrameHandler, onMalformed: (reason: string) => void = () => {}, maxLength = MAX_FRAME_BYTES) {
    this.#onFrame = onFrame;
    this.#onMalformed = onMalformed;
    this.#maxLength = maxLength;
  }

  push(chunk: Buffer): void {
    if (this.#broken) return;
    if (this.#parts.length > 0) {
      this.#parts.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < this.#need) return;
      const rest = this.#split();
      if (rest === null) return;
      chunk = rest;
    }
    let pos = 0;
    const end = chunk.length;
    while (end - pos >= HEADER_SIZE) {
      const length = chunk.readUInt32LE(pos);
      if (length > this.#maxLength) return this.#malformed(length);
      const stop = pos + HEADER_SIZE + length;
      if (stop > end) break;
      this.#onFrame(chunk.readUInt32LE(pos + 4), chunk[pos + 8], length === 0 ? EMPTY : chunk.subarray(pos + HEADER_SIZE, stop));
      pos = stop;
    }
    this.#need = HEADER_SIZE;
    if (pos === end) return;
    const start = chunk.subarray(pos);
    this.#parts.push(start);
    this.#buffered = start.length;
    if (start.length >= HEADER_SIZE) this.#known(start);
  }

  /**
   * #parts hold #need bytes or more: the header, made whole, or the frame.
   * Hands the frame out; returns what followed it in the last chunk (to be
   * read for whole frames), or null when nothing is left to read now.
   */
  #split(): Buffer | null {
    const parts = this.#parts;
    const head = parts[0].length >= HEADER_SIZE ? parts[0] : Buffer.concat(parts, HEADER_SIZE);
    if (this.#need === HEADER_SIZE) {
      this.#known(head);
      if (this.#broken || this.#buffered < this.#need) return null;
    }
    const need = this.#need;
    const last = parts[parts.length - 1];
    const rest = last.subarray(last.length - (this.#buffered - need));
    this.#parts = [];
    this.#buffered = 0;
    this.#need = HEADER_SIZE;
    const length = need - HEADER_SIZE;
    const payload = length <= COPY_PAYLOAD_MAX ? Buffer.concat(parts, need).subarray(HEADER_SIZE) : views(parts, HEADER_SIZE, need);
    this.#onFrame(head.readUInt32LE(4), head[8], payload);
    return rest.length > 0 ? rest : null;
  }

  /** The frame's header is whole in `head`: how many bytes the frame needs. */
  #known(head: Buffer): void {
    const length = head.readUInt32LE(0);
    if (length > this.#maxLength) return this.#malformed(length);
    this.#need = HEADER_SIZE + length;
  }

  #malformed(length: number): void {
    this.#broken = true;
    this.#parts = [];
    this.#buffered = 0;
    this.#onMalformed(`a frame header announces ${length} bytes, over the ${this.#maxLength}-byte maximum`);
  }
}

/** Views of the bytes `from` up to `to` of `parts` taken as one sequence. */
function views(parts: readonly Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const start = Math.max(from - offset, 0);
    const stop = Math.min(to - offset, part.length);
    if (stop > start) out.push(start === 0 && stop === part.length ? part : part.subarray(start, stop));
    offset += part.length;
    if (offset >= to) break;
  }
  return out;
}
