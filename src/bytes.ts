// A payload that came in several reads (a request body in the socket's
// chunks, a worker's answer in the pipe's) travels as those reads' buffers,
// in order, not joined into one: a join of 100 kB is a copy, and one more
// Buffer outside V8's heap, which is what starts V8's full collections under
// large bodies (bench/results/perf-findings.md §3). Only what reads the text
// (a tracker, the debug log) joins it.
import { Buffer } from 'node:buffer';

/** One buffer, or the buffers of one payload in order. */
export type Bytes = Buffer | readonly Buffer[];

export function isParts(bytes: Bytes): bytes is readonly Buffer[] {
  return !(bytes instanceof Uint8Array);
}

export function byteLength(bytes: Bytes): number {
  if (!isParts(bytes)) return bytes.length;
  let n = 0;
  for (const part of bytes) n += part.length;
  return n;
}

/** The payload in one buffer: a copy only where it is in parts. */
export function joined(bytes: Bytes): Buffer {
  if (!isParts(bytes)) return bytes;
  return bytes.length === 1 ? bytes[0] : Buffer.concat(bytes);
}

/** Copies the payload into `target` at `at`; returns the offset after it. */
export function copyInto(bytes: Bytes, target: Uint8Array, at: number): number {
  if (!isParts(bytes)) {
    target.set(bytes, at);
    return at + bytes.length;
  }
  for (const part of bytes) {
    target.set(part, at);
    at += part.length;
  }
  return at;
}
