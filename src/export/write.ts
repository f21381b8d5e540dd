// Writes an export: the output folder (replaced only when an earlier export
// made it), a copy of the project, cortex-local's worker runtime and the
// engine's serving code, then the planned files.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ExportError } from '../errors.ts';
import { pythonRuntimeDir } from '../own-files.ts';
import { FACT_FILES, type FactFile, type ProjectFacts } from './plan.ts';

/** python/ of this package: the worker runtime and the export's serving code. */
export const PYTHON_DIR = pythonRuntimeDir();
/** Every export holds it: an output folder with it may be replaced by the next export. */
export const MARKER = 'cortex_export.json';

export async function projectFacts(projectDir: string): Promise<ProjectFacts> {
  const present = new Set<FactFile>();
  for (const name of FACT_FILES) {
    if ((await stat(join(projectDir, name)).catch(() => null))?.isFile()) present.add(name);
  }
  return { present };
}

/** Empties `outDir` for a new export, refusing a folder that is not empty and not an earlier export, or one that holds the project. */
export async function prepareOutDir(outDir: string, projectDir: string): Promise<void> {
  const rel = relative(outDir, projectDir);
  if (!rel.startsWith('..') && !isAbsolute(rel)) {
    throw new ExportError(`the output folder ${outDir} holds the project itself; choose another with -o`);
  }
  const entries = await readdir(outDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new ExportError(`cannot use the output folder ${outDir}: ${err.code ?? err.message}`);
  });
  if (entries !== null && entries.length > 0) {
    if (!entries.includes(MARKER)) {
      throw new ExportError(`the output folder ${outDir} is not empty and was not written by cortex-local export (it has no ${MARKER}); choose another with -o, or empty it`);
    }
    await rm(outDir, { recursive: true });
  }
  await mkdir(outDir, { recursive: true });
}

/**
 * Copies the project folder to `outDir/project`, as Cortex 0.15 uploaded it:
 * without hidden files and folders and `*.pyc`, and without exports (this one
 * or earlier ones) that lie inside it.
 */
export async function copyProject(projectDir: string, outDir: string): Promise<void> {
  const out = resolve(outDir);
  // Symbolic links are followed, as a Docker build context copies what they point to; a loop is copied once.
  const seen = new Set<string>();
  const copy = async (from: string, to: string): Promise<void> => {
    const { dev, ino } = await stat(from);
    if (seen.has(`${dev}:${ino}`)) return;
    seen.add(`${dev}:${ino}`);
    await mkdir(to, { recursive: true });
    for (const name of await readdir(from)) {
      if (name.startsWith('.') || name.endsWith('.pyc') || name === '__pycache__') continue;
      const source = join(from, name);
      const info = await stat(source);
      if (info.isDirectory()) {
        if (source !== out && !existsSync(join(source, MARKER))) await copy(source, join(to, name));
      } else if (info.isFile()) {
        await copyFile(source, join(to, name));
      }
    }
  };
  await copy(projectDir, join(outDir, 'project'));
}

/** Copies the worker runtime and the export's serving code (their .py files) beside the project. */
export async function copyRuntime(outDir: string): Promise<void> {
  for (const pkg of ['cortex_local_worker', 'cortex_local_export']) {
    await mkdir(join(outDir, pkg));
    for (const name of await readdir(join(PYTHON_DIR, pkg))) {
      if (name.endsWith('.py')) await copyFile(join(PYTHON_DIR, pkg, name), join(outDir, pkg, name));
    }
  }
}

export async function writeFiles(outDir: string, files: Map<string, string>): Promise<void> {
  for (const [path, text] of files) {
    await mkdir(dirname(join(outDir, path)), { recursive: true });
    await writeFile(join(outDir, path), text);
  }
}
