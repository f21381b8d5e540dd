// The 503 refusal: its cached JSON follows the API's state, and the answer
// sendRefusal writes is the same JSON and headers sendJson wrote before.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Refusal } from '../../src/http/refusal.ts';
import { RefusedFor } from '../../src/http/refusal-tally.ts';
import { sendRefusal, wantsCors } from '../../src/http/responses.ts';
import type { Gate } from '../../src/http/backend.ts';

function fakeGate(state: { ready: number; inFlight: number; initError: string | null; capacity?: number }): Gate {
  return {
    name: 'iris',
    maxReplicaConcurrency: 4,
    get capacity() {
      return state.capacity ?? 4 * state.ready;
    },
    get readyReplicas() {
      return state.ready;
    },
    get inFlight() {
      return state.inFlight;
    },
    get initError() {
      return state.ready > 0 ? null : state.initError;
    },
  } as Gate;
}

const parse = (prefix: string, id: string) => JSON.parse(`${prefix}${JSON.stringify(id)}}`) as Record<string, string>;

test('the refusal says why, with the figures of the moment, and is rebuilt when they change', () => {
  const state = { ready: 2, inFlight: 8, initError: null as string | null, capacity: undefined as number | undefined };
  const r = new Refusal(fakeGate(state));
  assert.deepEqual(parse(r.prefix(false), 'id-1'), {
    error: 'api "iris" is at capacity: 8 requests in flight (max_replica_concurrency 4 × 2 ready replicas)',
    api: 'iris',
    request_id: 'id-1',
  });
  assert.equal(r.prefix(false), r.prefix(false));
  state.ready = 1;
  state.inFlight = 4;
  assert.match(parse(r.prefix(false), 'x').error, /: 4 requests in flight \(max_replica_concurrency 4 × 1 ready replica\)$/);
  // One of the replica's 2 workers restarting: it admits half (plan.ts).
  state.capacity = 2;
  state.inFlight = 2;
  assert.equal(
    parse(r.prefix(false), 'x').error,
    "api \"iris\" is at capacity: 2 requests in flight, all it admits now: 2, not 4 (max_replica_concurrency) × 1 ready replica: a replica whose workers are restarting admits its serving workers' share, and during a rollout each version admits by its own max_replica_concurrency",
  );
  state.capacity = undefined;
  state.ready = 0;
  state.inFlight = 0;
  assert.deepEqual(parse(r.prefix(false), 'x'), { error: 'api "iris" has no ready replica yet', api: 'iris', request_id: 'x' });
  state.initError = 'predictor.py:7: ValueError: bad weights (in PythonPredictor.__init__)\nTraceback (most recent call last):\n  ...\nValueError: bad weights\n';
  assert.deepEqual(Object.keys(parse(r.prefix(false), 'x')), ['error', 'code', 'api', 'request_id']);
  assert.deepEqual(parse(r.prefix(false), 'x'), {
    error: 'api "iris": predictor failed to initialize: predictor.py:7: ValueError: bad weights (in PythonPredictor.__init__)',
    code: 'CORTEX_LOCAL_WORKER_INIT_FAILED',
    api: 'iris',
    request_id: 'x',
  });
  assert.equal(parse(r.prefix(true), 'x').error, 'the server is shutting down');
  assert.equal(parse(r.prefix(true), 'x').code, undefined);
});

test('each refusal names its reason, by which refusal-tally.ts counts it', () => {
  const state = { ready: 2, inFlight: 8, initError: null as string | null };
  const r = new Refusal(fakeGate(state));
  const reason = (closing: boolean) => {
    r.prefix(closing);
    return r.reason;
  };
  assert.equal(reason(false), RefusedFor.Capacity);
  state.ready = 0;
  state.inFlight = 0;
  assert.equal(reason(false), RefusedFor.NoReadyReplica);
  state.initError = 'Traceback (most recent call last):\nValueError: bad weights\n';
  assert.equal(reason(false), RefusedFor.InitFailed);
  assert.equal(reason(true), RefusedFor.Closing);
  assert.equal(reason(false), RefusedFor.InitFailed);
});

async function refuse(requestId: string, callerId: string | undefined, origin?: string): Promise<{ headers: IncomingHttpHeaders; raw: Buffer; status: number }> {
  const prefix = new Refusal(fakeGate({ ready: 1, inFlight: 4, initError: null })).prefix(false);
  const server = createServer((req, res) => sendRefusal(res, prefix, requestId, callerId, wantsCors(req.headers)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise((resolve, reject) => {
      const headers = origin === undefined ? {} : { origin };
      const req = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, raw: Buffer.concat(chunks), status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.end('{"n": 1}');
    });
  } finally {
    server.close();
  }
}

test('sendRefusal: 503, retry-after, the request id in header and body, an exact content-length; CORS headers when the request had an Origin', async () => {
  const r = await refuse('3b384a26-56cd-42b5-b021-962a7cd013ab', undefined);
  assert.equal(r.status, 503);
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(r.headers['x-request-id'], '3b384a26-56cd-42b5-b021-962a7cd013ab');
  assert.equal(r.headers['access-control-allow-origin'], undefined, 'no Origin: no CORS headers');
  assert.equal(r.headers['access-control-expose-headers'], undefined);
  assert.equal(r.headers['content-type'], 'application/json');
  const page = await refuse('3b384a26-56cd-42b5-b021-962a7cd013ab', undefined, 'http://page.test');
  assert.equal(page.headers['access-control-allow-origin'], '*');
  assert.equal(page.headers['access-control-expose-headers'], 'x-request-id, retry-after');
  assert.equal(page.headers['retry-after'], '1');
  assert.equal(page.headers['x-request-id'], '3b384a26-56cd-42b5-b021-962a7cd013ab');
  assert.deepEqual(page.raw, r.raw);
  assert.equal(Number(r.headers['content-length']), r.raw.length);
  assert.deepEqual(JSON.parse(r.raw.toString('utf8')), {
    error: 'api "iris" is at capacity: 4 requests in flight (max_replica_concurrency 4 × 1 ready replica)',
    api: 'iris',
    request_id: '3b384a26-56cd-42b5-b021-962a7cd013ab',
  });
});

test("sendRefusal: a caller's id is escaped in the body and sent back byte for byte in the header", async () => {
  // node:http reads header values as latin1: 'é' here is the byte 0xe9 a client sent.
  const id = 'a"b\\c é';
  const r = await refuse(id, id);
  assert.equal(r.headers['x-request-id'], id);
  assert.equal(Number(r.headers['content-length']), r.raw.length);
  assert.equal((JSON.parse(r.raw.toString('utf8')) as { request_id: string }).request_id, id);
});
