// Everything an export writes, as text, from the resolved config and a few
// facts about the project folder: no I/O here (write.ts copies and writes).
import { stringify } from 'yaml';
import type { ResolvedConfig } from '../config/types.ts';
import { inferenceService, KSERVE_HTTP_PORT, KSERVE_VERSION, type InferenceService } from './kserve.ts';
import { RAY_VERSION, serveApplication, serveConfig, type ServeApplication } from './rayserve.ts';
import type { ApiExport, Engine, Note } from './types.ts';

/** Project files that Cortex 0.15 read besides cortex.yaml and the predictors. */
export const FACT_FILES = ['requirements.txt', 'conda-packages.txt', 'dependencies.sh', '.cortexignore'] as const;
export type FactFile = (typeof FACT_FILES)[number];

/** What write.ts found in the project folder. */
export interface ProjectFacts {
  present: ReadonlySet<FactFile>;
}

export interface ExportPlan {
  engine: Engine;
  /** relative path → content, written after the project and the runtime are copied */
  files: Map<string, string>;
  apis: ApiExport<InferenceService | ServeApplication>[];
}

export const ENGINE_NAMES: Record<Engine, string> = { kserve: 'KServe', rayserve: 'Ray Serve' };

export function planExport(config: ResolvedConfig, engine: Engine, facts: ProjectFacts, options: { image: string; configShown: string }): ExportPlan {
  const files = new Map<string, string>();
  let apis: ApiExport<InferenceService | ServeApplication>[];
  if (engine === 'kserve') {
    const exports = config.apis.map((api) => inferenceService(api, config.projectDir, options.image));
    apis = exports;
    files.set('inferenceservice.yaml', exports.map((e) => yamlText(e.manifest)).join('---\n'));
    files.set('Dockerfile', dockerfile(facts, options.configShown, frameworks(config)));
  } else {
    const exports = config.apis.map((api) => serveApplication(api, config.projectDir));
    apis = exports;
    files.set('serve_config.yaml', yamlText(serveConfig(exports.map((e) => e.manifest))));
  }
  files.set('cortex_export.json', JSON.stringify({ apis: apis.map((e) => e.runtime) }, null, 2) + '\n');
  files.set('EXPORT_NOTES.md', exportNotes(engine, apis, projectNotes(engine, facts, frameworks(config)), options));
  return { engine, files, apis };
}

function yamlText(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** The packages Cortex 0.15's onnx and tensorflow images came with, for the types the project uses. */
function frameworks(config: ResolvedConfig): string[] {
  const out: string[] = [];
  const onnx = config.apis.filter((a) => a.predictor.type === 'onnx');
  if (onnx.length > 0) out.push(onnx.some((a) => a.compute.gpu > 0) ? 'onnxruntime-gpu' : 'onnxruntime');
  if (config.apis.some((a) => a.predictor.type === 'tensorflow')) out.push('tensorflow');
  return out;
}

function dockerfile(facts: ProjectFacts, configShown: string, packages: string[]): string {
  const lines = [
    `# Written by cortex-local export from ${configShown}: KServe's model server with the project's predictors.`,
    'FROM python:3.11-slim',
    `RUN pip install --no-cache-dir kserve==${KSERVE_VERSION}`,
  ];
  // Cortex 0.15's images for these predictor types had their framework installed.
  if (packages.length > 0) lines.push(`RUN pip install --no-cache-dir ${packages.join(' ')}`);
  lines.push(
    'COPY . /srv/export',
    // Cortex installed requirements.txt from the project folder (a "." line there means its setup.py).
    'WORKDIR /srv/export/project',
  );
  if (facts.present.has('requirements.txt')) lines.push('RUN pip install --no-cache-dir -r requirements.txt');
  lines.push('ENV PYTHONPATH=/srv/export', `EXPOSE ${KSERVE_HTTP_PORT}`, 'ENTRYPOINT ["python", "-m", "cortex_local_export.kserve_server"]');
  return lines.join('\n') + '\n';
}

function projectNotes(engine: Engine, facts: ProjectFacts, packages: string[]): string[] {
  const notes: string[] = [];
  if (engine === 'kserve') {
    notes.push(
      `The image is \`python:3.11-slim\` with KServe's SDK${packages.length > 0 ? ` and ${packages.join(', ')}` : ''}. Cortex 0.15's images came with more packages pre-installed (see its predictors page): list in requirements.txt every package your predictor imports.`,
    );
  } else {
    if (facts.present.has('requirements.txt')) notes.push("requirements.txt is not installed by this export: install it on the Ray cluster's nodes (their image), or add `runtime_env: {pip: [...]}` to each application of serve_config.yaml.");
    if (packages.length > 0) notes.push(`The predictor types used need ${packages.join(', ')} on the Ray cluster's nodes (Cortex 0.15's images for these types had them): install them there, or add them to \`runtime_env: {pip: [...]}\` of the applications that use them.`);
  }
  if (facts.present.has('conda-packages.txt')) notes.push('conda-packages.txt is not installed by this export: add its packages to the image.');
  if (facts.present.has('dependencies.sh')) notes.push('dependencies.sh (system packages) is not run by this export: add its commands to the image.');
  if (facts.present.has('.cortexignore')) notes.push('.cortexignore is not applied: the project folder was copied whole, less hidden files and `*.pyc`; remove what the image should not hold from project/.');
  return notes;
}

function exportNotes(engine: Engine, apis: ApiExport<unknown>[], project: string[], options: { image: string; configShown: string }): string {
  const out: string[] = [`# Export notes: ${ENGINE_NAMES[engine]}`, ''];
  if (engine === 'kserve') {
    out.push(
      `\`cortex-local export --to kserve\` wrote this folder from \`${options.configShown}\` for KServe ${KSERVE_VERSION}: one InferenceService (serving.kserve.io/v1beta1) per API in \`inferenceservice.yaml\`, in KServe's default Serverless mode, where Knative's autoscaler scales on requests in flight as Cortex did. \`project/\` is a copy of the project; \`cortex_local_worker/\` is cortex-local's worker runtime, which builds the predictor unchanged.`,
      '',
      '## Deploy',
      '',
      '```sh',
      `docker build -t ${options.image} .`,
      `docker push ${options.image}`,
      'kubectl apply -f inferenceservice.yaml',
      '```',
      '',
      `The image name is in \`inferenceservice.yaml\` (choose it with \`cortex-local export --image\`). Each API answers Cortex's \`POST <endpoint>\` with the payload as the body, KServe's v1 protocol (\`POST /v1/models/<api>:predict\` with \`{"instances": [payload, ...]}\`, answered \`{"predictions": [...]}\`) and its v2 protocol (\`POST /v2/models/<api>/infer\`, one BYTES input whose elements are JSON payloads). To try one API without Kubernetes, in this folder: \`pip install kserve==${KSERVE_VERSION}\`, then \`python -m cortex_local_export.kserve_server --api <api>\` (port ${KSERVE_HTTP_PORT}).`,
    );
  } else {
    out.push(
      `\`cortex-local export --to rayserve\` wrote this folder from \`${options.configShown}\` for Ray Serve ${RAY_VERSION}: one application per API in \`serve_config.yaml\`, served at the API's endpoint, each a deployment whose autoscaler aims at requests in flight per replica as Cortex's did. \`project/\` is a copy of the project; \`cortex_local_worker/\` is cortex-local's worker runtime, which builds the predictor unchanged.`,
      '',
      '## Run',
      '',
      '```sh',
      `pip install "ray[serve]==${RAY_VERSION}"`,
      'serve run serve_config.yaml --working-dir .',
      '```',
      '',
      "`serve run` starts a local Ray cluster when none is running (or joins one with `--address`) and uploads this folder to it. `serve deploy` reads the same file but takes a working_dir only as a remote URI: zip this folder, upload it, and set `runtime_env: {working_dir: <URI>}` on each application. The proxy listens on port 8000 of every node.",
    );
  }
  if (project.length > 0) out.push('', '## Project', '', ...project.map((n) => `- ${n}`));
  for (const api of apis) {
    out.push('', `## API \`${api.api}\``, '');
    const dropped = api.notes.filter((n) => n.kind === 'dropped');
    const differs = api.notes.filter((n) => n.kind === 'differs');
    if (dropped.length > 0) out.push('Not carried over (no equivalent):', '', ...dropped.map(noteLine), '');
    if (differs.length > 0) out.push('Carried over with a difference:', '', ...differs.map(noteLine), '');
    if (out.at(-1) === '') out.pop();
  }
  return out.join('\n') + '\n';
}

function noteLine(note: Note): string {
  return `- \`${note.field}\`: ${note.text}`;
}
