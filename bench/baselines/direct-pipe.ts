// The bridge's ceiling: one PythonWorker (src/python-bridge) driven in a
// closed loop with `--concurrency` requests always outstanding, no HTTP and no
// pool. cortex-local's throughput over this is the share of the bridge's
// capacity the front door and pool leave usable.
//
//   node bench/baselines/direct-pipe.ts --predictor DIR/predictor.py [--config JSON]
//       [--body JSON] [--concurrency 64] [--warmup 2] [--duration 10] [--python python3]
// Prints "ready PID" when the worker is up, then one JSON line with the result.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kind } from '../../src/python-bridge/frames.ts';
import { oneWorker } from './one-worker.ts';

const { values } = parseArgs({
  options: {
    predictor: { type: 'string' },
    config: { type: 'string', default: '{}' },
    body: { type: 'string', default: '{"name": "cortex"}' },
    'body-file': { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10' },
    python: { type: 'string', default: 'python3' },
    threads: { type: 'string', default: '1' },
  },
});
if (values.predictor === undefined) throw new Error('--predictor is required');
const predictorPath = resolve(values.predictor);
const body = values['body-file'] !== undefined ? readFileSync(values['body-file']) : Buffer.from(values.body);
const concurrency = Number(values.concurrency);
const warmupMs = Number(values.warmup) * 1000;
const durationMs = Number(values.duration) * 1000;

// Latencies in µs, recorded only inside the measured window.
const latencies: number[] = [];
let measuring = false;
let stopping = false;
let completed = 0;
let errors = 0;
/** send time by request id; ids are reused once answered */
const sentAt: number[] = [];
const freeIds: number[] = [];
let nextId = 1;

const worker = oneWorker(
  { predictor: predictorPath, config: values.config, python: values.python, threads: values.threads },
  {
    ready(info) {
      process.stdout.write(`ready ${info.pid}\n`);
      start();
    },
    reply(id, kind) {
      if (measuring) {
        latencies.push((performance.now() - sentAt[id]) * 1000);
        completed++;
        if (kind !== Kind.RESULT_JSON && kind !== Kind.RESULT_BYTES) errors++;
      }
      freeIds.push(id);
      if (!stopping) send();
    },
    wanted: () => !stopping,
  },
);

function send(): void {
  const id = freeIds.pop() ?? nextId++;
  sentAt[id] = performance.now();
  worker.send(id, body);
}

function start(): void {
  for (let i = 0; i < concurrency; i++) send();
  setTimeout(() => {
    measuring = true;
    const started = performance.now();
    setTimeout(() => {
      measuring = false;
      stopping = true;
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
      process.stdout.write(
        JSON.stringify({ requests: completed, seconds, rps: completed / seconds, p50_us: pct(50), p99_us: pct(99), max_us: latencies.at(-1) ?? 0, errors }) + '\n',
      );
      worker.shutdown();
      setTimeout(() => process.exit(0), 2000).unref();
    }, durationMs);
  }, warmupMs);
}
worker.start();
