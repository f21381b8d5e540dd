// The front door as a hostile client and a browser meet it (issue 12): slow
// bodies hold no slot and get a 408, queued bodies have one global cap, every
// answer carries X-Request-Id and CORS, HEAD/OPTIONS/unknown methods/CONNECT/
// 100-continue/pipelining are answered properly, debug lines cannot forge the
// log, and 503s are summarised in it. A real server, real Python workers.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { rawConnect } from '../helpers/raw-http.ts';
import { eventually, startServer, UUID_V4, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
const MAX_BODY = 100_000;
const MAX_QUEUED = 150_000;
let server: ServerProcess;
let scratch = '';

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'front-door-'));
  server = await startServer(kit, ['--body-timeout', '3s', '--max-body', String(MAX_BODY), '--max-queued-bytes', String(MAX_QUEUED)], {
    waitForApis: ['echo', 'parallel', 'two-workers', 'capped'],
  });
});

after(async () => {
  assert.equal(await server.stop(), 0);
  await rm(scratch, { recursive: true, force: true });
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(server.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function metric(series: string): Promise<number> {
  const text = await (await request(server.url + '/metrics')).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function inFlight(path: string): Promise<number> {
  return ((await (await request(server.url + path)).body.json()) as { in_flight: number }).in_flight;
}

/** Two requests held inside predict() of /capped/v1 (max_replica_concurrency 2) until `release()`. */
async function holdCapped() {
  const gate = join(scratch, `open-${Math.random()}`);
  const held = [1, 2].map(() => post('/capped/v1', JSON.stringify({ wait_file: gate })));
  await eventually(async () => ((await inFlight('/capped/v1')) === 2 ? true : undefined), 'two requests in flight on capped');
  return {
    async release() {
      await writeFile(gate, '');
      for (const r of await Promise.all(held)) assert.equal(r.status, 200, r.text);
    },
  };
}

/** Waits until both workers of two-workers serve (after one was killed). */
async function bothWorkersServe(): Promise<void> {
  await eventually(async () => {
    const s = (await (await request(server.url + '/two-workers')).body.json()) as { detail: { workers: { state: string }[] }[] };
    return s.detail.length === 1 && s.detail[0].workers.every((w) => w.state === 'ready') ? true : undefined;
  }, 'both workers of two-workers serving');
}

/** `cors`: its request carried an Origin header (or could not be parsed), so the answer must carry CORS headers; otherwise it must not. */
function assertCommonHeaders(headers: Record<string, unknown>, what: string, requestId?: string, cors = false) {
  assert.equal(headers['access-control-allow-origin'], cors ? '*' : undefined, `${what}: access-control-allow-origin`);
  assert.equal(headers['access-control-expose-headers'], cors ? 'x-request-id, retry-after' : undefined, `${what}: access-control-expose-headers`);
  if (requestId !== undefined) assert.equal(headers['x-request-id'], requestId, `${what}: x-request-id`);
  else assert.match(String(headers['x-request-id']), UUID_V4, `${what}: x-request-id, a random UUID`);
}

describe('request bodies', () => {
  test('a body still arriving holds no slot and counts nowhere in flight; after --body-timeout it gets a 408', async () => {
    const slow = await Promise.all([1, 2].map(() => rawConnect(server.url)));
    for (const c of slow) c.write('POST /capped/v1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-request-id: slow\r\ncontent-length: 20\r\n\r\n{"par');
    // capped admits 2: were the slow uploads admitted, this would be a 503.
    const r = await post('/capped/v1', '{"ok": 1}');
    assert.equal(r.status, 200, r.text);
    assert.equal(await inFlight('/capped/v1'), 0, 'uploads are not in flight, so they cannot drive the autoscaler');
    assert.deepEqual(slow.map((c) => c.received()), ['', ''], 'still within --body-timeout when the other request was served');
    for (const c of slow) {
      const a = await c.next();
      assert.equal(a.status, 408);
      assertCommonHeaders(a.headers, '408', 'slow');
      assert.equal(a.headers.connection, 'close');
      assert.deepEqual(JSON.parse(a.body), {
        error: 'the request body did not arrive within 3 s (--body-timeout): 5 of 20 bytes came',
        api: 'capped',
        request_id: 'slow',
      });
      await c.closed;
    }
  });

  test('bodies held for unanswered requests are capped by --max-queued-bytes (503 past it) and given back once answered', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_BODY - 10) });
    assert.equal(big.length, MAX_BODY);
    // A declares the largest body and sends a part: its whole length is held.
    const a = await rawConnect(server.url);
    a.write(`POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${MAX_BODY}\r\n\r\n${big.slice(0, 1000)}`);
    await eventually(async () => ((await metric('cortex_local_queued_body_bytes')) === MAX_BODY ? true : undefined), 'A held');
    const refused = await post('/echo', big, { 'x-request-id': 'too-much' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assertCommonHeaders(refused.headers, '503 of --max-queued-bytes', 'too-much');
    assert.deepEqual(JSON.parse(refused.text), {
      error: `the server holds ${MAX_QUEUED} bytes of request bodies not yet answered (--max-queued-bytes); retry later`,
      api: 'echo',
      request_id: 'too-much',
    });
    // A chunked upload (no length announced) is counted as it comes, and refused when it passes the cap.
    const chunked = await rawConnect(server.url);
    chunked.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    chunked.write(`${(60_000).toString(16)}\r\n${' '.repeat(60_000)}\r\n`);
    const c = await chunked.next();
    assert.equal(c.status, 503);
    assert.match(JSON.parse(c.body).error, /--max-queued-bytes/);
    await chunked.closed;
    // Under the cap, requests go on being served.
    assert.equal((await post('/echo', '{"small": 1}')).status, 200);
    a.write(big.slice(1000));
    const done = await a.next();
    assert.equal(done.status, 200);
    assert.equal(JSON.parse(done.body).pad.length, MAX_BODY - 10);
    await eventually(async () => ((await metric('cortex_local_queued_body_bytes')) === 0 ? true : undefined), 'every byte given back');
    assert.equal((await post('/echo', big)).status, 200);
    a.socket.destroy();
  });

  test('Expect: 100-continue with a Content-Length over --max-body gets the 413 and no 100; within it, the 100 and then the answer', async () => {
    const tooBig = await rawConnect(server.url);
    tooBig.write(`POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: ${MAX_BODY + 1}\r\nexpect: 100-continue\r\n\r\n`);
    const a = await tooBig.next();
    assert.equal(a.status, 413);
    assert.match(JSON.parse(a.body).error, /larger than the limit of 100000 bytes/);
    assertCommonHeaders(a.headers, '413');
    assert.doesNotMatch(tooBig.received(), /100 Continue/);
    tooBig.socket.destroy();
    const fits = await rawConnect(server.url);
    fits.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 8\r\nexpect: 100-continue\r\n\r\n');
    assert.equal((await fits.next()).status, 100);
    fits.write('{"a": 1}');
    const answer = await fits.next();
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { a: 1 });
    fits.socket.destroy();
  });
});

describe('every answer carries X-Request-Id, and CORS headers when its request had an Origin', () => {
  for (const origin of [undefined, 'http://page.test']) {
    test(`400, 404, 405, 413, 500, 502 and 503, the caller's id kept; ${origin === undefined ? 'no Origin, no CORS headers' : 'with an Origin, CORS headers'}`, async () => {
      const more: Record<string, string> = origin === undefined ? {} : { origin };
      const cors = origin !== undefined;
      const cases: [string, () => Promise<{ status: number; headers: Record<string, unknown> }>, number][] = [
        ['invalid JSON', () => post('/echo', '{"a": ', { 'x-request-id': 'id-400', ...more }), 400],
        ['unknown path', () => post('/nope', '{}', { 'x-request-id': 'id-404', ...more }), 404],
        ['over --max-body', () => post('/echo', ' '.repeat(MAX_BODY + 1), { 'x-request-id': 'id-413', ...more }), 413],
        ['predict() raised', () => post('/echo', '{"raise": "x"}', { 'x-request-id': 'id-500', ...more }), 500],
        ['the worker died', () => post('/two-workers', '{"exit": 3}', { 'x-request-id': 'id-502', ...more }), 502],
        ['answered', () => post('/echo', '{"a": 1}', { 'x-request-id': 'id-200', ...more }), 200],
      ];
      for (const [what, send, status] of cases) {
        const r = await send();
        assert.equal(r.status, status, what);
        assertCommonHeaders(r.headers, what, `id-${status}`, cors);
      }
      // The killed worker restarts; until it serves, the next kill could take
      // the replica's other worker and leave it not ready for later tests.
      await bothWorkersServe();
      const put = await request(server.url + '/echo', { method: 'PUT', body: '{}', headers: { 'x-request-id': 'id-405', ...more } });
      assert.equal(put.statusCode, 405);
      assertCommonHeaders(put.headers, '405', 'id-405', cors);
      assert.deepEqual(await put.body.json(), { error: 'method PUT is not allowed on /echo: use POST', api: 'echo' });
      const metrics = await request(server.url + '/metrics', { headers: more });
      assertCommonHeaders(metrics.headers, '/metrics', undefined, cors);
      await metrics.body.dump();
      const held = await holdCapped();
      const refused = await post('/capped/v1', '{}', { 'x-request-id': 'id-503', ...more });
      assert.equal(refused.status, 503);
      assertCommonHeaders(refused.headers, '503', 'id-503', cors);
      await held.release();
    });
  }

  test('a malformed request (400), headers too large (431) and an unknown method (501) get JSON with the headers too (CORS too: its Origin is unknown)', async () => {
    const cases: [string, number, RegExp][] = [
      ['GET /echo HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n', 400, /^malformed HTTP request: /],
      [`GET /echo HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /^request headers are larger than the server accepts/],
      ['BREW /echo HTTP/1.1\r\nhost: x\r\n\r\n', 501, /^unknown HTTP method: this server answers GET, HEAD, POST and OPTIONS$/],
    ];
    for (const [raw, status, error] of cases) {
      const c = await rawConnect(server.url);
      c.write(raw);
      const a = await c.next();
      assert.equal(a.status, status);
      assertCommonHeaders(a.headers, String(status), undefined, true);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.match(JSON.parse(a.body).error, error);
      await c.closed;
    }
  });

  test('CONNECT is answered (405), not dropped', async () => {
    const c = await rawConnect(server.url);
    c.write('CONNECT example.test:443 HTTP/1.1\r\nhost: example.test:443\r\n\r\n');
    const a = await c.next();
    assert.equal(a.status, 405);
    assertCommonHeaders(a.headers, 'CONNECT');
    assert.equal(a.headers.allow, 'GET, HEAD, POST, OPTIONS');
    assert.deepEqual(JSON.parse(a.body), { error: 'CONNECT is not supported: this server is no proxy' });
    await c.closed;
  });

  test('a method not allowed on a built-in route is a 405 naming the allowed ones, not a 404', async () => {
    const r = await request(server.url + '/healthz', { method: 'DELETE' });
    assert.equal(r.statusCode, 405);
    assert.equal(r.headers.allow, 'GET, HEAD, OPTIONS');
    assertCommonHeaders(r.headers, 'DELETE /healthz');
    assert.deepEqual(await r.body.json(), { error: 'method DELETE is not allowed on /healthz: use GET' });
  });
});

describe('methods', () => {
  test('an OPTIONS preflight is a 204 naming Authorization and Content-Type', async () => {
    const r = await request(server.url + '/echo', {
      method: 'OPTIONS',
      headers: { origin: 'http://page.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(r.statusCode, 204);
    assertCommonHeaders(r.headers, 'preflight', undefined, true);
    const allowed = String(r.headers['access-control-allow-headers']).split(',').map((h) => h.trim().toLowerCase());
    assert.ok(allowed.includes('authorization') && allowed.includes('content-type'), String(r.headers['access-control-allow-headers']));
    assert.match(String(r.headers['access-control-allow-methods']), /POST/);
    await r.body.dump();
  });

  test('HEAD on a status route answers as GET does, without a body', async () => {
    for (const path of ['/healthz', '/readyz', '/', '/metrics', '/echo']) {
      const get = await request(server.url + path);
      const getText = await get.body.text();
      const head = await request(server.url + path, { method: 'HEAD' });
      assert.equal(head.statusCode, get.statusCode, path);
      assert.equal(head.headers['content-type'], get.headers['content-type'], path);
      assertCommonHeaders(head.headers, `HEAD ${path}`);
      assert.equal(await head.body.text(), '', path);
      assert.ok(getText.length > 0, path);
    }
  });

  test('a valid request pipelined before a malformed one gets its answer first', async () => {
    const c = await rawConnect(server.url);
    c.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{"pipelined": 1}GET /echo HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n');
    const first = await c.next();
    assert.equal(first.status, 200);
    assert.deepEqual(JSON.parse(first.body), { pipelined: 1 });
    const second = await c.next();
    assert.equal(second.status, 400);
    assert.match(JSON.parse(second.body).error, /^malformed HTTP request/);
    await c.closed;
  });
});

describe('the log', () => {
  test('?debug=true writes the payload as one escaped line: no forged lines, no terminal escapes', async () => {
    const payload = '{"x": "a"}\n[echo] request forged-1 payload: {}\u001b[2J\u009b31m\r';
    const r = await post('/echo?debug=true', payload, { 'x-request-id': 'esc-1' });
    assert.equal(r.status, 400);
    const line = await server.waitFor(/^\[echo\] request esc-1 payload: /);
    assert.equal(line, '[echo] request esc-1 payload: {"x": "a"}\\n[echo] request forged-1 payload: {}\\u001b[2J\\u009b31m\\r');
    assert.ok(!server.output().split('\n').some((l) => l.startsWith('[echo] request forged-1')));
    assert.ok(!/[\u001b\u009b]/.test(server.output()), 'no raw escape reached the log');
  });

  test('refusals are summarised once a second per API, with the reason', async () => {
    const held = await holdCapped();
    const refused = await Promise.all(Array.from({ length: 30 }, () => post('/capped/v1', '{}')));
    assert.deepEqual([...new Set(refused.map((r) => r.status))], [503]);
    const summary = /^api capped: ([\d,]+) requests? refused in the last [\d.]+ s: at capacity 2 \(max_replica_concurrency 2 × 1 ready replica\)$/;
    const counted = () => server.output().split('\n').filter((l) => summary.test(l));
    // The earlier tests refused one request on capped (the 503 with the headers).
    await eventually(() => (counted().reduce((n, l) => n + Number(summary.exec(l)![1].replace(/,/g, '')), 0) >= 31 ? true : undefined), 'the refusals summarised', 10_000, () => server.output());
    assert.ok(counted().length < 10, `one line a second, not one a refusal:\n${counted().join('\n')}`);
    await held.release();
  });
});
