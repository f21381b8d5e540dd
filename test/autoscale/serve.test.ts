// The autoscaler wired into `serve`: real workers, real load, the clock run
// 20× faster (10 s window → 0.5 s) so a whole up-and-down cycle takes seconds.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startLoad } from '../helpers/load.ts';
import { eventually, startServer } from '../helpers/server.ts';

const dir = join(import.meta.dirname, '..', 'fixtures', 'autoscale');

test('a burst of slow requests scales 1 → ≥3 replicas, and back to 1 after the load stops, with no failed request', async () => {
  const server = await startServer(dir, [], { waitForApis: ['burst'], env: { CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '20' } });
  const status = async () => (await (await request(server.url + '/burst')).body.json()) as any;
  try {
    assert.equal((await status()).replicas.ready, 1);
    const load = startLoad(server.url + '/burst', { clients: 6, body: () => ({ sleep: 0.05 }) });
    const peak = await eventually(async () => {
      const s = await status();
      return s.replicas.ready >= 3 ? s.replicas.ready : undefined;
    }, '3 ready replicas under load', 30_000);
    const { codes, wrong } = await load.stop();

    await eventually(async () => {
      const s = await status();
      return s.desired_replicas === 1 && s.replicas.ready === 1 && s.replicas.draining === 0 ? true : undefined;
    }, 'back to 1 replica', 30_000);
    assert.ok(peak >= 3);
    assert.deepEqual(wrong, []);
    assert.deepEqual([...codes.keys()], [200], `every request answered 200: ${JSON.stringify([...codes])}`);
    const decisions = server.output().split('\n').filter((l) => l.startsWith('autoscaler api=burst'));
    assert.match(decisions[0], /^autoscaler api=burst avg_in_flight=[\d.]+ recommendation=\d+ replicas 1→\d+ \(.+\)$/);
    assert.match(decisions.at(-1)!, /replicas \d+→1 \(/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
