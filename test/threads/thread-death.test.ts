// A front-door thread that dies (a bug, not a request) is replaced, and what
// it held gives its capacity back: requests it admitted but had not handed
// over, and the bytes of the bodies it was reading (--max-queued-bytes).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { DoorThreads } from '../../src/http/threads/door-threads.ts';
import { eventually } from '../helpers/server.ts';
import { testPython } from '../helpers/python.ts';

async function queuedBodyBytes(app: App): Promise<number> {
  const text = await app.metrics.registry.metrics();
  return Number(/^cortex_local_queued_body_bytes (\d+)$/m.exec(text)?.[1]);
}

test('a front-door thread that dies is replaced; the body bytes it held are given back', async () => {
  const config = await loadConfig(join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit'));
  const lines: string[] = [];
  const app = new App({ config, python: testPython, host: '127.0.0.1', port: 0, gpus: [], httpThreads: 1, log: (l) => lines.push(l), output: () => {} });
  const { port } = await app.listen();
  let passed = false;
  try {
    const capped = app.pools.find((p) => p.api.name === 'capped');
    assert.ok(capped !== undefined && app.door instanceof DoorThreads);
    await eventually(() => (capped.readyReplicas === 1 ? true : undefined), 'capped ready');
    // Its body still coming on the thread: not admitted (a slow upload holds
    // no slot), but its declared length is held against --max-queued-bytes.
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('POST /capped/v1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"par');
    await eventually(async () => ((await queuedBodyBytes(app)) === 100 ? true : undefined), 'the body held on the thread');
    assert.equal(capped.inFlight, 0);
    const [thread] = app.door.workers;
    await thread.terminate();
    await eventually(() => (app.door instanceof DoorThreads && app.door.workers.length === 1 && app.door.workers[0] !== thread ? true : undefined), 'a new thread');
    assert.equal(capped.inFlight, 0);
    assert.equal(await queuedBodyBytes(app), 0, 'the dead thread\'s bytes are given back');
    assert.ok(lines.some((l) => /^front-door thread \d+ stopped \(exit code 1\) with 0 admitted requests not yet handed over; starting another$/.test(l)), lines.join('\n'));
    socket.destroy();
    const res = await eventually(async () => {
      try {
        return await request(`http://127.0.0.1:${port}/capped/v1`, { method: 'POST', body: '{"ok": 1}' });
      } catch {
        return undefined;
      }
    }, 'an answer from the new thread');
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    passed = true;
  } finally {
    // A stop waits for every admitted request: after a failure one may never finish.
    if (passed) await app.stop();
    else app.kill();
  }
});
