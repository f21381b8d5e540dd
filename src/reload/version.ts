// An API's version: a short hash of its resolved config and of the files its
// replicas run (the predictor file, the python_path tree, a local model), so
// a deploy can tell which APIs changed and how:
// - `restartKey` covers what a running replica has read: the predictor
//   section, tracker, compute, workers_per_replica, threads_per_worker,
//   max_replica_concurrency (Cortex 0.15 put the last three in each pod's
//   environment) and the files. A change there rolls the API.
// - `version` covers all of the config besides (endpoint, the autoscaler's
//   counts and periods, update_strategy): a change only there is taken in
//   place, without restarting a replica.
// Files up to 1 MiB are hashed by content (saving a file unchanged changes
// nothing); larger ones (models) by size and modification time. cortex.yaml
// itself is left out of the python_path tree (python_path is the project
// folder by default): its content reaches an API only through its own
// resolved config, so editing one API leaves the others as they are. So is
// every other config file the server has deployed (deploy PATH), so that
// switching files does not roll what they both describe.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ResolvedApi } from '../config/types.ts';
import { isIgnoredPath } from './ignore.ts';

export interface ApiVersion {
  /** 8 hex digits, shown in the status */
  version: string;
  /** equal for two versions a replica cannot tell apart */
  restartKey: string;
}

const CONTENT_HASH_LIMIT = 1024 * 1024;

/**
 * Content digests kept from one deploy to the next, by path: a file whose
 * size, inode and modification and change times are the same is not read
 * again (a project with many data files is not re-read at every edit).
 */
export type DigestCache = Map<string, { stat: string; digest: string }>;

/** Fingerprints of one deploy: a file shared by several APIs (python_path is the project folder by default) is read once. */
export class Fingerprints {
  readonly #projectDir: string;
  readonly #configFiles: ReadonlySet<string>;
  readonly #cache: DigestCache;
  readonly #files = new Map<string, Promise<string>>();

  /** `configFiles`: the cortex.yaml files deployed, absolute */
  constructor(projectDir: string, configFiles: ReadonlySet<string>, cache: DigestCache = new Map()) {
    this.#projectDir = projectDir;
    this.#configFiles = configFiles;
    this.#cache = cache;
  }

  async of(api: ResolvedApi): Promise<ApiVersion> {
    const files = createHash('sha256');
    const predictor = join(this.#projectDir, api.predictor.path);
    files.update(`predictor ${await this.#file(predictor)}\n`);
    for (const [rel, digest] of await this.#tree(api.predictor.python_path, true)) files.update(`python_path ${rel} ${digest}\n`);
    const model = api.predictor.model;
    if (model !== null && !model.startsWith('s3://')) {
      const info = await stat(model).catch(() => null);
      if (info?.isDirectory()) for (const [rel, digest] of await this.#tree(model, false)) files.update(`model ${rel} ${digest}\n`);
      else files.update(`model ${await this.#file(model)}\n`);
    }
    const filesDigest = files.digest('hex');
    const { workers_per_replica, threads_per_worker, max_replica_concurrency } = api.autoscaling;
    const replicaReads = { predictor: api.predictor, tracker: api.tracker, compute: api.compute, workers_per_replica, threads_per_worker, max_replica_concurrency };
    const restartKey = createHash('sha256').update(JSON.stringify(replicaReads)).update(filesDigest).digest('hex');
    const version = createHash('sha256').update(JSON.stringify(api)).update(filesDigest).digest('hex').slice(0, 8);
    return { version, restartKey };
  }

  /** The digest of every file under `dir` (relative path → digest), sorted; `skipIgnored`: the files that are no code left out. */
  async #tree(dir: string, skipIgnored: boolean): Promise<[string, string][]> {
    const out: [string, string][] = [];
    const walk = async (current: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(current, { withFileTypes: true });
      } catch {
        return; // an unreadable folder holds nothing a replica could import
      }
      for (const e of entries) {
        const path = join(current, e.name);
        const rel = relative(dir, path);
        if (this.#configFiles.has(path) || (skipIgnored && isIgnoredPath(rel))) continue;
        // A linked folder is not followed: links may loop.
        if (e.isDirectory()) await walk(path);
        else if (e.isFile() || e.isSymbolicLink()) out.push([rel, await this.#file(path)]);
      }
    };
    await walk(dir);
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  #file(path: string): Promise<string> {
    let digest = this.#files.get(path);
    if (digest === undefined) {
      digest = fileDigest(path, this.#cache);
      this.#files.set(path, digest);
    }
    return digest;
  }
}

async function fileDigest(path: string, cache: DigestCache): Promise<string> {
  const info = await stat(path, { bigint: true }).catch(() => null);
  if (info === null) return 'missing';
  if (!info.isFile()) return 'not a file';
  if (info.size > CONTENT_HASH_LIMIT) return `${info.size} bytes, modified ${info.mtimeNs}`;
  const key = `${info.size} ${info.ino} ${info.mtimeNs} ${info.ctimeNs}`;
  const known = cache.get(path);
  if (known?.stat === key) return known.digest;
  const content = await readFile(path).catch(() => null);
  if (content === null) return 'unreadable';
  const digest = createHash('sha256').update(content).digest('hex');
  cache.set(path, { stat: key, digest });
  return digest;
}

/** Every API's version, by name. */
export async function versionsOf(apis: readonly ResolvedApi[], projectDir: string, configFile: string): Promise<Map<string, ApiVersion>> {
  const fingerprints = new Fingerprints(projectDir, new Set([configFile]));
  const versions = await Promise.all(apis.map((api) => fingerprints.of(api)));
  return new Map(apis.map((api, i) => [api.name, versions[i]]));
}
