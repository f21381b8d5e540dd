// The edit → reload loop on a real server (serve --watch) under a continuous
// stream of requests: an edited predictor rolls in with every answer a 200,
// old and new versions side by side only while the rollout runs; the bounds
// of max_surge 0 / max_unavailable 1 and 1 / 0 hold in every sampled state;
// a version whose __init__ raises stops the rollout while the old one
// serves, and a fixed one then rolls; a broken edit reverted serves again on
// the replicas that still run it; an invalid cortex.yaml changes nothing and
// says where it is wrong.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/config/load.ts';
import { versionsOf } from '../../src/reload/version.ts';
import { makeProject, removeProject } from '../config/project.ts';
import { BIN, eventually, startServer, type ServerProcess } from '../helpers/server.ts';
import { startStream, type Answer, type Stream } from '../helpers/stream.ts';

const predictor = (version: string, init = '') => `import os, time

VERSION = ${JSON.stringify(version)}


class PythonPredictor:
    def __init__(self, config):
        ${init || 'pass'}

    def predict(self, payload):
        time.sleep(0.002)
        return {"i": payload["i"], "version": VERSION, "pid": os.getpid()}
`;

const config = (replicas: number, strategy = '') => `- name: echo
  predictor:
    type: python
    path: predictor.py
  autoscaling:
    min_replicas: ${replicas}
    max_replicas: ${replicas}
${strategy}`;

let dir = '';
let server: ServerProcess;
const agent = new Agent({ connections: 4 });

before(async () => {
  dir = makeProject({ 'cortex.yaml': config(2), 'predictor.py': predictor('v1') });
  server = await startServer(dir, ['--watch'], { waitForApis: ['echo'] });
  await server.waitFor(/^watching .* for edits \(serve --watch\)$/);
  await liveOn('v1', 2);
});

after(async () => {
  await agent.close();
  if (process.env.PEEK) console.log(server.output());
  assert.equal(await server.stop(), 0, server.output());
  removeProject(dir);
});

async function status(): Promise<any> {
  return (await request(`${server.url}/echo`, { dispatcher: agent })).body.json();
}

/** The version the project's files and cortex.yaml make now: what a deploy of them rolls out. */
async function versionOnDisk(): Promise<string> {
  const config = await loadConfig(dir);
  return (await versionsOf(config.apis, config.projectDir, config.file)).get('echo')!.version;
}

/**
 * Waits until every replica serves `version` of the predictor, as the
 * version of what is on disk now, and the rollout is over; returns the
 * status. (A replica reads the files when it starts: one of an older version
 * that restarts after an edit runs the edited code until the edit's deploy.)
 */
async function liveOn(version: string, replicas: number): Promise<any> {
  return eventually(async () => {
    const s = await status();
    if (s.rollout.state !== 'live' || s.rollout.new.ready !== replicas || s.rollout.old_versions.length > 0) return undefined;
    if (s.version !== (await versionOnDisk())) return undefined;
    const r = await request(`${server.url}/echo`, { method: 'POST', body: '{"i": -1}', dispatcher: agent });
    const body: any = await r.body.json();
    return body.version === version ? s : undefined;
  }, `every replica live on ${version}`, 60_000, () => server.output());
}

const versions = (answers: Answer[]) => [...new Set(answers.map((a) => a.body.version))];

function assertAll200(answers: Answer[]) {
  const bad = answers.filter((a) => a.status !== 200 || a.body.i !== a.i);
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${answers.length} answers were not 200s with their own i`);
}

test('an edited predictor rolls in under load: every answer a 200, old and new side by side only while the rollout runs, then only the new', async () => {
  const before = await status();
  const stream: Stream = startStream(`${server.url}/echo`, { clients: 3 });
  await stream.more(50);
  writeFileSync(join(dir, 'predictor.py'), predictor('v2'));
  // The moment the status says the rollout is done: a request sent after it gets the new version.
  let doneAt = 0;
  const after = await eventually(async () => {
    const s = await status();
    if (s.version === before.version || s.rollout.state !== 'live') return undefined;
    doneAt = performance.now();
    return s;
  }, 'the rollout to end', 60_000, () => server.output());
  await stream.more(100);
  const answers = await stream.stop();
  assertAll200(answers);
  assert.deepEqual(versions(answers), ['v1', 'v2']);
  const firstNew = answers.find((a) => a.body.version === 'v2')!;
  const lastOld = answers.findLast((a) => a.body.version === 'v1')!;
  assert.ok(lastOld.at > firstNew.at, 'both versions answered during the rollout');
  assert.ok(lastOld.at < doneAt, 'no old answer after the rollout was reported done');
  const late = answers.filter((a) => a.sentAt > doneAt);
  assert.ok(late.length >= 100);
  assert.deepEqual(versions(late), ['v2'], 'once done, only the new version answers');
  assert.equal(after.rollout.new.ready, 2);
  assert.deepEqual(after.rollout.old, { ready: 0, starting: 0, pending: 0, failed: 0, draining: 0 });
  assert.ok(after.detail.every((r: any) => r.version === after.version));
  assert.match(server.output(), new RegExp(`^serve --watch: predictor\\.py changed; deploying .*cortex\\.yaml:\\n  updating echo \\(version ${before.version} → ${after.version}\\)$`, 'm'));
  assert.match(server.output(), new RegExp(`^api echo: version ${after.version} is live \\(rollout done\\)$`, 'm'));
  const metrics = await (await request(`${server.url}/metrics`, { dispatcher: agent })).body.text();
  assert.match(metrics, new RegExp(`^cortex_local_api_version_info\\{api="echo",version="${after.version}"\\} 1$`, 'm'));
  assert.match(metrics, /^cortex_local_rollout_state\{api="echo",state="live"\} 1$/m);
  assert.match(metrics, /^cortex_local_rollout_state\{api="echo",state="updating"\} 0$/m);
  assert.match(metrics, /^cortex_local_rollout_replicas\{api="echo",side="new",state="ready"\} 2$/m);
  assert.match(metrics, /^cortex_local_rollout_replicas\{api="echo",side="old",state="ready"\} 0$/m);
});

for (const [surge, unavailable] of [[0, 1], [1, 0]] as const) {
  test(`max_surge ${surge} / max_unavailable ${unavailable} on 3 replicas: no sampled state crosses the bounds, no request fails`, async () => {
    const strategy = `  update_strategy:\n    max_surge: ${surge}\n    max_unavailable: ${unavailable}\n`;
    // update_strategy and the replica count are taken in place: nothing restarts for them.
    const was = await status();
    writeFileSync(join(dir, 'cortex.yaml'), config(3, strategy));
    const configured = await eventually(async () => {
      const s = await status();
      return s.version !== was.version && s.rollout.state === 'live' && s.rollout.new.ready === 3 ? s : undefined;
    }, 'the new strategy and count', 60_000, () => server.output());
    assert.deepEqual([configured.rollout.max_surge, configured.rollout.max_unavailable], [surge, unavailable]);
    const version = `v-${surge}-${unavailable}`;
    const stream = startStream(`${server.url}/echo`, { clients: 2 });
    await stream.more(20);
    writeFileSync(join(dir, 'predictor.py'), predictor(version));
    const samples: any[] = [];
    await eventually(async () => {
      const s = await status();
      samples.push(s);
      return s.version !== configured.version && s.rollout.state === 'live' ? s : undefined;
    }, 'the rollout to end', 60_000, () => server.output());
    const answers = await stream.stop();
    assertAll200(answers);
    const rolling = samples.filter((s) => s.rollout.state === 'updating');
    assert.ok(rolling.length >= 5, `the rollout was sampled (${rolling.length} times)`);
    for (const s of samples) {
      const { new: n, old: o } = s.rollout;
      const total = n.ready + n.starting + n.pending + n.failed + n.draining + o.ready + o.starting + o.pending + o.failed + o.draining;
      assert.ok(total <= 3 + surge, `${total} replicas > 3 + ${surge}: ${JSON.stringify(s.rollout)}`);
      assert.ok(n.ready + o.ready >= 3 - unavailable, `${n.ready + o.ready} ready < 3 − ${unavailable}: ${JSON.stringify(s.rollout)}`);
    }
    await liveOn(version, 3);
  });
}

test('a new version whose __init__ raises: the old one keeps answering, the status shows the error; a fixed edit then rolls', async () => {
  const before = await liveOn('v-1-0', 3);
  const stream = startStream(`${server.url}/echo`, { clients: 2 });
  await stream.more(20);
  writeFileSync(join(dir, 'predictor.py'), predictor('broken', 'raise RuntimeError("broken on purpose")'));
  const failing = await eventually(async () => {
    const s = await status();
    return s.rollout.state === 'error' ? s : undefined;
  }, 'the rollout to stop on the error', 60_000, () => server.output());
  assert.equal(failing.status, 'error');
  assert.match(failing.rollout.error, /RuntimeError: broken on purpose/);
  assert.deepEqual(failing.rollout.old_versions, [before.version]);
  assert.equal(failing.rollout.old.ready, 3, 'max_unavailable 0: every old replica still serves');
  await stream.more(50);
  assert.match(server.output(), /^api echo: the rollout of version \w+ is stopped: its predictor failed to initialize \(.*\); version \w+ keeps serving\. Fix it and deploy again$/m);
  const port = new URL(server.url).port;
  const get = await new Promise<string>((resolve, reject) => execFile(BIN, ['get', 'echo', '--port', port], (err, out) => (err ? reject(err) : resolve(out))));
  assert.match(get, /^rollout: error, to version \w+ from \w+ \(max_surge 1, max_unavailable 0\); new: .*; old: 3 ready$/m);
  assert.match(get, /^rollout stopped by the new version's error: .*RuntimeError: broken on purpose/m);
  writeFileSync(join(dir, 'predictor.py'), predictor('fixed'));
  await liveOn('fixed', 3);
  const answers = await stream.stop();
  assertAll200(answers);
  assert.deepEqual(versions(answers).filter((v) => v === 'broken'), [], 'the broken version never answered');
  assert.ok(versions(answers).includes('fixed'));
});

test('a broken edit reverted: the replicas that still run the version on disk serve it again, not restarted, and every answer is a 200', async () => {
  const before = await liveOn('fixed', 3);
  const pids = (st: any) => st.detail.flatMap((r: any) => r.workers.map((w: any) => w.pid)).sort();
  const stream = startStream(`${server.url}/echo`, { clients: 2 });
  await stream.more(20);
  writeFileSync(join(dir, 'predictor.py'), predictor('broken', 'raise RuntimeError("broken on purpose")'));
  const failed = await eventually(async () => {
    const s = await status();
    return s.rollout.state === 'error' ? (s.restarts.init_failure as number) : undefined;
  }, 'the rollout to stop on the error', 60_000, () => server.output());
  // The broken replica retries __init__, reading predictor.py afresh: a retry
  // that starts between the revert and its deploy would run the reverted code
  // as the broken version, become ready and let that rollout replace an old
  // replica. Reverted once it has failed twice more, the next retry is at
  // least 2 s away (backoff), and the revert's deploy comes first.
  await eventually(async () => ((await status()).restarts.init_failure >= failed + 2 ? true : undefined), 'two more failed retries', 60_000, () => server.output());
  writeFileSync(join(dir, 'predictor.py'), predictor('fixed'));
  const after = await liveOn('fixed', 3);
  const answers = await stream.stop();
  assertAll200(answers);
  assert.equal(after.version, before.version);
  assert.deepEqual(pids(after), pids(before), 'the same workers serve: none was restarted');
  assert.match(server.output(), new RegExp(`^api echo: rolling back to version ${before.version} on 3 replicas \\(.*\\): 3 replicas still run it and are kept, not restarted$`, 'm'));
  assert.deepEqual(versions(answers).filter((v) => v === 'broken'), [], 'the broken version never answered');
});

test('an invalid cortex.yaml edit: the old config keeps serving untouched, the error has its line:column; deploy prints it and exits 1', async () => {
  const before = await liveOn('fixed', 3);
  const stream = startStream(`${server.url}/echo`, { clients: 2 });
  await stream.more(20);
  writeFileSync(join(dir, 'cortex.yaml'), `${config(3)}  autoscaling: {min_replicas: 0}\n`);
  await server.waitFor(/^serve --watch: cortex\.yaml changed; refused, the APIs keep serving as they were:$/, 30_000);
  // YAML 1.1, as Cortex read it: the later of two keys wins.
  await server.waitFor(/cortex\.yaml:8:31  api "echo": autoscaling\.min_replicas: must be > 0 \(got 0\)$/);
  const port = new URL(server.url).port;
  const deploy = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(BIN, ['deploy', '--port', port], (err, stdout, stderr) => resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr })),
  );
  assert.equal(deploy.code, 1);
  assert.match(deploy.stderr, /^.*cortex\.yaml:8:31  api "echo": autoscaling\.min_replicas: must be > 0 \(got 0\)$/m);
  assert.match(deploy.stderr, /^1 error in .*cortex\.yaml$/m);
  await stream.more(50);
  const answers = await stream.stop();
  assertAll200(answers);
  const now = await status();
  assert.equal(now.version, before.version, server.output());
  assert.deepEqual(now.detail.map((r: any) => r.id), before.detail.map((r: any) => r.id), 'no replica restarted');
});
