// Finding and reading cortex.yaml: the file-level failures (missing, a folder
// without one, too large, not UTF-8) are ConfigFileError (exit 2); a file that
// reads but is invalid is ConfigError with every issue (exit 1).
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, ConfigFileError } from '../errors.ts';
import { resolveConfigText } from './resolve.ts';
import type { ResolvedConfig } from './types.ts';

/** A cortex.yaml is a few kB; beyond this it is a mistake (a model file passed by accident), not a config. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** PATH is a cortex.yaml or a folder holding one; default ./cortex.yaml. */
export function locateConfig(pathArg: string | undefined, cwd = process.cwd()): string {
  const target = resolve(cwd, pathArg ?? 'cortex.yaml');
  const stat = statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new ConfigFileError(target, `${pathArg ?? 'cortex.yaml'}: no such file or folder`);
  if (stat.isDirectory()) {
    const inside = join(target, 'cortex.yaml');
    if (!statSync(inside, { throwIfNoEntry: false })?.isFile()) throw new ConfigFileError(inside, `${pathArg}: the folder holds no cortex.yaml`);
    return inside;
  }
  return target;
}

export function readConfigText(file: string, displayPath: string): string {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigFileError(file, `${displayPath}: file is ${(size / 2 ** 20).toFixed(1)} MiB; a cortex.yaml may be at most ${MAX_CONFIG_BYTES / 2 ** 20} MiB`);
    }
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigFileError) throw err;
    throw new ConfigFileError(file, `${displayPath}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (err) {
    const { line, column } = firstInvalidUtf8(bytes);
    throw new ConfigFileError(file, `${displayPath}:${line}:${column}: not valid UTF-8 text (save the file as UTF-8)`, { cause: err });
  }
}

function firstInvalidUtf8(bytes: Buffer): { line: number; column: number } {
  // In streaming mode a prefix ending mid-character still decodes, so "this
  // prefix decodes" is monotone and a binary search finds the first bad byte.
  const decodes = (n: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    if (decodes(mid)) good = mid;
    else bad = mid;
  }
  const lineStart = bytes.lastIndexOf(0x0a, good - 1) + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
  return { line, column: bytes.subarray(lineStart, good).toString('utf8').length + 1 };
}

/** Reads, validates and resolves cortex.yaml. */
export async function loadConfig(pathArg: string | undefined, cwd = process.cwd()): Promise<ResolvedConfig> {
  const file = locateConfig(pathArg, cwd);
  const text = readConfigText(file, pathArg ?? 'cortex.yaml');
  const projectDir = dirname(file);
  const result = resolveConfigText(text, file, projectDir);
  if (!result.ok) throw new ConfigError(file, result.issues);
  return { file, projectDir, apis: result.apis };
}
