// APIs added and removed by `cortex-local deploy` while another API is under
// a continuous stream of requests (it sees no error and no latency step),
// and the admin commands against a server with --api-key: refresh, delete
// (--keep-going), and Cortex's --force for an update still in progress.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { makeProject, removeProject } from '../config/project.ts';
import { BIN, eventually, startServer, type ServerProcess } from '../helpers/server.ts';
import { quantile, startStream, type Answer } from '../helpers/stream.ts';

const KEY = 'redeploy-test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

const PREDICTOR = `import os, time


class PythonPredictor:
    def __init__(self, config):
        time.sleep(float(config.get("init_seconds", 0)))

    def predict(self, payload):
        time.sleep(0.002)
        return {"i": payload["i"], "pid": os.getpid()}
`;

const api = (name: string, config = '') => `- name: ${name}\n  predictor:\n    type: python\n    path: predictor.py\n${config === '' ? '' : `    config: ${config}\n`}`;

let dir = '';
let server: ServerProcess;
const agent = new Agent({ connections: 4 });

before(async () => {
  dir = makeProject({ 'cortex.yaml': api('steady'), 'predictor.py': PREDICTOR });
  server = await startServer(dir, ['--api-key', KEY], { waitForApis: ['steady'] });
});

after(async () => {
  await agent.close();
  assert.equal(await server.stop(), 0, server.output());
  removeProject(dir);
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const port = new URL(server.url).port;
  return new Promise((resolve) =>
    execFile(BIN, [...args, '--port', port], { env: { ...process.env, CORTEX_LOCAL_API_KEY: KEY } }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr }),
    ),
  );
}

async function get(path: string): Promise<{ status: number; body: any }> {
  const r = await request(`${server.url}${path}`, { headers: auth, dispatcher: agent });
  return { status: r.statusCode, body: await r.body.json() };
}

async function post(path: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: any }> {
  const r = await request(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers, dispatcher: agent });
  return { status: r.statusCode, body: await r.body.json() };
}

const latencies = (answers: Answer[]) => answers.map((a) => a.at - a.sentAt);

test('adding and removing an API while another is under load: the other sees no error and no latency step', async (t) => {
  const untouched = (await get('/steady')).body;
  const stream = startStream(`${server.url}/steady`, { clients: 2, headers: auth });
  await stream.more(400);
  const baseline = [...stream.answers];
  const windowStart = performance.now();
  writeFileSync(join(dir, 'cortex.yaml'), api('steady') + api('extra'));
  const added = await cli(['deploy']);
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, 'steady is up to date\ncreating extra\n');
  await eventually(async () => ((await post('/extra', { i: 1 })).status === 200 ? true : undefined), 'extra to answer', 60_000, () => server.output());
  writeFileSync(join(dir, 'cortex.yaml'), api('steady'));
  const removed = await cli(['deploy']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, 'deleting extra\nsteady is up to date\n');
  assert.equal((await post('/extra', { i: 2 })).status, 404, 'the endpoint is gone as soon as the deploy answers');
  await server.waitFor(/^api extra deleted: its requests answered, its replicas stopped$/);
  const windowEnd = performance.now();
  await stream.more(50);
  const answers = await stream.stop();
  const bad = answers.filter((a) => a.status !== 200 || a.body.i !== a.i);
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${answers.length} answers of steady failed`);
  const during = answers.filter((a) => a.sentAt >= windowStart && a.at <= windowEnd);
  assert.ok(during.length >= 50, `${during.length} requests of steady ran while extra came and went`);
  // A step is the typical latency moving up, not one slow request: the
  // window's median against twice the p99 measured just before, in the
  // same run (extra's Python start competes for the same 2 cores).
  const p99 = quantile(latencies(baseline), 0.99);
  const p50 = quantile(latencies(during), 0.5);
  t.diagnostic(`steady: baseline p50 ${quantile(latencies(baseline), 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; while extra came and went (${during.length} requests): p50 ${p50.toFixed(2)} ms, p99 ${quantile(latencies(during), 0.99).toFixed(2)} ms, max ${Math.max(...latencies(during)).toFixed(2)} ms`);
  assert.ok(p50 <= 2 * p99, `steady's median ${p50.toFixed(2)} ms while extra came and went is above 2 × its p99 before (${p99.toFixed(2)} ms)`);
  const now = (await get('/steady')).body;
  const workers = (s: any) => s.detail.map((r: any) => `${r.id}:${r.workers.map((w: any) => w.pid).join(',')}`);
  assert.deepEqual(workers(now), workers(untouched), 'steady was not touched: the same replicas and worker processes');
  assert.equal(now.version, untouched.version);
});

test('admin routes take the API key like every route, and only POST', async () => {
  const none = await post('/_cortex-local/deploy', {}, {});
  assert.equal(none.status, 401);
  const wrongMethod = await get('/_cortex-local/deploy');
  assert.equal(wrongMethod.status, 405);
  assert.match(wrongMethod.body.error, /use POST/);
  const unknown = await post('/_cortex-local/refresh', { api: 'nope' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'no API named "nope"; this server has: steady');
  const noKey = await cli(['deploy', '--api-key', 'wrong-key-wrong-key-0000']);
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /refused the API key given/);
});

test('refresh restarts every replica by a rolling update, with the same version', async () => {
  const before = (await get('/steady')).body;
  const r = await cli(['refresh', 'steady']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'updating steady\n');
  const after = await eventually(async () => {
    const s = (await get('/steady')).body;
    return s.rollout.state === 'live' && s.rollout.new.ready === 1 && s.rollout.old_versions.length === 0 ? s : undefined;
  }, 'the refresh to end', 60_000, () => server.output());
  assert.equal(after.version, before.version);
  assert.notDeepEqual(after.detail.map((x: any) => x.id), before.detail.map((x: any) => x.id), 'new replicas');
  assert.notEqual(after.detail[0].workers[0].pid, before.detail[0].workers[0].pid);
  const table = await cli(['get']);
  assert.match(table.stdout, /^api +status +ready +desired +in flight +2XX +4XX +5XX +p50 +p99 +version +old +endpoint +autoscaler$/m);
  assert.match(table.stdout, new RegExp(`^steady +live +1 +1 +\\d+ +\\d+ +0 +0 +\\S+ +\\S+ +${after.version} +0 +http://`, 'm'));
});

test('a deploy or refresh of an API whose update is in progress is refused unless --force, as in Cortex', async () => {
  writeFileSync(join(dir, 'cortex.yaml'), api('steady', '{init_seconds: 3}'));
  const slow = await cli(['deploy']);
  assert.equal(slow.stdout, 'updating steady\n', slow.stderr);
  assert.equal((await get('/steady')).body.rollout.state, 'updating');
  writeFileSync(join(dir, 'cortex.yaml'), api('steady', '{init_seconds: 0}'));
  const refused = await cli(['deploy']);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, 'steady is updating (override with --force)\n');
  const refresh = await cli(['refresh', 'steady']);
  assert.equal(refresh.code, 1);
  assert.match(refresh.stderr, /^cortex-local: steady is updating \(override with --force\)$/m);
  const forced = await cli(['deploy', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout, 'updating steady\n');
  await eventually(async () => {
    const s = (await get('/steady')).body;
    return s.rollout.state === 'live' && s.rollout.old_versions.length === 0 ? s : undefined;
  }, 'the forced update to end', 60_000, () => server.output());
});

test('delete API...: stops at an unknown API, or with --keep-going deletes the others; the endpoint then answers 404', async () => {
  const stop = await cli(['delete', 'nope', 'steady']);
  assert.equal(stop.code, 1);
  assert.equal(stop.stdout, '');
  assert.match(stop.stderr, /^cortex-local: no API named "nope"; this server has: steady$/m);
  assert.equal((await post('/steady', { i: 1 })).status, 200, 'steady was not deleted');
  const going = await cli(['delete', 'nope', 'steady', '--keep-going']);
  assert.equal(going.code, 1);
  assert.equal(going.stdout, 'deleted steady\n');
  assert.equal((await post('/steady', { i: 1 })).status, 404);
  assert.deepEqual((await get('/')).body.apis, []);
  const again = await cli(['deploy']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'creating steady\n', 'a deploy starts it again: cortex.yaml still has it');
});

test('deploy PATH: another cortex.yaml of the project is served from then on; one of another folder is refused', async () => {
  // steady as the last deploy of cortex.yaml left it.
  writeFileSync(join(dir, 'alt.yaml'), api('steady', '{init_seconds: 0}') + api('alt'));
  const alt = await cli(['deploy', join(dir, 'alt.yaml')]);
  assert.equal(alt.code, 0, alt.stderr);
  assert.equal(alt.stdout, 'steady is up to date\ncreating alt\n');
  const again = await cli(['deploy']);
  assert.equal(again.stdout, 'steady is up to date\nalt is up to date\n', 'a deploy without PATH reads alt.yaml now');
  const elsewhere = makeProject({ 'cortex.yaml': api('steady'), 'predictor.py': PREDICTOR });
  try {
    const refused = await cli(['deploy', elsewhere]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^cortex-local: ${elsewhere}/cortex\\.yaml is not in ${dir}, the project folder this server serves .*: start another server for it$`, 'm'));
  } finally {
    removeProject(elsewhere);
  }
});
