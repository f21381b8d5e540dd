// Resolved configs for the export tests, made the way users make them: a
// cortex.yaml in a temp project folder, read by the config layer.
import { after } from 'node:test';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import type { ResolvedApi, ResolvedConfig } from '../../src/config/types.ts';
import { makeProject, PREDICTOR_PY, removeProject } from '../config/project.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const EXAMPLES = join(REPO, 'examples');

/** Loads `yaml` as the cortex.yaml of a new project holding predictor.py and `files`; the folder is removed after the test file. */
export async function projectConfig(yaml: string, files: Record<string, string> = {}): Promise<ResolvedConfig> {
  const dir = makeProject({ 'cortex.yaml': yaml, 'predictor.py': PREDICTOR_PY, ...files });
  after(() => removeProject(dir));
  return loadConfig(dir);
}

const PYTHON_PREDICTOR = '  predictor: {type: python, path: predictor.py}\n';

/** The one API of a project whose cortex.yaml is `- name: api` + `body` (lines indented two spaces; a python predictor unless `body` has one). */
export async function oneApi(body = ''): Promise<{ api: ResolvedApi; dir: string }> {
  const predictor = body.includes('  predictor:') ? '' : PYTHON_PREDICTOR;
  const config = await projectConfig(`- name: api\n${predictor}${body}`);
  return { api: config.apis[0], dir: config.projectDir };
}
