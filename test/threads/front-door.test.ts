// What only the threaded front door (serve --http-threads) has to get right
// beyond the suites this folder runs again with it: 503s answered on the
// threads reach /metrics through shared counters, and the latency of requests
// admitted there is recorded on the main thread.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
let server: ServerProcess;

before(async () => {
  server = await startServer(kit, ['--http-threads', '2'], { waitForApis: ['capped'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function metric(series: string): Promise<number> {
  const res = await request(server.url + '/metrics');
  const text = await res.body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

test('the serving line says where the front door runs', () => {
  assert.match(server.output(), /^cortex-local serving 4 APIs on http:\/\/127\.0\.0\.1:\d+ \(0 GPUs, front door on 2 threads\)$/m);
});

test('refusals and answers made on the front-door threads are all counted in /metrics', async () => {
  const gate = join(mkdtempSync(join(tmpdir(), 'cl-threads-')), 'open');
  const body = JSON.stringify({ wait_file: gate });
  // Many connections, so that both threads take some.
  const agent = new Agent({ connections: 16, pipelining: 0 });
  try {
    const held = [1, 2].map(() => request(server.url + '/capped/v1', { method: 'POST', body, dispatcher: agent }));
    await eventually(async () => ((await metric('cortex_local_in_flight_requests{api="capped"}')) === 2 ? true : undefined), 'two requests in flight');
    const refused = await Promise.all(Array.from({ length: 12 }, () => request(server.url + '/capped/v1', { method: 'POST', body: '{}', dispatcher: agent })));
    for (const r of refused) {
      assert.equal(r.statusCode, 503);
      assert.match(((await r.body.json()) as { error: string }).error, /at capacity: 2 requests in flight/);
    }
    assert.equal(await metric('cortex_local_requests_total{api="capped",code="503"}'), 12);
    writeFileSync(gate, '');
    for (const r of await Promise.all(held)) {
      assert.equal(r.statusCode, 200);
      await r.body.dump();
    }
    await eventually(async () => ((await metric('cortex_local_request_duration_seconds_count{api="capped"}')) === 2 ? true : undefined), 'two latencies recorded');
    assert.equal(await metric('cortex_local_requests_total{api="capped",code="200"}'), 2);
    assert.equal(await metric('cortex_local_in_flight_requests{api="capped"}'), 0);
  } finally {
    await agent.close();
  }
});
