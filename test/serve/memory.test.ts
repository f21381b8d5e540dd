// serve --enforce-mem: compute.mem as a limit on each replica's whole process
// tree, its workers' children included.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'memory');
let server: ServerProcess;

before(async () => {
  server = await startServer(fixture, ['--enforce-mem'], { waitForApis: ['leak'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function post(body: unknown): Promise<{ status: number; body: any }> {
  const r = await request(`${server.url}/leak`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.statusCode, body: await r.body.json() };
}

async function backAfter(restarts: number): Promise<void> {
  await eventually(async () => {
    const s = (await (await request(`${server.url}/leak`)).body.json()) as any;
    return s.replicas.ready === 1 && s.detail[0].restarts === restarts ? true : undefined;
  }, `the leak API back after ${restarts} restart(s)`);
}

test('a worker past compute.mem is stopped like an OOMKill: its request fails with the reason, it comes back', async () => {
  const r = await post({ mb: 150, hold: 20 });
  assert.equal(r.status, 502);
  assert.match(r.body.error, /^the worker of api "leak" was stopped: OOMKilled: memory limit 80Mi exceeded: \d+(\.\d)?Mi while handling this request$/);
  await server.waitFor(/^\[leak\/1\/1\] worker was stopped: OOMKilled: memory limit 80Mi exceeded/);
  await backAfter(1);
  assert.deepEqual(await post({ mb: 1 }), { status: 200, body: { held_mb: 1, children: 0 } });
});

test('the memory of the processes a worker starts counts against its replica\'s limit', async () => {
  const r = await post({ child_mb: 150, hold: 20 });
  assert.equal(r.status, 502);
  assert.match(r.body.error, /was stopped: OOMKilled: memory limit 80Mi exceeded: \d+(\.\d)?Mi while handling this request$/);
  await backAfter(2);
});
