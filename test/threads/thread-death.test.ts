// A front-door thread that dies (a bug, not a request) is replaced, and the
// requests it had admitted but not handed over give their capacity back.
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

test('a front-door thread that dies is replaced; what it admitted without handing over is released', async () => {
  const config = await loadConfig(join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit'));
  const lines: string[] = [];
  const app = new App({ config, python: testPython, host: '127.0.0.1', port: 0, gpus: [], httpThreads: 1, log: (l) => lines.push(l), output: () => {} });
  const { port } = await app.listen();
  let passed = false;
  try {
    const capped = app.pools.find((p) => p.api.name === 'capped');
    assert.ok(capped !== undefined && app.door instanceof DoorThreads);
    await eventually(() => (capped.readyReplicas === 1 ? true : undefined), 'capped ready');
    // Admitted on the thread, its body still coming: never handed over.
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('POST /capped/v1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"par');
    await eventually(() => (capped.inFlight === 1 ? true : undefined), 'the request admitted');
    const [thread] = app.door.workers;
    await thread.terminate();
    await eventually(() => (app.door instanceof DoorThreads && app.door.workers.length === 1 && app.door.workers[0] !== thread ? true : undefined), 'a new thread');
    assert.equal(capped.inFlight, 0);
    assert.ok(lines.some((l) => /^front-door thread \d+ stopped \(exit code 1\) with 1 admitted request not yet handed over; starting another$/.test(l)), lines.join('\n'));
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
