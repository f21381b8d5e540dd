// One PythonWorker serving a predictor file, for the baselines that drive the
// bridge without cortex-local's pool (bare-bridge, direct-pipe). Anything but
// a reply ends the benchmark process: an init error, garbage on the pipe, or
// the worker's exit while it is still wanted.
import { dirname } from 'node:path';
import { PythonWorker, type WorkerListener } from '../../src/python-bridge/worker-process.ts';

export interface OneWorkerOptions {
  /** absolute path of the predictor file */
  predictor: string;
  config: string;
  python: string;
  threads: string;
}

export function oneWorker(opts: OneWorkerOptions, on: Pick<WorkerListener, 'ready' | 'reply'> & { wanted?: () => boolean }): PythonWorker {
  const folder = dirname(opts.predictor);
  return new PythonWorker(
    {
      python: opts.python,
      cwd: folder,
      env: process.env,
      init: {
        type: 'python',
        path: opts.predictor,
        python_path: folder,
        project_dir: folder,
        config: JSON.parse(opts.config) as Record<string, unknown>,
        threads: Number(opts.threads),
      },
    },
    {
      ready: on.ready,
      reply: on.reply,
      started() {},
      initError(traceback) {
        process.stderr.write(traceback);
        process.exit(1);
      },
      output(stream, lines) {
        for (const line of lines) process.stderr.write(`[worker ${stream}] ${line}\n`);
      },
      malformed(reason) {
        process.stderr.write(`worker wrote ${reason}\n`);
        process.exit(1);
      },
      exit(e) {
        if (on.wanted?.() ?? true) {
          process.stderr.write(`worker exited early: ${e.error?.message ?? e.code ?? e.signal}\n`);
          process.exit(1);
        }
      },
    },
  );
}
