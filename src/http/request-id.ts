// Request ids: random UUIDs (version 4), from the same source as
// crypto.randomUUID(), made 128 at a time into one string that each id is a
// slice of. randomUUID() joins 20 pieces per id, a string V8 then copies flat
// when node:http writes it into the head of the answer (string joins and flat
// copies were among the largest parts of cortex-local's per-request cost in
// perf: bench/results/perf-findings.md §1); a slice of a flat string is
// written without a copy. Made and written into a head: 240–260 ns per id
// with randomUUID(), 128 ns so.
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

const BATCH = 128;
const UUID_LENGTH = 36;

/** the two hex digits of each byte value, as their two char codes in one number */
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const hex = i.toString(16).padStart(2, '0');
  HEX_PAIRS[i] = hex.charCodeAt(0) | (hex.charCodeAt(1) << 8);
}
const DASH = 0x2d;

const random = Buffer.alloc(16 * BATCH);
const text = Buffer.alloc(UUID_LENGTH * BATCH);
let batch = '';
let next = BATCH;

function refill(): void {
  randomFillSync(random);
  let out = 0;
  for (let r = 0; r < random.length; r += 16) {
    random[r + 6] = (random[r + 6] & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8] & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = DASH;
      const pair = HEX_PAIRS[random[r + i]];
      text[out++] = pair & 0xff;
      text[out++] = pair >> 8;
    }
  }
  batch = text.toString('latin1');
  next = 0;
}

/** A new random UUID, e.g. "9b2c6f1e-4d7a-4c3b-8e1f-0a5d2c7b9e64". */
export function newRequestId(): string {
  if (next === BATCH) refill();
  const start = next++ * UUID_LENGTH;
  return batch.slice(start, start + UUID_LENGTH);
}
