// Finding and reading cortex.yaml: the file-level failures (missing, a folder
// without one, too large, not UTF-8) are ConfigFileError (exit 2); a file that
// reads but is invalid is ConfigError with every issue (exit 1).
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, ConfigFileError } from '../errors.ts';
import { displayPath } from './report.ts';
import { resolveConfigText } from './resolve.ts';
import type { ResolvedConfig } from './types.ts';

/** A cortex.yaml is a few kB; beyond this it is a mistake (a model file passed by accident), not a config. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** PATH is a cortex.yaml or a folder holding one; default ./cortex.yaml. */
export function locateConfig(pathArg: string | undefined, cwd = process.cwd()): string {
  const shown = pathArg === undefined ? 'cortex.yaml' : pathArg || '.';
  const target = resolve(cwd, shown);
  const stat = statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new ConfigFileError(target, `${shown}: no such file or folder`);
  if (stat.isDirectory()) {
    const inside = join(target, 'cortex.yaml');
    const insideStat = statSync(inside, { throwIfNoEntry: false });
    if (!insideStat) throw new ConfigFileError(inside, `${shown}: the folder holds no cortex.yaml`);
    if (!insideStat.isFile()) throw new ConfigFileError(inside, `${displayPath(inside, cwd)}: not a regular file`);
    return inside;
  }
  // a FIFO or a device would block or never end; a cortex.yaml is a file
  if (!stat.isFile()) throw new ConfigFileError(target, `${shown}: not a regular file`);
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

/** Where the first invalid UTF-8 sequence starts (1-based line, and column in characters as the YAML positions count them). */
function firstInvalidUtf8(bytes: Buffer): { line: number; column: number } {
  const bad = firstInvalidUtf8Offset(bytes);
  const lineStart = bytes.lastIndexOf(0x0a, bad - 1) + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
  return { line, column: bytes.subarray(lineStart, bad).toString('utf8').length + 1 };
}

/** The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
function firstInvalidUtf8Offset(bytes: Buffer): number {
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < bytes.length && bytes[i] >= lo && bytes[i] <= hi;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let n = 0;
    if (b < 0x80) n = 1;
    else if (b >= 0xc2 && b <= 0xdf) n = cont(i + 1) ? 2 : 0;
    else if (b === 0xe0) n = cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
    else if (b === 0xed) n = cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
    else if (b >= 0xe1 && b <= 0xef) n = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (b === 0xf0) n = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (b >= 0xf1 && b <= 0xf3) n = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (b === 0xf4) n = cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    if (n === 0) return i;
    i += n;
  }
  return bytes.length;
}

/** Reads, validates and resolves cortex.yaml. */
export async function loadConfig(pathArg: string | undefined, cwd = process.cwd()): Promise<ResolvedConfig> {
  const file = locateConfig(pathArg, cwd);
  const text = readConfigText(file, displayPath(file, cwd));
  const projectDir = dirname(file);
  const result = resolveConfigText(text, file, projectDir);
  if (!result.ok) throw new ConfigError(file, result.issues);
  return { file, projectDir, apis: result.apis };
}
