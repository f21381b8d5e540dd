// What the config rules need to know about the project folder on disk.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

export function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** Cortex checked python_path against the project's file list: the folder must hold at least one file, at any depth. */
export function holdsAFile(dir: string): boolean {
  const stack = [dir];
  for (let seen = 0; stack.length > 0 && seen < 10_000; seen++) {
    const current = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue; // an unreadable subfolder holds nothing we could serve
    }
    for (const e of entries) {
      if (e.isFile()) return true;
      if (e.isDirectory()) stack.push(join(current, e.name));
    }
  }
  return false;
}

/** A TensorFlow SavedModel folder, as Cortex's isValidTensorFlowS3Directory tells one. */
export function isSavedModel(dir: string): boolean {
  if (!isFile(join(dir, 'saved_model.pb')) || !isFile(join(dir, 'variables', 'variables.index'))) return false;
  try {
    return readdirSync(join(dir, 'variables')).some((f) => f.startsWith('variables.data-00000-of'));
  } catch {
    return false;
  }
}

/**
 * The SavedModel a tensorflow `model` path names: a `.zip`, a SavedModel
 * folder, or a folder of integer-named versions (the highest valid one wins,
 * as TF Serving would load it). null when there is none.
 */
export function findTensorFlowModel(path: string): string | null {
  if (isFile(path)) return path.endsWith('.zip') ? path : null;
  if (!isDirectory(path)) return null;
  if (isSavedModel(path)) return path;
  let best: { version: bigint; path: string } | null = null;
  for (const name of readdirSync(path)) {
    if (!/^\d+$/.test(name)) continue;
    const version = BigInt(name);
    const candidate = join(path, name);
    if ((best === null || version > best.version) && isSavedModel(candidate)) best = { version, path: candidate };
  }
  return best?.path ?? null;
}
