// --api-key: every request but /healthz needs the key; --host beyond loopback
// needs a key (or --insecure).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { BIN, startServer, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
const KEY = 's3cret-key';
let server: ServerProcess;

before(async () => {
  server = await startServer(kit, ['--api-key', KEY], { waitForApis: ['echo'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function call(path: string, method: 'GET' | 'POST', authorization?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await request(server.url + path, { method, headers, body: method === 'POST' ? '{"x": 1}' : undefined });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

test('a prediction without the key, or with another, is a 401 saying how to send it; with the key it is answered, the scheme in any case', async () => {
  for (const authorization of [undefined, `Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`, KEY, `Basic ${KEY}`, `Bearer`, '']) {
    const r = await call('/echo', 'POST', authorization);
    assert.equal(r.status, 401, `authorization: ${authorization}`);
    assert.deepEqual(r.body, { error: 'missing or wrong API key: send "Authorization: Bearer <key>"' });
  }
  for (const authorization of [`Bearer ${KEY}`, `bearer ${KEY}`, `BEARER  ${KEY} `]) {
    const ok = await call('/echo', 'POST', authorization);
    assert.equal(ok.status, 200, `authorization: ${authorization}`);
    assert.deepEqual(ok.body, { x: 1 });
  }
});

test('status routes need the key too, except /healthz', async () => {
  for (const path of ['/', '/echo', '/readyz', '/nope']) assert.equal((await call(path, 'GET')).status, 401, path);
  assert.equal((await call('/', 'GET', `Bearer ${KEY}`)).status, 200);
  assert.deepEqual(await call('/healthz', 'GET'), { status: 200, body: { ok: true } });
  const metrics = await request(server.url + '/metrics');
  assert.equal(metrics.statusCode, 401);
  await metrics.body.dump();
});

test('--host beyond loopback without --api-key is refused before anything starts (exit 2)', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(BIN, ['serve', kit, '--host', '0.0.0.0', '--port', '0'], { timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
    });
  });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'cortex-local: --host 0.0.0.0 would expose the APIs beyond this machine: add --api-key KEY, or --insecure to allow it without one\n');
});
