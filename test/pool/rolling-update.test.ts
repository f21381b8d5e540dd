// Rolling updates in the pool, with fake workers: a new version's replicas
// replace the old ones within update_strategy's bounds, old and new serving
// side by side meanwhile; a version that fails __init__ stops the rollout
// with the old one serving; refresh, in-place config changes, the
// autoscaler's count and the compute ledger during a rollout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AutoscalingConfig, ResolvedApi } from '../../src/config/types.ts';
import { ApiPool, type ApiStatus } from '../../src/pool/api-pool.ts';
import { ResourceLedger } from '../../src/pool/ledger.ts';
import { makeApi } from '../helpers/api.ts';
import { fakeSpawner, FakeTimers, recordingJob, settle, type FakeWorker } from '../helpers/fake-worker.ts';

function apiOf(version: string, autoscaling: Partial<AutoscalingConfig>, over: Partial<ResolvedApi> = {}, compute: Partial<ResolvedApi['compute']> = {}): ResolvedApi {
  return { ...makeApi('iris', '/project', { config: { version }, autoscaling: { max_replicas: 10, ...autoscaling }, compute }), ...over };
}

function setup(first: ResolvedApi, opts: { gpus?: number; maxInitAttempts?: number } = {}) {
  const { spawn, workers } = fakeSpawner();
  /** the version each worker was started with, by worker */
  const versionOf = new Map<FakeWorker, string>();
  const timers = new FakeTimers();
  const log: string[] = [];
  const states: ApiStatus[] = [];
  const pool = new ApiPool({
    api: first,
    version: String(first.predictor.config.version),
    projectDir: '/project',
    python: 'python3',
    ledger: new ResourceLedger({ cpu: 8, mem: 2 ** 34, gpus: Array.from({ length: opts.gpus ?? 0 }, (_, index) => ({ index })) }),
    spawn: (spec) => (events) => {
      const w = spawn(events) as FakeWorker;
      versionOf.set(w, String(spec.init.config.version));
      return w;
    },
    timers,
    log: (line) => log.push(line),
    maxInitAttempts: opts.maxInitAttempts,
    workdirs: { create: (name) => `/work/${name}`, remove: () => {} },
  });
  pool.on('state', (s: ApiStatus) => states.push(s));
  const running = (version?: string) => workers.filter((w) => !w.exited && (version === undefined || versionOf.get(w) === version));
  /** every live worker of `version` not yet ready says READY */
  const readyAll = (version: string) => {
    for (const w of running(version)) if (!readied.has(w)) {
      readied.add(w);
      w.ready();
    }
  };
  const readied = new Set<FakeWorker>();
  /** workers asked to shut down exit */
  const exitStopped = async () => {
    for (const w of workers) if (w.shutdownAsked && !w.exited) w.exit({ code: 0, signal: null });
    await settle();
  };
  const send = (body: string) => {
    assert.ok(pool.tryAdmit(), `${body} admitted`);
    const job = recordingJob(body);
    pool.dispatch(job);
    return job;
  };
  const detail = () => pool.status().detail.map((r) => `${r.version}:${r.state}`);
  return { pool, workers, versionOf, timers, log, states, running, readyAll, exitStopped, send, detail };
}

test('a new version rolls in with the default strategy: one new replica beside the old one, both serving, the old one drained once the new is ready', async () => {
  const s = setup(apiOf('v1', { min_replicas: 1 }));
  s.pool.start();
  s.readyAll('v1');
  assert.equal(s.pool.rolloutState, 'live');
  const a = s.send('a');
  s.pool.deploy(apiOf('v2', { min_replicas: 1 }), 'v2', true);
  assert.deepEqual(s.detail(), ['v1:ready', 'v2:starting'], 'max_surge 25% of 1 is 1, max_unavailable 0');
  assert.equal(s.pool.status().rollout.state, 'updating');
  assert.equal(s.pool.version, 'v2');
  assert.match(s.log.join('\n'), /api iris: rolling out version v2 on 1 replica \(max_surge 1, max_unavailable 0\)/);
  s.readyAll('v2');
  assert.deepEqual(s.detail(), ['v1:draining', 'v2:ready'], 'the old replica drains as soon as the new one serves');
  const b = s.send('b');
  assert.deepEqual(s.running('v2')[0].sent.map((x) => x.body), ['b'], 'new requests go to the new version');
  assert.equal(s.running('v1')[0].shutdownAsked, false, 'the old one finishes its request first');
  s.running('v1')[0].answer('a');
  s.running('v2')[0].answer('b');
  await s.exitStopped();
  assert.deepEqual(s.detail(), ['v2:ready']);
  const status = s.pool.status();
  assert.equal(status.rollout.state, 'live');
  assert.deepEqual(status.rollout.old, { ready: 0, starting: 0, pending: 0, failed: 0, draining: 0 });
  assert.deepEqual(status.rollout.new, { ready: 1, starting: 0, pending: 0, failed: 0, draining: 0 });
  assert.deepEqual([a.replies.map((r) => r.kind), b.replies.map((r) => r.kind)], [['prediction'], ['prediction']]);
  assert.match(s.log.join('\n'), /api iris: version v2 is live \(rollout done\)/);
});

/** Every state the pool reported stayed within the strategy's bounds. */
function assertBounds(states: ApiStatus[], desired: number, maxSurge: number, maxUnavailable: number) {
  for (const st of states) {
    const { new: n, old: o } = st.rollout;
    const total = n.ready + n.starting + n.pending + n.failed + n.draining + o.ready + o.starting + o.pending + o.failed + o.draining;
    assert.ok(total <= desired + maxSurge, `${total} replicas > ${desired} + ${maxSurge}: ${JSON.stringify(st.rollout)}`);
    assert.ok(n.ready + o.ready >= desired - maxUnavailable, `${n.ready + o.ready} ready < ${desired} − ${maxUnavailable}: ${JSON.stringify(st.rollout)}`);
  }
}

for (const [surge, unavailable] of [[0, 1], [1, 0]] as const) {
  test(`max_surge ${surge} / max_unavailable ${unavailable} on 3 replicas: every reported state within the bounds, ending on the new version`, async () => {
    const strategy = { max_surge: surge, max_unavailable: unavailable };
    const s = setup({ ...apiOf('v1', { min_replicas: 3 }), update_strategy: strategy });
    s.pool.start();
    s.readyAll('v1');
    s.states.length = 0;
    s.pool.deploy({ ...apiOf('v2', { min_replicas: 3 }), update_strategy: strategy }, 'v2', true);
    for (let step = 0; step < 20 && s.pool.status().rollout.state !== 'live'; step++) {
      s.readyAll('v2');
      await s.exitStopped();
    }
    assert.equal(s.pool.rolloutState, 'live');
    assert.deepEqual(s.detail(), ['v2:ready', 'v2:ready', 'v2:ready']);
    assert.ok(s.states.length > 5, 'states were reported along the way');
    assertBounds(s.states, 3, surge, unavailable);
  });
}

test('a new version whose __init__ fails stops the rollout with the old replicas serving; giving up does not fail the API; a fixed version then rolls', async () => {
  const s = setup(apiOf('v1', { min_replicas: 2 }), { maxInitAttempts: 2 });
  let failed = false;
  s.pool.on('failed', () => (failed = true));
  s.pool.start();
  s.readyAll('v1');
  s.pool.deploy(apiOf('v2', { min_replicas: 2 }), 'v2', true);
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:ready', 'v2:starting'], 'max_surge 25% of 2 is 1, max_unavailable 0');
  const broken = s.running('v2')[0];
  broken.events.initError('Traceback…\nRuntimeError: broken on purpose');
  broken.exit({ code: 1, signal: null });
  await settle();
  let status = s.pool.status();
  assert.equal(status.rollout.state, 'error');
  assert.equal(status.rollout.error, 'Traceback…\nRuntimeError: broken on purpose');
  assert.deepEqual(status.rollout.old, { ready: 2, starting: 0, pending: 0, failed: 0, draining: 0 });
  assert.equal(s.pool.capacity, 2048, 'both old replicas still admit');
  assert.match(s.log.join('\n'), /api iris: the rollout of version v2 is stopped: its predictor failed to initialize \(Traceback…\); version v1 keeps serving/);
  const a = s.send('a');
  assert.equal(s.running('v1').reduce((n, w) => n + w.sent.length, 0), 1, 'requests go to the old version');
  s.running('v1').find((w) => w.sent.length > 0)!.answer('a');
  assert.deepEqual(a.replies.map((r) => r.kind), ['prediction']);
  s.timers.advance(2000);
  s.running('v2')[0].exit({ code: 1, signal: null });
  await settle();
  assert.equal(failed, false, 'an older version serves: the API has not failed');
  assert.match(s.log.join('\n'), /version v2 of api iris failed: its predictor failed to initialize 2 times in a row; no replica of that version starts any more/);
  assert.equal(s.pool.rolloutState, 'error');
  s.pool.deploy(apiOf('v3', { min_replicas: 2 }), 'v3', true);
  status = s.pool.status();
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:ready', 'v2:draining'], 'the failed version goes first; draining, it still counts against max_surge');
  assert.deepEqual(status.rollout.old_versions.sort(), ['v1', 'v2']);
  await settle();
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:ready', 'v3:starting']);
  for (let step = 0; step < 10 && s.pool.status().rollout.state !== 'live'; step++) {
    s.readyAll('v3');
    await s.exitStopped();
  }
  assert.deepEqual(s.detail(), ['v3:ready', 'v3:ready']);
});

test('deploying again a version older replicas still run keeps them, as Kubernetes rolls back to the ReplicaSet it kept: no restart, the other version drains', async () => {
  const s = setup(apiOf('v1', { min_replicas: 2 }), { maxInitAttempts: 5 });
  s.pool.start();
  s.readyAll('v1');
  const before = s.running('v1');
  s.pool.deploy(apiOf('v2', { min_replicas: 2 }), 'v2', true);
  const broken = s.running('v2')[0];
  broken.events.initError('Traceback…\nSyntaxError: invalid syntax');
  broken.exit({ code: 1, signal: null });
  await settle();
  assert.equal(s.pool.rolloutState, 'error');
  s.pool.deploy(apiOf('v1', { min_replicas: 2 }), 'v1', true);
  assert.match(s.log.join('\n'), /api iris: rolling back to version v1 on 2 replicas \(max_surge 1, max_unavailable 0\): 2 replicas still run it and are kept, not restarted/);
  for (let step = 0; step < 10 && s.pool.status().rollout.state !== 'live'; step++) {
    s.timers.advance(60_000);
    await s.exitStopped();
  }
  assert.equal(s.pool.rolloutState, 'live');
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:ready']);
  assert.deepEqual(s.running('v1'), before, 'the same two workers serve: none was restarted');
  assert.equal(s.pool.version, 'v1');
  assert.match(s.log.join('\n'), /api iris: version v1 is live \(rollout done\)/);

  // Back again while the other version is still starting: its replica stops, the kept ones serve.
  s.pool.deploy(apiOf('v3', { min_replicas: 2 }), 'v3', true);
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:ready', 'v3:starting']);
  s.pool.deploy(apiOf('v1', { min_replicas: 2 }), 'v1', true);
  for (let step = 0; step < 10 && s.detail().length > 2; step++) {
    s.timers.advance(60_000);
    await s.exitStopped();
  }
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:ready']);
  assert.deepEqual(s.running('v1'), before);
  assert.equal(s.pool.rolloutState, 'live');

  // refresh restarts every replica, whatever still runs the version.
  s.pool.refresh();
  for (let step = 0; step < 10 && s.pool.status().rollout.state !== 'live'; step++) {
    s.readyAll('v1');
    await s.exitStopped();
  }
  assert.ok(s.running('v1').every((w) => !before.includes(w)), 'every worker is new after refresh');
});

test('a first version that fails marks the API failed; a fixed deploy replaces it at once', async () => {
  const s = setup(apiOf('v1', { min_replicas: 1 }), { maxInitAttempts: 1 });
  let failed = false;
  s.pool.on('failed', () => (failed = true));
  s.pool.start();
  s.running('v1')[0].exit({ code: 1, signal: null });
  await settle();
  assert.equal(failed, true);
  assert.equal(s.pool.rolloutState, 'error');
  s.pool.deploy(apiOf('v2', { min_replicas: 1 }), 'v2', true);
  assert.deepEqual(s.detail(), ['v1:draining', 'v2:starting']);
  await settle();
  s.readyAll('v2');
  assert.deepEqual(s.detail(), ['v2:ready']);
  assert.equal(s.pool.rolloutState, 'live');
});

test('refresh replaces every replica with the same version, one by one', async () => {
  const s = setup(apiOf('v1', { min_replicas: 2 }));
  s.pool.start();
  s.readyAll('v1');
  const before = s.running('v1');
  s.pool.refresh();
  assert.equal(s.pool.rolloutState, 'updating');
  for (let step = 0; step < 10 && s.pool.status().rollout.state !== 'live'; step++) {
    s.readyAll('v1');
    await s.exitStopped();
  }
  assert.equal(s.running('v1').length, 2);
  assert.ok(s.running('v1').every((w) => !before.includes(w)), 'every worker is new');
  assert.equal(s.pool.version, 'v1');
});

test('a config change no replica reads is applied in place: nothing restarts, the desired count kept within the new bounds', () => {
  const s = setup(apiOf('v1', { min_replicas: 1 }));
  s.pool.start();
  s.readyAll('v1');
  s.pool.setDesiredReplicas(3);
  s.readyAll('v1');
  const workers = s.workers.length;
  s.pool.deploy(apiOf('v1', { min_replicas: 1, max_replicas: 2 }), 'v1b', false);
  assert.equal(s.pool.version, 'v1b');
  assert.equal(s.pool.desiredReplicas, 2, 'clamped to max_replicas');
  assert.deepEqual(s.detail(), ['v1b:ready', 'v1b:ready', 'v1b:draining']);
  assert.equal(s.workers.length, workers, 'nothing started');
  assert.equal(s.pool.rolloutState, 'live');
});

test('the autoscaler\'s count during a rollout is the new version\'s', async () => {
  const s = setup(apiOf('v1', { min_replicas: 1 }));
  s.pool.start();
  s.readyAll('v1');
  s.pool.deploy(apiOf('v2', { min_replicas: 1 }), 'v2', true);
  s.pool.setDesiredReplicas(3);
  for (let step = 0; step < 10 && s.pool.status().rollout.state !== 'live'; step++) {
    s.readyAll('v2');
    await s.exitStopped();
  }
  assert.deepEqual(s.detail(), ['v2:ready', 'v2:ready', 'v2:ready']);
});

test('a GPU API with no GPU to spare rolls one replica at a time within its GPUs', async () => {
  const gpu = { gpu: 1 };
  const s = setup(apiOf('v1', { min_replicas: 2 }, {}, gpu), { gpus: 2 });
  s.pool.start();
  s.readyAll('v1');
  s.states.length = 0;
  s.pool.deploy(apiOf('v2', { min_replicas: 2 }, {}, gpu), 'v2', true);
  assert.deepEqual(s.detail(), ['v1:ready', 'v1:draining', 'v2:pending'], 'no GPU is free: one old replica makes room');
  for (let step = 0; step < 10 && s.pool.status().rollout.state !== 'live'; step++) {
    s.readyAll('v2');
    await s.exitStopped();
  }
  assert.deepEqual(s.detail(), ['v2:ready', 'v2:ready']);
  for (const st of s.states) {
    const placed = st.detail.filter((r) => r.state !== 'pending').length;
    assert.ok(placed <= 2, `${placed} replicas hold GPUs`);
    assert.ok(st.replicas.ready >= 1, 'one replica serves throughout');
  }
});
