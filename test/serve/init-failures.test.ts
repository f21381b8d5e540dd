// A predictor whose __init__ always fails: after 5 attempts in a row (with
// backoff) its API is marked failed and the others keep serving; with
// --exit-on-init-error the server exits 1 instead.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startServer } from '../helpers/server.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'serve', 'broken');

test('after 5 failed __init__ attempts the API is marked failed and the other keeps serving; --exit-on-init-error exits 1 instead', async () => {
  const [kept, exiting] = await Promise.all([
    startServer(fixture, [], { waitForApis: ['fine'] }),
    startServer(fixture, ['--exit-on-init-error'], { waitForApis: ['fine'] }),
  ]);
  try {
    // Backoff 1 + 2 + 4 + 8 s between the five attempts.
    await kept.waitFor(/^\[broken\/1\] predictor failed to initialize 5 times in a row; giving up:$/, 60_000);
    await kept.waitFor(/^api broken failed: its predictor failed to initialize 5 times in a row; no replica of it starts any more \(the other APIs keep serving\)$/);
    assert.equal((kept.output().match(/predictor failed to initialize; retrying in/g) ?? []).length, 4);
    const ok = await request(`${kept.url}/fine`, { method: 'POST', body: '{}' });
    assert.equal(ok.statusCode, 200);
    assert.equal(await ok.body.text(), '"ok"');
    const refused = await request(`${kept.url}/broken`, { method: 'POST', body: '{}' });
    assert.equal(refused.statusCode, 503);
    assert.equal(((await refused.body.json()) as { code: string }).code, 'CORTEX_LOCAL_WORKER_INIT_FAILED');
    const status = (await (await request(`${kept.url}/broken`)).body.json()) as { status: string; replicas: { failed: number }; detail: { restarts: number }[] };
    assert.equal(status.status, 'error');
    assert.equal(status.replicas.failed, 1);
    assert.equal(status.detail[0].restarts, 5);

    assert.equal(await exiting.exited, 1);
    assert.match(exiting.output(), /^api broken failed to initialize: shutting down \(--exit-on-init-error\)$/m);
    assert.match(exiting.output(), /^stopped$/m);
  } finally {
    assert.equal(await kept.stop(), 0);
    await exiting.stop();
  }
});
