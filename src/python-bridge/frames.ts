// Length-prefixed frames between Node and a Python worker (format: README.md
// beside this file; mirror: python/cortex_local_worker/protocol.py).

import { Buffer } from 'node:buffer';

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
export function encodeFrame(id: number, kind: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(id, 4);
  frame[8] = kind;
  payload.copy(frame, HEADER_SIZE);
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

export type FrameHandler = (id: number, kind: number, payload: Buffer) => void;

/**
 * Turns a stream of chunks into frames. Payloads that lie whole inside one
 * chunk are handed out as views of it (no copy); a frame split across chunks
 * is assembled once, when its last byte has arrived (a 5 MB body read in
 * 64 KiB chunks is copied once, not once per chunk).
 */
export class FrameDecoder {
  #parts: Buffer[] = [];
  #buffered = 0;
  /** bytes needed before #parts can yield a frame (a header, or a whole frame) */
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
      chunk = Buffer.concat(this.#parts, this.#buffered);
      this.#parts = [];
      this.#buffered = 0;
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
    if (pos < end) {
      const rest = chunk.subarray(pos);
      this.#parts.push(rest);
      this.#buffered = rest.length;
      this.#need = rest.length >= HEADER_SIZE ? HEADER_SIZE + rest.readUInt32LE(0) : HEADER_SIZE;
      if (this.#need - HEADER_SIZE > this.#maxLength) this.#malformed(this.#need - HEADER_SIZE);
    } else {
      this.#need = HEADER_SIZE;
    }
  }

  #malformed(length: number): void {
    this.#broken = true;
    this.#parts = [];
    this.#buffered = 0;
    this.#onMalformed(`a frame header announces ${length} bytes, over the ${this.#maxLength}-byte maximum`);
  }
}
