// `cortex-local export --to kserve|rayserve [PATH] [-o DIR] [--image NAME]`:
// writes a folder that runs the project's APIs on a cluster engine, with the
// autoscaling fields mapped to the engine's own and EXPORT_NOTES.md listing
// every field that does not carry over.
import { basename, relative, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { displayPath, formatConfigIssues } from '../config/report.ts';
import { ConfigError, UsageError } from '../errors.ts';
import { ENGINE_NAMES, planExport } from '../export/plan.ts';
import { ENGINES, type Engine } from '../export/types.ts';
import { copyProject, copyRuntime, prepareOutDir, projectFacts, writeFiles } from '../export/write.ts';
import { parseCommand } from './args.ts';

const help = `usage: cortex-local export --to kserve|rayserve [PATH] [-o DIR] [--image NAME]

Writes DIR (default ./export-ENGINE): the project of PATH (a cortex.yaml or its
folder; default ./cortex.yaml), its predictors unchanged, the engine's manifests
with Cortex's autoscaling fields mapped to the engine's, and EXPORT_NOTES.md with
every field that does not carry over. A DIR from an earlier export is replaced.

  --to kserve     InferenceService per API (inferenceservice.yaml) and a Dockerfile
  --to rayserve   Ray Serve config (serve_config.yaml): serve run serve_config.yaml --working-dir .
  --image NAME    the container image the InferenceServices run (kserve; default: the project folder's name)
  --help, --version
exit codes: 0 written, 1 invalid config or the export failed, 2 usage or unreadable file

example: cortex-local export --to kserve examples/iris -o iris-kserve`;

export interface ExportArgs {
  engine: Engine;
  path: string | undefined;
  out: string;
  image: string | undefined;
}

/** argv → what to export, or a UsageError; null when --help or --version was asked for (and printed). */
export function parseExportArgs(argv: string[]): ExportArgs | null {
  const parsed = parseCommand('export', argv, { to: { type: 'string' }, out: { type: 'string', short: 'o' }, image: { type: 'string' } }, help);
  if (parsed === null) return null;
  const { values, positionals } = parsed;
  if (values.to === undefined) throw new UsageError(`export needs --to ${ENGINES.join('|')}`);
  if (!(ENGINES as readonly string[]).includes(values.to)) throw new UsageError(`--to ${values.to}: the engines are ${ENGINES.join(', ')}`);
  const engine = values.to as Engine;
  if (positionals.length > 1) throw new UsageError(`export takes one PATH, got ${positionals.length}: ${positionals.join(' ')}`);
  if (values.image !== undefined && engine !== 'kserve') throw new UsageError('--image applies to --to kserve only (Ray Serve runs the folder itself)');
  if (values.out === '') throw new UsageError('-o needs a folder');
  return { engine, path: positionals[0], out: values.out ?? `export-${engine}`, image: values.image };
}

/** A Docker image name from a folder name: lower case, [a-z0-9._-] only. */
export function defaultImage(projectDir: string): string {
  const name = basename(projectDir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${name || 'cortex-project'}:latest`;
}

export async function exportCommand(argv: string[]): Promise<number> {
  const args = parseExportArgs(argv);
  if (args === null) return 0;
  let config;
  try {
    config = await loadConfig(args.path);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(formatConfigIssues(err) + '\n');
      return 1;
    }
    throw err;
  }
  const outDir = resolve(args.out);
  const image = args.image ?? defaultImage(config.projectDir);
  const plan = planExport(config, args.engine, await projectFacts(config.projectDir), { image, configShown: displayPath(config.file) });
  await prepareOutDir(outDir, config.projectDir);
  await copyProject(config.projectDir, outDir);
  await copyRuntime(outDir);
  await writeFiles(outDir, plan.files);

  const shown = relative(process.cwd(), outDir) || '.';
  const dropped = plan.apis.reduce((n, a) => n + a.notes.filter((x) => x.kind === 'dropped').length, 0);
  const differs = plan.apis.reduce((n, a) => n + a.notes.filter((x) => x.kind === 'differs').length, 0);
  const names = plan.apis.map((a) => a.api).join(', ');
  process.stdout.write(
    `cortex-local: exported ${plan.apis.length} API${plan.apis.length === 1 ? '' : 's'} (${names}) for ${ENGINE_NAMES[args.engine]} to ${shown}/\n` +
      `  ${[...plan.files.keys()].join(', ')}; EXPORT_NOTES.md lists ${dropped} field${dropped === 1 ? '' : 's'} not carried over and ${differs} carried over with a difference\n` +
      (args.engine === 'kserve'
        ? `next: cd ${shown} && docker build -t ${image} . && docker push ${image} && kubectl apply -f inferenceservice.yaml${args.image === undefined ? ' (name your registry with --image)' : ''}\n`
        : `next: cd ${shown} && serve run serve_config.yaml --working-dir .\n`),
  );
  return 0;
}
