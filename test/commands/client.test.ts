// get, get --watch, get API --autoscaler, logs [--follow] and predict, run as
// a user runs them, against a real server started with --api-key.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { ExplainedTick } from '../../src/autoscale/explain.ts';
import { BIN, eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const project = join(import.meta.dirname, '..', 'fixtures', 'observe', 'cli.yaml');
const KEY = 'cli-test-key-0123456789';
let server: ServerProcess;
let scratch: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cortex-local ARGS` against the test server (its port and key unless given), with `input` on stdin. */
function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; server?: boolean } = {}): Promise<Run> {
  const port = new URL(server.url).port;
  const where = opts.server === false ? [] : ['--port', port];
  return new Promise((resolve) => {
    const child = execFile(BIN, [...args, ...where], { env: { ...process.env, CORTEX_LOCAL_API_KEY: KEY, NO_COLOR: '', ...opts.env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** Starts a long-running command; `until` resolves once its output matches, `stop` sends SIGINT and resolves with the exit code. */
function running(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(command, args, { env: { ...process.env, CORTEX_LOCAL_API_KEY: KEY, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => out,
    until: (re: RegExp, what: string) => eventually(() => (re.test(out) ? out : undefined), what, 20_000, () => out),
    stop: async (signal: NodeJS.Signals = 'SIGINT') => {
      child.kill(signal);
      return exited;
    },
  };
}

async function predict(api: string, body: unknown): Promise<number> {
  const res = await request(`${server.url}/${api}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${KEY}` } });
  await res.body.dump();
  return res.statusCode;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'client-'));
  server = await startServer(project, ['--api-key', KEY], { waitForApis: ['iris', 'plain', 'scaled'], env: { CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '20' } });
  for (const label of ['setosa', 'setosa', 'virginica']) assert.equal(await predict('iris', { answer: { label } }), 200);
  assert.equal(await predict('plain', { raise: 'boom' }), 500);
});

after(async () => {
  assert.equal(await server.stop(), 0);
  await rm(scratch, { recursive: true, force: true });
});

describe('get', () => {
  test('lists every API: replicas, requests of the last minute by class, p50/p99, endpoint', async () => {
    const r = await cli(['get']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^api\s+status\s+ready\s+desired\s+in flight\s+2XX\s+4XX\s+5XX\s+p50\s+p99\s+version\s+old\s+endpoint\s+autoscaler$/);
    assert.match(lines[1], new RegExp(`^iris\\s+live\\s+1\\s+1\\s+0\\s+3\\s+0\\s+0\\s+[\\d.]+ms\\s+[\\d.]+ms\\s+[\\da-f]{8}\\s+0\\s+${server.url}/iris\\s`));
    assert.match(lines[2], new RegExp(`^plain\\s+live\\s+1\\s+1\\s+0\\s+0\\s+0\\s+1\\s+[\\d.]+ms`));
    assert.match(lines[3], /^scaled\s+live\s+\d\s+\d\s+0\s+0\s+0\s+0\s+-\s+-\s/);
    assert.equal(lines.at(-1), 'requests and latency over the last minute; old: replicas of older versions; autoscaler: its last tick');
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
  });

  test('get API: its replicas with pids and memory, its tracker', async () => {
    const status = (await (await request(`${server.url}/apis/iris`, { headers: { authorization: `Bearer ${KEY}` } })).body.json()) as any;
    const pid = status.detail[0].workers[0].pid;
    const r = await cli(['get', 'iris']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^iris  ${server.url}/iris  version [\\da-f]{8}\n`));
    assert.match(r.stdout, /\nreplica\s+state\s+gpus\s+pids\s+memory\s+in flight\s+restarts\s+version\s+note\n/);
    assert.match(r.stdout, new RegExp(`\\n1\\s+ready\\s+-\\s+${pid}\\s+[\\d.]+Mi\\s+0\\s+0\\s+[\\da-f]{8}\\n`));
    assert.match(r.stdout, /\ntracker \(classification, key label\): 3 tracked, 0 missed\n/);
    assert.match(r.stdout, /\n  setosa\s+2\s+66\.7%\n  virginica\s+1\s+33\.3%\n/);
    assert.match(r.stdout, /\nrestarts: crash 0, memory 0, timeout 0, init_failure 0\n/);
    const json = JSON.parse((await cli(['get', 'iris', '--json'])).stdout);
    assert.equal(json.api, 'iris');
    assert.deepEqual(json.tracker.classes, [{ class: 'setosa', count: 2 }, { class: 'virginica', count: 1 }]);
  });

  test('get API --autoscaler equals simulate --explain on the same (idle) trace', async () => {
    // scaled starts with 2 replicas; idle, it goes to 1 once its 20 s downscale period is over.
    const view = await eventually(async () => {
      const r = await cli(['get', 'scaled', '--autoscaler', '--json']);
      const v = JSON.parse(r.stdout) as { ticks: ExplainedTick[]; desired_replicas: number };
      return v.desired_replicas === 1 && v.ticks.length >= 4 ? v : undefined;
    }, 'scaled down to 1 replica');
    const last = view.ticks.at(-1) as ExplainedTick;
    const trace = join(scratch, 'idle.json');
    await writeFile(trace, JSON.stringify({
      autoscaling: { min_replicas: 1, init_replicas: 2, max_replicas: 3, window: '10s', downscale_stabilization_period: '20s' },
      initial_replicas: 2,
      duration: last.t,
      in_flight: [[0, 0]],
    }));
    const sim = await cli(['simulate', trace, '--explain', '--json'], { server: false });
    assert.equal(sim.code, 0, sim.stderr);
    const expected = (JSON.parse(sim.stdout) as { ticks: ExplainedTick[] }).ticks.slice(-view.ticks.length);
    // A busy machine may sleep through a sampling slot; with no load every sample is 0 either way.
    const withoutSamples = (ticks: readonly ExplainedTick[]) => ticks.map(({ samples: _, ...rest }) => rest);
    assert.deepEqual(withoutSamples(view.ticks), withoutSamples(expected));
    assert.ok(view.ticks.some((t) => t.current === 2 && t.request === 1), 'the scale-down is among the ticks kept');
    await server.waitFor(/^replica scaled\/[12] drained and stopped$/);

    const text = await cli(['get', 'scaled', '--autoscaler']);
    assert.match(text.stdout, /^autoscaler of scaled: 1 replica requested now\nt\s+samples\s+avg\s+current\s+raw\s+band\s+caps\s+rec\s+stab floor\s+stab ceil\s+request\s+reason\n/);
    assert.match(text.stdout, /\n20\s+\d+\s+0\s+2\s+0→0\s+\(1\.8, 2\.2\)\s+\[1, 20\]\*\s+1\s+1\s+-\s+2->1\s+max_downscale_factor cap\n/);
    const refused = await cli(['get', '--autoscaler']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--autoscaler needs an API/);
  });

  test('get --watch without a terminal: one block a second, each stamped; Ctrl-C ends it with 0', async () => {
    const watch = running(BIN, ['get', '--watch', '--port', new URL(server.url).port]);
    const out = await watch.until(/--- \d\d:\d\d:\d\d\n[^]*--- \d\d:\d\d:\d\d\napi /, 'two blocks');
    assert.doesNotMatch(out, /\x1b/);
    assert.equal(await watch.stop(), 0);
  });

  test('get --watch on a terminal redraws in place, in colour unless NO_COLOR', async () => {
    const port = new URL(server.url).port;
    const frames = /\x1b\[H\x1b\[J[^]*\x1b\[H\x1b\[J/;
    const colour = running('script', ['-qfec', `${BIN} get --watch --port ${port}`, '/dev/null'], { NO_COLOR: '' });
    const out = await colour.until(frames, 'two frames on a terminal');
    await colour.stop('SIGTERM');
    assert.match(out, /^\x1b\[2J/, 'the screen is cleared once');
    assert.match(out, /\x1b\[32mlive\x1b\[39m/);
    assert.match(out, /every 1s · \d\d:\d\d:\d\d · Ctrl-C to stop/);
    const plain = running('script', ['-qfec', `${BIN} get --watch --port ${port}`, '/dev/null'], { NO_COLOR: '1' });
    const noColour = await plain.until(frames, 'two frames without colour');
    await plain.stop('SIGTERM');
    assert.doesNotMatch(noColour, /\x1b\[(32|2|1)m/);
  });
});

describe('logs', () => {
  test('prints the API\'s kept lines: worker output as [api/replica/worker], the server\'s lines as they are', async () => {
    const r = await cli(['logs', 'plain']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[plain\/1\/1\] observe predictor loaded\n/);
    assert.match(r.stdout, /\n\[plain\] request \S+ failed in predict\(\):\nTraceback \(most recent call last\):\n[^]*ValueError: boom\n/);
    const last = await cli(['logs', 'plain', '--lines', '1']);
    assert.equal(last.stdout.split('\n')[0].startsWith('[plain] request '), true);
  });

  test('--follow prints new lines as they come, until Ctrl-C', async () => {
    const follow = running(BIN, ['logs', 'iris', '--follow', '--port', new URL(server.url).port]);
    await follow.until(/observe predictor loaded/, 'the kept lines');
    assert.equal(await predict('iris', { say: 'followed line', answer: { label: 'x' } }), 200);
    const out = await follow.until(/to stderr: followed line\n/, 'the new lines');
    assert.match(out, /\[iris\/1\/1\] followed line\n\[iris\/1\/1\] to stderr: followed line\n/);
    assert.equal(await follow.stop(), 0);
  });

  test('on a terminal each line has its time', async () => {
    const tty = running('script', ['-qfec', `${BIN} logs plain --port ${new URL(server.url).port}`, '/dev/null'], { NO_COLOR: '1' });
    const out = await tty.until(/observe predictor loaded/, 'the lines');
    assert.match(out, /^\d\d:\d\d:\d\d \[plain\/1\/1\] observe predictor loaded\r?\n/);
  });
});

describe('predict', () => {
  test('a JSON file: the prediction on stdout, exit 0', async () => {
    const file = join(scratch, 'sample.json');
    await writeFile(file, JSON.stringify({ answer: { label: 'versicolor', p: [0.1, 0.9] } }));
    const r = await cli(['predict', 'iris', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"label": "versicolor", "p": [0.1, 0.9]}\n');
    assert.equal(r.stderr, '');
  });

  test('- reads stdin; --debug has the server log the payload', async () => {
    const r = await cli(['predict', 'plain', '-', '--debug'], { input: '{"answer": "from stdin"}' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '"from stdin"\n');
    await server.waitFor(/^\[plain\] request \S+ payload: \{"answer": "from stdin"\}$/);
  });

  test('a non-2xx answer: the error on stderr, exit 1', async () => {
    const r = await cli(['predict', 'plain', '-'], { input: '{"raise": "bad input"}' });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^cortex-local: plain answered 500: \{"error":"ValueError: bad input","api":"plain","request_id":"[^"]+"\}\n$/);
  });

  test('bad input: not JSON (exit 1), no such file (exit 2), no such API (exit 1)', async () => {
    const bad = await cli(['predict', 'iris', '-'], { input: '{"a": ' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^cortex-local: stdin is not valid JSON: /);
    const missing = await cli(['predict', 'iris', join(scratch, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.json: no such file/);
    const file = join(scratch, 'ok.json');
    await writeFile(file, '{}');
    const unknown = await cli(['predict', 'nope', file]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `cortex-local: the server at ${server.url} answered 404: no API named "nope"; this server has: iris, plain, scaled\n`);
  });
});

describe('finding the server', () => {
  test('no server: every client command says how to start one', async () => {
    const port = await freePort();
    for (const args of [['get'], ['logs', 'iris'], ['predict', 'iris', '-']]) {
      const r = await cli([...args, '--port', String(port)], { server: false, input: '{}' });
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, `cortex-local: No cortex-local server at http://127.0.0.1:${port}: start one with \`cortex-local serve\`\n`);
    }
  });

  test('the API key: from $CORTEX_LOCAL_API_KEY or --api-key; missing or wrong, a message saying so', async () => {
    const missing = await cli(['get'], { env: { CORTEX_LOCAL_API_KEY: '' } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /requires an API key: pass --api-key KEY or set CORTEX_LOCAL_API_KEY/);
    const wrong = await cli(['get', '--api-key', 'not-it']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the API key given/);
    const flag = await cli(['get', 'iris', '--json', '--api-key', KEY], { env: { CORTEX_LOCAL_API_KEY: '' } });
    assert.equal(flag.code, 0, flag.stderr);
  });

  test('--url names the server instead of --host and --port', async () => {
    const r = await cli(['get', 'iris', '--json', '--url', `${server.url}/`], { server: false });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).api, 'iris');
    const bad = await cli(['get', '--url', 'ftp://x'], { server: false });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--url must be an http:\/\/ or https:\/\/ URL/);
  });
});
