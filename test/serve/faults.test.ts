// Faults: a worker killed mid-request, a predictor that cannot be imported,
// a server stopped under load. Every response is counted.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { eventually, startServer } from '../helpers/server.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'serve');

async function workerPids(url: string, path: string): Promise<number[]> {
  const res = await request(url + path);
  const body = (await res.body.json()) as { detail: { workers: { pid: number | null; state: string }[] }[] };
  return body.detail.flatMap((r) => r.workers.filter((w) => w.state === 'ready' && w.pid !== null).map((w) => w.pid as number));
}

test('kill -9 of a worker fails only the request it was executing (502); queued ones are served after the restart', async () => {
  const server = await startServer(join(fixtures, 'kit'), [], { waitForApis: ['echo'] });
  try {
    const [pid] = await workerPids(server.url, '/echo');
    const agent = new Agent({ connections: 64 });
    const send = (i: number) => request(server.url + '/echo', { method: 'POST', body: JSON.stringify({ sleep: i === 0 ? 30 : 0, i }), dispatcher: agent });
    const inFlightIs = (n: number) => async () => {
      const res = await request(server.url + '/echo');
      return ((await res.body.json()) as { in_flight: number }).in_flight === n ? true : undefined;
    };
    const executing = async () => {
      const res = await request(server.url + '/echo');
      return ((await res.body.json()) as { detail: { executing: number }[] }).detail[0].executing === 1 ? true : undefined;
    };
    // One slow request executing (the worker said it started it: killed
    // before that, it would be requeued, not failed), nine queued behind it.
    const sent = [send(0)];
    await eventually(executing, 'the slow request executing');
    for (let i = 1; i < 10; i++) sent.push(send(i));
    await eventually(inFlightIs(10), '10 requests in flight');
    process.kill(pid, 'SIGKILL');
    const results = await Promise.all(sent.map(async (p) => {
      const r = await p;
      return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
    }));
    assert.equal(results[0].status, 502);
    assert.equal(results[0].body.code, 'CORTEX_LOCAL_WORKER_CRASHED');
    assert.match(String(results[0].body.error), /the worker of api "echo" was killed by SIGKILL while handling this request/);
    assert.deepEqual(results.slice(1).map((r) => r.status), Array(9).fill(200));
    assert.deepEqual(results.slice(1).map((r) => r.body.i), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [newPid] = await eventually(async () => {
      const pids = await workerPids(server.url, '/echo');
      return pids.length === 1 && pids[0] !== pid ? pids : undefined;
    }, 'a new worker');
    assert.notEqual(newPid, pid);
    await server.waitFor(/^\[echo\/1\/1\] worker was killed by SIGKILL; 1 request\(s\) failed; restarting$/);
    await agent.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a predictor that cannot be imported: its API reports the error, the other API serves', async () => {
  const server = await startServer(join(fixtures, 'broken'), [], { waitForApis: ['fine'] });
  try {
    await server.waitFor(/^\[broken\/1\] predictor failed to initialize; retrying in/);
    await server.waitFor(/SyntaxError/);
    const ok = await request(server.url + '/fine', { method: 'POST', body: '{}' });
    assert.equal(ok.statusCode, 200);
    assert.equal(await ok.body.text(), '"ok"');
    const status = await request(server.url + '/broken');
    const body = (await status.body.json()) as { status: string; last_error: string };
    assert.equal(body.status, 'error');
    assert.match(body.last_error, /SyntaxError/);
    assert.match(body.last_error, /broken\.py", line 2/);
    const refused = await request(server.url + '/broken', { method: 'POST', body: '{}' });
    assert.equal(refused.statusCode, 503);
    const refusal = (await refused.body.json()) as { error: string; code: string };
    assert.equal(refusal.code, 'CORTEX_LOCAL_WORKER_INIT_FAILED');
    assert.match(refusal.error, /^api "broken": predictor failed to initialize: broken\.py:2: SyntaxError: /);
    const ready = await request(server.url + '/readyz');
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(await ready.body.json(), { ready: false, not_ready: ['broken'] });
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('SIGTERM under load: every admitted request is answered, then exit 0', async () => {
  const server = await startServer(join(fixtures, 'kit'), [], { waitForApis: ['parallel', 'echo'] });
  const agent = new Agent({ connections: 64 });
  const sent = Array.from({ length: 24 }, (_, i) =>
    request(server.url + (i % 2 ? '/parallel' : '/echo'), { method: 'POST', body: JSON.stringify({ sleep: 0.2, i }), dispatcher: agent }),
  );
  await eventually(async () => {
    const res = await request(server.url + '/');
    const body = (await res.body.json()) as { apis: { in_flight: number }[] };
    return body.apis.reduce((n, a) => n + a.in_flight, 0) === 24 ? true : undefined;
  }, '24 requests in flight');
  server.proc.kill('SIGTERM');
  const results = await Promise.all(sent.map(async (p) => {
    const r = await p;
    return { status: r.statusCode, body: (await r.body.json()) as { i: number } };
  }));
  assert.deepEqual(results.map((r) => r.status), Array(24).fill(200));
  assert.deepEqual(results.map((r) => r.body.i), [...Array(24).keys()]);
  assert.equal(await server.exited, 0);
  assert.match(server.output(), /SIGTERM: shutting down; finishing 24 in-flight requests/);
  assert.match(server.output(), /^stopped$/m);
  await agent.close();
});

test('SIGTERM while a predictor is still in __init__: its worker is stopped at once, not after the drain grace (30 s)', async () => {
  const server = await startServer(join(import.meta.dirname, '..', 'fixtures', 'drills'), [], { waitForApis: ['steady'] });
  await server.waitFor(/^\[hang\/1\/1\] loading a model that never finishes loading$/);
  server.proc.kill('SIGTERM');
  const exit = await Promise.race([server.exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000).unref())]);
  if (exit !== 0) await server.stop('SIGKILL');
  assert.equal(exit, 0);
  assert.match(server.output(), /^stopped$/m);
});
