// A hung predict(): with serve --predict-timeout it is answered 504 and its
// worker restarted; a client that leaves while its request waits frees the
// slot at once; one that leaves while its request executes is counted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { BIN, eventually, startServer } from '../helpers/server.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'supervisor');

function client(url: string) {
  const agent = new Agent({ connections: 8 });
  const status = async () => (await request(`${url}/capped`, { dispatcher: agent })).body.json() as Promise<any>;
  const post = (payload: unknown, signal?: AbortSignal) =>
    request(`${url}/capped`, { method: 'POST', body: JSON.stringify(payload), dispatcher: agent, signal }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as any }));
  return { agent, status, post };
}

test('a client that leaves while its request is queued frees its slot at once; one that leaves while its request executes is counted', async () => {
  const server = await startServer(fixture, [], { waitForApis: ['capped'] });
  const { agent, status, post } = client(server.url);
  try {
    // max_replica_concurrency 2, one thread: one hung request executing, one queued behind it.
    const leaving = new AbortController();
    const hung = post({ hang: true }, leaving.signal).catch((err: Error) => err.name);
    await eventually(async () => ((await status()).detail[0].executing === 1 ? true : undefined), 'the hung request executing');
    const waiting = new AbortController();
    const queued = post({ i: 1 }, waiting.signal).catch((err: Error) => err.name);
    await eventually(async () => ((await status()).in_flight === 2 ? true : undefined), 'two in flight');
    assert.equal((await post({ i: 2 })).status, 503, 'at capacity');
    waiting.abort();
    assert.equal(await queued, 'AbortError');
    const freed = await eventually(async () => {
      const s = await status();
      return s.in_flight === 1 ? s : undefined;
    }, 'the queued request\'s slot freed');
    assert.deepEqual(freed.abandoned, { waiting: 1, executing: 0 });
    const next = post({ i: 3 }, AbortSignal.timeout(60_000)).catch((err: Error) => err.name);
    await eventually(async () => ((await status()).in_flight === 2 ? true : undefined), 'a new request admitted in the freed slot');
    leaving.abort();
    assert.equal(await hung, 'AbortError');
    let last: unknown;
    const counted = await eventually(async () => {
      const s = await status();
      last = s;
      return s.abandoned.executing === 1 ? s : undefined;
    }, 'the executing request counted as abandoned', 20_000, () => JSON.stringify(last));
    assert.equal(counted.in_flight, 2, 'without --predict-timeout an executing request keeps its slot');
    const metrics = await (await request(`${server.url}/metrics`, { dispatcher: agent })).body.text();
    assert.match(metrics, /^cortex_local_abandoned_requests_total\{api="capped",when="waiting"\} 1$/m);
    assert.match(metrics, /^cortex_local_abandoned_requests_total\{api="capped",when="executing"\} 1$/m);
    // The hung worker holds the stop for its grace: a second signal ends it.
    server.proc.kill('SIGTERM');
    await server.waitFor(/^SIGTERM: shutting down; finishing 2 in-flight requests/);
    server.proc.kill('SIGTERM');
    assert.equal(await server.exited, 1);
    assert.equal(typeof (await next), 'string', 'no answer: the server was killed');
  } finally {
    await agent.close();
    await server.stop('SIGKILL');
  }
});

test('--predict-timeout 1s: a hung request gets 504 and its worker is restarted; the request queued behind it runs on the new worker', async () => {
  const server = await startServer(fixture, ['--predict-timeout', '1s'], { waitForApis: ['capped'] });
  const { agent, status, post } = client(server.url);
  try {
    const [pid] = (await status()).detail[0].workers.map((w: any) => w.pid);
    const hung = post({ hang: true });
    await eventually(async () => ((await status()).in_flight === 1 ? true : undefined), 'the hung request in flight');
    const next = post({ i: 3 });
    const timedOut = await hung;
    assert.equal(timedOut.status, 504);
    assert.equal(timedOut.body.code, 'CORTEX_LOCAL_PREDICT_TIMEOUT');
    assert.equal(timedOut.body.error, 'api "capped": predict() ran longer than --predict-timeout (1s); its worker was restarted');
    await server.waitFor(/^\[capped\/1\/1\] a request ran longer than --predict-timeout \(1s\); restarting the worker$/);
    const answered = await next;
    assert.equal(answered.status, 200);
    assert.equal(answered.body.i, 3);
    assert.notEqual(answered.body.pid, pid, 'served by the restarted worker');
    await eventually(async () => ((await status()).in_flight === 0 ? true : undefined), 'nothing in flight');
    const metrics = await (await request(`${server.url}/metrics`, { dispatcher: agent })).body.text();
    assert.match(metrics, /^cortex_local_requests_total\{api="capped",code="504"\} 1$/m);
  } finally {
    await agent.close();
    assert.equal(await server.stop(), 0);
  }
});

test('--predict-timeout takes a duration', () => {
  const r = spawnSync(BIN, ['serve', fixture, '--predict-timeout', 'soon'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--predict-timeout must be a duration such as 30s or 2m, got "soon"/);
});
