// Fault drills: bounded in count and time, loopback only; every response is counted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { startLoad } from '../helpers/load.ts';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const drills = join(import.meta.dirname, '..', 'fixtures', 'drills');
let server: ServerProcess;

before(async () => {
  server = await startServer(drills, ['--init-timeout', '2s'], { waitForApis: ['steady', 'leak'] });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function status(path: string): Promise<any> {
  const res = await request(server.url + path);
  return res.body.json();
}

async function readyPids(path: string): Promise<number[]> {
  const s = await status(path);
  return s.detail.filter((r: any) => r.state === 'ready').flatMap((r: any) => r.workers.map((w: any) => w.pid));
}

test('kill -9 a worker every 200 ms under load: only requests on killed workers fail (502), all others succeed', async () => {
  const load = startLoad(server.url + '/steady', {
    clients: 8,
    body: () => ({ sleep: 0.005 }),
    check: (status, body) => (status === 502 && body.code !== 'CORTEX_LOCAL_WORKER_CRASHED' ? `502 without the crash code: ${JSON.stringify(body)}` : null),
  });
  const killed: number[] = [];
  for (let k = 0; k < 10; k++) {
    await new Promise((r) => setTimeout(r, 200));
    // Kill one serving worker; the other replica keeps the API ready meanwhile.
    const pids = await eventually(async () => {
      const p = await readyPids('/steady');
      return p.length === 2 ? p : undefined;
    }, 'both replicas ready');
    const pid = pids[k % 2];
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
  }
  const { codes: counts, wrong } = await load.stop();
  assert.deepEqual(wrong, []);
  const statuses = [...counts.keys()].sort();
  assert.ok(statuses.every((s) => s === 200 || s === 502), `only 200 and 502, got ${statuses}`);
  // Each kill fails at most threads_per_worker (2) requests: those executing.
  assert.ok((counts.get(502) ?? 0) <= killed.length * 2, `${counts.get(502)} failures for ${killed.length} kills`);
  assert.ok((counts.get(200) ?? 0) > 100, `served ${counts.get(200)} requests`);
  const s = await eventually(async () => {
    const st = await status('/steady');
    return st.replicas.ready === 2 ? st : undefined;
  }, 'both replicas back');
  assert.equal(s.detail.reduce((n: number, r: any) => n + r.restarts, 0), killed.length);
});

test('10,000 fuzzed requests: every answer is a 4xx (or a 501 for an unknown method) with a JSON body, and the server stays up', async () => {
  const agent = new Agent({ connections: 32 });
  const methods = ['PUT', 'DELETE', 'PATCH'];
  const bad: string[] = [];
  const check = (what: string, statusCode: number, contentType: unknown, text: string) => {
    let json = false;
    try {
      JSON.parse(text);
      json = true;
    } catch {}
    const refused = (statusCode >= 400 && statusCode <= 499) || statusCode === 501;
    if (!refused || !json || !String(contentType).startsWith('application/json')) {
      bad.push(`${what}: ${statusCode} ${String(contentType)} ${text.slice(0, 80)}`);
    }
  };
  const one = async (n: number) => {
    const kind = n % 5;
    if (kind === 0) {
      // Bytes that cannot be JSON: an array that is never closed.
      const junk = Buffer.concat([Buffer.from('['), randomBytes(1 + (n % 200))]).filter((b) => b !== 0x5d);
      const r = await request(server.url + '/steady', { method: 'POST', body: Buffer.from(junk), dispatcher: agent });
      check('random body', r.statusCode, r.headers['content-type'], await r.body.text());
    } else if (kind === 1) {
      const full = JSON.stringify({ i: n, values: [1, 2, 3], text: 'truncated' });
      const r = await request(server.url + '/steady', { method: 'POST', body: full.slice(0, n % full.length), dispatcher: agent });
      check('truncated JSON', r.statusCode, r.headers['content-type'], await r.body.text());
    } else if (kind === 2) {
      const r = await request(server.url + '/steady', { method: methods[n % 3] as any, body: '{}', dispatcher: agent });
      check('wrong method', r.statusCode, r.headers['content-type'], await r.body.text());
    } else if (kind === 3) {
      const r = await request(server.url + `/nope-${n}`, { method: 'POST', body: '{}', dispatcher: agent });
      check('unknown path', r.statusCode, r.headers['content-type'], await r.body.text());
    } else {
      const text = await rawExchange(n % 20 === 4 ? hugeHeaders() : randomBytes(64 + (n % 64)));
      const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (m === null) bad.push(`raw: unparseable answer ${JSON.stringify(text.slice(0, 80))}`);
      else check('raw bytes', Number(m[1]), /content-type: (\S+)/i.exec(m[2])?.[1], m[3]);
    }
  };
  for (let start = 0; start < 10_000; start += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => one(start + j)));
  }
  await agent.close();
  assert.deepEqual(bad.slice(0, 10), []);
  const ok = await request(server.url + '/steady', { method: 'POST', body: '{"i": 1}' });
  assert.equal(ok.statusCode, 200);
  assert.equal(((await ok.body.json()) as any).i, 1);
});

test('a slow body, sent in pieces, is still answered', async () => {
  const text = await rawExchange(
    [
      'POST /steady HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\n{"i"',
      ': 5',
      '}\n',
    ].map((s) => Buffer.from(s)),
  );
  assert.match(text, /^HTTP\/1\.1 200 OK/);
  assert.match(text, /\{"i": 5, "pid": \d+\}$/);
});

test('a predictor whose __init__ hangs stays starting, then --init-timeout fails it with a clear message', async () => {
  const s = await status('/hang');
  assert.equal(s.replicas.ready, 0);
  await server.waitFor(/^\[hang\/1\] predictor failed to initialize; retrying in/);
  await server.waitFor(/the predictor did not become ready within 2s \(--init-timeout\); its worker was stopped/);
  const after = await status('/hang');
  assert.equal(after.status, 'error');
  assert.match(after.last_error, /did not become ready within 2s/);
});

test('compute.mem is a request, as in Cortex 0.15: a worker past it keeps serving (serve --enforce-mem makes it a limit)', async () => {
  const r = await request(server.url + '/leak', { method: 'POST', body: '{"mb": 150}' });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(await r.body.json(), { held_mb: 150 });
  const again = await request(server.url + '/leak', { method: 'POST', body: '{"mb": 1}' });
  assert.deepEqual(await again.body.json(), { held_mb: 151 });
  const s = await status('/leak');
  assert.equal(s.detail[0].restarts, 0);
  assert.doesNotMatch(server.output(), /OOMKilled/);
});

function hugeHeaders(): Buffer {
  return Buffer.from(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
}

/** Writes raw bytes (in pieces, when given several) and reads until the server closes. */
function rawExchange(data: Buffer | Buffer[]): Promise<string> {
  const url = new URL(server.url);
  const pieces = Array.isArray(data) ? data : [data];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', async () => {
      for (const [i, p] of pieces.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        socket.write(p);
      }
      if (!Array.isArray(data)) socket.end();
    });
  });
}
