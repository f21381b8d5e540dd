// --api-key: every request but /healthz and CORS preflights needs the key;
// --host beyond loopback needs a key (or --insecure); a key must be long
// enough to be one; client commands (get) send it from --api-key or
// $CORTEX_LOCAL_API_KEY and say so when it is missing or wrong.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { BIN, startServer, type ServerProcess } from '../helpers/server.ts';

const kit = join(import.meta.dirname, '..', 'fixtures', 'serve', 'kit');
const KEY = 's3cret-key-of-24-chars!!';
let server: ServerProcess;

before(async () => {
  server = await startServer(kit, ['--api-key', KEY], { waitForApis: ['echo'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

// As a page's script calls: with an Origin, so the answers carry CORS headers.
async function call(path: string, method: 'GET' | 'POST', authorization?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: 'http://page.test' };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await request(server.url + path, { method, headers, body: method === 'POST' ? '{"x": 1}' : undefined });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { timeout: 30_000, encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

test('a prediction without the key, or with another, is a 401 saying how to send it; with the key it is answered, the scheme in any case', async () => {
  for (const authorization of [undefined, `Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`, KEY, `Basic ${KEY}`, `Bearer`, '']) {
    const r = await call('/echo', 'POST', authorization);
    assert.equal(r.status, 401, `authorization: ${authorization}`);
    assert.deepEqual(r.body, { error: 'missing or wrong API key: send "Authorization: Bearer <key>"' });
    // A Basic challenge unless a Bearer key was tried: a browser then asks for the key (dashboard).
    const challenge = /^bearer\b/i.test(authorization ?? '') ? 'Bearer realm="cortex-local", error="invalid_token"' : 'Basic realm="cortex-local: the API key is the password", charset="UTF-8"';
    assert.equal(r.headers['www-authenticate'], challenge, `authorization: ${authorization}`);
    assert.equal(r.headers['access-control-allow-origin'], '*', 'a browser page can read the 401');
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  }
  for (const authorization of [`Bearer ${KEY}`, `bearer ${KEY}`, `BEARER  ${KEY} `]) {
    const ok = await call('/echo', 'POST', authorization);
    assert.equal(ok.status, 200, `authorization: ${authorization}`);
    assert.deepEqual(ok.body, { x: 1 });
  }
});

test('HTTP Basic with the key as the password (what a browser sends for the dashboard) is taken too', async () => {
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
  assert.equal((await call('/echo', 'POST', basic(`anyone:${KEY}`))).status, 200);
  assert.equal((await call('/echo', 'POST', basic(`:${KEY}`))).status, 200);
  assert.equal((await call('/echo', 'POST', basic(`${KEY}:x`))).status, 401);
  assert.equal((await call('/echo', 'POST', basic(KEY))).status, 401, 'no colon, no password');
});

test('status routes need the key too, except /healthz', async () => {
  for (const path of ['/', '/echo', '/readyz', '/nope']) assert.equal((await call(path, 'GET')).status, 401, path);
  assert.equal((await call('/', 'GET', `Bearer ${KEY}`)).status, 200);
  assert.deepEqual((await call('/healthz', 'GET')).body, { ok: true });
  const metrics = await request(server.url + '/metrics');
  assert.equal(metrics.statusCode, 401);
  await metrics.body.dump();
});

test('a CORS preflight needs no key (a browser sends none with it) and allows Authorization by name', async () => {
  const r = await request(server.url + '/echo', {
    method: 'OPTIONS',
    headers: { origin: 'http://page.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(r.statusCode, 204);
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.match(String(r.headers['access-control-allow-headers']), /(^|, )authorization(,|$)/);
  assert.match(String(r.headers['access-control-allow-headers']), /(^|, )content-type(,|$)/);
  await r.body.dump();
});

test('cortex-local get sends --api-key, or $CORTEX_LOCAL_API_KEY; without it or with another, it says what to do (exit 1)', async () => {
  const port = new URL(server.url).port;
  const withFlag = await run(['get', '--port', port, '--api-key', KEY]);
  assert.equal(withFlag.code, 0, withFlag.stderr);
  assert.match(withFlag.stdout, /^api +status/);
  assert.match(withFlag.stdout, /^echo +live +1 /m);
  const withEnv = await run(['get', 'echo', '--port', port, '--json'], { CORTEX_LOCAL_API_KEY: KEY });
  assert.equal(withEnv.code, 0, withEnv.stderr);
  assert.equal(JSON.parse(withEnv.stdout).api, 'echo');
  const base = `http://127.0.0.1:${port}`;
  const none = await run(['get', '--port', port], { CORTEX_LOCAL_API_KEY: '' });
  assert.equal(none.code, 1);
  assert.equal(none.stderr, `cortex-local: the server at ${base} requires an API key: pass --api-key KEY or set CORTEX_LOCAL_API_KEY\n`);
  const wrong = await run(['get', '--port', port, '--api-key', `${KEY}-not`]);
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr, `cortex-local: the server at ${base} refused the API key given (--api-key or CORTEX_LOCAL_API_KEY): use the key it was started with (serve --api-key)\n`);
});

test('--api-key refuses an empty, blank, spaced or short key, saying why (exit 2), before anything starts', async () => {
  const cases: [string, RegExp][] = [
    ['', /^cortex-local: --api-key is empty: give a key of at least 16 characters/],
    ['    ', /^cortex-local: --api-key is empty: /],
    ['a key with spaces in it', /^cortex-local: --api-key may hold only printable ASCII characters without spaces/],
    ['short-key', /^cortex-local: --api-key is 9 characters long: use at least 16, a shorter key is guessable/],
  ];
  for (const [key, message] of cases) {
    const r = await run(['serve', kit, '--host', '0.0.0.0', '--port', '0', '--api-key', key]);
    assert.equal(r.code, 2, JSON.stringify(key));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  }
});

test('--host beyond loopback without --api-key is refused before anything starts (exit 2)', async () => {
  const r = await run(['serve', kit, '--host', '0.0.0.0', '--port', '0']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'cortex-local: --host 0.0.0.0 would expose the APIs beyond this machine: add --api-key KEY, or --insecure to allow it without one\n');
});
