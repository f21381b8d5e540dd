// max_replica_concurrency: exactly that many admitted per ready replica, then 503 at once.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
let server: ServerProcess;

before(async () => {
  server = await startServer(kit, [], { waitForApis: ['capped'] });
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

test('requests beyond the worker threads wait in FIFO order and are all answered', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => request(server.url + '/echo', { method: 'POST', body: JSON.stringify({ sleep: 0.01, i }) })),
  );
  const bodies = await Promise.all(results.map(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as { i: number } })));
  assert.deepEqual(bodies.map((b) => b.status), Array(20).fill(200));
  assert.deepEqual(bodies.map((b) => b.body.i), [...Array(20).keys()]);
});
