// `npm run test:export`: the exports of examples/hello and examples/iris run
// on the engines themselves, from .venv-export (test/setup/export-env.ts):
// KServe's own model server (no Kubernetes) and Ray Serve's `serve run` on a
// real single-node Ray cluster bound to loopback. Each must answer what
// `cortex-local serve` answers. Not in `npm test`: see the README's
// "Outgrowing one machine" for its cost.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { parse, stringify } from 'yaml';
import { BIN, eventually, startServer } from '../helpers/server.ts';

const REPO = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(REPO, 'examples');
const VENV_BIN = join(REPO, '.venv-export', 'bin');
const ENGINE_START_MS = 180_000;

interface Answer {
  status: number;
  body: unknown;
}

interface Example {
  name: string;
  /** request bodies sent to every server; answers compared */
  bodies: string[];
  /** cortex-local serve's answers to `bodies` (run with .venv-export's python), without its request_id */
  expected: Answer[];
}

const examples: Example[] = [
  { name: 'hello', bodies: ['{"name": "cortex"}', '{}', '"not a mapping"', '{bad'], expected: [] },
  {
    name: 'iris',
    bodies: [
      readFileSync(join(EXAMPLES, 'iris', 'sample.json'), 'utf8'),
      '{"sepal_length": 6.9, "sepal_width": 3.1, "petal_length": 5.4, "petal_width": 2.1}',
      '{"sepal_length": 5.9, "sepal_width": 2.8, "petal_length": 4.3, "petal_width": 1.3}',
      '{}',
      '',
    ],
    expected: [],
  },
];

const work = realpathSync(mkdtempSync(join(tmpdir(), 'cortex-local-engines-')));
after(() => rmSync(work, { recursive: true, force: true }));

function exportDir(engine: string, example: string): string {
  return join(work, `${example}-${engine}`);
}

async function answer(url: string, body: string, contentType = 'application/json'): Promise<Answer> {
  const r = await request(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  const text = await r.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (parsed !== null && typeof parsed === 'object' && 'request_id' in parsed) delete (parsed as Record<string, unknown>).request_id;
  return { status: r.statusCode, body: parsed };
}

before(async () => {
  for (const example of examples) {
    for (const engine of ['kserve', 'rayserve']) {
      await promisify(execFile)(BIN, ['export', '--to', engine, join(EXAMPLES, example.name), '-o', exportDir(engine, example.name)]);
    }
    // the engines' interpreter, so that the predictor and the worker runtime see the same packages (orjson's parser messages, numpy)
    const server = await startServer(join(EXAMPLES, example.name), ['--python', join(VENV_BIN, 'python')], { waitForApis: [example.name] });
    try {
      for (const body of example.bodies) example.expected.push(await answer(`${server.url}/${example.name}`, body));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  }
  // every example has answers of each kind the servers must reproduce
  assert.deepEqual(examples.map((e) => e.expected.map((a) => a.status)), [[200, 200, 200, 400], [200, 200, 200, 500, 400]]);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept, for waiting on a line and for failure messages. */
class Proc {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  constructor(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer) => (this.output += c.toString());
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  /** Sends `signal`, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Polls `url` with `body` until it answers 200 (the engine has the API ready), failing early if `proc` exits. */
async function ready(proc: Proc, url: string, body: string, what: string): Promise<void> {
  await eventually(
    async () => {
      assert.ok(proc.running, `${what} exited before it served:\n${proc.output}`);
      const r = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).catch(() => null);
      if (r === null) return undefined;
      await r.body.dump();
      return r.statusCode === 200 ? true : undefined;
    },
    `${what} to answer 200 at ${url}`,
    ENGINE_START_MS,
    () => proc.output.slice(-4000),
  );
}

async function checkPlainRoute(base: string, example: Example, where: string): Promise<void> {
  for (const [i, body] of example.bodies.entries()) {
    assert.deepEqual(await answer(`${base}/${example.name}`, body), example.expected[i], `${where}: POST /${example.name} ${JSON.stringify(body)}`);
  }
}

test('KServe: the exported model server answers v1, v2 and Cortex’s POST <endpoint> as cortex-local serve does', async () => {
  for (const example of examples) {
    const port = await freePort();
    const server = new Proc(join(VENV_BIN, 'python'), ['-m', 'cortex_local_export.kserve_server', '--api', example.name, '--http_port', String(port), '--enable_grpc', 'false'], {
      cwd: exportDir('kserve', example.name),
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await ready(server, `${base}/${example.name}`, example.bodies[0], `KServe's model server for ${example.name}`);
      const status = await request(`${base}/v1/models/${example.name}`);
      assert.deepEqual(await status.body.json(), { name: example.name, ready: true });

      await checkPlainRoute(base, example, 'KServe');

      const ok = example.expected.flatMap((a, i) => (a.status === 200 ? [{ body: example.bodies[i], prediction: a.body }] : []));
      const v1 = await answer(`${base}/v1/models/${example.name}:predict`, `{"instances": [${ok.map((o) => o.body).join(', ')}]}`);
      assert.deepEqual(v1, { status: 200, body: { predictions: ok.map((o) => o.prediction) } }, 'v1');
      const bare = await answer(`${base}/v1/models/${example.name}:predict`, example.bodies[0]);
      assert.equal(bare.status, 400, 'v1 without "instances"');
      assert.match(JSON.stringify(bare.body), /a v1 request is \{\\"instances\\": \[payload, \.\.\.\]\}; to send the payload itself, POST it to \//);

      const v2 = await answer(
        `${base}/v2/models/${example.name}/infer`,
        JSON.stringify({ inputs: [{ name: 'payload', shape: [ok.length], datatype: 'BYTES', data: ok.map((o) => o.body) }] }),
      );
      assert.equal(v2.status, 200, JSON.stringify(v2.body));
      const [output] = (v2.body as { outputs: { name: string; datatype: string; data: string[] }[] }).outputs;
      assert.equal(output.datatype, 'BYTES');
      assert.deepEqual(output.data.map((d) => JSON.parse(d)), ok.map((o) => o.prediction), 'v2');
    } finally {
      await server.stop('SIGTERM', 30_000);
    }
  }
});

test('Ray Serve: serve run with the exported config answers as cortex-local serve does, on a single-node Ray cluster', async () => {
  const python = join(VENV_BIN, 'python');
  // Ray's own schema for `serve run` / `serve deploy` accepts the written configs as they are,
  // the examples' and one with every mapped field set
  const big = join(work, 'big');
  mkdirSync(big);
  writeFileSync(join(big, 'predictor.py'), 'class PythonPredictor:\n    def __init__(self, config):\n        pass\n\n    def predict(self, payload):\n        return payload\n');
  writeFileSync(
    join(big, 'cortex.yaml'),
    '- name: big\n  endpoint: v1/big\n  predictor: {type: python, path: predictor.py, env: {MODE: fast}}\n  compute: {cpu: 1500m, mem: 2Gi, gpu: 1}\n' +
      '  autoscaling: {min_replicas: 2, max_replicas: 8, init_replicas: 3, workers_per_replica: 2, threads_per_worker: 4, target_replica_concurrency: 6.5, max_replica_concurrency: 32, window: 10s, upscale_stabilization_period: 30s}\n- name: small\n  predictor: {type: python, path: predictor.py}\n',
  );
  await promisify(execFile)(BIN, ['export', '--to', 'rayserve', big, '-o', exportDir('rayserve', 'big')]);
  const names = [...examples.map((e) => e.name), 'big'];
  const { stdout } = await promisify(execFile)(python, [
    '-c',
    'import sys, yaml; from ray.serve.schema import ServeDeploySchema; print(*(len(ServeDeploySchema.model_validate(yaml.safe_load(open(f))).applications) for f in sys.argv[1:]))',
    ...names.map((name) => join(exportDir('rayserve', name), 'serve_config.yaml')),
  ]);
  assert.equal(stdout.trim(), '1 1 2', 'applications in the configs of hello, iris and big');

  // Loopback only: RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray's Python side
  // resolve this node to 127.0.0.1 (it would otherwise pick the machine's
  // address), and every fixed port Ray would take is replaced by a free one.
  const env = { RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER: '0', RAY_USAGE_STATS_ENABLED: '0' };
  const [gcs, client, dashboard, agent] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const temp = realpathSync(mkdtempSync(join(tmpdir(), 'ray-')));
  const head = new Proc(
    join(VENV_BIN, 'ray'),
    ['start', '--head', '--block', '--node-ip-address', '127.0.0.1', '--port', String(gcs), '--ray-client-server-port', String(client), '--dashboard-port', String(dashboard), '--dashboard-agent-listen-port', String(agent),
      '--include-dashboard', 'false', '--disable-usage-stats', '--num-cpus', '2', '--num-gpus', '0', '--object-store-memory', String(100 * 2 ** 20), '--temp-dir', temp],
    { env },
  );
  try {
    await eventually(() => (head.output.includes('Ray runtime started') ? true : (assert.ok(head.running, `ray start exited:\n${head.output}`), undefined)), 'the Ray head to start', ENGINE_START_MS, () => head.output);
    for (const example of examples) {
      const dir = exportDir('rayserve', example.name);
      const port = await freePort();
      // The written config listens on 0.0.0.0:8000, as a cluster's proxy should; here, loopback and a free port.
      const config = parse(readFileSync(join(dir, 'serve_config.yaml'), 'utf8'));
      config.http_options = { host: '127.0.0.1', port };
      writeFileSync(join(dir, 'serve_config.test.yaml'), stringify(config));
      const serve = new Proc(join(VENV_BIN, 'serve'), ['run', '--address', `127.0.0.1:${gcs}`, '--working-dir', '.', 'serve_config.test.yaml'], { cwd: dir, env });
      try {
        const base = `http://127.0.0.1:${port}`;
        await ready(serve, `${base}/${example.name}`, example.bodies[0], `serve run for ${example.name}`);
        await checkPlainRoute(base, example, 'Ray Serve');
        const routes = await request(`${base}/-/routes`);
        assert.deepEqual(await routes.body.json(), { [`/${example.name}`]: example.name });
      } finally {
        await serve.stop('SIGINT', 60_000);
      }
    }
  } finally {
    await head.stop('SIGTERM', 60_000);
    rmSync(temp, { recursive: true, force: true });
  }
});
