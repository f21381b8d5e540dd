// The front door's HTTP rules, against a real server with real Python workers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { LINGER_MS } from '../../src/http/server.ts';
import { eventually, startServer, UUID_V4, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
let server: ServerProcess;

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await request(server.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const buf = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, text: buf.toString(), buf };
}

before(async () => {
  server = await startServer(kit, ['--max-body', String(6 * 1024 * 1024)], { waitForApis: ['echo', 'parallel', 'two-workers', 'capped'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

describe('POST <endpoint>', () => {
  test('returns the prediction as JSON with a request id, and CORS headers when the request has an Origin (as Cortex)', async () => {
    const r = await post('/echo', '{"hello": [1, 2.5, "x"]}');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['access-control-allow-origin'], undefined, 'curl, an SDK: no Origin, no CORS headers');
    assert.equal(r.headers['access-control-expose-headers'], undefined);
    assert.match(String(r.headers['x-request-id']), UUID_V4, 'a random UUID');
    assert.deepEqual(JSON.parse(r.text), { hello: [1, 2.5, 'x'] });
    const page = await post('/echo', '{"hello": [1, 2.5, "x"]}', { origin: 'http://page.test' });
    assert.equal(page.status, 200);
    assert.equal(page.headers['access-control-allow-origin'], '*');
    assert.equal(page.headers['access-control-expose-headers'], 'x-request-id, retry-after', "a page's script may read the request id");
    assert.match(String(page.headers['x-request-id']), UUID_V4);
    assert.equal(page.text, r.text);
  });

  test('a trailing slash reaches the same API, and X-Request-Id is kept', async () => {
    const r = await post('/echo/', '"text"', { 'x-request-id': 'abc-123' });
    assert.equal(r.status, 200);
    assert.equal(r.text, '"text"');
    assert.equal(r.headers['x-request-id'], 'abc-123');
  });

  test('an invalid JSON body is a 400 with the parser message', async () => {
    const r = await post('/echo', '{"a": ');
    assert.equal(r.status, 400);
    const body = JSON.parse(r.text);
    assert.equal(body.api, 'echo');
    assert.match(body.error, /^invalid JSON payload: /);
    const empty = await post('/echo', '');
    assert.equal(empty.status, 400);
    assert.match(JSON.parse(empty.text).error, /empty/);
  });

  test('an exception in predict() is a 500 naming the API; the traceback goes to the log', async () => {
    const r = await post('/echo', '{"raise": "model exploded"}', { 'x-request-id': 'boom-1' });
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.text), { error: 'ValueError: model exploded', api: 'echo', request_id: 'boom-1' });
    await server.waitFor(/^\[echo\] request boom-1 failed in predict\(\):/);
    await server.waitFor(/^ValueError: model exploded/);
  });

  test('bytes come back as application/octet-stream', async () => {
    const r = await post('/echo', '{"bytes": "raw\\u00e9"}');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    assert.equal(r.text, 'rawé');
  });

  test('every byte value comes back as the predictor returned it, in a short answer and in a long one', async () => {
    // Short answers go to node:http as a latin1 string with the head, long ones as a Buffer (responses.ts).
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const bytes of [all, Buffer.concat(Array(8).fill(all))]) {
      const r = await post('/echo', JSON.stringify({ bytes_hex: bytes.toString('hex') }));
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.equal(r.headers['content-length'], String(bytes.length));
      assert.deepEqual(r.buf, bytes);
    }
  });

  test('numpy arrays and scalars become JSON lists and numbers', async () => {
    const r = await post('/echo', '{"numpy": 3}');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { array: [0, 0.5, 1], scalar: 7, flag: true });
  });

  test('a 5 MB payload round-trips byte for byte (read and answered in many chunks, none lost or out of order)', async () => {
    let text = '';
    for (let i = 0; text.length < 5 * 1024 * 1024; i++) text += `${i.toString(36)}.`;
    const r = await post('/echo', JSON.stringify({ data: text }));
    assert.equal(r.status, 200);
    assert.ok(r.buf.equals(Buffer.from(`{"data": "${text}"}`)), 'the same bytes, with the space Python json.dumps puts after the colon');
  });

  test('a body over --max-body is a 413', async () => {
    const r = await post('/echo', Buffer.alloc(6 * 1024 * 1024 + 1, 0x20));
    assert.equal(r.status, 413);
    assert.match(JSON.parse(r.text).error, /larger than the limit of 6291456 bytes/);
  });

  /** A raw client that announces 100 MiB to /echo (over --max-body, so refused at once) and starts uploading. */
  async function oversizedUpload() {
    const { hostname, port } = new URL(server.url);
    // allowHalfOpen: the client goes on uploading after the server's FIN, as a client busy sending a file does.
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true });
    await once(socket, 'connect');
    const state = { received: '', errors: [] as Error[] };
    socket.on('data', (chunk: Buffer) => {
      state.received += chunk.toString('latin1');
    });
    socket.on('error', (err) => state.errors.push(err));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /echo HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${100 * 2 ** 20}\r\n\r\n`);
    socket.write(Buffer.alloc(64 * 1024, 0x20));
    const answer = await eventually(() => {
      const head = state.received.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(state.received)?.[1]);
      return head >= 0 && state.received.length >= head + 4 + length ? state.received : undefined;
    }, 'the 413 answer', 10_000, () => state.received);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /connection: close/i);
    assert.match(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error, /larger than the limit of 6291456 bytes/);
    return { socket, state, closed };
  }

  test('a client still uploading past --max-body gets its 413, and the server reads the rest until the client is done (no reset)', async () => {
    const { socket, state, closed } = await oversizedUpload();
    // Closing at once would answer these bytes with a reset: a broken pipe where the client expects the answer it already has.
    for (let i = 0; i < 16; i++) socket.write(Buffer.alloc(64 * 1024, 0x20));
    socket.end();
    await closed;
    assert.deepEqual(state.errors.map((e) => (e as NodeJS.ErrnoException).code), []);
  });

  test('a client that never stops uploading is cut off after the lingering time', async () => {
    const { socket, closed } = await oversizedUpload();
    const pump = setInterval(() => {
      if (socket.writable) socket.write(Buffer.alloc(64 * 1024, 0x20));
    }, 5);
    try {
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`connection still open after ${4 * LINGER_MS} ms`)), 4 * LINGER_MS).unref())]);
    } finally {
      clearInterval(pump);
      socket.destroy();
    }
  });

  test('printing in predict() does not disturb the protocol; lines reach the log with their worker', async () => {
    const r = await post('/echo', '{"print": 200}');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { printed: 200 });
    await server.waitFor(/^\[echo\/1\/1\] line 199 /);
    await server.waitFor(/^\[echo\/1\/1\] err 199$/);
    const after = await post('/echo', '{"still": "fine"}');
    assert.deepEqual(JSON.parse(after.text), { still: 'fine' });
  });

  test('?debug=true logs the payload and the prediction', async () => {
    const r = await post('/echo?debug=true', '{"dbg": 42}', { 'x-request-id': 'dbg-1' });
    assert.equal(r.status, 200);
    await server.waitFor(/^\[echo\] request dbg-1 payload: \{"dbg": 42\}$/);
    await server.waitFor(/^\[echo\] request dbg-1 prediction: \{"dbg": 42\}$/);
  });
});

describe('other routes', () => {
  test('GET <endpoint> describes the API and its replicas', async () => {
    const res = await request(server.url + '/capped/v1');
    const body = (await res.body.json()) as Record<string, any>;
    assert.equal(res.statusCode, 200);
    assert.equal(body.message, 'make a prediction by sending a post request to this endpoint with a json payload');
    assert.equal(body.api, 'capped');
    assert.equal(body.status, 'live');
    assert.equal(body.replicas.ready, 1);
  });

  test('an unknown path is a 404 listing the endpoints', async () => {
    const res = await request(server.url + '/nope', { method: 'POST', body: '{}' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(await res.body.json(), { error: 'no API at /nope', endpoints: ['/echo', '/parallel', '/two-workers', '/capped/v1'] });
  });

  test('a wrong method is a 405', async () => {
    const res = await request(server.url + '/echo', { method: 'PUT', body: '{}' });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'GET, HEAD, POST, OPTIONS');
    await res.body.dump();
  });

  test('CORS preflight is allowed for any origin', async () => {
    const res = await request(server.url + '/echo', { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    await res.body.dump();
  });

  test('/healthz, /readyz and /metrics answer', async () => {
    assert.equal((await request(server.url + '/healthz')).statusCode, 200);
    const ready = await request(server.url + '/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(await ready.body.json(), { ready: true, not_ready: [] });
    const metrics = await request(server.url + '/metrics');
    const text = await metrics.body.text();
    assert.match(text, /cortex_local_requests_total\{api="echo",code="200"\} \d+/);
    assert.match(text, /cortex_local_replicas\{api="echo",state="ready"\} 1/);
  });
});

describe('concurrency', () => {
  test('threads_per_worker: 4 runs four requests inside predict() at once', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => post('/parallel', '{"barrier": 4}')));
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.equal(new Set(results.map((r) => JSON.parse(r.text).pid)).size, 1, 'one process, four threads');
  });

  test('workers_per_replica: 2 serves from two processes at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rendezvous-'));
    const body = JSON.stringify({ rendezvous: { dir, n: 2 } });
    const results = await Promise.all([1, 2].map(() => post('/two-workers', body)));
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.deepEqual(results.map((r) => JSON.parse(r.text).passed), [true, true]);
    assert.equal(new Set(results.map((r) => JSON.parse(r.text).pid)).size, 2);
    await rm(dir, { recursive: true });
  });
});
