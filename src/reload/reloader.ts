// Carries out deploy, refresh and delete on a running server, one at a time:
// from an admin request (cortex-local deploy/refresh/delete) or from
// `serve --watch`. A deploy reads cortex.yaml as `serve` does (in a child
// process, same checks, same line:column errors); an invalid file changes
// nothing, and the APIs keep serving as they were. A valid one is compared
// API by API (diff.ts) and applied in one step (App.apply).
//
// As Cortex's operator did, a deploy or refresh that would change an API
// whose update is still in progress is refused unless forced; `serve
// --watch` always forces (the latest edit is what the user wants to run).
import { EventEmitter } from 'node:events';
import { relative } from 'node:path';
import type { App } from '../app.ts';
import { loadConfigIsolated } from '../config/load-isolated.ts';
import { formatConfigIssues } from '../config/report.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { ConfigError, ConfigFileError } from '../errors.ts';
import type { AdminAnswer, AdminRequest } from '../http/admin.ts';
import { diffApis, type ApiOutcome } from './diff.ts';
import { Fingerprints, type ApiVersion, type DigestCache } from './version.ts';

export interface ReloaderOptions {
  app: App;
  /** the cortex.yaml served, absolute */
  file: string;
  projectDir: string;
  /** the served APIs' versions at start */
  versions: ReadonlyMap<string, ApiVersion>;
  /** the project's setup failed at start (requirements.txt, dependencies.sh): nothing can be deployed */
  setupFailed?: string;
  log: (line: string, level?: 'info' | 'error') => void;
  /** reads a cortex.yaml (default: in a child process, as serve does) */
  load?: (file: string) => Promise<ResolvedConfig>;
}

/** One API's line of a deploy's answer. */
export interface DeployedApi extends Omit<ApiOutcome, 'outcome'> {
  /** refused: its update is in progress and the deploy was not forced */
  outcome: ApiOutcome['outcome'] | 'refused';
  /** as Cortex's CLI said it: "updating iris", "iris is up to date", … */
  message: string;
}

/** Events: 'deployed' (ResolvedConfig): a deploy was applied (the watcher follows its files). */
export class Reloader extends EventEmitter {
  readonly #app: App;
  readonly #projectDir: string;
  readonly #log: (line: string, level?: 'info' | 'error') => void;
  readonly #load: (file: string) => Promise<ResolvedConfig>;
  readonly #setupFailed: string | undefined;
  /** each served API's version, by name */
  readonly #versions: Map<string, ApiVersion>;
  #file: string;
  /** every cortex.yaml deployed so far (version.ts leaves them out of the files it hashes) */
  readonly #configFiles: Set<string>;
  /** files' digests from one deploy to the next (version.ts) */
  readonly #digests: DigestCache = new Map();
  /** the operations run one after another, in the order asked */
  #tail: Promise<unknown> = Promise.resolve();
  /** a deploy asked by the watcher that has not started yet: another edit joins it */
  #watchQueued = false;
  /** the files whose edits it is for */
  #watchPaths = new Set<string>();

  constructor(opts: ReloaderOptions) {
    super();
    this.#app = opts.app;
    this.#file = opts.file;
    this.#configFiles = new Set([opts.file]);
    this.#projectDir = opts.projectDir;
    this.#versions = new Map(opts.versions);
    this.#log = opts.log;
    this.#load = opts.load ?? ((file) => loadConfigIsolated(file));
    this.#setupFailed = opts.setupFailed;
  }

  /** the cortex.yaml served now */
  get file(): string {
    return this.#file;
  }

  handle(request: AdminRequest): Promise<AdminAnswer> {
    if (this.#setupFailed !== undefined) return Promise.resolve(this.#notSetUp());
    switch (request.action) {
      case 'deploy':
        return this.#serial(() => this.#deploy(request.path, request.force, null));
      case 'refresh':
        return this.#serial(() => this.#refresh(request.api, request.force));
      case 'delete':
        return this.#serial(() => this.#delete(request.api));
    }
  }

  /** serve --watch saw edits of `paths`: a deploy of the served file, forced; edits made before it starts join it. */
  watched(paths: readonly string[]): Promise<AdminAnswer> | null {
    if (this.#setupFailed !== undefined) {
      this.#log(`serve --watch: ${this.#notSetUp().body.error}`, 'error');
      return null;
    }
    for (const p of paths) this.#watchPaths.add(p);
    if (this.#watchQueued) return null;
    this.#watchQueued = true;
    return this.#serial(() => {
      this.#watchQueued = false;
      const changed = [...this.#watchPaths].map((p) => relative(this.#projectDir, p) || p);
      this.#watchPaths.clear();
      const shown = changed.length > 3 ? `${changed.slice(0, 3).join(', ')} and ${changed.length - 3} more` : changed.join(', ');
      return this.#deploy(null, true, `serve --watch: ${shown} changed`);
    });
  }

  /** Nothing is deployed on a project whose setup failed: its APIs would run without their requirements. */
  #notSetUp(): AdminAnswer {
    return { status: 409, body: { error: `nothing can be deployed: the project's setup failed at start (${this.#setupFailed}); fix it and start the server again` } };
  }

  #serial(operation: () => Promise<AdminAnswer>): Promise<AdminAnswer> {
    const run = this.#tail.then(operation);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** `watch`: what the watcher saw, for the log; null: a deploy request */
  async #deploy(path: string | null, force: boolean, watch: string | null): Promise<AdminAnswer> {
    const file = path ?? this.#file;
    const what = watch ?? 'deploy';
    let config: ResolvedConfig;
    try {
      config = await this.#load(file);
    } catch (err) {
      if (err instanceof ConfigError) {
        const text = formatConfigIssues(err);
        this.#log(`${what}; refused, the APIs keep serving as they were:\n${text}`, 'error');
        const n = err.issues.length;
        return { status: 400, body: { error: `${n} error${n === 1 ? '' : 's'} in ${err.file}; nothing was changed`, file: err.file, errors: err.issues, text } };
      }
      if (err instanceof ConfigFileError) {
        this.#log(`${what}; refused, the APIs keep serving as they were: ${err.message}`, 'error');
        return { status: 400, body: { error: `${err.message}; nothing was changed`, file: err.file } };
      }
      throw err;
    }
    if (config.projectDir !== this.#projectDir) {
      const error = `${config.file} is not in ${this.#projectDir}, the project folder this server serves (its working folders and model cache are there): start another server for it`;
      return { status: 400, body: { error } };
    }
    this.#configFiles.add(config.file);
    const fingerprints = new Fingerprints(config.projectDir, this.#configFiles, this.#digests);
    const next = await Promise.all(config.apis.map(async (api) => ({ api, version: await fingerprints.of(api) })));
    const running = this.#app.pools.map((p) => ({ name: p.api.name, version: p.version, restartKey: (this.#versions.get(p.api.name) as ApiVersion).restartKey }));
    const { changes, outcomes } = diffApis(running, next);
    const refused = new Set<string>();
    if (!force) {
      for (const c of changes) {
        if (c.kind === 'update' && this.#app.pools.find((p) => p.api.name === c.api.name)?.rolloutState === 'updating') refused.add(c.api.name);
      }
    }
    const applied = changes.filter((c) => c.kind === 'remove' || !refused.has(c.api.name));
    const apis: DeployedApi[] = outcomes.map((o) => (refused.has(o.api) ? { ...o, outcome: 'refused', version: o.from, message: `${o.api} is updating (override with --force)` } : { ...o, message: message(o) }));
    const changed = apis.filter((a) => a.outcome !== 'up to date');
    if (changed.length > 0 || watch === null) {
      const lines = (changed.length > 0 ? changed : apis).map((a) => `  ${a.message}${a.from !== null && a.version !== null && a.from !== a.version ? ` (version ${a.from} → ${a.version})` : a.version !== null ? ` (version ${a.version})` : ''}`);
      this.#log(`${what}; deploying ${config.file}:\n${lines.join('\n')}`);
    }
    const { drained } = await this.#app.apply(applied);
    for (const c of applied) {
      if (c.kind === 'remove') this.#versions.delete(c.name);
      else this.#versions.set(c.api.name, (next.find((n) => n.api.name === c.api.name) as { version: ApiVersion }).version);
    }
    void drained.then(() => {
      for (const c of applied) if (c.kind === 'remove') this.#log(`api ${c.name} deleted: its requests answered, its replicas stopped`);
    });
    this.#file = config.file;
    this.emit('deployed', config);
    return { status: 200, body: { file: config.file, apis, refused: [...refused] } };
  }

  async #refresh(name: string, force: boolean): Promise<AdminAnswer> {
    const pool = this.#app.pools.find((p) => p.api.name === name);
    if (pool === undefined) return unknownApi(name, this.#app);
    if (pool.rolloutState === 'updating' && !force) return { status: 409, body: { error: `${name} is updating (override with --force)` } };
    this.#log(`refresh: api ${name}: restarting every replica by a rolling update (version ${pool.version})`);
    await this.#app.apply([{ kind: 'update', api: pool.api, version: pool.version, restart: true, fresh: true }]);
    return { status: 200, body: { api: name, version: pool.version, message: `updating ${name}` } };
  }

  async #delete(name: string): Promise<AdminAnswer> {
    const pool = this.#app.pools.find((p) => p.api.name === name);
    if (pool === undefined) return unknownApi(name, this.#app);
    this.#log(`delete: api ${name}: no new requests; draining the ${pool.inFlight} admitted`);
    const { drained } = await this.#app.apply([{ kind: 'remove', name }]);
    this.#versions.delete(name);
    await drained;
    this.#log(`api ${name} deleted: its requests answered, its replicas stopped`);
    return { status: 200, body: { api: name, message: `deleted ${name}` } };
  }
}

function message(o: ApiOutcome): string {
  switch (o.outcome) {
    case 'created':
      return `creating ${o.api}`;
    case 'updating':
      return `updating ${o.api}`;
    case 'updated in place':
      return `updating ${o.api} in place (no replica restarts)`;
    case 'up to date':
      return `${o.api} is up to date`;
    case 'deleted':
      return `deleting ${o.api}`;
  }
}

function unknownApi(name: string, app: App): AdminAnswer {
  const names = app.pools.map((p) => p.api.name);
  return { status: 404, body: { error: `no API named "${name}"; this server has: ${names.length > 0 ? names.join(', ') : 'none'}` } };
}
