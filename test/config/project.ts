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

/** The spec's resolved autoscaling defaults (spec/config.md §4), written out so tests pin them. */
export const DEFAULT_AUTOSCALING = {
  min_replicas: 1,
  max_replicas: 100,
  init_replicas: 1,
  workers_per_replica: 1,
  threads_per_worker: 1,
  target_replica_concurrency: 1,
  max_replica_concurrency: 1024,
  window: 60,
  downscale_stabilization_period: 300,
  upscale_stabilization_period: 0,
  max_downscale_factor: 0.5,
  max_upscale_factor: 10,
  downscale_tolerance: 0.1,
  upscale_tolerance: 0.1,
};

/** Spec §4's resolved API for `- name: iris` with `predictor: {type: python, path: predictor.py}` in project `dir`. */
export function minimalIrisApi(dir: string) {
  return {
    name: 'iris',
    endpoint: '/iris',
    predictor: { type: 'python', path: 'predictor.py', model: null, signature_key: null, config: {}, python_path: dir, env: {} },
    tracker: null,
    compute: { cpu: 0.2, gpu: 0, mem: null },
    autoscaling: DEFAULT_AUTOSCALING,
    update_strategy: { max_surge: '25%', max_unavailable: '25%' },
  };
}
