// Temporary project folders for the config tests: the spec's example project
// (/p with cortex.yaml, predictor.py, src/util.py) plus the model layouts the
// predictor rules look at.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Creates a temp folder holding `files` (path → content; a path ending in '/' is an empty folder). */
export function makeProject(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cortex-local-config-')));
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    if (path.endsWith('/')) {
      mkdirSync(full, { recursive: true });
    } else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return dir;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The files of a TensorFlow SavedModel folder, under `prefix`. */
export function savedModel(prefix: string): Record<string, string> {
  return {
    [`${prefix}/saved_model.pb`]: 'pb',
    [`${prefix}/variables/variables.index`]: 'index',
    [`${prefix}/variables/variables.data-00000-of-00001`]: 'data',
  };
}

export const PREDICTOR_PY = 'class PythonPredictor:\n    def __init__(self, config):\n        pass\n\n    def predict(self, payload):\n        return payload\n';
