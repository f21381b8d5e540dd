// `cortex-local serve [PATH]`: validate, start every API, serve until a signal.
import { spawnSync } from 'node:child_process';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { App } from '../app.ts';
import { autoscalerTimeScale } from '../autoscale/autoscaler.ts';
import { parseDuration } from '../config/duration.ts';
import { loadConfigIsolated } from '../config/load-isolated.ts';
import { formatConfigIssues } from '../config/report.ts';
import { ConfigError, PythonNotFoundError, UsageError } from '../errors.ts';
import { discoverGpus } from '../pool/gpus.ts';
import { realTimers } from '../pool/timers.ts';
import { Reloader } from '../reload/reloader.ts';
import { versionsOf } from '../reload/version.ts';
import { ProjectWatcher, watchTargets } from '../reload/watch.ts';
import { DEFAULT_MAX_QUEUED_BYTES } from '../http/byte-budget.ts';
import { prepareProject } from '../project/prepare.ts';
import { DEFAULT_MAX_BODY } from '../http/server.ts';
import { ServeConsole } from './serve-console.ts';
import { parseCommand } from './args.ts';

const help = `usage: cortex-local serve [PATH] [options]

Serves every API of PATH/cortex.yaml (PATH: a cortex.yaml or its folder; default .)

options:
  --port N            port to listen on (default 8888; 0 picks a free one)
  --host H            address to bind (default 127.0.0.1); any other address
                      needs --api-key or --insecure
  --python P          python interpreter for the workers (default $CORTEX_LOCAL_PYTHON or python3)
  --gpus LIST         GPU indices to use, e.g. 0,1 ("none" for none); default: nvidia-smi
  --max-body BYTES    largest request body accepted (default 10485760)
  --body-timeout DUR  how long a request body may take to arrive (default 30s; 408 past it)
  --max-queued-bytes BYTES
                      request bodies held for requests not yet answered, all
                      APIs together, past which requests get 503 (default 268435456)
  --init-timeout DUR  how long a predictor's __init__ may take (default 10m)
  --exit-on-init-error  exit 1 when an API's __init__ has failed 5 times in a
                      row (default: that API is marked failed, the others serve)
  --predict-timeout DUR  answer 504 to a request whose predict() runs longer, and
                      restart its worker (default: no limit, as in Cortex)
  --enforce-mem       make compute.mem a limit on each replica's processes
                      (default: a request, reserved, as in Cortex 0.15)
  --api-key KEY       require "Authorization: Bearer KEY" on every request
                      (at least 16 characters, no spaces)
  --http-threads N    run the HTTP front door on N threads of its own (default 0:
                      on the main thread): more requests per second under many
                      connections, more latency for each (see README, Performance)
  --no-busy-poll      workers always block between requests (default: while there
                      are fewer workers than CPUs, a worker with one thread looks
                      for its next request for up to 100µs first; see README)
  --insecure          allow a non-loopback --host without an API key
  --no-install        do not install requirements.txt (a virtualenv already
                      installed for it is still used) nor run dependencies.sh
  --allow-dependencies-sh
                      run the project's dependencies.sh with bash before
                      installing requirements.txt (it runs as you, on this machine)
  --watch             redeploy when cortex.yaml, a predictor, its python_path
                      or a local model changes: changed APIs roll to the new
                      version (update_strategy), with no failed request
  --help, --version

example: cortex-local serve examples/hello --port 8080`;

const MAX_HTTP_THREADS = 64;

export async function serve(argv: string[]): Promise<number> {
  const parsed = parseCommand('serve', argv, {
    port: { type: 'string', default: '8888' },
    host: { type: 'string', default: '127.0.0.1' },
    python: { type: 'string' },
    gpus: { type: 'string' },
    'max-body': { type: 'string' },
    'body-timeout': { type: 'string', default: '30s' },
    'max-queued-bytes': { type: 'string' },
    'init-timeout': { type: 'string', default: '10m' },
    'exit-on-init-error': { type: 'boolean', default: false },
    'predict-timeout': { type: 'string' },
    'enforce-mem': { type: 'boolean', default: false },
    'api-key': { type: 'string' },
    'http-threads': { type: 'string', default: '0' },
    'no-busy-poll': { type: 'boolean', default: false },
    insecure: { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    'allow-dependencies-sh': { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
  }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`serve takes one PATH, got ${positionals.length}: ${positionals.join(' ')}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  const host = values.host;
  if (values['api-key'] !== undefined) checkApiKey(values['api-key']);
  if (!isLoopback(host) && values['api-key'] === undefined && !values.insecure) {
    throw new UsageError(`--host ${host} would expose the APIs beyond this machine: add --api-key KEY, or --insecure to allow it without one`);
  }
  const maxBody = values['max-body'] === undefined ? DEFAULT_MAX_BODY : Number(values['max-body']);
  if (!Number.isInteger(maxBody) || maxBody <= 0) throw new UsageError(`--max-body must be a positive number of bytes, got "${values['max-body']}"`);
  // One body of --max-body must always fit.
  const maxQueuedBytes = values['max-queued-bytes'] === undefined ? Math.max(DEFAULT_MAX_QUEUED_BYTES, maxBody) : Number(values['max-queued-bytes']);
  if (!Number.isSafeInteger(maxQueuedBytes) || maxQueuedBytes < maxBody) {
    throw new UsageError(`--max-queued-bytes must be a number of bytes no smaller than --max-body (${maxBody}), got "${values['max-queued-bytes']}"`);
  }
  const bodyTimeout = parseDuration(values['body-timeout']);
  if (bodyTimeout === null || bodyTimeout <= 0) throw new UsageError(`--body-timeout must be a duration such as 30s or 2m, got "${values['body-timeout']}"`);
  const httpThreads = Number(values['http-threads']);
  if (!Number.isInteger(httpThreads) || httpThreads < 0 || httpThreads > MAX_HTTP_THREADS) {
    throw new UsageError(`--http-threads must be an integer from 0 to ${MAX_HTTP_THREADS}, got "${values['http-threads']}"`);
  }
  const initTimeout = parseDuration(values['init-timeout']);
  if (initTimeout === null || initTimeout <= 0) throw new UsageError(`--init-timeout must be a duration such as 90s or 10m, got "${values['init-timeout']}"`);
  let predictTimeout: number | null = null;
  if (values['predict-timeout'] !== undefined) {
    predictTimeout = parseDuration(values['predict-timeout']);
    if (predictTimeout === null || predictTimeout <= 0) throw new UsageError(`--predict-timeout must be a duration such as 30s or 2m, got "${values['predict-timeout']}"`);
  }
  const chosen = values.python ?? process.env.CORTEX_LOCAL_PYTHON ?? 'python3';
  // Workers start in the project folder: a relative path such as .venv/bin/python
  // means relative to where serve was run. A bare name is looked up on PATH.
  const python = chosen.includes('/') ? resolve(chosen) : chosen;

  const pathArg = positionals[0] ?? '.';
  const reading = loadConfigIsolated(pathArg);
  // Checked while the config is read; a config error is still the one reported first.
  let pythonError: unknown;
  try {
    checkPython(python);
  } catch (err) {
    pythonError = err;
  }
  let config;
  try {
    config = await reading;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(formatConfigIssues(err) + '\n');
      return 1;
    }
    throw err;
  }
  if (pythonError !== undefined) throw pythonError;

  let gpuDiscovery;
  try {
    gpuDiscovery = await discoverGpus(values.gpus);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const terminal = new ServeConsole(process.stdout);
  const log = (line: string, level?: 'info' | 'error') => terminal.log(line, level);
  if (gpuDiscovery.warning) log(`warning: ${gpuDiscovery.warning}`);

  const project = await prepareProject({
    projectDir: config.projectDir,
    python,
    install: !values['no-install'],
    allowDependenciesSh: values['allow-dependencies-sh'],
    log,
    output: (step, line) => process.stdout.write(`[${step}] ${line}\n`),
  });
  if (!project.ok) {
    log(`${config.apis.map((a) => `api ${a.name}`).join(', ')}: cannot start: ${project.error}`);
    if (values['exit-on-init-error']) {
      log('shutting down (--exit-on-init-error)');
      return 1;
    }
  }

  const versions = await versionsOf(config.apis, config.projectDir, config.file);
  let base = '';
  let stopping: ((name: string) => void) | null = null;
  const app = new App({
    config,
    versions: new Map([...versions].map(([name, v]) => [name, v.version])),
    python: project.ok ? project.python : python,
    setupFailed: project.ok ? undefined : project.error,
    host,
    port,
    gpus: gpuDiscovery.gpus,
    maxBody,
    bodyTimeoutMs: bodyTimeout * 1000,
    maxQueuedBytes,
    apiKey: values['api-key'],
    httpThreads,
    busyPollMicroseconds: values['no-busy-poll'] ? 0 : undefined,
    initTimeoutMs: initTimeout * 1000,
    predictTimeoutMs: predictTimeout === null ? null : predictTimeout * 1000,
    enforceMem: values['enforce-mem'],
    autoscalerTimeScale: autoscalerTimeScale(process.env),
    log,
    output: (label, stream, lines) => terminal.output(label, stream, lines),
    // Every API's pool, at start or deployed later: its lines on the console, its first ready replica said.
    onApi: (pool) => {
      terminal.watch([pool]);
      pool.once('ready', () => log(`api ${pool.api.name} ready at ${base}${pool.api.endpoint}`));
      pool.once('failed', () => stopping?.(pool.api.name));
    },
  });
  const reloader = new Reloader({ app, file: config.file, projectDir: config.projectDir, versions, setupFailed: project.ok ? undefined : project.error, log });
  app.handleAdmin((request) => reloader.handle(request));
  const addr = await app.listen();
  base = `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
  const gpus = `${gpuDiscovery.gpus.length} GPU${gpuDiscovery.gpus.length === 1 ? '' : 's'}`;
  const door = httpThreads === 0 ? '' : `, front door on ${httpThreads} thread${httpThreads === 1 ? '' : 's'}`;
  log(`cortex-local serving ${config.apis.length} API${config.apis.length === 1 ? '' : 's'} on ${base} (${gpus}${door})`);
  let watcher: ProjectWatcher | null = null;
  if (values.watch) {
    const targets = (c: typeof config) => watchTargets(c.projectDir, c.apis.map((a) => a.predictor.model));
    const w = new ProjectWatcher({
      targets: targets(config),
      timers: realTimers,
      log,
      onChange: (paths) => void reloader.watched(paths)?.catch((err: unknown) => log(`serve --watch: the deploy failed: ${(err as Error).message}`, 'error')),
    });
    reloader.on('deployed', (c: typeof config) => void w.retarget(targets(c)));
    await w.ready();
    watcher = w;
    log(`watching ${config.projectDir} for edits (serve --watch)`);
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    let exitCode = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log(`${signal} again: killing every worker now`);
        watcher?.close();
        app.kill();
        resolve(1);
        return;
      }
      const inFlight = app.pools.reduce((n, p) => n + p.inFlight, 0);
      log(`${signal}: shutting down; finishing ${inFlight} in-flight request${inFlight === 1 ? '' : 's'} (send ${signal} again to force)`);
      stop();
    };
    const stop = () => {
      watcher?.close();
      terminal.shuttingDown();
      return app.stop().then(
        () => {
          terminal.close();
          log('stopped');
          resolve(exitCode);
        },
        (err: unknown) => {
          log(`error while stopping: ${(err as Error).message}`);
          app.kill();
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed terminal: drain as for SIGTERM rather than die with requests in flight.
    process.on('SIGHUP', onSignal);
    if (values['exit-on-init-error']) {
      stopping = (name) => {
        if (signals++ > 0) return;
        exitCode = 1;
        log(`api ${name} failed to initialize: shutting down (--exit-on-init-error)`);
        stop();
      };
    }
  });
}

/** The shortest key --api-key takes: a guessable key is no protection once --host leaves loopback. */
export const MIN_API_KEY_LENGTH = 16;

function checkApiKey(key: string): void {
  if (key.trim() === '') throw new UsageError('--api-key is empty: give a key of at least 16 characters (e.g. from: openssl rand -hex 16)');
  if (/[^\x21-\x7e]/.test(key)) {
    throw new UsageError('--api-key may hold only printable ASCII characters without spaces: clients send it as "Authorization: Bearer KEY"');
  }
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new UsageError(`--api-key is ${key.length} characters long: use at least ${MIN_API_KEY_LENGTH}, a shorter key is guessable (e.g. from: openssl rand -hex 16)`);
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function checkPython(python: string): void {
  const r = spawnSync(python, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 3)'], { stdio: 'ignore' });
  if (r.error) throw new PythonNotFoundError(python, (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message, { cause: r.error });
  if (r.status === 3) throw new PythonNotFoundError(python, 'Python 3.8 or newer is required');
  if (r.status !== 0) throw new PythonNotFoundError(python, `it exited with ${r.status ?? r.signal}`);
}
