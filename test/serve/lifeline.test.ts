// Nothing outlives the server: workers busy in predict() or stuck in
// __init__, their non-daemon threads and the processes they started all die
// when the server is killed; SIGHUP drains like SIGTERM; a non-daemon thread
// does not hold a shutdown.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'lifeline');

/** Alive, and not a zombie waiting for a parent (pid 1 of a container may never reap it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function pidOf(server: ServerProcess, label: string, role: string): Promise<number> {
  const line = await server.waitFor(new RegExp(`^\\[${label}\\] pid ${role} \\d+$`));
  return Number(line.split(' ').at(-1));
}

test('kill -9 of the server: a worker busy in predict(), one stuck in __init__, their non-daemon threads and their child processes all die', async () => {
  const server = await startServer(fixture, [], { waitForApis: ['busy'] });
  const pids: Record<string, number> = {};
  try {
    pids.busyWorker = await pidOf(server, 'busy/1/1', 'worker');
    pids.loadingWorker = await pidOf(server, 'loading/1/1', 'worker');
    pids.initChild = await pidOf(server, 'loading/1/1', 'init-child');
    void request(`${server.url}/busy`, { method: 'POST', body: '{"child": true}' }).catch(() => {});
    pids.predictChild = await pidOf(server, 'busy/1/1', 'predict-child');
    for (const [role, pid] of Object.entries(pids)) assert.ok(alive(pid), `${role} ${pid} runs`);
  } finally {
    server.proc.kill('SIGKILL');
    await server.exited;
  }
  await eventually(() => (Object.values(pids).every((pid) => !alive(pid)) ? true : undefined), 'every process of the server gone', 20_000, () =>
    JSON.stringify(Object.fromEntries(Object.entries(pids).filter(([, pid]) => alive(pid)))),
  );
});

test('SIGHUP drains like SIGTERM: the request in flight is answered, and a non-daemon thread does not hold the exit for the 30 s grace', async () => {
  const server = await startServer(fixture, [], { waitForApis: ['busy'] });
  const busyWorker = await pidOf(server, 'busy/1/1', 'worker');
  const answer = request(`${server.url}/busy`, { method: 'POST', body: '{"sleep": 0.5}' });
  await eventually(async () => {
    const s = (await (await request(`${server.url}/busy`)).body.json()) as { detail: { executing: number }[] };
    return s.detail[0].executing === 1 ? true : undefined;
  }, 'the request executing');
  server.proc.kill('SIGHUP');
  const r = await answer;
  assert.equal(r.statusCode, 200);
  assert.deepEqual(await r.body.json(), { pid: busyWorker });
  const exit = await Promise.race([server.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000).unref())]);
  if (exit !== 0) await server.stop('SIGKILL');
  assert.equal(exit, 0);
  assert.match(server.output(), /^SIGHUP: shutting down; finishing 1 in-flight request \(send SIGHUP again to force\)$/m);
  assert.match(server.output(), /^stopped$/m);
  assert.equal(alive(busyWorker), false);
});
