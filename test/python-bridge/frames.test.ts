import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParts, joined, type Bytes } from '../../src/bytes.ts';
import { encodeHeader, FrameDecoder, HEADER_SIZE, Kind } from '../../src/python-bridge/frames.ts';

function frame(id: number, kind: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([encodeHeader(body.length, id, kind), body]);
}

function decodeAll(chunks: Buffer[]): [number, number, string][] {
  const out: [number, number, string][] = [];
  const d = new FrameDecoder((id, kind, payload) => out.push([id, kind, joined(payload).toString()]));
  for (const c of chunks) d.push(c);
  return out;
}

test('header is 9 bytes: length, id, kind, little-endian', () => {
  const h = encodeHeader(0x01020304, 7, Kind.PREDICT);
  assert.equal(h.length, HEADER_SIZE);
  assert.deepEqual([...h], [4, 3, 2, 1, 7, 0, 0, 0, Kind.PREDICT]);
});

test('several frames in one chunk are all decoded in order', () => {
  const data = Buffer.concat([frame(1, Kind.RESULT_JSON, '{"a":1}'), frame(2, Kind.RESULT_BYTES, ''), frame(3, Kind.BAD_REQUEST, 'x')]);
  assert.deepEqual(decodeAll([data]), [
    [1, Kind.RESULT_JSON, '{"a":1}'],
    [2, Kind.RESULT_BYTES, ''],
    [3, Kind.BAD_REQUEST, 'x'],
  ]);
});

test('frames split at every possible byte boundary decode the same', () => {
  const data = Buffer.concat([frame(1, Kind.RESULT_JSON, 'hello'), frame(2, Kind.RESULT_JSON, 'world!')]);
  for (let cut = 0; cut <= data.length; cut++) {
    assert.deepEqual(decodeAll([data.subarray(0, cut), data.subarray(cut)]), [
      [1, Kind.RESULT_JSON, 'hello'],
      [2, Kind.RESULT_JSON, 'world!'],
    ], `cut at ${cut}`);
  }
});

test('a large frame delivered one byte at a time arrives whole, once', () => {
  const payload = Buffer.alloc(70_000, 'z');
  const data = frame(9, Kind.RESULT_BYTES, payload);
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 997) chunks.push(data.subarray(i, i + 997));
  const out = decodeAll(chunks);
  assert.equal(out.length, 1);
  assert.equal(out[0][0], 9);
  assert.equal(out[0][2].length, 70_000);
});

test('a header announcing more than the maximum is garbage: reported once, nothing decoded after it', () => {
  const out: [number, number, string][] = [];
  const reasons: string[] = [];
  const d = new FrameDecoder((id, kind, payload) => out.push([id, kind, joined(payload).toString()]), (r) => reasons.push(r), 1024);
  d.push(Buffer.concat([frame(1, Kind.RESULT_JSON, 'ok'), encodeHeader(5000, 2, Kind.RESULT_JSON), frame(3, Kind.RESULT_JSON, 'lost')]));
  d.push(frame(4, Kind.RESULT_JSON, 'lost too'));
  assert.deepEqual(out, [[1, Kind.RESULT_JSON, 'ok']]);
  assert.deepEqual(reasons, ['a frame header announces 5000 bytes, over the 1024-byte maximum']);
});

test('garbage is caught as soon as its header is whole, even when its length arrives split across chunks', () => {
  const reasons: string[] = [];
  const d = new FrameDecoder(() => {}, (r) => reasons.push(r));
  const garbage = Buffer.from('\xff\xff\xff\xff garbage', 'latin1');
  d.push(garbage.subarray(0, 3));
  assert.deepEqual(reasons, []);
  d.push(garbage.subarray(3));
  assert.deepEqual(reasons, ['a frame header announces 4294967295 bytes, over the 268435456-byte maximum']);
});

test('a large frame split across chunks comes out as views of those chunks, not copied; the frames after it in its last chunk still come', () => {
  const payload = Buffer.from(Array.from({ length: 20_000 }, (_, i) => i.toString(36)).join('.'));
  const data = Buffer.concat([frame(7, Kind.RESULT_JSON, payload), frame(8, Kind.RESULT_JSON, 'next')]);
  // The header split too: 5 bytes, then 64 KiB reads.
  const chunks = [data.subarray(0, 5)];
  for (let i = 5; i < data.length; i += 65_536) chunks.push(data.subarray(i, i + 65_536));
  const out: [number, number, Bytes][] = [];
  const d = new FrameDecoder((id, kind, p) => out.push([id, kind, p]));
  for (const c of chunks) d.push(c);
  assert.deepEqual(out.map(([id, kind]) => [id, kind]), [[7, Kind.RESULT_JSON], [8, Kind.RESULT_JSON]]);
  const parts = out[0][2];
  assert.ok(isParts(parts), 'in parts');
  assert.equal(parts.length, chunks.length - 1);
  parts.forEach((part, i) => assert.equal(part.buffer, chunks[i + 1].buffer, `part ${i} is a view of chunk ${i + 1}`));
  assert.ok(joined(parts).equals(payload));
  assert.equal(joined(out[1][2]).toString(), 'next');
});

test('a frame of up to 4 kB split across chunks comes out as one buffer', () => {
  const payload = Buffer.alloc(4096, 'q');
  const data = frame(3, Kind.RESULT_BYTES, payload);
  const out: Bytes[] = [];
  const d = new FrameDecoder((_id, _kind, p) => out.push(p));
  d.push(data.subarray(0, 2000));
  d.push(data.subarray(2000));
  assert.equal(out.length, 1);
  assert.ok(!isParts(out[0]));
  assert.ok(out[0].equals(payload));
});

test('frames of every size around the copy limit, cut at random places, decode as when whole', () => {
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const sizes = [0, 1, 8, 9, 100, 4095, 4096, 4097, 10_000, 70_000, 200_000];
  const frames = sizes.map((n, i) => frame(i + 1, Kind.RESULT_JSON, Buffer.from(Array.from({ length: n }, (_, j) => (j * 7 + i) % 251))));
  const data = Buffer.concat(frames);
  const whole = decodeAll([data]);
  for (let round = 0; round < 50; round++) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < data.length; ) {
      const n = 1 + random(round % 2 === 0 ? 70_000 : 20);
      chunks.push(data.subarray(at, at + n));
      at += n;
    }
    assert.deepEqual(decodeAll(chunks), whole, `round ${round}`);
  }
});
