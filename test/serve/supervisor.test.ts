// The supervisor against real Python workers that misbehave: exceptions that
// are not Exceptions, crashes blamed on the right request, a worker killed
// while another serves, deaths with the pipes held open, garbage frames and
// floods of output. Every answer is counted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { startLoad } from '../helpers/load.ts';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'supervisor');
let server: ServerProcess;
const agent = new Agent({ connections: 16 });

before(async () => {
  server = await startServer(fixture, [], { waitForApis: ['one', 'two', 'pair', 'capped', 'quiet'] });
});

after(async () => {
  await agent.close();
  assert.equal(await server.stop(), 0);
});

async function post(api: string, payload: unknown): Promise<{ status: number; body: any }> {
  const r = await request(`${server.url}/${api}`, { method: 'POST', body: typeof payload === 'string' ? payload : JSON.stringify(payload), dispatcher: agent });
  return { status: r.statusCode, body: await r.body.json() };
}

async function status(api: string): Promise<any> {
  return (await request(`${server.url}/${api}`, { dispatcher: agent })).body.json();
}

/** pids of the API's serving workers, once it has `n` */
async function servingPids(api: string, n = 1): Promise<number[]> {
  return eventually(async () => {
    const s = await status(api);
    const pids = s.detail.flatMap((r: any) => r.workers.filter((w: any) => w.state === 'ready').map((w: any) => w.pid));
    return s.replicas.ready === 1 && pids.length === n ? pids : undefined;
  }, `${n} serving worker(s) of ${api}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const api of ['one', 'two']) {
  test(`api ${api}: SystemExit, KeyboardInterrupt and other BaseExceptions answer their own request with 500, and the worker keeps serving every thread`, async () => {
    const [pid] = await servingPids(api);
    const kinds = ['SystemExit', 'KeyboardInterrupt', 'GeneratorExit', 'BaseException', 'RecursionError'];
    // Twice each, at once: more than threads_per_worker of them.
    const answers = await Promise.all([...kinds, ...kinds].map((k) => post(api, { raise: k })));
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(500));
    assert.deepEqual(answers.slice(0, 5).map((a) => a.body.error), ['SystemExit: 3', 'KeyboardInterrupt', 'GeneratorExit', 'Boom', 'RecursionError']);
    const ok = await Promise.all([1, 2, 3, 4].map((i) => post(api, { i })));
    assert.deepEqual(ok.map((a) => [a.status, a.body.pid]), Array(4).fill([200, pid]), 'answered by the same worker');
    const s = await status(api);
    assert.equal(s.in_flight, 0);
    assert.equal(s.detail[0].restarts, 0);
  });

  test(`api ${api}: 100,000 levels of nested JSON get 400, not a dead worker`, async () => {
    const [pid] = await servingPids(api);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const answers = await Promise.all([deep, deep, deep].map((body) => post(api, body)));
    assert.deepEqual(answers.map((a) => a.status), [400, 400, 400]);
    assert.match(answers[0].body.error, /^invalid JSON payload: nested too deeply/);
    assert.deepEqual(await post(api, { i: 1 }), { status: 200, body: { i: 1, pid } });
  });
}

test('[good, crashing] sent together, 20 times: every good request is answered 200, each crashing one gets the 502 and crashes one worker only', async () => {
  const before = (await status('one')).detail[0].restarts;
  for (let trial = 0; trial < 20; trial++) {
    await servingPids('one');
    const [good, crashing] = await Promise.all([post('one', { i: trial }), post('one', { crash: true })]);
    assert.deepEqual([good.status, good.body.i], [200, trial], `trial ${trial}: the good request`);
    assert.equal(crashing.status, 502, `trial ${trial}: the crashing request`);
    assert.equal(crashing.body.code, 'CORTEX_LOCAL_WORKER_CRASHED');
  }
  await servingPids('one');
  assert.equal((await status('one')).detail[0].restarts - before, 20, 'no crashing request ran twice');
});

test('kill drill: 1 replica × 2 workers, one killed every 0.5 s under load for 10 s: 502 only for the killed workers\' executing requests, never 503', async (t) => {
  const load = startLoad(`${server.url}/pair`, {
    clients: 6,
    body: () => ({ sleep: 0.002 }),
    check: (code, body) => (code === 502 && body.code !== 'CORTEX_LOCAL_WORKER_CRASHED' ? `502 without the crash code: ${JSON.stringify(body)}` : null),
  });
  let kills = 0;
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    // The other worker is live whenever one is killed.
    const pids = await servingPids('pair', 2);
    process.kill(pids[kills % 2], 'SIGKILL');
    kills++;
  }
  const { codes, wrong } = await load.stop();
  assert.deepEqual(wrong, []);
  const statuses = [...codes.keys()].sort();
  assert.ok(statuses.every((c) => c === 200 || c === 502), `only 200 and 502, got ${JSON.stringify([...codes])}`);
  assert.ok((codes.get(502) ?? 0) <= kills, `${codes.get(502)} 502s for ${kills} kills of one-thread workers`);
  assert.ok((codes.get(200) ?? 0) > 100, `served ${codes.get(200)}`);
  await servingPids('pair', 2);
  const s = await status('pair');
  t.diagnostic(`${kills} kills: ${JSON.stringify(Object.fromEntries(codes))}`);
  assert.equal(s.detail[0].restarts, kills);
  assert.equal(s.in_flight, 0);
});

test('a worker whose helper process holds its pipes open is seen to die at its exit: 502, restart, and the helper is not waited for', async () => {
  const { body } = await post('quiet', { helper: true });
  try {
    assert.ok(alive(body.helper));
    const crashed = await post('quiet', { crash: true });
    assert.equal(crashed.status, 502);
    const [pid] = await servingPids('quiet');
    assert.notEqual(pid, body.pid);
    assert.equal((await post('quiet', { i: 7 })).body.i, 7);
  } finally {
    process.kill(body.helper, 'SIGKILL');
  }
});

test('garbage on the reply pipe kills that worker with a clear log line instead of hanging its requests', async () => {
  const [pid] = await servingPids('quiet');
  const r = await post('quiet', { garbage: true });
  assert.equal(r.status, 502);
  assert.match(r.body.error, /^the worker of api "quiet" was stopped: it wrote garbage on its reply pipe while handling this request$/);
  await server.waitFor(/^\[quiet\/1\/1\] the worker wrote a frame header announces 4294967295 bytes, over the 268435456-byte maximum on its reply pipe; stopping it$/);
  const [next] = await servingPids('quiet');
  assert.notEqual(next, pid);
});

test('a line of output without an end is logged cut at 64 KiB, with a marker', async () => {
  await post('quiet', { long_line: 200_000 });
  const line = await server.waitFor(/^\[quiet\/1\/1\] L+ … \[line cut at 65536 characters\]$/);
  assert.equal(line.length, '[quiet/1/1] '.length + 65_536 + ' … [line cut at 65536 characters]'.length);
});

// Its latency cost is measured by bench/flood.ts, with the log going to a file
// as a user's would: here this process reads the log, on the same cores.
test('50 MB of \\r progress output from one API: a redraw a second and the final state logged, Node\'s memory stays bounded, and another API keeps answering', async () => {
  const rss = () => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))?.[1]) * 1024;
  const baseline = rss();
  const prefix = '[quiet/1/1] ';
  // The fixture's last update (i = 999), ended by its newline.
  const final = `${prefix} 99%|${'#'.repeat(39)}|`;
  const logged: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString('latin1');
    let at = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', at)) {
      if (text.startsWith(prefix, at)) logged.push(text.slice(at, nl));
      at = nl + 1;
    }
    partial = text.slice(at);
  };
  server.proc.stdout?.on('data', collect);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 50);
  let done = false;
  const started = performance.now();
  const flood = post('quiet', { flood: 50 }).finally(() => (done = true));
  const other: number[] = [];
  while (!done) other.push((await post('one', { i: other.length })).status);
  const { status: floodStatus, body } = await flood;
  clearInterval(sampler);
  assert.equal(floodStatus, 200);
  await eventually(() => (logged.includes(final) ? true : undefined), 'the final state logged', 30_000, () => `last lines: ${logged.slice(-3).join(' / ')}`);
  const seconds = (performance.now() - started) / 1000;
  server.proc.stdout?.off('data', collect);
  assert.ok(body.updates > 1_000_000, `${body.updates} updates`);
  assert.ok(logged.length <= Math.floor(seconds) + 2, `${logged.length} lines logged in ${seconds.toFixed(1)} s: ${logged.slice(0, 5).join(' / ')}`);
  assert.ok(logged.every((l) => /^\[quiet\/1\/1\] +\d+%\|#*\|$/.test(l)), `every line a state of the bar: ${logged.find((l) => !/%\|/.test(l))}`);
  assert.ok(other.length > 0 && other.every((c) => c === 200), `the other API answered ${other.length} requests: ${[...new Set(other)]}`);
  // Output is read only as fast as the log is written: what Node holds meanwhile is bounded.
  assert.ok(peak - baseline < 100 * 1024 * 1024, `Node grew by ${Math.round((peak - baseline) / 1048576)} MB`);
});
