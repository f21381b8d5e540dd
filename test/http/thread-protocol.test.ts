// The front-door threads' batches: records written in one turn arrive as one
// message and read back as written, bodies and payloads byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DownOutbox, readDown, readUp, UpOutbox, type Batch, type ColdDown, type ColdUp } from '../../src/http/threads/protocol.ts';
import type { Reply } from '../../src/pool/reply.ts';

function collect<T>() {
  const posted: { batch: Batch<T>; transfer: ArrayBuffer[] }[] = [];
  let pending: (() => void) | null = null;
  return {
    posted,
    post: (batch: Batch<T>, transfer: ArrayBuffer[]) => posted.push({ batch, transfer }),
    schedule: (flush: () => void) => {
      assert.equal(pending, null, 'one flush scheduled per batch');
      pending = flush;
    },
    turn() {
      const f = pending;
      pending = null;
      f?.();
    },
  };
}

test('upward records of one turn go in one message, its buffer transferred, and read back in order', () => {
  const c = collect<ColdUp>();
  const out = new UpOutbox(c.post, c.schedule);
  const big = Buffer.alloc(50_000, 7);
  out.job(0, 1, Buffer.from('{"a": 1}'));
  out.cancel(0);
  out.job(4_000_000_000, 4_000_000_001, big);
  out.release(2);
  out.answered(1, 200, 0.00125);
  out.answered(0, 413, null);
  out.cold({ t: 'log', line: 'hello' });
  assert.equal(c.posted.length, 0, 'nothing sent before the turn ends');
  c.turn();
  assert.equal(c.posted.length, 1);
  const { batch, transfer } = c.posted[0];
  assert.ok(batch.hot !== null);
  assert.deepEqual(transfer, [batch.hot.buffer], 'the records travel in a buffer of their own');
  assert.equal(batch.hot.buffer.byteLength, batch.hot.byteLength);
  assert.deepEqual(batch.cold, [{ t: 'log', line: 'hello' }]);
  const seen: unknown[] = [];
  readUp(batch.hot, {
    job: (id, gate, body) => seen.push(['job', id, gate, body.length === big.length ? body.equals(big) : body.toString()]),
    cancel: (id) => seen.push(['cancel', id]),
    release: (gate) => seen.push(['release', gate]),
    answered: (gate, code, seconds) => seen.push(['answered', gate, code, seconds]),
  });
  assert.deepEqual(seen, [
    ['job', 0, 1, '{"a": 1}'],
    ['cancel', 0],
    ['job', 4_000_000_000, 4_000_000_001, true],
    ['release', 2],
    ['answered', 1, 200, 0.00125],
    ['answered', 0, 413, null],
  ]);
});

test('a turn with nothing written sends nothing; the next turn starts a new batch', () => {
  const c = collect<ColdDown>();
  const out = new DownOutbox(c.post, c.schedule);
  out.flush();
  assert.equal(c.posted.length, 0);
  out.reply(3, { kind: 'prediction', contentType: 'application/json', body: Buffer.from('{"ok": true}') });
  c.turn();
  const replies: Reply[] = [
    { kind: 'prediction', contentType: 'application/octet-stream', body: Buffer.from([0, 255, 1]) },
    { kind: 'prediction', contentType: 'application/json', body: Buffer.alloc(0) },
    { kind: 'bad-request', message: 'invalid JSON payload: é' },
    { kind: 'predict-error', error: 'ValueError: x', traceback: 'Traceback…' },
    { kind: 'worker-crashed', message: 'the worker … died', code: 'CORTEX_LOCAL_WORKER_CRASHED' },
    { kind: 'timed-out', message: 'too long', code: 'CORTEX_LOCAL_PREDICT_TIMEOUT' },
    { kind: 'unavailable', message: 'stopped' },
  ];
  replies.forEach((r, i) => out.reply(5 + i, r));
  c.turn();
  assert.equal(c.posted.length, 2);
  const read = (hot: Uint8Array | null) => {
    const got: [number, Reply][] = [];
    readDown(hot as Uint8Array, (id, reply) => got.push([id, reply]));
    return got;
  };
  assert.deepEqual(read(c.posted[0].batch.hot), [[3, { kind: 'prediction', contentType: 'application/json', body: Buffer.from('{"ok": true}') }]]);
  assert.deepEqual(read(c.posted[1].batch.hot), replies.map((r, i) => [5 + i, r]));
  assert.equal(c.posted[1].batch.cold, null);
});

test('a corrupt record is an error naming where it is, not a silent skip', () => {
  assert.throws(() => readUp(new Uint8Array([9]), { job() {}, cancel() {}, release() {}, answered() {} }), /unknown record 9 at byte 0/);
  assert.throws(() => readDown(new Uint8Array([2]), () => {}), /unknown record 2 at byte 0/);
});

test('a body and an answer in parts travel as their bytes in order', () => {
  const up = collect<ColdUp>();
  const outUp = new UpOutbox(up.post, up.schedule);
  outUp.job(1, 2, [Buffer.from('{"a": '), Buffer.from('[1, 2'), Buffer.from(']}')]);
  outUp.release(2);
  up.turn();
  const seen: unknown[] = [];
  readUp(up.posted[0].batch.hot as Uint8Array, {
    job: (id, gate, body) => seen.push(['job', id, gate, body.toString()]),
    cancel: () => {},
    release: (gate) => seen.push(['release', gate]),
    answered: () => {},
  });
  assert.deepEqual(seen, [['job', 1, 2, '{"a": [1, 2]}'], ['release', 2]]);

  const down = collect<ColdDown>();
  const outDown = new DownOutbox(down.post, down.schedule);
  outDown.reply(4, { kind: 'prediction', contentType: 'application/json', body: [Buffer.from('{"b"'), Buffer.from(': 3}')] });
  outDown.reply(5, { kind: 'unavailable', message: 'after it' });
  down.turn();
  const got: [number, Reply][] = [];
  readDown(down.posted[0].batch.hot as Uint8Array, (id, reply) => got.push([id, reply]));
  assert.deepEqual(got, [
    [4, { kind: 'prediction', contentType: 'application/json', body: Buffer.from('{"b": 3}') }],
    [5, { kind: 'unavailable', message: 'after it' }],
  ]);
});
