// Fallback launcher: serves one API through src/app.ts's App in a process of
// its own, with the API resolved here instead of by the config loader. run.ts
// uses it only when `bin/cortex-local serve` cannot start (the loader not yet
// in the tree), and says so in the results. Same request path as serve:
// FrontDoor → ApiPool → PythonWorker.
//
// Prints the same lines as serve: "cortex-local serving 1 API on URL" and
// "api NAME ready at URL".
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { App } from '../../src/app.ts';
import type { ResolvedApi } from '../../src/config/types.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'hello' },
    predictor: { type: 'string' },
    config: { type: 'string', default: '{}' },
    workers: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    'max-concurrency': { type: 'string', default: '1024' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    python: { type: 'string', default: 'python3' },
  },
});
if (values.predictor === undefined) throw new Error('--predictor is required');
const predictorPath = resolve(values.predictor);
const projectDir = dirname(predictorPath);
const workers = Number(values.workers);
const threads = Number(values.threads);

// cortex.yaml's defaults for an API that sets only predictor fields.
const api: ResolvedApi = {
  name: values.name,
  endpoint: `/${values.name}`,
  predictor: { type: 'python', path: basename(predictorPath), model: null, signature_key: null, config: JSON.parse(values.config) as Record<string, unknown>, python_path: projectDir, env: {} },
  tracker: null,
  compute: { cpu: 0.2, gpu: 0, mem: null },
  autoscaling: {
    min_replicas: 1,
    max_replicas: 100,
    init_replicas: 1,
    workers_per_replica: workers,
    threads_per_worker: threads,
    target_replica_concurrency: workers * threads,
    max_replica_concurrency: Number(values['max-concurrency']),
    window: 60,
    downscale_stabilization_period: 300,
    upscale_stabilization_period: 0,
    max_downscale_factor: 0.75,
    max_upscale_factor: 1.5,
    downscale_tolerance: 0.05,
    upscale_tolerance: 0.05,
  },
  update_strategy: { max_surge: '25%', max_unavailable: '25%' },
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const app = new App({
  config: { file: resolve(projectDir, 'cortex.yaml'), projectDir, apis: [api] },
  python: values.python,
  host: values.host,
  port: Number(values.port),
  gpus: [],
  log,
  output: (label, _stream, line) => process.stdout.write(`[${label}] ${line}\n`),
});
const addr = await app.listen();
const base = `http://${addr.host}:${addr.port}`;
log(`cortex-local serving 1 API on ${base} (in-process fallback)`);
for (const pool of app.pools) pool.once('ready', () => log(`api ${pool.api.name} ready at ${base}${pool.api.endpoint}`));
const stop = () => {
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
