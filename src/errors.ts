// Every error cortex-local raises on purpose, in one place. Users and tests
// match on `code` (stable), never on message text (written for a terminal).

export class CortexLocalError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** cortex.yaml (or a trace file) could not be read at all: missing, a folder without one, unreadable, not UTF-8. Exit 2. */
export class ConfigFileError extends CortexLocalError {
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super('CORTEX_LOCAL_CONFIG_UNREADABLE', message, options);
    this.file = file;
  }
}

export interface ConfigIssue {
  /** the API's `name` when it is a non-empty string, else null */
  api: string | null;
  /** dot path inside the API, "" for file-level issues */
  path: string;
  message: string;
  /** 1-based position in the file, when known */
  line?: number;
  column?: number;
  /** index of the API item in the list, when the issue belongs to one */
  index?: number;
}

/** cortex.yaml was read but is invalid; carries every issue found. Exit 1. */
export class ConfigError extends CortexLocalError {
  readonly file: string;
  readonly issues: ConfigIssue[];
  constructor(file: string, issues: ConfigIssue[]) {
    super('CORTEX_LOCAL_CONFIG_INVALID', `${file}: ${issues.length} error${issues.length === 1 ? '' : 's'}`);
    this.file = file;
    this.issues = issues;
  }
}

/** A command-line usage mistake. Exit 2. */
export class UsageError extends CortexLocalError {
  constructor(message: string) {
    super('CORTEX_LOCAL_USAGE', message);
  }
}

/** A simulate trace file is invalid. Exit 1. */
export class TraceError extends CortexLocalError {
  constructor(message: string) {
    super('CORTEX_LOCAL_TRACE_INVALID', message);
  }
}

/** The Python interpreter could not be started. */
export class PythonNotFoundError extends CortexLocalError {
  readonly python: string;
  constructor(python: string, reason: string, options?: ErrorOptions) {
    super('CORTEX_LOCAL_PYTHON_NOT_FOUND', `cannot use python interpreter "${python}": ${reason} (choose one with --python or CORTEX_LOCAL_PYTHON)`, options);
    this.python = python;
  }
}

/** The worker process died while requests were executing on it. */
export class WorkerCrashedError extends CortexLocalError {
  readonly api: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** `reason` replaces the exit description, e.g. "was stopped: OOMKilled: memory limit 512Mi exceeded: 600Mi" */
  constructor(api: string, exitCode: number | null, signal: string | null, reason?: string) {
    const how = reason ?? (signal ? `was killed by ${signal}` : `exited with code ${exitCode}`);
    super('CORTEX_LOCAL_WORKER_CRASHED', `the worker of api "${api}" ${how} while handling this request`);
    this.api = api;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** PythonPredictor.__init__ (or the import of the predictor module) raised. */
export class WorkerInitError extends CortexLocalError {
  readonly api: string;
  readonly traceback: string;
  /** `traceback`: the worker's report, its first line the summary (`predictor.py:3: class PythonPredictor not found (found: Predictor)`) */
  constructor(api: string, traceback: string) {
    const summary = traceback.trim().split('\n')[0] || 'unknown error';
    super('CORTEX_LOCAL_WORKER_INIT_FAILED', `api "${api}": predictor failed to initialize: ${summary}`);
    this.api = api;
    this.traceback = traceback;
  }
}

/** A client command (get, logs, predict) found no server answering where it looked. */
export class ServerUnreachableError extends CortexLocalError {
  constructor(base: string, options?: ErrorOptions) {
    super('CORTEX_LOCAL_SERVER_UNREACHABLE', `No cortex-local server at ${base}: start one with \`cortex-local serve\``, options);
  }
}

/** A client command was answered 401: the server wants an API key, or another one. */
export class ApiKeyRefusedError extends CortexLocalError {
  constructor(base: string, keyGiven: boolean) {
    super(
      'CORTEX_LOCAL_API_KEY_REFUSED',
      keyGiven
        ? `the server at ${base} refused the API key given (--api-key or CORTEX_LOCAL_API_KEY): use the key it was started with (serve --api-key)`
        : `the server at ${base} requires an API key: pass --api-key KEY or set CORTEX_LOCAL_API_KEY`,
    );
  }
}

/** A server answered a client command with something else than it asks for (an error, or not cortex-local at all). */
export class ServerAnswerError extends CortexLocalError {
  readonly status: number;
  constructor(message: string, status: number) {
    super('CORTEX_LOCAL_SERVER_ANSWER', message);
    this.status = status;
  }
}

/** The HTTP port could not be bound. */
export class PortInUseError extends CortexLocalError {
  constructor(host: string, port: number, options?: ErrorOptions) {
    super('CORTEX_LOCAL_PORT_IN_USE', `cannot listen on ${host}:${port}: address already in use (choose another with --port)`, options);
  }
}

/** A request ran longer than `serve --predict-timeout`; its worker was restarted. */
export class PredictTimeoutError extends CortexLocalError {
  readonly api: string;
  constructor(api: string, timeoutMs: number) {
    super('CORTEX_LOCAL_PREDICT_TIMEOUT', `api "${api}": predict() ran longer than --predict-timeout (${formatSeconds(timeoutMs)}); its worker was restarted`);
    this.api = api;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** `cortex-local export` cannot produce a working export (a path outside the project, an output folder it must not overwrite). */
export class ExportError extends CortexLocalError {
  constructor(message: string) {
    super('CORTEX_LOCAL_EXPORT_FAILED', message);
  }
}
