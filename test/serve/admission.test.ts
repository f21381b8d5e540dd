// max_replica_concurrency: exactly that many admitted per ready replica, then 503 at once.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
let server: ServerProcess;

before(async () => {
  server = await startServer(kit, [], { waitForApis: ['capped', 'echo'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function inFlight(path: string): Promise<number> {
  const res = await request(server.url + path);
  return ((await res.body.json()) as { in_flight: number }).in_flight;
}

test('the request after max_replica_concurrency is refused with 503 at once; the admitted ones finish', async () => {
  const gate = join(mkdtempSync(join(tmpdir(), 'cl-gate-')), 'open');
  const body = JSON.stringify({ wait_file: gate });
  const held = [1, 2].map(() => request(server.url + '/capped/v1', { method: 'POST', body }));
  await eventually(async () => ((await inFlight('/capped/v1')) === 2 ? true : undefined), 'two requests in flight');

  const refused = await request(server.url + '/capped/v1', { method: 'POST', body });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.headers['retry-after'], '1');
  const err = (await refused.body.json()) as { error: string; api: string };
  assert.equal(err.api, 'capped');
  assert.match(err.error, /at capacity: 2 requests in flight \(max_replica_concurrency 2 × 1 ready replica\)/);

  writeFileSync(gate, '');
  for (const r of await Promise.all(held)) {
    assert.equal(r.statusCode, 200);
    assert.equal(((await r.body.json()) as { waited: boolean }).waited, true);
  }
  assert.equal(await inFlight('/capped/v1'), 0);
  const again = await request(server.url + '/capped/v1', { method: 'POST', body: '{"ok": 1}' });
  assert.equal(again.statusCode, 200);
  await again.body.dump();
});

/** Reads one HTTP/1.1 answer with a content-length from a raw socket. */
function readAnswer(socket: Socket): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.subarray(0, end).toString('latin1');
      const length = Number(/^content-length: (\d+)$/im.exec(head)?.[1]);
      if (buf.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({ head, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

test('a refusal answers before the body arrives; the unread body does not reach the next request on the connection', async () => {
  const gate = join(mkdtempSync(join(tmpdir(), 'cl-gate-')), 'open');
  const held = [1, 2].map(() => request(server.url + '/capped/v1', { method: 'POST', body: JSON.stringify({ wait_file: gate }) }));
  await eventually(async () => ((await inFlight('/capped/v1')) === 2 ? true : undefined), 'two requests in flight');

  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  try {
    // 100 kB announced, 10 bytes sent: the answer must not wait for the rest.
    const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(100_000 - 10) }));
    assert.equal(body.length, 100_000);
    socket.write(`POST /capped/v1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-request-id: ka-1\r\n\r\n`);
    socket.write(body.subarray(0, 10));
    const refused = await readAnswer(socket);
    assert.match(refused.head, /^HTTP\/1\.1 503 /);
    assert.match(refused.head, /^connection: keep-alive$/im);
    assert.match(refused.head, /^retry-after: 1$/im);
    assert.match(refused.head, /^x-request-id: ka-1$/im);
    assert.doesNotMatch(refused.head, /^access-control-/im, 'no Origin: no CORS headers');
    assert.match(refused.head, /^content-type: application\/json$/im);
    const err = JSON.parse(refused.body) as { error: string; api: string; request_id: string };
    assert.deepEqual(Object.keys(err), ['error', 'api', 'request_id']);
    assert.equal(err.api, 'capped');
    assert.equal(err.request_id, 'ka-1');
    assert.match(err.error, /at capacity: 2 requests in flight/);

    // The rest of that body, then the next request on the same connection: a
    // payload that would be the unread body's bytes if they were taken for it.
    socket.write(body.subarray(10));
    socket.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{"next":1}');
    const next = await readAnswer(socket);
    assert.match(next.head, /^HTTP\/1\.1 200 /);
    assert.deepEqual(JSON.parse(next.body), { next: 1 });
  } finally {
    socket.destroy();
    writeFileSync(gate, '');
    for (const r of await Promise.all(held)) await r.body.dump();
  }
});

test('requests beyond the worker threads wait in FIFO order and are all answered', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => request(server.url + '/echo', { method: 'POST', body: JSON.stringify({ sleep: 0.01, i }) })),
  );
  const bodies = await Promise.all(results.map(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as { i: number } })));
  assert.deepEqual(bodies.map((b) => b.status), Array(20).fill(200));
  assert.deepEqual(bodies.map((b) => b.body.i), [...Array(20).keys()]);
});
