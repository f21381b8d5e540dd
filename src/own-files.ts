// Where cortex-local's own files are: beside the code in a checkout or an npm
// install (src/ or dist/, with python/ and package.json one folder up), or
// inside the single binary, whose Python runtime and front-door thread are
// assets extracted to a cache folder on first use (single-binary/assets.ts).
// Everything that locates a file of ours asks here, so the bundle (one
// CommonJS file, no import.meta) and the package agree.
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { extractAssets, type AssetManifest } from './single-binary/assets.ts';

/** set for the binary's second role: `serve` starts it to read cortex.yaml (config/load-isolated.ts) */
export const CONFIG_READER_ROLE_ENV = 'CORTEX_LOCAL_BINARY_ROLE';

const sea = process.getBuiltinModule('node:sea');

/** true inside the single binary (Node SEA) */
export const inSingleBinary: boolean = sea.isSea();

/** src/ (run through type stripping) or dist/: the folder of this module */
function codeDir(): string {
  return import.meta.dirname;
}

/** ".ts" from src/, ".js" from dist/ */
function codeExt(): string {
  return extname(import.meta.filename);
}

let manifest: AssetManifest | undefined;
function binaryManifest(): AssetManifest {
  manifest ??= JSON.parse(sea.getAsset('manifest.json', 'utf8')) as AssetManifest;
  return manifest;
}

let extracted: string | undefined;
/** The binary's assets on disk, extracted the first time they are needed. */
function assetsDir(): string {
  extracted ??= extractAssets(binaryManifest(), (name) => new Uint8Array(sea.getAsset(name)), {
    env: process.env,
    warn: (line) => process.stderr.write(`cortex-local: ${line}\n`),
  });
  return extracted;
}

/** The version of this cortex-local (package.json's). */
export function ownVersion(): string {
  if (inSingleBinary) return binaryManifest().version;
  return (JSON.parse(readFileSync(join(codeDir(), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** python/: the worker runtime's package (cortex_local_worker, for PYTHONPATH) and the export's (cortex_local_export). */
export function pythonRuntimeDir(): string {
  return inSingleBinary ? join(assetsDir(), 'python') : join(codeDir(), '..', 'python');
}

/** The script a front-door thread (serve --http-threads) runs. */
export function doorThreadFile(): string {
  return inSingleBinary ? join(assetsDir(), 'door-thread.cjs') : join(codeDir(), 'http', 'threads', `door-thread${codeExt()}`);
}

/** How to start the child that reads cortex.yaml: the command, its first arguments, its environment. */
export function configReaderCommand(): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (inSingleBinary) return { command: process.execPath, args: [], env: { ...process.env, [CONFIG_READER_ROLE_ENV]: 'config-reader' } };
  return { command: process.execPath, args: [join(codeDir(), 'config', `load-isolated-child${codeExt()}`)], env: process.env };
}
