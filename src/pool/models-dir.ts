import { join } from 'node:path';

/**
 * Where workers keep the models they download from S3 or extract from a .zip
 * (python/cortex_local_worker/model_store.py): in the project, shared by every
 * API and replica of it, so a model is fetched once and reused on later starts.
 */
export function modelsDir(projectDir: string): string {
  return join(projectDir, '.cortex-local', 'models');
}
